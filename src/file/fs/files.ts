/**
 * The few file operations the store makes, each with the checks that keep it inside the store
 * folder: no symlinks followed (O_NOFOLLOW), no FIFOs read (O_NONBLOCK + fstat), no hard links
 * written through, 0600 files and 0700 folders whatever the umask.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { sweepStaleTemps } from './temps.js';

const { O_RDONLY, O_RDWR, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
// O_CLOEXEC is not exposed by node:fs; Node opens every fd with it already.

/** Mode of every file the store creates. */
export const FILE_MODE = 0o600;
/** Mode of the store folder when the store creates it. */
export const DIR_MODE = 0o700;

export const fdatasync = promisify(fs.fdatasync);
export const fsyncFd = promisify(fs.fsync);
const close = promisify(fs.close);
const openAsync = promisify(fs.open);

function unsafe(file: string, what: string): SessionStoreError {
  return new SessionStoreError(
    'ERR_UNSAFE_FILE',
    `Refusing ${file}: it is ${what}, not a regular file the store owns. Move it out of the store folder.`,
    { path: file },
  );
}

/** Throws ERR_UNSAFE_FILE unless `st` is a regular file with one link. */
export function assertRegular(file: string, st: fs.Stats): void {
  if (st.isSymbolicLink()) throw unsafe(file, 'a symlink');
  if (!st.isFile()) throw unsafe(file, st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : 'a device or socket');
  if (st.nlink > 1) throw unsafe(file, `hard-linked (${st.nlink} links)`);
}

