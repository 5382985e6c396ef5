/**
 * Runs the real built CLI (`node dist/cli/main.js`) in child processes. Build first
 * (`npm run build`; `npm test` does it in pretest).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the CLI tests.`);

/** What a finished CLI run did. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of a run. */
export interface CliOptions {
  /** Passed as --dir unless undefined. */
  readonly dir?: string | undefined;
  /** Extra environment; a value of undefined removes the variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
}

function environment(extra: CliOptions['env'] = {}): NodeJS.ProcessEnv {
  // A neutral environment: no colour forcing, no store from the caller, UTC for stable times.
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  for (const key of ['NO_COLOR', 'FORCE_COLOR', 'SESSIONLOG_DIR', 'CI', 'SESSIONLOG_DEBUG', 'COLUMNS', 'PAGER', 'EDITOR', 'VISUAL']) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A CLI process still running, with its output so far. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly done: Promise<CliResult>;
}

/** Starts the CLI with `args` (after `--dir <dir>` when given). */
export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const argv = [BIN, ...(options.dir === undefined ? [] : ['--dir', options.dir]), ...args];
  const child = spawn(process.execPath, argv, { env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Runs the CLI with --json and parses stdout; fails with the stderr when the exit code is not `code`. */
export async function runJson<T = unknown>(args: readonly string[], options: CliOptions = {}, code = 0): Promise<T> {
  const result = await runCli([...args, '--json'], options);
  if (result.code !== code) throw new Error(`exit ${result.code} (expected ${code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as a user at a terminal would: stdout
 * and stdin are a TTY. `input` is typed at it (answers to prompts). Output with `\r\n` made `\n`.
 */
export async function runInTerminal(args: readonly string[], options: CliOptions & { columns?: number } = {}): Promise<CliResult> {
  const quote = (arg: string): string => `'${arg.replace(/'/g, "'\\''")}'`;
  const argv = [process.execPath, BIN, ...(options.dir === undefined ? [] : ['--dir', options.dir]), ...args].map(quote).join(' ');
  const command = `stty cols ${options.columns ?? 80} 2>/dev/null; ${argv}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  if (options.input !== undefined) child.stdin.write(options.input);
  return new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out.replace(/\r\n/g, '\n'), stderr: err }));
  });
}
