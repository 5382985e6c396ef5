/**
 * A cross-process lock for the rare whole-file rewrites of a session (repair, merge). Appends never
 * take it: one O_APPEND write per flush is what keeps concurrent appenders safe, and a lock on that
 * hot path would only add a way to stall.
 *
 * Why not proper-lockfile: its stale takeover is `stat` → `rmdir` → `mkdir`, and a contender whose
 * `stat` saw the dead holder's folder can `rmdir` the fresh folder another contender just made;
 * both then hold the lock (moxystudio/node-proper-lockfile#121; row H4 measured 54 overlapping
 * critical sections in 200 trials of 12 contenders, and 0 with this lock). Here every step acts on
 * a name that belongs to one holder, so an outdated judgement can only miss:
 *
 * - The lock is the folder `.<name>.lock` holding one file, `owner-<token>` (token: pid + random).
 *   A contender prepares that folder privately, then `rename`s it into place. rename(2) of a folder
 *   succeeds only when the target is missing or empty, atomically: at most one folder with an
 *   owner in it is ever in place.
 * - The holder refreshes its owner file's mtime every `staleMs / 4`. An owner file older than
 *   `staleMs` belongs to a dead or stalled holder; a contender takes over by unlinking *that file,
 *   by its unique name* (only one contender's unlink succeeds, and it can never remove a newer
 *   holder's file), then renames its own folder into the now-empty place.
 * - `assertHeld()` (fencing, called right before a point of no return) checks that the owner file
 *   is still ours and our lease has not run out. A holder stalled past the stale time (SIGSTOP,
 *   laptop sleep) refuses when it wakes, whether or not another process took over meanwhile, and a
 *   lease that ran out is never renewed.
 *
 * What no lease can rule out: a stall of more than `staleMs / 4` between `assertHeld()` and the
 * rename right after it (a few synchronous microseconds). Locks do not work across machines.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { onProcessExit } from '../../core/exit-hooks.js';
import { DIR_MODE, FILE_MODE } from './files.js';
import { deadStagingPid, stagingPathFor } from './temps.js';

/** A lock whose owner file was not refreshed for this long belongs to a dead or stalled process. Same value in every process. */
const STALE_MS = 20_000;
/** Waits for a held lock: about 0.1 + 0.2 + 0.4 s, then ERR_LOCKED. */
const RETRIES = 3;
const FIRST_BACKOFF_MS = 100;
/** Rounds of "the lock changed under us, look again" per attempt; each round follows another process's step. */
const MAX_ROUNDS = 20;
const OWNER_PREFIX = 'owner-';

/** Lock timing. Internal: tests shorten the stale time; production always uses the defaults. */
export interface LockTiming {
  /** @default 20000 */
  readonly staleMs?: number;
  /** Attempts after the first while the lock is held by a live process. @default 3 */
  readonly retries?: number;
  /** The first wait, doubled at each attempt. @default 100 */
  readonly firstBackoffMs?: number;
  /** The longest wait: for locks held a few milliseconds at a time by many writers. @default none */
  readonly maxBackoffMs?: number;
}

/** The lock folder of a session file: hidden, beside it, never a session name. */
export function lockPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

/**
 * When the holder of a lock folder last showed it was alive: the newest mtime of the owner files in
 * it, the heartbeat a holder refreshes every `staleMs / 4` and contenders judge a takeover by. The
 * folder's own mtime is not it: it changes when the lock is taken, not while it is held.
 * Undefined when the folder has no owner file (empty, filled by hand, or not a folder) or is gone.
 * For `doctor`, which must not guess this module's naming.
 */
export function lockHeartbeatMs(lockDir: string): number | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(lockDir);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  let newest: number | undefined;
  for (const name of names) {
    if (!name.startsWith(OWNER_PREFIX)) continue;
    const st = fs.lstatSync(path.join(lockDir, name), { throwIfNoEntry: false });
    // Gone since the listing: released or taken over; the next owner file is judged on its own.
    if (st !== undefined && (newest === undefined || st.mtimeMs > newest)) newest = st.mtimeMs;
  }
  return newest;
}

/**
 * Whether another process holds the session's rewrite lock right now (a live heartbeat): a writer
 * that finds the file replaced waits for the rewrite to finish before it decides which of its
 * entries the new file lacks, since the rewrite carries late appends over only after its rename.
 */
