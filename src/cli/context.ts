/**
 * What every command shares: the store folder, output (colour, JSON), errors and exit codes.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { openStore, type FileSessionStore, type WarningEvent } from '../index.js';
import { foreignFolder } from './foreign.js';
import { type Pager, pagerCommand, startPager } from './pager.js';
import { type DirSource, resolveStoreDir } from './store-dir.js';

/** The documented exit codes. */
export const EXIT = {
  OK: 0,
  /** Problems found, nothing found, a session not found, or the command failed. */
  PROBLEMS: 1,
  /** The command line is wrong: unknown command or option, bad value, ambiguous or invalid id. */
  USAGE: 2,
} as const;

/** Buffered stdout is written at this size at the latest. */
const OUT_BATCH = 64 * 1024;

/** Error codes that mean the command line was wrong. */
const USAGE_CODES = new Set(['ERR_USAGE', 'ERR_INVALID_ID', 'ERR_INVALID_OPTION', 'ERR_AMBIGUOUS_ID']);

/** A failure the CLI reports with a code and an exit status. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode: number = USAGE_CODES.has(code) ? EXIT.USAGE : EXIT.PROBLEMS) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A usage error (exit 2). */
export function usage(message: string): CliError {
  return new CliError('ERR_USAGE', message, EXIT.USAGE);
}

/** Colour functions; identity functions when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Global options, as commander parses them. */
interface GlobalOptions {
  readonly dir?: string;
  readonly color?: boolean;
  readonly json?: boolean;
  readonly pager?: boolean;
}

/** Whether colour is on: a TTY (or FORCE_COLOR), and neither NO_COLOR nor --no-color. */
export function colorEnabled(flag: boolean | undefined, stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag === false) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

/** The context handed to a command. */
export class Context {
  readonly dir: string;
  readonly dirSource: DirSource;
  readonly json: boolean;
  readonly color: boolean;
  readonly c: Colors;
  #store: FileSessionStore | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #flushSoon: NodeJS.Immediate | undefined;
  readonly #pagerAllowed: boolean;
  #pager: Pager | undefined;

  constructor(command: Command) {
    const opts = command.optsWithGlobals<GlobalOptions>();
    const { dir, source } = resolveStoreDir(opts.dir);
    this.dir = dir;
    this.dirSource = source;
    this.json = opts.json === true;
    this.color = !this.json && colorEnabled(opts.color);
    this.c = pc.createColors(this.color);
    this.#pagerAllowed = opts.pager !== false;
  }

