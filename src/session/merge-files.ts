/**
 * The file work of a merge (src/session/merge.ts): finding the conflict copies of a session,
 * reading byte ranges, the output files, and moving merged copies aside. The safe-rewrite steps
 * are those of repair (src/session/repair.ts): temp file in the folder (0600, O_EXCL), fsync,
 * rename, fsync of the folder, bytes another process appended after the last check carried over.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf, ioError, SessionStoreError } from '../errors.js';
import { FILE_MODE, writeAllSync } from '../fs/files.js';
import { conflictOf, SESSION_EXT } from '../fs/paths.js';
import { fileStamp, moveToTrash, TRASH_DIR } from './trash.js';

const CHUNK = 256 * 1024;
/** Output is written in batches of about this size. */
const BATCH_BYTES = 1024 * 1024;

/**
 * The conflict copies of session `id` in `dir` (Syncthing's `<id>.sync-conflict-….jsonl`), plus
 * the file names the caller names (another sync tool's copy: Dropbox's "(conflicted copy)",
 * Nextcloud's "(conflicted copy …)"), as absolute paths, sorted, each once.
 * @throws ERR_INVALID_OPTION (a name that is not a plain file name in the folder, or the session's own file), ERR_IO
 */
export async function conflictCopies(dir: string, id: string, named: readonly string[] = []): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    throw ioError('list the store folder', dir, err);
  }
  const found = new Set(names.filter((name) => conflictOf(name) === id));
  for (const name of named) {
    if (name === '' || name === '.' || name === '..' || name !== path.basename(name) || name.includes('\0')) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `Expected a file name in ${dir} (no folder), got ${JSON.stringify(name.slice(0, 80))}.`);
    }
    if (name === id + SESSION_EXT) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `${name} is the session's own file, not a copy of it; name the copies only.`);
    }
    if (!names.includes(name)) {
      throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No file ${name} in ${dir}; list the folder to check the name.`, { path: path.join(dir, name) });
    }
    found.add(name);
  }
  const copies: string[] = [];
  for (const name of [...found].sort()) {
    const file = path.join(dir, name);
    if (!(await finishInterruptedMove(dir, file))) copies.push(file);
  }
  return copies;
}

/**
 * A copy is moved to the trash by link, then unlink (trash.ts), after its records were merged: a
 * crash in between leaves it hard-linked in both places, which every read refuses. The one in the
 * trash holds the bytes, so the move is finished here. Returns true when `file` was such a leftover.
 */
async function finishInterruptedMove(dir: string, file: string): Promise<boolean> {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st === undefined || !st.isFile() || st.nlink !== 2) return false;
  const trash = path.join(dir, TRASH_DIR);
  let names: string[];
  try {
    names = await fs.promises.readdir(trash);
  } catch {
    return false; // No trash folder: not ours; the read reports the hard link.
  }
  const twin = names.some((name) => {
    const other = fs.lstatSync(path.join(trash, name), { throwIfNoEntry: false });
    return other !== undefined && other.ino === st.ino && other.dev === st.dev;
  });
  if (!twin) return false;
  try {
    await fs.promises.unlink(file);
  } catch (err) {
    throw ioError('finish moving to the trash', file, err);
  }
  return true;
}

/** sha256 of bytes: identical lines in several copies are told apart from different versions by it. */
export function hashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads bytes [from, from + length) of an open file. */
export function readRange(fd: number, file: string, from: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let got = 0;
  try {
    while (got < length) {
      const n = fs.readSync(fd, buffer, got, length - got, from + got);
      if (n === 0) break;
      got += n;
    }
  } catch (err) {
    throw ioError('read', file, err);
  }
  return buffer.subarray(0, got);
}

/** sha256 of bytes [from, from + length), read in chunks: for lines too long to hold. */
export function hashRange(fd: number, file: string, from: number, length: number): string {
  const hash = createHash('sha256');
  for (let at = from; at < from + length; at += CHUNK) hash.update(readRange(fd, file, at, Math.min(CHUNK, from + length - at)));
  return hash.digest('hex');
}

/** An output file (the merged session's temp file, the recovery file): created 0600 exclusively on first use, written in batches. */
export class OutputFile {
  readonly file: string;
  #fd: number | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes added so far. */
  bytes = 0;

  constructor(file: string) {
    this.file = file;
  }

  get opened(): boolean {
    return this.#fd !== undefined;
  }

  add(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
    this.bytes += piece.length;
    if (this.#pendingBytes >= BATCH_BYTES) this.drain();
  }

  /** Copies bytes [from, from + length) of another open file, in chunks. */
  addRange(fd: number, file: string, from: number, length: number): void {
    for (let at = from; at < from + length; at += CHUNK) this.add(readRange(fd, file, at, Math.min(CHUNK, from + length - at)));
  }

  drain(): void {
    if (this.#pendingBytes === 0) return;
    if (this.#fd === undefined) {
      const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
      try {
        this.#fd = fs.openSync(this.file, flags, FILE_MODE);
        // open()'s mode is filtered by the umask.
        fs.fchmodSync(this.#fd, FILE_MODE);
      } catch (err) {
        throw ioError('create', this.file, err);
      }
    }
    try {
      writeAllSync(this.#fd, Buffer.concat(this.#pending, this.#pendingBytes));
    } catch (err) {
      throw ioError('write', this.file, err);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  sync(): void {
    this.drain();
    if (this.#fd === undefined) return;
    try {
      fs.fsyncSync(this.#fd);
    } catch (err) {
      throw ioError('fsync', this.file, err);
    }
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  remove(): void {
    this.close();
    fs.rmSync(this.file, { force: true });
  }
}

/** A recovery file name beside the session, as repair names them: it does not end in `.jsonl`, so it is never a session. */
export function recoveryPathFor(file: string, now: number): string {
  const base = `${file}.recovered-${fileStamp(now)}`;
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/** True when the session file grew past `position`; throws when it was replaced or deleted meanwhile. */
export function sessionGrew(file: string, stat: fs.Stats, position: number): boolean {
  let now: fs.Stats;
  try {
    now = fs.statSync(file);
  } catch (err) {
    throw errnoOf(err) === 'ENOENT'
      ? new SessionStoreError('ERR_SESSION_NOT_FOUND', `${file} was deleted while it was merged.`, { path: file, cause: err })
      : ioError('stat', file, err);
  }
  if (now.ino !== stat.ino || now.dev !== stat.dev) {
    throw new SessionStoreError('ERR_LOCKED', `${file} was replaced by another program while it was merged; run the merge again.`, { path: file });
  }
  return now.size > position;
}

/** Throws ERR_LOCKED when a copy is no longer the file that was read (a sync tool still at work). */
export function assertCopyUnchanged(file: string, stat: fs.Stats): void {
  const now = fs.lstatSync(file, { throwIfNoEntry: false });
  if (now === undefined || now.ino !== stat.ino || now.size !== stat.size || now.mtimeMs !== stat.mtimeMs) {
    throw new SessionStoreError('ERR_LOCKED', `${file} changed while it was merged (a sync tool at work?); nothing was replaced. Run the merge again.`, {
      path: file,
    });
  }
}

/** Appends bytes [from, to) of the old session file to the new one (which ends with a newline), and fsyncs it. */
export function carryOver(oldFd: number, from: number, to: number, file: string): void {
  const bytes = readRange(oldFd, file, from, to - from);
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
  try {
    writeAllSync(fd, bytes);
    fs.fsyncSync(fd);
  } catch (err) {
    throw ioError('append to', file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Moves a merged copy into the store's trash folder under its own name (a time stamp is added
 * when the name is taken there), never deleting it. Returns the new path.
 */
export async function moveCopyAside(dir: string, copy: string, now: number): Promise<string> {
  const name = path.basename(copy);
  // moveToTrash names the file `<stem>.jsonl`: the copy keeps its name.
  const stem = name.endsWith(SESSION_EXT) ? name.slice(0, -SESSION_EXT.length) : name;
  return moveToTrash(dir, stem, copy, now);
}