export function isRewriteLocked(file: string): boolean {
  const heartbeat = lockHeartbeatMs(lockPathFor(file));
  return heartbeat !== undefined && Date.now() - heartbeat < STALE_MS;
}

/**
 * Resolves when no rewrite of `file` is in progress, or after `maxMs` (a stalled rewrite must not
 * stall appends for longer than a lock can be held without a heartbeat).
 */
export async function waitForRewrite(file: string, maxMs: number = STALE_MS): Promise<void> {
  const deadline = Date.now() + maxMs;
  // A rewrite takes milliseconds to seconds: poll often first, then back off.
  for (let wait = 2; isRewriteLocked(file) && Date.now() < deadline; wait = Math.min(wait * 2, 100)) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** A private folder holding our owner file, ready to be renamed into place. */
function stage(lockDir: string, token: string): string {
  const staging = stagingPathFor(lockDir);
  fs.mkdirSync(staging, { mode: DIR_MODE });
  // mkdir's mode is filtered by the umask.
  fs.chmodSync(staging, DIR_MODE);
  const fd = fs.openSync(path.join(staging, OWNER_PREFIX + token), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
  try {
    fs.fchmodSync(fd, FILE_MODE);
    fs.writeSync(fd, `${JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() })}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return staging;
}

/** Staging folders of killed contenders (same pattern, pid gone). */
function sweepStaging(lockDir: string): void {
  const prefix = `${path.basename(lockDir)}.`;
  const dir = path.dirname(lockDir);
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix) && deadStagingPid(name) !== undefined) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * One attempt: the monotonic time our lease starts when our folder is in place, else undefined.
 * Only a fresh owner file (a live holder) makes it fail; every other obstacle is another
 * contender's step, and we look again.
 */
function tryAcquire(lockDir: string, staging: string, owner: string, staleMs: number): number | undefined {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // The lease starts before the mtime others judge it by: ours runs out first.
    const leaseStart = performance.now();
    const now = new Date();
    fs.utimesSync(path.join(staging, owner), now, now);
    try {
      fs.renameSync(staging, lockDir);
      return leaseStart;
    } catch (err) {
      const code = errnoOf(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    let names: string[];
    try {
      names = fs.readdirSync(lockDir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') continue; // released meanwhile
      throw err;
    }
    const owners = names.filter((name) => name.startsWith(OWNER_PREFIX));
    // Something inside but no owner file: not ours to judge (put there by hand). Held.
    if (owners.length === 0 && names.length > 0) return undefined;
    for (const other of owners) {
      let mtimeMs: number;
      try {
        mtimeMs = fs.lstatSync(path.join(lockDir, other)).mtimeMs;
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue; // released or taken over meanwhile
        throw err;
      }
      if (Date.now() - mtimeMs <= staleMs) return undefined;
      try {
        // Removes that holder's file and nothing else: a newer holder's file has another name.
        fs.unlinkSync(path.join(lockDir, other));
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err; // ENOENT: another contender took it over first
      }
    }
  }
  return undefined;
}

/** A held lock: its owner file, kept fresh, and the checks of `assertHeld()`. */
class HeldLock {
  readonly #file: string;
  readonly #lockDir: string;
  readonly #owner: string;
  readonly #staleMs: number;
  /** Monotonic time of the last refresh that succeeded: our own view of the lease. */
  #refreshedAt: number;
  #lost: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #unhookExit: () => void;

  constructor(file: string, lockDir: string, owner: string, staleMs: number, leaseStart: number) {
    this.#file = file;
    this.#refreshedAt = leaseStart;
    this.#lockDir = lockDir;
    this.#owner = owner;
    this.#staleMs = staleMs;
    this.#schedule();
    // SIGINT / SIGTERM / exit while held: free the lock rather than leave it for 20 s.
    this.#unhookExit = onProcessExit(() => this.#removeSync());
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#refresh(), this.#staleMs / 4);
    // The task keeps the process alive, not the lock.
    this.#timer.unref();
  }

  #refresh(): void {
    const ownerPath = path.join(this.#lockDir, this.#owner);
    try {
      // A lease that ran out is never renewed: a contender may already have judged it stale.
      if (this.#expired(fs.lstatSync(ownerPath).mtimeMs)) return;
      const leaseStart = performance.now();
      const now = new Date();
      fs.utimesSync(ownerPath, now, now);
      this.#refreshedAt = leaseStart;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') {
        this.#lost ??= err as Error;
        return;
      }
      // Another error (EIO, EACCES): try again; the lease runs out if it keeps failing.
    }
    this.#schedule();
  }

  /**
   * Past three quarters of the stale time without a refresh, by our monotonic clock or by the
   * owner file's mtime (the wall clock contenders judge it by; the monotonic clock stops during a
   * system suspend): too close to a takeover to go on.
   */
  #expired(ownerMtimeMs: number): boolean {
    const limit = (this.#staleMs * 3) / 4;
    const age = Math.max(performance.now() - this.#refreshedAt, Date.now() - ownerMtimeMs);
    if (this.#lost === undefined && age >= limit) this.#lost = new Error(`lock not refreshed for ${Math.round(age)} ms (a stall)`);
    return this.#lost !== undefined;
  }

  assertHeld(): void {
    try {
      if (this.#lost === undefined && !this.#expired(fs.lstatSync(path.join(this.#lockDir, this.#owner)).mtimeMs)) return;
    } catch (err) {
      // ENOENT: taken over (or the folder removed by hand); anything else: cannot tell, so not held.
      this.#lost ??= err as Error;
    }
    throw new SessionStoreError('ERR_LOCKED', `Lost the lock on ${this.#file} during a long stall; nothing was replaced. Run it again.`, {
      path: this.#file,
      cause: this.#lost,
    });
  }

  /** Removes our owner file (by its unique name: never another holder's), then the folder if it is empty. */
  #removeSync(): void {
    clearTimeout(this.#timer);
    fs.rmSync(path.join(this.#lockDir, this.#owner), { force: true });
    try {
      fs.rmdirSync(this.#lockDir);
    } catch {
      // Not empty (the next holder is already in) or gone: either way not ours.
    }
  }

  release(): void {
    this.#unhookExit();
    this.#removeSync();
  }
}

/**
 * Runs `task` holding the session's rewrite lock. `task` gets `assertHeld()`, to call right before
 * its point of no return (the rename): it throws ERR_LOCKED if the lock was lost meanwhile (a stall
 * long enough for another process to take it over, or a lock folder removed by hand).
 * `timing` is for tests; production uses the defaults.
 * @throws ERR_LOCKED when another process holds the lock, ERR_IO when the lock folder cannot be made
 */
export async function withRewriteLock<T>(file: string, task: (assertHeld: () => void) => Promise<T>, timing: LockTiming = {}): Promise<T> {
  const staleMs = timing.staleMs ?? STALE_MS;
  const retries = timing.retries ?? RETRIES;
  const lockDir = lockPathFor(file);
  const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
  let staging: string | undefined;
  let held: HeldLock | undefined;
  try {
    sweepStaging(lockDir);
    for (let attempt = 0; held === undefined; attempt++) {
      staging ??= stage(lockDir, token);
      const leaseStart = tryAcquire(lockDir, staging, OWNER_PREFIX + token, staleMs);
      if (leaseStart !== undefined) {
        staging = undefined;
        held = new HeldLock(file, lockDir, OWNER_PREFIX + token, staleMs, leaseStart);
      } else if (attempt >= retries) {
        throw new SessionStoreError('ERR_LOCKED', `${file} is being rewritten by another process (a repair or merge); try again when it is done.`, { path: file });
      } else {
        const wait = (timing.firstBackoffMs ?? FIRST_BACKOFF_MS) * 2 ** attempt;
        // Jitter where waits are capped, so writers that collided once do not collide again in step.
        await new Promise((resolve) => setTimeout(resolve, timing.maxBackoffMs === undefined ? wait : Math.min(wait, timing.maxBackoffMs) * (0.5 + Math.random())));
      }
    }
  } catch (err) {
    throw err instanceof SessionStoreError ? err : ioError('lock', file, err);
  } finally {
    if (staging !== undefined) fs.rmSync(staging, { recursive: true, force: true });
  }
  const lock = held;
  try {
    return await task(() => lock.assertHeld());
  } finally {
    lock.release();
  }
}
