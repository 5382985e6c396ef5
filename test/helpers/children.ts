/**
 * Real child processes for crash, signal, exit and concurrency tests. Children are plain .mjs
 * files in test/children that import 'sessionlog' (the built package, through its exports).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILDREN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../children');

/** What a finished child did. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running child with its output so far. */
export interface RunningChild {
  readonly process: ChildProcess;
  readonly stdout: () => string;
  /** Resolves with the first stdout line matching `pattern`, or rejects when the child exits first. */
  readonly line: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  readonly done: Promise<ChildResult>;
}

/** Starts `test/children/<name>` with node (or `command` wrapping it, e.g. `sh -c 'ulimit …; exec node …'`). */
export function startChild(
  name: string,
  args: readonly string[] = [],
  options: { env?: NodeJS.ProcessEnv; wrap?: (nodeArgs: string[]) => [string, string[]] } = {},
): RunningChild {
  const nodeArgs = [path.join(CHILDREN, name), ...args];
  const [command, argv] = options.wrap?.(nodeArgs) ?? [process.execPath, nodeArgs];
  const child = spawn(command, argv, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const waiter of [...waiters]) {
      const hit = out.split('\n').find((line) => waiter.pattern.test(line));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(hit);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const done = new Promise<ChildResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return {
    process: child,
    stdout: () => out,
    done,
    line: (pattern, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const hit = out.split('\n').find((line) => pattern.test(line));
        if (hit !== undefined) return resolve(hit);
        const timer = setTimeout(() => reject(new Error(`no line ${pattern} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void done.then((result) => {
          clearTimeout(timer);
          reject(new Error(`child exited (${result.code ?? result.signal}) before ${pattern}; stderr: ${result.stderr}`));
        });
      }),
  };
}

/** Runs a child to completion. */
export function runChild(name: string, args: readonly string[] = [], options: Parameters<typeof startChild>[2] = {}): Promise<ChildResult> {
  return startChild(name, args, options).done;
}
