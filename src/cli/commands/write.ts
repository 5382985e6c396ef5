/** `new`, `append`, `fork` and `rm`: the commands that write, so shell scripts can too. */
import path from 'node:path';
import readline from 'node:readline';
import type { Command } from 'commander';
import type { CreateInit, EntryInput } from '../../index.js';
import { action, CliError, type Context, EXIT, usage } from '../context.js';
import { shownPath } from '../format.js';
import { examples, resolveName } from './shared.js';

function parseMetadata(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw usage('--metadata must be a JSON object, e.g. \'{"project":"api"}\'');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage('--metadata must be a JSON object');
  return parsed as Record<string, unknown>;
}

interface NewOptions {
  readonly id?: string;
  readonly title?: string;
  readonly model?: string;
  readonly cwd?: string;
  readonly metadata?: string;
  readonly json?: boolean;
}

async function create(ctx: Context, opts: NewOptions): Promise<number> {
  const store = await ctx.open({ create: true });
  const init: CreateInit = {
    ...(opts.id === undefined ? {} : { id: opts.id }),
    ...(opts.title === undefined ? {} : { title: opts.title }),
    ...(opts.model === undefined ? {} : { model: opts.model }),
    ...(opts.cwd === undefined ? {} : { cwd: path.resolve(opts.cwd) }),
    ...(opts.metadata === undefined ? {} : { metadata: parseMetadata(opts.metadata) }),
  };
  const info = await store.create(init);
  if (ctx.json) ctx.printJson(info);
  else ctx.out(`${info.id}\n`);
  return EXIT.OK;
}

async function append(ctx: Context, name: string, opts: { sync?: boolean; json?: boolean }): Promise<number> {
  const store = await ctx.open();
  const id = await resolveName(store, name);
  if (process.stdin.isTTY) ctx.err('sessionlog: reading entries as JSON lines from stdin; end with Ctrl-D\n');
  const entries: EntryInput[] = [];
  let lineNo = 0;
  // Everything is read and parsed before anything is appended: a bad line appends nothing.
  for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // JSON.parse's message quotes the input: name the line only.
      throw new CliError('ERR_INVALID_ENTRY', `stdin line ${lineNo} is not valid JSON; nothing was appended.`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CliError('ERR_INVALID_ENTRY', `stdin line ${lineNo} is not a JSON object; nothing was appended.`);
    }
    entries.push(value as EntryInput);
  }
  const stored = entries.length === 0 ? [] : await store.append(id, entries);
  if (opts.sync === true) await store.sync(id);
  else await store.flush(id);
  if (ctx.json) ctx.printJson({ session: id, appended: stored.length, ids: stored.map((e) => e.id) });
  else ctx.out(`appended ${stored.length} entr${stored.length === 1 ? 'y' : 'ies'} to ${id}\n`);
  return EXIT.OK;
}

async function fork(ctx: Context, name: string, opts: { at?: string; title?: string; id?: string; json?: boolean }): Promise<number> {
  const store = await ctx.open();
  const id = await resolveName(store, name);
  if (opts.at !== undefined && !(await hasEntry(store, id, opts.at))) {
    throw new CliError('ERR_INVALID_OPTION', `--at ${JSON.stringify(opts.at)}: session ${id} has no entry with that id; \`sessionlog show ${id} --json | jq -r '.entries[].id'\` lists them.`);
  }
  const info = await store.fork(id, {
    ...(opts.at === undefined ? {} : { at: opts.at }),
    ...(opts.title === undefined ? {} : { title: opts.title }),
    ...(opts.id === undefined ? {} : { id: opts.id }),
  });
  if (ctx.json) ctx.printJson(info);
  else ctx.out(`${info.id}\n`);
  return EXIT.OK;
}

async function hasEntry(store: Awaited<ReturnType<Context['open']>>, id: string, entryId: string): Promise<boolean> {
  for await (const entry of store.stream(id)) if (entry.id === entryId) return true;
  return false;
}

