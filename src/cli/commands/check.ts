/** `doctor` and `repair`: checking the folder, fixing a session. */
import type { Command } from 'commander';
import type { Finding } from '../../index.js';
import { action, type Context, EXIT } from '../context.js';
import { formatBytes, shownPath } from '../format.js';
import { Progress } from '../progress.js';
import { examples, resolveName } from './shared.js';

function renderFinding(finding: Finding, ctx: Context): string {
  const { c } = ctx;
  const mark = finding.severity === 'error' ? c.red('✖ error  ') : finding.severity === 'warning' ? c.yellow('▲ warning') : c.blue('ℹ note   ');
  const where = finding.lines !== undefined && finding.lines.length > 0 ? c.dim(` (line${finding.lines.length === 1 ? '' : 's'} ${finding.lines.join(', ')})`) : '';
  const fix = finding.fix === undefined ? '' : `\n            ${c.dim('fix:')} ${finding.fix}`;
  if (finding.files !== undefined) {
    const shown = finding.files.slice(0, 3).join(', ') + (finding.files.length > 3 ? `, … (${finding.files.length - 3} more; --json lists them)` : '');
    return `${mark} ${c.bold(finding.file)}\n            ${finding.message}: ${c.dim(shown)}${fix}\n`;
  }
  return `${mark} ${c.bold(finding.file)}\n            ${finding.message}${where}${fix}\n`;
}

/**
 * Errors (lines the reader skips, unsafe files) exit 1; warnings (things to clean up) exit 0, so
 * `doctor && echo healthy` means "nothing is lost or unreadable", unless `--strict`.
 */
function doctorExit(findings: readonly Finding[], strict: boolean): number {
  return findings.some((f) => f.severity === 'error' || (strict && f.severity === 'warning')) ? EXIT.PROBLEMS : EXIT.OK;
}

async function doctor(ctx: Context, opts: { strict?: boolean }): Promise<number> {
  const store = await ctx.open();
  const progress = new Progress('checking', { json: ctx.json });
  let report;
  try {
    report = await store.check({ onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  if (ctx.json) {
    ctx.printJson(report);
    return doctorExit(report.findings, opts.strict === true);
  }
  const { c } = ctx;
  ctx.out(`Checked ${report.sessions} session${report.sessions === 1 ? '' : 's'} (${formatBytes(report.bytes)}) in ${report.dir}\n\n`);
  for (const finding of report.findings) ctx.out(renderFinding(finding, ctx));
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.filter((f) => f.severity === 'warning').length;
  if (report.ok) ctx.out(`${report.findings.length > 0 ? '\n' : ''}${c.green('✔')} no problems found\n`);
  else if (errors === 0) ctx.out(`\n${c.green('✔')} nothing unreadable; ${c.yellow(`${warnings} warning${warnings === 1 ? '' : 's'}`)} to clean up${opts.strict === true ? ' (--strict: exit 1)' : ''}\n`);
  else ctx.out(`\n${c.red(`${errors} error${errors === 1 ? '' : 's'}`)}, ${c.yellow(`${warnings} warning${warnings === 1 ? '' : 's'}`)}\n`);
  return doctorExit(report.findings, opts.strict === true);
}

async function repair(ctx: Context, name: string): Promise<number> {
  const store = await ctx.open();
  const id = await resolveName(store, name);
  const report = await store.repair(id);
  if (ctx.json) {
    ctx.printJson(report);
    return EXIT.OK;
  }
  const { c } = ctx;
  if (!report.repaired) {
    ctx.out(`${c.green('✔')} ${id}: nothing to repair (${report.entries} entries, no problem lines); the file was not touched.\n`);
    return EXIT.OK;
  }
  const n = report.removed.length;
  if (n === 0) {
    ctx.out(`${c.green('✔')} repaired ${c.bold(id)}: wrote a header${report.entries > 0 ? ` before its ${report.entries} entr${report.entries === 1 ? 'y' : 'ies'}` : ''}; no line was removed.\n`);
    return EXIT.OK;
  }
  ctx.out(`${c.green('✔')} repaired ${c.bold(id)}: removed ${n} line${n === 1 ? '' : 's'} (${formatBytes(report.removedBytes)}), kept ${report.entries} entries${report.headerRewritten ? ', wrote a new header' : ''}.\n`);
  for (const line of report.removed) {
    ctx.out(`  ${c.dim(`line ${String(line.line).padEnd(6)}`)} ${c.yellow(line.kind.padEnd(18))} ${line.message}\n`);
  }
  if (report.recoveryFile !== undefined) {
    ctx.out(`The removed bytes are kept, unchanged, in ${shownPath(report.recoveryFile)} (mode 0600).\n`);
  }
  return EXIT.OK;
}

/** Registers `doctor` and `repair`. */
export function registerCheck(program: Command): void {
  program
    .command('doctor')
    .description('check the whole store folder; exits 1 on errors (with --strict, on warnings too)')
    .option('--strict', 'exit 1 on warnings too (loose permissions, leftovers, conflict copies)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `\nChecks torn tails, unreadable lines, duplicate entry ids, headers naming another session, files claiming\nthe same session, index drift, orphan temp and lock files, sync-conflict copies and loose permissions.\n${examples(['sessionlog doctor && echo healthy', 'sessionlog doctor --strict', 'sessionlog doctor --json | jq \'.findings[] | select(.severity == "error")\''])}`,
    )
    .action(action(doctor));

  program
    .command('repair')
    .description('rewrite a session without its torn or unreadable lines, keeping them in a recovery file')
    .argument('<id>', 'session id or unique prefix')
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      `\nThe only command that rewrites a session. It builds the new file beside the old one, fsyncs it and renames\nit into place, so a crash leaves either the old file or the new one. Every removed byte is kept in\n<id>.jsonl.recovered-<time> next to the session (mode 0600), which is never taken for a session.\n${examples(['sessionlog doctor', 'sessionlog repair 0190a3', 'sessionlog repair 0190a3 --json | jq .removed'])}`,
    )
    .action(action(repair));
}
