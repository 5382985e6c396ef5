/** `prune` and `trash`: retention, opt-in and visible (docs/secrets.md). */
import type { Command } from 'commander';
import { pruneSessions } from '../../core/retention.js';
import { emptyTrash, listTrash, restoreFromTrash } from '../../file/session/trash-bin.js';
import { action, type Context, EXIT, usage } from '../context.js';
import { formatBytes, formatDateTime, table } from '../format.js';
import { examples, since } from './shared.js';

async function prune(ctx: Context, opts: { olderThan?: string; dryRun?: boolean }): Promise<number> {
  if (opts.olderThan === undefined) throw usage('say how old: --older-than 90d (or 12h, 2w)');
  const store = await ctx.open();
  const moved = await pruneSessions(store, opts.olderThan, { dryRun: opts.dryRun === true });
  if (ctx.json) ctx.printJson({ dryRun: opts.dryRun === true, sessions: moved });
  else {
    for (const m of moved) ctx.out(`${opts.dryRun === true ? 'would move' : 'moved'} ${m.id}  ${ctx.c.dim(`updated ${formatDateTime(m.updatedAt)}`)}${m.title === undefined ? '' : `  ${m.title}`}\n`);
    ctx.err(`${moved.length} session${moved.length === 1 ? '' : 's'} ${opts.dryRun === true ? 'would be' : 'were'} moved to the trash (sessionlog trash restore <id> brings one back)\n`);
  }
  return EXIT.OK;
}

async function trashList(ctx: Context): Promise<number> {
  const store = await ctx.open();
  const files = listTrash(store.dir);
  if (ctx.json) ctx.printJson({ files });
  else if (files.length === 0) ctx.err('the trash is empty\n');
  else {
    ctx.out(
      table(
        files,
        [
          { title: 'name', value: (f) => f.name },
          { title: 'title', value: (f) => f.title ?? '', flexible: true },
          { title: 'trashed', value: (f) => formatDateTime(f.modifiedAt) },
          { title: 'size', value: (f) => formatBytes(f.bytes), align: 'right' },
        ],
        { width: ctx.width, header: ctx.c.dim },
      ),
    );
  }
  return EXIT.OK;
}

async function trashRestore(ctx: Context, name: string): Promise<number> {
  const store = await ctx.open();
  const id = restoreFromTrash(store.dir, name);
  if (ctx.json) ctx.printJson({ restored: id });
  else ctx.out(`restored ${id}\n`);
  return EXIT.OK;
}

async function trashEmpty(ctx: Context, opts: { olderThan?: string; dryRun?: boolean }): Promise<number> {
  const store = await ctx.open();
  const gone = emptyTrash(store.dir, { ...(opts.olderThan === undefined ? {} : { before: since(opts.olderThan) }), dryRun: opts.dryRun === true });
  if (opts.dryRun !== true) {
    // Deleted for good: their vectors go, and the artifacts no other session (live or trashed) uses.
    for (const id of new Set(gone.flatMap((f) => (f.session === undefined ? [] : [f.session])))) {
      if ((await store.get(id)) === undefined && !listTrash(store.dir).some((f) => f.session === id)) await store.embeddings.deleteBySession(id);
    }
    await store.artifacts.gc();
  }
  if (ctx.json) ctx.printJson({ dryRun: opts.dryRun === true, deleted: gone });
  else {
    for (const f of gone) ctx.out(`${opts.dryRun === true ? 'would delete' : 'deleted'} ${f.name}  ${ctx.c.dim(formatBytes(f.bytes))}\n`);
    ctx.err(`${gone.length} file${gone.length === 1 ? '' : 's'} ${opts.dryRun === true ? 'would be' : 'were'} deleted for good\n`);
  }
  return EXIT.OK;
}

/** Registers `prune` and `trash list | restore | empty`. */
export function registerRetention(program: Command): void {
  program
    .command('prune')
    .description('move sessions not updated for a while to the trash, saying which')
    .option('--older-than <age>', 'not updated for this long: 90d, 12h, 2w')
    .option('--dry-run', 'only say which sessions would move')
    .option('--json', 'print { dryRun, sessions }')
    .addHelpText('after', examples(['sessionlog prune --older-than 90d --dry-run', 'sessionlog prune --older-than 90d']))
    .action(action(prune));
  const trash = program.command('trash').description('what is in the trash: list, restore, empty');
  trash.command('list').description('the session files in the trash, newest first').option('--json', 'print { files }').action(action(trashList));
  trash.command('restore').description('put a trashed session back (never over a session of the same id)').argument('<name>', 'a file name from trash list, or a session id').option('--json', 'print { restored }').action(action(trashRestore));
  trash
    .command('empty')
    .description('delete files in the trash for good, saying which')
    .option('--older-than <age>', 'only those trashed longer ago than this: 30d, 12h, 2w')
    .option('--dry-run', 'only say which files would go')
    .option('--json', 'print { dryRun, deleted }')
    .addHelpText('after', examples(['sessionlog trash list', 'sessionlog trash restore 0190a3f2-…', 'sessionlog trash empty --older-than 30d']))
    .action(action(trashEmpty));
}