/** Asks a yes/no question on the terminal; only "y" or "yes" is yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function remove(ctx: Context, names: string[], opts: { purge?: boolean; yes?: boolean; json?: boolean }): Promise<number> {
  const store = await ctx.open();
  // Resolve every name first, so one bad name removes nothing.
  const ids = [...new Set(await Promise.all(names.map((name) => resolveName(store, name))))];
  if (opts.purge === true && opts.yes !== true) {
    // Deleting for good is the one thing here that cannot be undone: asked on a terminal, and
    // never done by a script that did not say --yes.
    if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) throw usage('rm --purge deletes for good and there is no terminal to ask on: add --yes to confirm (or leave out --purge to move to the trash)');
    const infos = await Promise.all(ids.map((id) => store.get(id)));
    const shown = ids.map((id, i) => `  ${id}  ${infos[i]?.title ?? ''}`.trimEnd()).join('\n');
    ctx.err(`${shown}\n`);
    if (!(await confirm(`Delete ${ids.length === 1 ? 'this session' : `these ${ids.length} sessions`} for good? [y/N] `))) {
      ctx.err('nothing deleted\n');
      return EXIT.PROBLEMS;
    }
  }
  const done: { id: string; trash: string | null }[] = [];
  for (const id of ids) {
    if (opts.purge === true) {
      await store.delete(id);
      done.push({ id, trash: null });
    } else {
      done.push({ id, trash: await store.trash(id) });
    }
  }
  if (ctx.json) ctx.printJson({ removed: done });
  else for (const r of done) ctx.out(r.trash === null ? `deleted ${r.id}\n` : `moved ${r.id} to ${shownPath(r.trash)}\n`);
  return EXIT.OK;
}

/** Registers `new`, `append`, `fork` and `rm`. */
export function registerWrite(program: Command): void {
  program
    .command('new')
    .description('create a session and print its id')
    .option('--title <title>', 'title')
    .option('--model <model>', 'model name')
    .option('--cwd <folder>', 'working folder the session is about (made absolute)')
    .option('--metadata <json>', 'metadata as a JSON object')
    .option('--id <id>', 'use this id instead of a generated one')
    .option('--json', "print the new session's info as JSON")
    .addHelpText('after', examples(['id=$(sessionlog new --title "Fix the build" --cwd .)', 'sessionlog new --model gpt-5 --metadata \'{"ticket":"OPS-12"}\' --json']))
    .action(action(create));

  program
    .command('append')
    .description('append entries, one JSON object per line on stdin, to a session')
    .argument('<id>', 'session id or unique prefix')
    .option('--sync', 'fsync before exiting (survives power loss)')
    .option('--json', 'print the ids of the appended entries as JSON')
    .addHelpText(
      'after',
      `\nEntries without "type" are messages; "id" and "ts" are added when absent. All lines are checked first:\none bad line appends nothing.\n${examples([
        `echo '{"role":"user","content":"Why does CI hang?"}' | sessionlog append $id`,
        'jq -c \'.messages[]\' export.json | sessionlog append $id --sync',
      ])}`,
    )
    .action(action(append));

  program
    .command('fork')
    .description('copy a session, up to an entry, into a new session and print its id')
    .argument('<id>', 'session id or unique prefix')
    .option('--at <entry>', 'last entry id to copy (default: all)')
    .option('--title <title>', "title of the fork (default: the parent's)")
    .option('--id <id>', 'id of the fork (default: generated)')
    .option('--json', "print the fork's info as JSON")
    .addHelpText('after', examples(['sessionlog fork 0190a3', 'sessionlog fork 0190a3 --at 0190a3f2-… --title "Try the other fix"']))
    .action(action(fork));

  program
    .command('rm')
    .description('move sessions to the trash folder (<store>/.trash); --purge deletes them')
    .argument('<id...>', 'session ids or unique prefixes')
    .option('--purge', 'delete for good instead of moving to the trash (asks first on a terminal)')
    .option('-y, --yes', 'with --purge: do not ask (required when there is no terminal)')
    .option('--json', 'print what was removed as JSON')
    .addHelpText('after', examples(['sessionlog rm 0190a3', 'sessionlog rm 0190a3 0190b7 --purge', 'sessionlog rm @ --purge --yes   # in a script', 'mv ~/.local/share/sessionlog/.trash/<id>.jsonl ~/.local/share/sessionlog/   # undo']))
    .action(action(remove));
}

