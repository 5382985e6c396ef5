/** `secrets` and `redact`: the credentials already on disk, found and replaced (docs/secrets.md). */
import type { Command } from 'commander';
import { action, type Context, EXIT } from '../context.js';
import { examples, resolveName } from './shared.js';

/** Counts per kind, as `github-token ×2, jwt`. */
function kinds(lines: readonly { kinds: readonly string[] }[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) for (const kind of line.kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => (n === 1 ? kind : `${kind} ×${n}`)).join(', ');
}

async function secrets(ctx: Context, names: string[]): Promise<number> {
  const store = await ctx.open();
  const ids = names.length === 0 ? (await store.ids()).sort() : await Promise.all(names.map((name) => resolveName(store, name)));
  const found: { session: string; line: number; kinds: readonly string[] }[] = [];
  for (const id of ids) {
    const report = await store.redactSecrets(id, { dryRun: true });
    for (const line of report.lines) {
      found.push({ session: id, line: line.line, kinds: line.kinds });
      if (!ctx.json) ctx.out(`${id}  ${ctx.c.dim(`line ${line.line}`)}  ${ctx.c.red(kinds([line]))}\n`);
    }
  }
  if (ctx.json) ctx.printJson({ sessions: ids.length, found });
  else if (found.length === 0) ctx.err(`no secrets found in ${ids.length} session${ids.length === 1 ? '' : 's'}\n`);
  else ctx.err(`${found.length} line${found.length === 1 ? '' : 's'} with secrets in ${new Set(found.map((f) => f.session)).size} session(s); \`sessionlog redact <id>\` replaces them\n`);
  return found.length === 0 ? EXIT.OK : EXIT.PROBLEMS;
}

async function redact(ctx: Context, name: string): Promise<number> {
  const store = await ctx.open();
  const id = await resolveName(store, name);
  const report = await store.redactSecrets(id);
  if (ctx.json) {
    ctx.printJson(report);
    return EXIT.OK;
  }
  if (!report.redacted) {
    ctx.out(`${id}: no secrets found; the file was not touched\n`);
    return EXIT.OK;
  }
  const where = report.lines.map((line) => `line ${line.line}: ${kinds([line])}`).join('\n  ');
  ctx.out(`${id}: replaced ${report.lines.reduce((n, l) => n + l.kinds.length, 0)} secrets (${kinds(report.lines)}) by markers\n  ${where}\nThe replaced text is not kept anywhere (by design, unlike repair's recovery files).\n`);
  return EXIT.OK;
}

/** Registers `secrets` and `redact`. */
export function registerSecrets(program: Command): void {
  program
    .command('secrets')
    .description('find credentials already stored in sessions (reports session, line and kind, never the secret); exit 1 when any')
    .argument('[ids...]', 'sessions (ids or prefixes); default: all')
    .option('--json', 'print { sessions, found: [{ session, line, kinds }] }')
    .addHelpText('after', examples(['sessionlog secrets', 'sessionlog secrets 0190a3 --json', 'sessionlog secrets || echo "secrets found"']))
    .action(action(secrets));
  program
    .command('redact')
    .description('replace the credentials in a session by markers: a rewrite that keeps no copy of them')
    .argument('<id>', 'session id or unique prefix')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', examples(['sessionlog secrets 0190a3 && sessionlog redact 0190a3']))
    .action(action(redact));
}
