/**
 * A cross-process lock for the rare whole-file rewrites of a session (repair). Appends never take
 * it: one O_APPEND write per flush is what keeps concurrent appenders safe, and a lock on that hot
 * path would only add a way to stall.
 *
 * proper-lockfile is the right tool for a coarse, short, rare lock: `mkdir` is atomic (also on
 * network file systems) and a crashed holder's lock goes stale. Configured per deps.md §3:
 * `realpath: false` (no ENOENT, no symlink following), a non-throwing `onCompromised` (its default
 * throws from a timer and kills the process), and the lock folder created 0700.
 */
import fs from 'node:fs';
import path from 'node:path';
import type lockfileModule from 'proper-lockfile';
import { errnoOf, ioError, SessionStoreError } from '../errors.js';
import { DIR_MODE } from './files.js';

/**
 * Loaded on first use, not at import: proper-lockfile installs signal-exit's process listeners
 * when it loads, and an agent that never repairs should not carry them.
 */
let loaded: Promise<typeof lockfileModule> | undefined;
function loadLockfile(): Promise<typeof lockfileModule> {
  loaded ??= import('proper-lockfile').then((module) => module.default);
  return loaded;
}

/** A lock older than this without a refresh belongs to a dead process. Same value in every process. */
const STALE_MS = 20_000;

// proper-lockfile creates its lock folder with mkdir's default mode (0755 under umask 022).
const lockFs = {
  ...fs,
  mkdir: (dir: fs.PathLike, callback: (err: NodeJS.ErrnoException | null) => void) => fs.mkdir(dir, { mode: DIR_MODE }, callback),
};

/** The lock folder of a session file: hidden, beside it, never a session name. */
export function lockPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

/**
 * Runs `task` holding the session's rewrite lock. `task` gets `assertHeld()`, to call right before
 * its point of no return (the rename): it throws ERR_LOCKED if the lock was lost meanwhile (a stall
 * longer than the stale time let another process take it).
 * @throws ERR_LOCKED when another process holds the lock
 */
export async function withRewriteLock<T>(file: string, task: (assertHeld: () => void) => Promise<T>): Promise<T> {
  let lost: Error | undefined;
  let release: () => Promise<void>;
  const lockfile = await loadLockfile();
  try {
    release = await lockfile.lock(file, {
      lockfilePath: lockPathFor(file),
      realpath: false,
      stale: STALE_MS,
      retries: { retries: 3, minTimeout: 100, maxTimeout: 500 },
      fs: lockFs,
      onCompromised: (err) => {
        lost = err;
      },
    });
  } catch (err) {
    if (errnoOf(err) === 'ELOCKED') {
      throw new SessionStoreError('ERR_LOCKED', `${file} is being rewritten by another process (a repair); try again when it is done.`, {
        path: file,
        cause: err,
      });
    }
    throw ioError('lock', file, err);
  }
  try {
    return await task(() => {
      if (lost !== undefined) {
        throw new SessionStoreError('ERR_LOCKED', `Lost the lock on ${file} during a long stall; nothing was replaced. Run it again.`, {
          path: file,
          cause: lost,
        });
      }
    });
  } finally {
    await release().catch(() => undefined);
  }
}
