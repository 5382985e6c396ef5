/**
 * `edit <id>`: opens the session file in `$VISUAL` / `$EDITOR` (else `vi`), then checks it. The
 * file is plain JSONL on purpose: editing it by hand is supported, including while an agent
 * appends to it (see docs/reliability.md, rows G1–G3: appends survive an editor's save).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { action, CliError, type Context, EXIT } from '../context.js';
import { examples, resolveName } from './shared.js';

/** A session updated this recently may have a writer appending to it. */
const LIVE_MS = 5 * 60 * 1000;

async function edit(ctx: Context, name: string): Promise<number> {
  const store = await ctx.open();
  const id = await resolveName(store, name);
  const info = await store.get(id);
  const file = path.join(store.dir, `${id}.jsonl`);
  const editor = process.env['VISUAL'] || process.env['EDITOR'] || 'vi';
  if (info !== undefined && Date.now() - Date.parse(info.updatedAt) < LIVE_MS) {
    ctx.err(
      `sessionlog: ${id} was written ${Math.round((Date.now() - Date.parse(info.updatedAt)) / 1000)} s ago and may be live. ` +
        'Entries an agent appends while you edit are kept: if your save drops them, the next append restores them after your edit. Keep one JSON object per line.\n',
    );
  }
  // Through the shell: $EDITOR may carry arguments (`code --wait`).
  const result = spawnSync(`${editor} "$SESSIONLOG_EDIT_FILE"`, { shell: true, stdio: 'inherit', env: { ...process.env, SESSIONLOG_EDIT_FILE: file } });
  if (result.error !== undefined || result.status !== 0) {
    throw new CliError('ERR_EDITOR', `the editor (${editor}) ${result.error === undefined ? `exited with ${String(result.status ?? result.signal)}` : 'could not start'}; set $EDITOR to the one you use. The session was not changed by sessionlog.`);
  }
  const { problems, entries } = await store.read(id);
  if (problems.length === 0) {
    ctx.err(`${id}: ${entries.length} entries, every line readable\n`);
    return EXIT.OK;
  }
  const lines = problems.map((p) => p.line).filter((n) => n !== undefined).slice(0, 10).join(', ');
  ctx.err(`${id}: ${problems.length} line${problems.length === 1 ? '' : 's'} the reader skips after the edit (line ${lines}): edit again, or \`sessionlog repair ${id}\` moves them to a recovery file\n`);
  return EXIT.PROBLEMS;
}

/** Registers `edit`. */
export function registerEdit(program: Command): void {
  program
    .command('edit')
    .description('open a session file in $VISUAL / $EDITOR, then check what the edit left')
    .argument('<id>', 'session id, unique prefix, or @ for the latest')
    .addHelpText('after', examples(['sessionlog edit @', 'EDITOR="code --wait" sessionlog edit 0190a3']))
    .action(action(edit));
}
