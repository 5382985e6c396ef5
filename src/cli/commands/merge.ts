/** `merge`: fold a session's sync-conflict copies back into it. */
import path from 'node:path';
import type { Command } from 'commander';
import { action, type Context, EXIT } from '../context.js';
import { formatBytes, shownPath } from '../format.js';
import { examples, resolveName } from './shared.js';

interface MergeFlags {
  readonly copy?: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

async function merge(ctx: Context, name: string, flags: MergeFlags): Promise<number> {
  const store = await ctx.open();
  const id = await resolveName(store, name);
  const report = await store.mergeConflicts(id, { copies: flags.copy ?? [] });
  if (ctx.json) {
    ctx.printJson(report);
    return EXIT.OK;
  }
  const { c } = ctx;
  if (!report.merged) {
    ctx.out(`${c.green('✔')} ${id}: no conflict copies to merge; the file was not touched.\n`);
    return EXIT.OK;
  }
  ctx.out(
    `${c.green('✔')} merged ${plural(report.copies.length, 'conflict copy')} into ${c.bold(id)}: ${report.entries} ${report.entries === 1 ? 'entry' : 'entries'}` +
      `, ${report.added} from the copies, ${plural(report.duplicates, 'duplicate line')} written once.\n`,
  );
  for (const copy of report.copies) {
    ctx.out(`  ${path.basename(copy.file)}  ${c.dim(`+${copy.added} of ${copy.records}`)}  → ${copy.movedTo === undefined ? 'left in place' : shownPath(copy.movedTo)}\n`);
  }
  if (report.problems.length > 0) {
    const one = report.problems.length === 1;
    ctx.out(`Kept ${plural(report.problems.length, 'line')} that ${one ? 'is not a valid entry' : 'are not valid entries'}:\n`);
    for (const problem of report.problems) {
      ctx.out(`  ${c.dim(`${path.basename(problem.file)} line ${problem.line}`)}  ${c.yellow(problem.kind)}  ${problem.message}\n`);
    }
  }
  if (report.recoveryFile !== undefined) {
    ctx.out(`Their bytes (${formatBytes(report.recoveredBytes)}) are in ${shownPath(report.recoveryFile)} (mode 0600).\n`);
  }
  return EXIT.OK;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Registers `merge`. */
export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description("merge a session's sync-conflict copies into it (the union of their entries by id); the copies go to the trash")
    .argument('<id>', 'session id or unique prefix')
    .option('--copy <file>', 'also merge this file of the store folder (another sync tool\'s conflict copy); repeatable', collect)
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      `\nSyncthing's <id>.sync-conflict-….jsonl copies (listed by doctor and in list --json "conflicts") are found by\nname; name other tools' copies with --copy. Every entry of every file is kept once, in an order that keeps each\ncopy's own order and does not depend on which copy the sync tool kept. Lines that are not valid entries go to\n<id>.jsonl.recovered-<time>. The session is rewritten as repair does (temp file, fsync, rename); the copies are\nmoved to <store>/.trash/, never deleted.\n${examples([
        'sessionlog doctor',
        'sessionlog merge 0190a3',
        `sessionlog merge 0190a3 --copy "0190a3… (Alice's conflicted copy 2026-11-02).jsonl"`,
        'sessionlog merge 0190a3 --json | jq .copies',
      ])}`,
    )
    .action(action(merge));
}
