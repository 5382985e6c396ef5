/** `list`: sessions as a table, newest first, paged. */
import path from 'node:path';
import { type Command, Option } from 'commander';
import type { ListFilter, ListOptions, SessionInfo, FileSessionStore } from '../../index.js';
import { action, type Context, EXIT } from '../context.js';
import { formatBytes, formatCount, formatDateTime, table } from '../format.js';
import { examples, positive, since } from './shared.js';

interface ListCliOptions {
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
  readonly cwd?: string;
  readonly model?: string;
  readonly since?: string;
  readonly title?: string;
  readonly sort?: 'updated' | 'created';
  readonly order?: 'asc' | 'desc';
  readonly json?: boolean;
}

/** The largest page `list()` serves. */
const PAGE_MAX = 1000;

/** Length of the shortest prefix that names each id alone (at least `min`). */
export function uniquePrefixLengths(ids: readonly string[], min = 4): Map<string, number> {
  const sorted = [...ids].sort();
  const lengths = new Map<string, number>();
  const common = (a: string | undefined, b: string): number => {
    if (a === undefined) return 0;
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  };
  sorted.forEach((id, i) => {
    const need = Math.max(common(sorted[i - 1], id), common(sorted[i + 1], id)) + 1;
    lengths.set(id, Math.min(id.length, Math.max(min, need)));
  });
  return lengths;
}

/** Room a title gets before ids are shortened and optional columns left out. */
const TITLE_ROOM = 30;
/** The fixed columns beside id and title: updated (16), entries, tokens, size, and the gaps. */
const OTHER_COLUMNS = 16 + 7 + 6 + 6 + 5 * 2;

/**
 * How much of each id to show: whole when the terminal has room for it and a title of
 * {@link TITLE_ROOM} columns (or output is piped), else the shortest prefix that names every shown
 * session alone (at least 7, as git shortens hashes), so the title gets the room.
 */
export function shownIdWidth(sessions: readonly SessionInfo[], prefix: ReadonlyMap<string, number>, width: number | undefined): number {
  const longest = Math.max(2, ...sessions.map((s) => s.id.length));
  if (width === undefined || longest + TITLE_ROOM + OTHER_COLUMNS <= width) return longest;
  return Math.min(longest, Math.max(7, ...sessions.map((s) => prefix.get(s.id) ?? s.id.length)));
}

async function pages(store: FileSessionStore, options: ListOptions, all: boolean): Promise<{ sessions: SessionInfo[]; nextCursor: string | undefined }> {
  if (!all) return store.list(options);
  const sessions: SessionInfo[] = [];
  let cursor = options.cursor;
  for (;;) {
    const page = await store.list({ ...options, limit: PAGE_MAX, ...(cursor === undefined ? {} : { cursor }) });
    sessions.push(...page.sessions);
    if (page.nextCursor === undefined) return { sessions, nextCursor: undefined };
    cursor = page.nextCursor;
  }
}

async function list(ctx: Context, opts: ListCliOptions): Promise<number> {
  const store = await ctx.open();
  const filter: ListFilter = {
    ...(opts.cwd === undefined ? {} : { cwd: path.resolve(opts.cwd) }),
    ...(opts.model === undefined ? {} : { model: opts.model }),
    ...(opts.since === undefined ? {} : { updatedAfter: opts.since }),
    ...(opts.title === undefined ? {} : { title: opts.title }),
  };
  const options: ListOptions = {
    ...(opts.limit === undefined ? {} : { limit: opts.limit }),
    ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
    ...(opts.sort === 'created' ? { sort: 'createdAt' as const } : {}),
    ...(opts.order === undefined ? {} : { order: opts.order }),
    ...(Object.keys(filter).length === 0 ? {} : { filter }),
  };
  const { sessions, nextCursor } = await pages(store, options, opts.all === true);
  if (ctx.json) {
    ctx.printJson({ sessions, nextCursor: nextCursor ?? null });
    return EXIT.OK;
  }
  const { c } = ctx;
  if (sessions.length === 0) {
    ctx.err(`no sessions${Object.keys(filter).length > 0 ? ' match' : ''} in ${ctx.dir}\n`);
    return EXIT.OK;
  }
  const prefix = uniquePrefixLengths(await store.ids());
  const when = (info: SessionInfo): string => formatDateTime(opts.sort === 'created' ? info.createdAt : info.updatedAt);
  const idWidth = shownIdWidth(sessions, prefix, ctx.width);
  ctx.out(
    table(
      sessions,
      [
        {
          title: 'id',
          value: (s) => s.id.slice(0, idWidth),
          // The shortest prefix that names the session stands out: type that much.
          style: (t, s) => {
            const n = prefix.get(s.id) ?? t.length;
            return c.yellow(t.slice(0, n)) + c.dim(t.slice(n));
          },
        },
        { title: 'title', value: (s) => s.title ?? '', flexible: true, keep: TITLE_ROOM },
        { title: opts.sort === 'created' ? 'created' : 'updated', value: when, optional: true },
        { title: 'entries', value: (s) => String(s.entryCount), align: 'right', style: (t, s) => (s.problems > 0 ? c.red(t) : t), optional: true },
        { title: 'tokens', value: (s) => formatCount(s.usage.total > 0 ? s.usage.total : s.usage.input + s.usage.output), align: 'right', optional: true },
        { title: 'size', value: (s) => formatBytes(s.bytes), align: 'right', optional: true },
      ],
      { width: ctx.width, header: (t) => c.dim(t) },
    ),
  );
  if (nextCursor !== undefined) ctx.err(c.dim(`more: sessionlog list --cursor ${nextCursor}  (or --all)\n`));
  return EXIT.OK;
}

/** Registers `list`. */
export function registerList(program: Command): void {
  program
    .command('list')
    .alias('ls')
    .description('list sessions, most recently updated first')
    .option('-n, --limit <n>', 'sessions per page (default 50, at most 1000)', positive)
    .option('--cursor <cursor>', 'continue after a previous page (printed at its end)')
    .option('-a, --all', 'every page')
    .option('--cwd <folder>', 'only sessions about this folder (e.g. --cwd .)')
    .option('--model <model>', 'only sessions with this model')
    .option('--since <time>', 'only sessions updated since a date or a duration ago (7d, 12h)', (value) => since(value))
    .option('--title <text>', 'only titles containing this text (any case)')
    .addOption(new Option('--sort <field>', 'sort by').choices(['updated', 'created']).default('updated'))
    .addOption(new Option('--order <order>', 'newest first (desc) or oldest first (asc)').choices(['desc', 'asc']))
    .option('--json', 'print { sessions, nextCursor } as JSON')
    .addHelpText(
      'after',
      `\nThe yellow part of each id is the shortest prefix that names it: \`sessionlog show <prefix>\` works.\n${examples([
        'sessionlog list',
        'sessionlog list --cwd . --since 7d',
        'sessionlog list --model gpt-5 --title migration --all',
        'sessionlog list --json | jq -r \'.sessions[].id\'',
      ])}`,
    )
    .action(action(list));
}
