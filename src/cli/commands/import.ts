/** `import claude|codex [path…]`: other agents' transcripts into the store, once or following them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { FileSessionStore } from '../../file/store.js';
import { defaultSourceDirs, importTranscripts, type ImportReport } from '../../import/importer.js';
import { openStore } from '../../open.js';
import { action, type Context, EXIT, usage } from '../context.js';
import { Progress } from '../progress.js';
import { examples } from './shared.js';

interface ImportFlags {
  readonly watch?: boolean;
  readonly dryRun?: boolean;
}

/** How often --watch looks again when no file event came (events can be lost; a poll heals it). */
const WATCH_POLL_MS = 2000;
/** Events within this long are one import run. */
const WATCH_DEBOUNCE_MS = 100;

async function runImport(ctx: Context, tool: string, paths: string[], flags: ImportFlags): Promise<number> {
  if (tool !== 'claude' && tool !== 'codex') throw usage(`import what? \`sessionlog import claude\` or \`sessionlog import codex\`, not ${JSON.stringify(tool)}.`);
  const sources = paths.length > 0 ? paths : defaultSourceDirs(tool);
  const existing = sources.filter((p) => fs.existsSync(p));
  if (existing.length === 0) throw usage(`nothing to import: ${sources.join(', ')} ${sources.length === 1 ? 'does' : 'do'} not exist; name the folder or file.`);
  // A dry run into a store that does not exist yet counts against an empty one, made and removed here.
  const scratch = flags.dryRun === true && !fs.existsSync(ctx.dir) ? fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-dry-run-')) : undefined;
  const store = scratch === undefined ? await ctx.open({ create: flags.dryRun !== true }) : await openStore({ dir: scratch });
  try {
    return await importInto(ctx, store, tool, existing, flags);
  } finally {
    if (scratch !== undefined) {
      await store.close();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
}

async function importInto(ctx: Context, store: FileSessionStore, tool: 'claude' | 'codex', existing: string[], flags: ImportFlags): Promise<number> {
  const once = async (): Promise<ImportReport> => {
    const progress = new Progress(`importing ${tool}`, { json: ctx.json });
    try {
      return await importTranscripts(store, tool, { paths: existing, dryRun: flags.dryRun === true, onProgress: ({ done, total }) => progress.update(done, total) });
    } finally {
      progress.stop();
    }
  };
  const print = (report: ImportReport): void => {
    if (ctx.json) ctx.printJsonLine({ tool, dryRun: flags.dryRun === true, ...report });
    else {
      const verb = flags.dryRun === true ? 'would import' : 'imported';
      ctx.out(`${verb} ${report.entries} entries into ${report.sessions} sessions (${report.created} new) from ${report.files} ${tool} transcripts\n`);
      for (const skip of report.skipped) ctx.err(`sessionlog: skipped ${skip.file}: ${skip.reason}\n`);
    }
    ctx.flush();
  };
  print(await once());
  if (flags.watch !== true) return EXIT.OK;
  await follow(existing, async () => {
    const report = await once();
    if (report.entries > 0 || report.created > 0) print(report);
  });
  return EXIT.OK;
}

/** Runs `again` after file events under `paths` (debounced) and every few seconds, until SIGINT / SIGTERM. */
async function follow(paths: readonly string[], again: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (delay: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(again, again).catch(() => undefined);
    }, delay);
  };
  const watchers = paths.map((p) => fs.watch(p, { recursive: fs.statSync(p).isDirectory() }, () => schedule(WATCH_DEBOUNCE_MS)));
  const poll = setInterval(() => schedule(0), WATCH_POLL_MS);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  clearInterval(poll);
  clearTimeout(timer);
  for (const watcher of watchers) watcher.close();
  await running;
}

/** Registers `import`. */
export function registerImport(program: Command): void {
  program
    .command('import <tool> [paths...]')
    .description("bring in Claude Code's (claude) or Codex's (codex) transcripts: one session each, source ids kept")
    .option('--watch', 'keep importing as the tool writes (until Ctrl-C)')
    .option('--dry-run', 'count what would be imported, write nothing')
    .option('--json', 'print a summary as JSON (one line per run with --watch)')
    .addHelpText(
      'after',
      `
Default folders: Claude Code's projects/ under $CLAUDE_CONFIG_DIR (else ~/.claude); Codex's sessions/
and archived_sessions/ under $CODEX_HOME (else ~/.codex). Running it again imports only what is new.
The tools' files are only read: nothing is written to them or beside them.
${examples(['sessionlog import claude', 'sessionlog import codex ~/.codex/sessions/2026/11 --dry-run', 'sessionlog import claude --watch'])}`,
    )
    .action(action((ctx, tool: string, paths: string[], flags: ImportFlags) => runImport(ctx, tool, paths, flags)));
}