function openError(action: string, file: string, err: unknown): Error {
  const errno = errnoOf(err);
  if (errno === 'ELOOP') return unsafe(file, 'a symlink');
  if (errno === 'ENXIO') return unsafe(file, 'a FIFO or socket');
  if (errno === 'ENOENT') {
    return new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session file at ${file}: it was deleted or moved.`, {
      path: file,
      cause: err,
    });
  }
  return ioError(action, file, err);
}

/** Opens a session file for reading: never follows a symlink, never blocks on a FIFO. */
export async function openForRead(file: string): Promise<{ fd: number; stat: fs.Stats }> {
  let fd: number;
  try {
    fd = await openAsync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    throw openError('open', file, err);
  }
  try {
    const stat = await promisify(fs.fstat)(fd);
    assertRegular(file, stat);
    return { fd, stat };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Opens `file` with `flags` and checks it is a regular file with one link, synchronously. */
function openCheckedSync(file: string, flags: number, action: string): { fd: number; stat: fs.Stats } {
  let fd: number;
  try {
    fd = fs.openSync(file, flags);
  } catch (err) {
    throw openError(action, file, err);
  }
  try {
    const stat = fs.fstatSync(fd);
    assertRegular(file, stat);
    return { fd, stat };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Synchronous twin of {@link openForRead}, for the few small reads of a tail. */
export function openForReadSync(file: string): { fd: number; stat: fs.Stats } {
  return openCheckedSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 'open');
}

/** Closes an fd, ignoring errors: used on paths that already carry the interesting error. */
export async function closeQuietly(fd: number): Promise<void> {
  await close(fd).catch(() => undefined);
}

/**
 * Synchronous twin of {@link closeQuietly}: for fds only read from, or on paths that already carry
 * the interesting error (a failed close then loses nothing that is not reported).
 */
export function closeSyncQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // See above: nothing to add to what the caller reports.
  }
}

/** Opens an existing session file for appending (no O_CREAT: a deleted session is never recreated headless). */
export function openForAppendSync(file: string): { fd: number; stat: fs.Stats } {
  return openCheckedSync(file, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK, 'open for appending');
}

/**
 * Creates `file` exclusively with mode 0600 and writes `data` in one call; with `durable`, fsyncs
 * the file and then the folder so the new name survives a power loss.
 * Throws ERR_SESSION_EXISTS when the name is taken, by this process or any other (O_EXCL).
 */
export async function createExclusive(file: string, data: Buffer, durable: boolean): Promise<void> {
  let fd: number;
  try {
    // On the thread pool, unlike the writer's opens: creating a file takes 10–400 µs on ext4 (the
    // journal), and an app creating many sessions at once goes on appending to those already
    // created meanwhile (row 11 of docs/performance.md).
    fd = await openAsync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FILE_MODE);
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') {
      throw new SessionStoreError('ERR_SESSION_EXISTS', `A session already exists at ${file}; pick another id or open it.`, {
        path: file,
        cause: err,
      });
    }
    throw ioError('create', file, err);
  }
  try {
    // open()'s mode is filtered by the umask; an exotic umask (e.g. 0o277) must not change it
    // either. Only then is it changed: an fchmod dirties the inode (one more journal update) for
    // nothing under the usual umasks.
    if ((fs.fstatSync(fd).mode & 0o777) !== FILE_MODE) fs.fchmodSync(fd, FILE_MODE);
    writeAllSync(fd, data);
    if (durable) await fsyncFd(fd);
  } catch (err) {
    fs.closeSync(fd);
    // Nothing acknowledged refers to a half-created file: remove it so the id stays free.
    fs.rmSync(file, { force: true });
    throw err instanceof SessionStoreError ? err : ioError('write', file, err);
  }
  // Closed synchronously, as the writer does: a close takes microseconds, a thread-pool round trip more.
  try {
    fs.closeSync(fd);
  } catch (err) {
    throw ioError('close', file, err);
  }
  if (durable) await fsyncDir(file.slice(0, file.lastIndexOf('/')) || '/');
}

/** Writes all of `data` (a buffer, or buffers in order) at the fd's position (the end, with O_APPEND), looping on short writes; an error carries `written`. */
export function writeAllSync(fd: number, data: Buffer | readonly Buffer[]): void {
  const list: readonly Buffer[] = Buffer.isBuffer(data) ? [data] : data;
  let parts = list.filter((part) => part.length > 0);
  let written = 0;
  while (parts.length > 0) {
    let n: number;
    try {
      // One call for the whole batch (up to 1,024 buffers), so that another appender's line never lands inside it.
      n = parts.length === 1 ? fs.writeSync(fd, parts[0] as Buffer) : fs.writevSync(fd, parts.slice(0, MAX_IOVECS));
    } catch (err) {
      // How much landed before the error: the caller may truncate its partial line away.
      throw Object.assign(err as Error, { written });
    }
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO', written });
    written += n;
    parts = skipBytes(parts, n);
  }
}

/** Linux's cap on the buffers of one writev (UIO_MAXIOV). */
const MAX_IOVECS = 1024;

/** `parts` without their first `n` bytes. */
function skipBytes(parts: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < parts.length && n >= (parts[i] as Buffer).length) n -= (parts[i++] as Buffer).length;
  const rest = parts.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(n);
  return rest;
}

/** fsyncs a folder, so that entries created or renamed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await openAsync(dir, O_RDONLY);
  try {
    await fsyncFd(fd);
  } finally {
    await close(fd);
  }
}

/**
 * Makes sure the store folder exists and is safe to use, and returns its real path. A folder the
 * store creates gets mode 0700 exactly. An existing folder that other users can write to (o+w), or
 * that belongs to another user, is refused: they could replace session files under the store.
 * Temp files left by a killed fork or repair are swept in the background. (A folder readable by
 * others is allowed; `sessionlog doctor` reports it.)
 *
 * A store folder that is a symlink (a data folder moved to a bigger or synced disk) is followed
 * once, here: the store then works on the real folder, so swapping the link while the store is
 * open cannot redirect its writes, and two stores opened through different links share one index.
 * @throws ERR_INVALID_OPTION (a file, not a folder), ERR_UNSAFE_FILE, ERR_IO
 */
export async function ensureDir(dir: string): Promise<string> {
  const notFolder = (cause?: unknown): SessionStoreError =>
    new SessionStoreError('ERR_INVALID_OPTION', `The store folder ${dir} is not a folder (a file is in the way); pass another dir.`, { path: dir, cause });
  let created: string | undefined;
  try {
    created = await fs.promises.mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 'EEXIST' || errno === 'ENOTDIR') throw notFolder(err);
    throw ioError('create the store folder', dir, err);
  }
  if (created !== undefined) {
    await fs.promises.chmod(dir, DIR_MODE);
    return fs.promises.realpath(dir);
  }
  const st = await fs.promises.stat(dir).catch((err: unknown) => {
    throw ioError('open the store folder', dir, err);
  });
  if (!st.isDirectory()) throw notFolder();
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new SessionStoreError('ERR_UNSAFE_FILE', `The store folder ${dir} belongs to another user (uid ${st.uid}); use a folder you own.`, { path: dir });
  }
  if ((st.mode & 0o002) !== 0) {
    throw new SessionStoreError(
      'ERR_UNSAFE_FILE',
      `The store folder ${dir} is writable by every user (mode ${(st.mode & 0o777).toString(8)}); run \`chmod o-w ${dir}\` (or chmod 700) and open it again.`,
      { path: dir },
    );
  }
  const real = await fs.promises.realpath(dir).catch((err: unknown) => {
    throw ioError('open the store folder', dir, err);
  });
  void sweepStaleTemps(real).catch(() => undefined);
  return real;
}