  /**
   * Sends what follows through the pager when stdout is a terminal (pagers.ts); for commands whose
   * output can be long (show, search, export, stats). Colour stays on: the pager shows it.
   */
  usePager(): void {
    const command = pagerCommand();
    if (!this.#pagerAllowed || process.stdout.isTTY !== true || command === undefined || this.#pager !== undefined) return;
    this.#pager = startPager(command);
  }

  /**
   * Terminal width for human output: the terminal's, else `$COLUMNS` when set (as `ls` does), else
   * undefined (piped: no truncation).
   */
  get width(): number | undefined {
    if (process.stdout.isTTY) return process.stdout.columns;
    const columns = Number(process.env['COLUMNS']);
    return Number.isInteger(columns) && columns > 0 ? columns : undefined;
  }

  /** Opens the store. Commands that only read refuse a folder that does not exist rather than create it. */
  async open(options: { create?: boolean; watch?: boolean } = {}): Promise<FileSessionStore> {
    if (options.create !== true && !fs.existsSync(this.dir)) {
      const hint = this.dirSource === 'default' ? 'pass --dir or set SESSIONLOG_DIR' : `check ${this.dirSource}`;
      throw new CliError('ERR_NO_STORE', `No store folder at ${this.dir}: ${hint}, or create a session there with \`sessionlog new\`.`);
    }
    const foreign = options.create === true ? undefined : foreignFolder(this.dir);
    if (foreign !== undefined) {
      const name = foreign === 'claude' ? 'Claude Code' : 'Codex';
      throw new CliError(
        'ERR_FOREIGN_FOLDER',
        `${this.dir} holds ${name} transcripts, not sessionlog sessions; nothing was read or written there. Bring them into a store with \`sessionlog import ${foreign} ${this.dir}\` (add --dir <store> to choose the store).`,
      );
    }
    const store = await openStore({ dir: this.dir, watch: options.watch === true });
    // Warnings go to stderr as one line each; a first listing that builds the index is not one.
    store.on('warning', (warning: WarningEvent) => {
      if (warning.code !== 'SESSIONLOG_INDEX_REBUILT') this.err(`sessionlog: warning: ${warning.message}\n`);
    });
    this.#store = store;
    return store;
  }

  /** Closes the store if one was opened. */
  async close(): Promise<void> {
    await this.#store?.close();
  }

  /**
   * Writes to stdout through a buffer: one write per 64 kB, or per turn of the event loop, instead
   * of one per line (a search with 50 000 hits spent most of its time in write calls).
   */
  out(text: string): void {
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    if (this.#pendingBytes >= OUT_BATCH) this.flush();
    else this.#flushSoon ??= setImmediate(() => this.flush());
  }

  /** Writes what `out` has buffered. */
  flush(): void {
    if (this.#flushSoon !== undefined) clearImmediate(this.#flushSoon);
    this.#flushSoon = undefined;
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#pager !== undefined) this.#pager.write(text);
    else process.stdout.write(text);
  }

  /** Waits until the user leaves the pager, if one runs. */
  async endPager(): Promise<void> {
    this.flush();
    await this.#pager?.end();
    this.#pager = undefined;
  }

  /** Writes to stderr, after what is buffered for stdout (so a terminal shows them in order). */
  err(text: string): void {
    this.flush();
    process.stderr.write(text);
  }

  /** One JSON document on stdout. */
  printJson(value: unknown): void {
    this.out(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON value per line (JSONL), for streams. */
  printJsonLine(value: unknown): void {
    this.out(`${JSON.stringify(value)}\n`);
  }
}

/** The code and one-line message of any error, without transcript content. */
export function describeError(err: unknown): { code: string; message: string; exitCode: number } {
  const code = (err as { code?: unknown }).code;
  if (err instanceof CliError) return { code: err.code, message: err.message, exitCode: err.exitCode };
  if (err instanceof Error && typeof code === 'string' && code.startsWith('ERR_')) {
    // SessionStoreError messages name files and next steps, never content.
    return { code, message: err.message, exitCode: USAGE_CODES.has(code) ? EXIT.USAGE : EXIT.PROBLEMS };
  }
  if (err instanceof Error && typeof code === 'string') {
    // An errno error from Node: its message names the syscall and the path.
    return { code: 'ERR_IO', message: err.message, exitCode: EXIT.PROBLEMS };
  }
  // Anything else may quote data (JSON.parse messages do): say only what kind of error it was.
  const name = err instanceof Error ? err.name : typeof err;
  return { code: 'ERR_INTERNAL', message: `unexpected ${name}; run again with SESSIONLOG_DEBUG=1 for the stack trace`, exitCode: EXIT.PROBLEMS };
}

/** Prints `sessionlog: CODE: message` on stderr (one line) and returns the exit code. */
export function reportError(err: unknown): number {
  const { code, message, exitCode } = describeError(err);
  process.stderr.write(`sessionlog: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (process.env['SESSIONLOG_DEBUG'] === '1' && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  return exitCode;
}

/**
 * Wraps a command's action: builds its context, runs it, closes the store, and records the exit
 * code the action returns (default 0). Errors propagate to main, which reports them.
 */
export function action<A extends unknown[]>(run: (ctx: Context, ...args: A) => Promise<number | void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = new Context(command);
    try {
      const code = await run(ctx, ...(args.slice(0, -1) as A));
      process.exitCode = code ?? EXIT.OK;
    } finally {
      await ctx.endPager();
      await ctx.close();
    }
  };
}
