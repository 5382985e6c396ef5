/**
 * The file backend's `store.embeddings`: one binary append-only file, `.embeddings/vectors.bin`
 * (see log-format.ts), replayed into memory and searched there.
 *
 * Writers take a lock on the file for each write (a few milliseconds), read what other processes
 * appended, append their record in one write (fdatasync'd under `durability: 'fsync'`), and, when
 * most of the file is replaced or deleted vectors, rewrite it to its live vectors (temp file,
 * rename). Readers take no lock: before each search they read what was appended since, or the
 * whole file again when it was rewritten (a new inode).
 */
import fs from 'node:fs';
import path from 'node:path';

import { type EmbeddingHit, type EmbeddingInput, type EmbeddingSearchOptions, type EmbeddingStore, prepareEmbedding, type PreparedEmbedding, searchLimit, unitVector } from '../../core/embeddings.js';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { assertValidId, uuidv7 } from '../../core/ids.js';
import { VectorSet } from '../../core/vector-set.js';
import { DIR_MODE, fdatasync, FILE_MODE, fsyncDir } from '../fs/files.js';
import { withRewriteLock } from '../fs/lock.js';
import { sessionPath } from '../fs/paths.js';
import { decodeHeader, MIN_UPSERT_OVERHEAD, encodeDelete, encodeDeleteSession, encodeHeader, encodeUpsert, FORMAT_VERSION, HEADER_BYTES, parseRecords } from './log-format.js';

export const EMBEDDINGS_DIR = '.embeddings';
const FILE_NAME = 'vectors.bin';
/** Rewrite the file when it holds more than this many records per live vector (and is not tiny). */
const REWRITE_RATIO = 2;
const REWRITE_MIN_RECORDS = 1_000;
/** Many writers each holding the lock a few milliseconds: short, capped, jittered waits. */
const LOCK_TIMING = { retries: 400, firstBackoffMs: 2, maxBackoffMs: 50 } as const;
const READ_CHUNK = 8 << 20;

/** What the store gives its embeddings. */
export interface FileEmbeddingsOptions {
  readonly dir: string;
  readonly durable: boolean;
  /** Redacts text and metadata before they are written. */
  readonly redact: <T>(value: T) => T;
  /** Reports damaged bytes skipped while reading. */
  readonly warn: (message: string, file: string) => void;
}

/** The file backend's `store.embeddings`. */
export class FileEmbeddings implements EmbeddingStore {
  readonly #options: FileEmbeddingsOptions;
  readonly #file: string;
  #set: VectorSet | undefined;
  /** Which file (inode) and how far it was replayed; records replayed, for deciding a rewrite. */
  #ino = -1;
  #offset = 0;
  #records = 0;
  /** Writes of this process, one after another (the lock is for other processes). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileEmbeddingsOptions) {
    this.#options = options;
    this.#file = path.join(options.dir, EMBEDDINGS_DIR, FILE_NAME);
  }

  /** {@inheritDoc EmbeddingStore.upsert} */
  async upsert(input: EmbeddingInput): Promise<string> {
    const [id] = await this.upsertMany([input]);
    return id as string;
  }

