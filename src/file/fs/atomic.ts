/**
 * Every whole-file write of the file backend goes through here: an output file created 0600 with
 * O_EXCL | O_NOFOLLOW (a name someone else made, or a planted symlink, is an error, never written
 * through), written in batches that survive short writes, then renamed over its target (repair,
 * merge, the catalog) or linked as a new name (fork). Temp names come from `tempPathFor` alone.
 */
import fs from 'node:fs';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { FILE_MODE, writeAllSync } from './files.js';
import { tempPathFor } from './temps.js';

/** Bytes queued before an output file writes them. */
const BATCH_BYTES = 1024 * 1024;
/** Bytes copied per read by `addRange`. */
const RANGE_CHUNK = 256 * 1024;

/** Reads bytes [from, from + length) of an open file. @throws ERR_IO */
export function readRange(fd: number, file: string, from: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(fd, buffer, done, length - done, from + done);
    } catch (err) {
      throw ioError('read', file, err);
    }
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/** An output file (a rewrite's temp file, a recovery file): created 0600 exclusively on first use, written in batches. */
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

  /** A temp file beside `target`, named by {@link tempPathFor} (hidden, unique, swept if its process dies). */
  static beside(target: string): OutputFile {
    return new OutputFile(tempPathFor(target));
  }

  /** Whether the file exists yet (repair uses it as "a rewrite is needed"). */
  get opened(): boolean {
    return this.#fd !== undefined;
  }

  /**
   * Creates the file if it is not yet, and returns its descriptor. O_EXCL and O_NOFOLLOW: a name
   * someone else made (or a planted symlink) is an error, never written through.
   * @throws ERR_IO
   */
  open(): number {
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
    return this.#fd;
  }

  /** Queues bytes; they are written once about {@link BATCH_BYTES} are pending, or on `drain()` / `sync()`. */
  add(piece: Buffer): void {
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
    this.bytes += piece.length;
    if (this.#pendingBytes >= BATCH_BYTES) this.drain();
  }

  /** Copies bytes [from, from + length) of another open file, in chunks: for lines too long to hold. */
  addRange(fd: number, file: string, from: number, length: number): void {
    for (let at = from; at < from + length; at += RANGE_CHUNK) this.add(readRange(fd, file, at, Math.min(RANGE_CHUNK, from + length - at)));
  }

  /** Writes what is pending (creating the file first if need be). @throws ERR_IO */
  drain(): void {
    if (this.#pendingBytes === 0) return;
    const fd = this.open();
    try {
      writeAllSync(fd, Buffer.concat(this.#pending, this.#pendingBytes));
    } catch (err) {
      throw ioError('write', this.file, err);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** Writes what is pending and fsyncs; nothing when the file was never created. @throws ERR_IO */
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

  /** Closes and deletes the file, if it was created. */
  remove(): void {
    this.close();
    fs.rmSync(this.file, { force: true });
  }

  /** Renames the (written, closed) file over `target`: readers see the old file or this one, never part of one. @throws ERR_IO */
  renameTo(target: string): void {
    this.drain();
    this.close();
    try {
      fs.renameSync(this.file, target);
    } catch (err) {
      throw ioError('replace', target, err);
    }
  }

  /**
   * Links the (written, closed) file as `target`, which must not exist: link() fails with EEXIST
   * where rename() would replace. The temp name stays until `remove()`.
   * @throws ERR_SESSION_EXISTS, ERR_IO
   */
  linkTo(target: string): void {
    this.drain();
    this.close();
    try {
      fs.linkSync(this.file, target);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') {
        throw new SessionStoreError('ERR_SESSION_EXISTS', `A session already exists at ${target}; use another id.`, { path: target, cause: err });
      }
      throw ioError('create', target, err);
    }
  }
}

/**
 * Replaces `file` with `bytes` atomically: a temp file beside it (see {@link tempPathFor}), every
 * byte written, renamed over it; the temp is removed on any failure, so a reader sees the old
 * file or the new one. Without fsync: for caches (a torn one after a power cut is rebuilt).
 * @throws ERR_IO
 */
export function replaceAtomically(file: string, bytes: Buffer): void {
  const out = OutputFile.beside(file);
  try {
    out.add(bytes);
    out.renameTo(file);
  } finally {
    out.remove();
  }
}
