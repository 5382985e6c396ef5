/** `show`, `tail` and `export`: reading one session. */
import fs from 'node:fs';
import { type Command, Option } from 'commander';
import type { Problem, SessionInfo, FileSessionStore } from '../../index.js';
import { action, CliError, type Context, EXIT } from '../context.js';
import { markdownEntry, markdownHead } from '../markdown.js';
import { shownEntries } from '../../import/shown.js';
import { renderEntry, renderProblem, renderSessionHeader, type TranscriptOptions } from '../transcript.js';
import { formatDay } from '../format.js';
import { count, examples, resolveName } from './shared.js';

/** The session named by `name` (id, unique prefix, or `@` for the latest) and its info. */
export async function named(store: FileSessionStore, name: string): Promise<{ id: string; info: SessionInfo }> {
  const id = await resolveName(store, name);
  const info = await store.get(id);
  if (info === undefined) throw new CliError('ERR_SESSION_NOT_FOUND', `Session ${id} was deleted just now.`);
  return { id, info };
}

/** Prints entries with problems flagged and a date line at day changes. */
class TranscriptPrinter {
  #day: string | undefined;
  constructor(
    private readonly ctx: Context,
    private readonly options: TranscriptOptions,
  ) {}

  entry(stored: Readonly<Record<string, unknown>>): void {
    for (const entry of shownEntries(stored)) {
      this.ctx.out(renderEntry(entry, this.options, this.#day));
      this.#day = formatDay(entry['ts']) ?? this.#day;
    }
  }

  problem(problem: Problem): void {
    this.ctx.out(renderProblem(problem, this.options));
  }
}

interface ShowOptions {
  readonly full?: boolean;
  readonly tail?: number;
  readonly fromCompaction?: boolean;
  readonly json?: boolean;
}

async function show(ctx: Context, name: string, opts: ShowOptions): Promise<number> {
  ctx.usePager();
  const store = await ctx.open();
  const { id, info } = await named(store, name);
  const partial = opts.tail !== undefined || opts.fromCompaction === true;
  const readOptions = { ...(opts.tail === undefined ? {} : { tail: opts.tail }), ...(opts.fromCompaction === true ? { fromCompaction: true } : {}) };
  if (ctx.json) {
    const { entries, problems } = await store.read(id, readOptions);
    ctx.printJson({ session: info, entries, problems });
    return EXIT.OK;
  }
  ctx.out(renderSessionHeader(info, ctx.c));
  const printer = new TranscriptPrinter(ctx, { c: ctx.c, full: opts.full === true, id });
  if (partial) {
    // Read from the end: entry positions are not known, so problems in this part come first.
    const { entries, problems } = await store.read(id, readOptions);
    for (const problem of problems) printer.problem(problem);
    if (entries.length < info.entryCount) ctx.out(ctx.c.dim(`… ${info.entryCount - entries.length} earlier entries not shown\n`));
    for (const entry of entries) printer.entry(entry);
    return EXIT.OK;
  }
  for await (const entry of store.stream(id, { onProblem: (problem) => printer.problem(problem) })) printer.entry(entry);
  return EXIT.OK;
}

interface TailOptions {
  readonly lines: number;
  readonly follow?: boolean;
  readonly full?: boolean;
  readonly json?: boolean;
}

async function tail(ctx: Context, name: string, opts: TailOptions): Promise<number> {
  const store = await ctx.open({ watch: opts.follow === true });
  const { id, info } = await named(store, name);
  const printer = new TranscriptPrinter(ctx, { c: ctx.c, full: opts.full === true, id });
  const print = (entry: Readonly<Record<string, unknown>>): void => (ctx.json ? ctx.printJsonLine(entry) : printer.entry(entry));
  const flag = (problem: Problem): void => (ctx.json ? ctx.err(`sessionlog: skipped a ${problem.kind} line at byte ${problem.offset}\n`) : printer.problem(problem));
  if (!ctx.json) ctx.out(`${ctx.c.bold(info.title ?? '(untitled)')} ${ctx.c.dim(`${id} · ${info.entryCount} entries`)}\n`);
  if (opts.follow !== true) {
    const { entries, problems } = await store.read(id, { tail: opts.lines });
    problems.forEach(flag);
    entries.forEach(print);
    return EXIT.OK;
  }
  // Ctrl-C ends the follow normally: the store closes and the exit code is 0.
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const entry of store.follow(id, { tail: opts.lines, signal: ac.signal, onProblem: flag })) print(entry);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return EXIT.OK;
}

interface ExportOptions {
  readonly format?: 'md' | 'json' | 'jsonl' | 'html';
  readonly output?: string;
  readonly json?: boolean;
}

async function exportSession(ctx: Context, name: string, opts: ExportOptions): Promise<number> {
  const format = opts.format ?? (opts.json === true ? 'json' : 'md');
  if (opts.output === undefined) ctx.usePager();
  const store = await ctx.open();
  const { id, info } = await named(store, name);
  let fd: number | undefined;
  if (opts.output !== undefined) {
    // Transcripts hold secrets: the file is private to the user, like the session itself.
    fd = fs.openSync(opts.output, 'w', 0o600);
  }
  const write = (text: string): void => {
    if (fd === undefined) ctx.out(text);
    else fs.writeSync(fd, text);
  };
  try {
    if (format === 'json') {
      const { entries, problems } = await store.read(id);
      write(`${JSON.stringify({ session: info, entries, problems }, null, 2)}\n`);
    } else if (format === 'html') {
      const { exportStart, exportEntries, exportEnd } = await import('../../serve/export.js');
      const problems: Problem[] = [];
      const names = new Map<string, string>();
      write(exportStart(info));
      let batch: Record<string, unknown>[] = [];
      for await (const entry of store.stream(id, { onProblem: (problem) => problems.push(problem) })) {
        batch.push(entry);
        if (batch.length === 500) {
          write(exportEntries(batch, names));
          batch = [];
        }
      }
      write(exportEntries(batch, names));
      write(exportEnd(problems));
    } else if (format === 'jsonl') {
      for await (const entry of store.stream(id)) write(`${JSON.stringify(entry)}\n`);
    } else {
      let skipped = 0;
      write(markdownHead(info));
      for await (const entry of store.stream(id, { onProblem: () => skipped++ })) for (const shown of shownEntries(entry)) write(markdownEntry(shown));
      if (skipped > 0) write(`---\n\n_${skipped} unreadable line${skipped === 1 ? ' was' : 's were'} left out._\n`);
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (opts.output !== undefined && !ctx.json) ctx.err(`wrote ${id} as ${format} to ${opts.output}\n`);
  return EXIT.OK;
}

/** Registers `show`, `tail` and `export`. */
export function registerRead(program: Command): void {
  program
    .command('show')
    .description('print a session as a readable transcript')
    .argument('<id>', 'session id or unique prefix')
    .option('--full', 'unfold long texts and tool outputs')
    .option('--tail <n>', 'only the last n entries', count)
    .option('--from-compaction', 'only the latest compaction and what follows it')
    .option('--json', 'print { session, entries, problems } as JSON')
    .addHelpText('after', examples(['sessionlog show 0190a3', 'sessionlog show 0190a3 --tail 20 --full', 'sessionlog show 0190a3 --from-compaction', 'sessionlog show 0190a3 --json | jq .problems']))
    .action(action(show));

  program
    .command('tail')
    .description('print the last entries of a session; with -f, follow new ones until Ctrl-C')
    .argument('<id>', 'session id or unique prefix')
    .option('-n, --lines <n>', 'how many entries', count, 10)
    .option('-f, --follow', 'keep printing entries as they are appended (by any process)')
    .option('--full', 'unfold long texts and tool outputs')
    .option('--json', 'print entries as JSON lines')
    .addHelpText('after', examples(['sessionlog tail 0190a3', 'sessionlog tail 0190a3 -n 50', 'sessionlog tail -f 0190a3', 'sessionlog tail -f 0190a3 --json | jq -r .role']))
    .action(action(tail));

  program
    .command('export')
    .description('write a session as shareable Markdown, one self-contained HTML file, clean JSON, or JSON lines')
    .argument('<id>', 'session id or unique prefix')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json', 'jsonl', 'html']).default(undefined, 'md'))
    .option('-o, --output <file>', 'write to this file (created 0600) instead of stdout')
    .option('--json', 'same as --format json')
    .addHelpText('after', examples(['sessionlog export 0190a3 > transcript.md',  'sessionlog export 0190a3 --format html -o transcript.html', 'sessionlog export 0190a3 --format json | jq .session.usage', 'sessionlog export 0190a3 --format jsonl > entries.jsonl']))
    .action(action(exportSession));
}
