/** `reindex`: rebuild the index from the session files. */
import type { Command } from 'commander';
import { action, type Context, EXIT } from '../context.js';
import { Progress } from '../progress.js';
import { examples } from './shared.js';

async function reindex(ctx: Context): Promise<number> {
  const store = await ctx.open();
  const progress = new Progress('reindexing', { json: ctx.json });
  const started = Date.now();
  const total = (await store.ids()).length;
  let sessions: number;
  try {
    // The index does not report its progress (a follow-up): show that it is working, and for how long.
    progress.activity(`${total} session${total === 1 ? '' : 's'}…`);
    sessions = await store.reindex();
  } finally {
    progress.stop();
  }
  const ms = Date.now() - started;
  if (ctx.json) ctx.printJson({ sessions, ms });
  else ctx.out(`reindexed ${sessions} session${sessions === 1 ? '' : 's'} in ${ms} ms\n`);
  return EXIT.OK;
}

/** Registers `reindex`. */
export function registerReindex(program: Command): void {
  program
    .command('reindex')
    .description('rebuild the index (the cache list uses) by reading every session file again')
    .option('--json', 'print { sessions, ms } as JSON')
    .addHelpText('after', `\nThe index is a cache: reindex is never needed for correctness, only to start it afresh.\n${examples(['sessionlog reindex'])}`)
    .action(action(reindex));
}