  /** {@inheritDoc EmbeddingStore.upsertMany} */
  async upsertMany(inputs: readonly EmbeddingInput[]): Promise<string[]> {
    if (!Array.isArray(inputs)) throw new SessionStoreError('ERR_INVALID_OPTION', 'upsertMany takes an array of embeddings.');
    const prepared = (inputs as readonly EmbeddingInput[]).map((input: EmbeddingInput) => prepareEmbedding(input, undefined, () => uuidv7(Date.now())));
    if (prepared.length === 0) return [];
    for (const sessionId of new Set(prepared.map((p) => p.sessionId))) {
      if (!fs.existsSync(sessionPath(this.#options.dir, sessionId))) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${sessionId} in ${this.#options.dir}: create it before storing its embeddings.`);
    }
    const items = prepared.map((p) => ({ ...p, text: this.#options.redact(p.text), metadata: this.#options.redact(p.metadata) }));
    await this.#write((set) => {
      const dimensions = set?.dimensions ?? (items[0] as PreparedEmbedding).vector.length;
      for (const item of items) unitVector(item.vector, dimensions);
      return { dimensions, bytes: Buffer.concat(items.map(encodeUpsert)) };
    });
    return items.map((item) => item.id);
  }

  /** {@inheritDoc EmbeddingStore.search} */
  async search(vector: ArrayLike<number>, options: EmbeddingSearchOptions = {}): Promise<EmbeddingHit[]> {
    const limit = searchLimit(options);
    const set = this.#refresh();
    const query = unitVector(vector, set?.dimensions, 'The query vector');
    return set === undefined ? [] : set.search(query, limit, options.sessionId);
  }

  /** {@inheritDoc EmbeddingStore.delete} */
  async delete(id: string): Promise<boolean> {
    if (typeof id !== 'string' || id.length === 0) throw new SessionStoreError('ERR_INVALID_OPTION', 'delete takes an embedding id, a non-empty string.');
    // No file, nothing to delete: no lock taken, no folder made (every session delete asks).
    if (this.#refresh() === undefined) return false;
    let found = false;
    await this.#write((set) => {
      found = set?.delete(id) ?? false;
      return found ? { bytes: encodeDelete(id) } : undefined;
    });
    return found;
  }

  /** {@inheritDoc EmbeddingStore.deleteBySession} */
  async deleteBySession(sessionId: string): Promise<number> {
    assertValidId(sessionId);
    if (this.#refresh() === undefined) return 0;
    let removed = 0;
    await this.#write((set) => {
      removed = set?.deleteSession(sessionId) ?? 0;
      return removed > 0 ? { bytes: encodeDeleteSession(sessionId) } : undefined;
    });
    return removed;
  }

  /** {@inheritDoc EmbeddingStore.dimensions} */
  async dimensions(): Promise<number | undefined> {
    return this.#refresh()?.dimensions;
  }

  /** {@inheritDoc EmbeddingStore.count} */
  async count(): Promise<number> {
    return this.#refresh()?.size ?? 0;
  }

  /**
   * Under the lock, with the vectors up to date: `plan` checks the write against them and returns
   * the bytes to append (undefined: nothing to write); the bytes are then appended and replayed.
   */
  #write(plan: (set: VectorSet | undefined) => { dimensions?: number; bytes: Buffer } | undefined): Promise<void> {
    const run = async (): Promise<void> => {
      await fs.promises.mkdir(path.dirname(this.#file), { recursive: true, mode: DIR_MODE }).catch((err: unknown) => {
        throw ioError('create the embeddings folder', path.dirname(this.#file), err);
      });
      try {
        await withRewriteLock(this.#file, async (assertHeld) => {
          const write = plan(this.#refresh());
          if (write === undefined) return;
          if (this.#set === undefined) await this.#create(write.dimensions as number);
          assertHeld();
          await this.#append(write.bytes);
          this.#refresh();
          if (this.#records > REWRITE_MIN_RECORDS && this.#records > REWRITE_RATIO * (this.#set?.size ?? 0)) await this.#rewrite(assertHeld);
        }, LOCK_TIMING);
      } catch (err) {
        // The plan may have changed the vectors in memory before the write failed: read them again.
        this.#set = undefined;
        this.#ino = -1;
        if (err instanceof SessionStoreError && err.code === 'ERR_LOCKED') {
          throw new SessionStoreError('ERR_LOCKED', `${this.#file} stayed locked by other writers; try again.`, { path: this.#file, cause: err });
        }
        throw err;
      }
    };
    const done = this.#queue.then(run, run);
    this.#queue = done.catch(() => undefined);
    return done;
  }

  async #create(dimensions: number): Promise<void> {
    const handle = await fs.promises.open(this.#file, 'wx', FILE_MODE).catch((err: unknown) => {
      throw ioError('create', this.#file, err);
    });
    try {
      await handle.writeFile(encodeHeader(dimensions));
      if (this.#options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if (this.#options.durable) await fsyncDir(path.dirname(this.#file));
    this.#refresh();
  }

  async #append(bytes: Buffer): Promise<void> {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.#file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
      for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at);
      if (this.#options.durable) await fdatasync(fd);
    } catch (err) {
      throw ioError('append to', this.#file, err);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Rewrites the file to its live vectors: a temp file, fsynced, renamed over it. */
  async #rewrite(assertHeld: () => void): Promise<void> {
    const set = this.#set as VectorSet;
    const temp = `${this.#file}.${process.pid}.tmp`;
    const parts: Buffer[] = [encodeHeader(set.dimensions)];
    for (const item of set.entries()) parts.push(encodeUpsert(item));
    try {
      const handle = await fs.promises.open(temp, 'w', FILE_MODE);
      try {
        await handle.writeFile(Buffer.concat(parts));
        if (this.#options.durable) await handle.sync();
      } finally {
        await handle.close();
      }
      assertHeld();
      await fs.promises.rename(temp, this.#file);
      if (this.#options.durable) await fsyncDir(path.dirname(this.#file));
    } catch (err) {
      await fs.promises.rm(temp, { force: true });
      throw err instanceof SessionStoreError ? err : ioError('rewrite', this.#file, err);
    }
    this.#refresh();
  }

  /**
   * Brings the vectors up to date with the file: replays what was appended since the last look,
   * or the whole file when it was rewritten or is new to us. Undefined while there is no file.
   */
  #refresh(): VectorSet | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.#file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw ioError('open', this.#file, err);
      this.#set = undefined;
      this.#ino = -1;
      return undefined;
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new SessionStoreError('ERR_UNSAFE_FILE', `${this.#file} is not a regular file; move it away.`, { path: this.#file });
      if (stat.ino !== this.#ino || this.#set === undefined) this.#load(fd, stat.ino);
      if (this.#set !== undefined && stat.size > this.#offset) this.#replay(fd, stat.size);
      return this.#set;
    } finally {
      fs.closeSync(fd);
    }
  }

  #load(fd: number, ino: number): void {
    const header = Buffer.alloc(HEADER_BYTES);
    const read = fs.readSync(fd, header, 0, HEADER_BYTES, 0);
    this.#set = undefined;
    if (read < HEADER_BYTES) return; // being created under the lock: nothing to see yet
    const decoded = decodeHeader(header);
    if (decoded === undefined || decoded.version > FORMAT_VERSION) {
      throw new SessionStoreError(decoded === undefined ? 'ERR_UNSAFE_FILE' : 'ERR_UNSUPPORTED_VERSION', `${this.#file} is not an embeddings file this sessionlog can read (format ${decoded?.version ?? 'unknown'}); move it away or upgrade sessionlog.`, { path: this.#file });
    }
    this.#set = new VectorSet(decoded.dimensions);
    // An upsert record is its vector and at least 33 bytes more: room for every record at once
    // (an upper bound: growing past a low guess would double the memory).
    this.#set.reserve(Math.ceil((fs.fstatSync(fd).size - HEADER_BYTES) / (decoded.dimensions * 4 + MIN_UPSERT_OVERHEAD)));
    this.#ino = ino;
    this.#offset = HEADER_BYTES;
    this.#records = 0;
  }

  #replay(fd: number, size: number): void {
    const set = this.#set as VectorSet;
    // One buffer for the whole pass: what a chunk ends with (a record cut by the chunk's end) is
    // moved to its start and the next chunk read after it.
    let buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - this.#offset));
    let carried = 0;
    while (this.#offset + carried < size) {
      if (carried === buffer.length) {
        // One record bigger than the buffer (a long text): a bigger buffer.
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, size - this.#offset));
        buffer.copy(bigger);
        buffer = bigger;
      }
      const want = Math.min(buffer.length - carried, size - this.#offset - carried);
      const read = fs.readSync(fd, buffer, carried, want, this.#offset + carried);
      if (read === 0) break;
      const bytes = buffer.subarray(0, carried + read);
      const parsed = parseRecords(bytes, set.dimensions);
      for (const record of parsed.records) {
        if (record.op === 'upsert') set.setBytes(record.info, record.vector);
        else if (record.op === 'delete') set.delete(record.id);
        else set.deleteSession(record.sessionId);
      }
      this.#records += parsed.records.length;
      if (parsed.skipped > 0) this.#options.warn(`Skipped ${parsed.skipped} damaged bytes (a write cut short by a crash?) in the embeddings file; the vectors after them are read.`, this.#file);
      this.#offset += parsed.consumed;
      carried = bytes.copy(buffer, 0, parsed.consumed);
    }
  }
}
