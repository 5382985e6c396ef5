/**
 * The file backend's artifacts, under `<dir>/.artifacts/`:
 * - `blobs/<2 hex>/<64 hex>`: the bytes, written once to a temp file (hashed as it is written),
 *   fsynced under `durability: 'fsync'`, renamed into place, mode 0600;
 * - `users/<64 hex>/<session id>`: an empty file per session using the blob (its reference count);
 * - `refs/<session id>.jsonl`: the session's artifacts, one line per put (`ref`, size, media type, name).
 *
 * A blob goes when its last user does. Removing one never races a `put` of the same bytes: `put`
 * makes its user file first, then makes sure the blob is there; removal renames the blob aside,
 * looks at the users again, and puts it back if one appeared meanwhile. Every interleaving ends
 * with the blob present whenever a user file exists.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type ArtifactData, type ArtifactInfo, type ArtifactStore, digestOf, type PutOptions, refOf, wholeBytes } from '../core/artifacts.js';
import { errnoOf, ioError, SessionStoreError } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import { DIR_MODE } from './fs/files.js';
import { SESSION_EXT } from './fs/paths.js';
import { TRASH_DIR } from './session/trash.js';

/** The folder of the artifacts, in the store folder. */
export const ARTIFACTS_DIR = '.artifacts';
const WRITE_BATCH = 1 << 20;

/** The file backend's `store.artifacts`. */
export class FileArtifacts implements ArtifactStore {
  readonly #root: string;
  readonly #durable: boolean;
  readonly #dir: string;

  constructor(dir: string, durable: boolean) {
    this.#dir = dir;
    this.#root = path.join(dir, ARTIFACTS_DIR);
    this.#durable = durable;
  }

  /**
   * Whether session `id` is there, in the folder or in its trash (a trashed session keeps its
   * artifacts), also under a stamped trash name (`<id>.<stamp>.jsonl`: a second copy trashed).
   */
  async #exists(id: string): Promise<boolean> {
    if (fs.existsSync(path.join(this.#dir, `${id}${SESSION_EXT}`))) return true;
    const trashed = await names(path.join(this.#dir, TRASH_DIR));
    return trashed.some((name) => name === `${id}${SESSION_EXT}` || (name.startsWith(`${id}.`) && name.endsWith(SESSION_EXT)));
  }

  /** {@inheritDoc ArtifactStore.put} */
  async put(sessionId: string, data: ArtifactData, options: PutOptions = {}): Promise<ArtifactInfo> {
    assertValidId(sessionId);
    if (!(await this.#exists(sessionId))) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session ${sessionId}: create it before putting artifacts in it.`);
    const tmp = path.join(this.#root, 'tmp');
    await this.#mkdir(tmp);
    const temp = path.join(tmp, `${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const { ref, size } = await this.#writeTemp(temp, data);
      const hex = digestOf(ref);
      await this.#use(hex, sessionId);
      await this.#place(hex, temp);
      const info: ArtifactInfo = { ref, size, mediaType: options.mediaType, name: options.name };
      await this.#mkdir(path.join(this.#root, 'refs'));
      await fs.promises.appendFile(path.join(this.#root, 'refs', `${sessionId}.jsonl`), `${JSON.stringify(info)}\n`, { mode: 0o600 });
      return info;
    } catch (err) {
      throw err instanceof SessionStoreError ? err : ioError('store an artifact in', this.#root, err);
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
  }

  /** {@inheritDoc ArtifactStore.get} */
  async get(ref: string): Promise<Buffer | undefined> {
    const file = this.#blob(digestOf(ref));
    try {
      return await fs.promises.readFile(file);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw ioError('read', file, err);
    }
  }

  /** {@inheritDoc ArtifactStore.getStream} */
  async getStream(ref: string): Promise<Readable | undefined> {
    const file = this.#blob(digestOf(ref));
    try {
      // Opened here, so a missing blob is undefined rather than a stream that fails later.
      return (await fs.promises.open(file, 'r')).createReadStream({ highWaterMark: 1 << 20 });
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw ioError('read', file, err);
    }
  }

  /** {@inheritDoc ArtifactStore.list} */
  async list(sessionId: string): Promise<ArtifactInfo[]> {
    assertValidId(sessionId);
    let text: string;
    try {
      text = await fs.promises.readFile(path.join(this.#root, 'refs', `${sessionId}.jsonl`), 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw ioError('read the artifacts of', sessionId, err);
    }
    const seen = new Map<string, ArtifactInfo>();
    for (const line of text.split('\n')) {
      try {
        const info = JSON.parse(line) as ArtifactInfo;
        if (typeof info.ref === 'string' && !seen.has(info.ref)) seen.set(info.ref, info);
      } catch {
        // A torn last line of a put that crashed: its blob is found by gc.
      }
    }
    return [...seen.values()];
  }

  /** Drops session `sessionId`'s use of its artifacts (on delete); removes those nobody else uses. */
  async release(sessionId: string): Promise<string[]> {
    const removed: string[] = [];
    for (const { ref } of await this.list(sessionId)) {
      const hex = digestOf(ref);
      await fs.promises.rm(path.join(this.#root, 'users', hex, sessionId), { force: true });
      if (await this.#removeIfUnused(hex)) removed.push(ref);
    }
    await fs.promises.rm(path.join(this.#root, 'refs', `${sessionId}.jsonl`), { force: true });
    return removed;
  }

  /** {@inheritDoc ArtifactStore.gc} */
  async gc(): Promise<string[]> {
    const removed: string[] = [];
    const users = path.join(this.#root, 'users');
    for (const hex of await names(users)) {
      for (const sessionId of await names(path.join(users, hex))) {
        if (!(await this.#exists(sessionId).catch(() => true))) await fs.promises.rm(path.join(users, hex, sessionId), { force: true });
      }
    }
    for (const prefix of await names(path.join(this.#root, 'blobs'))) {
      for (const hex of await names(path.join(this.#root, 'blobs', prefix))) {
        if (/^[0-9a-f]{64}$/.test(hex) && (await this.#removeIfUnused(hex))) removed.push(`sha256:${hex}`);
      }
    }
    return removed;
  }

  /**
   * Re-hashes every blob (for `doctor`): the refs whose bytes no longer match their name (a disk
   * error, an edit by hand). Reads only.
   */
  async verify(): Promise<{ ref: string; file: string }[]> {
    const bad: { ref: string; file: string }[] = [];
    for (const prefix of await names(path.join(this.#root, 'blobs'))) {
      for (const hex of await names(path.join(this.#root, 'blobs', prefix))) {
        if (!/^[0-9a-f]{64}$/.test(hex)) continue;
        const file = this.#blob(hex);
        const hash = createHash('sha256');
        try {
          for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
        } catch (err) {
          if (errnoOf(err) === 'ENOENT') continue; // removed since listed: nobody used it
          throw ioError('read', file, err);
        }
        if (hash.digest('hex') !== hex) bad.push({ ref: `sha256:${hex}`, file: path.relative(this.#dir, file) });
      }
    }
    return bad;
  }

  #blob(hex: string): string {
    return path.join(this.#root, 'blobs', hex.slice(0, 2), hex);
  }

  async #mkdir(dir: string): Promise<void> {
    await fs.promises.mkdir(dir, { recursive: true, mode: DIR_MODE });
  }

  /** Writes `data` to `temp`, hashing as it goes. */
  async #writeTemp(temp: string, data: ArtifactData): Promise<{ ref: string; size: number }> {
    const whole = wholeBytes(data);
    const handle = await fs.promises.open(temp, 'wx', 0o600);
    try {
      if (whole !== undefined) {
        await handle.writeFile(whole);
        if (this.#durable) await handle.sync();
        return { ref: refOf(whole), size: whole.length };
      }
      const hash = createHash('sha256');
      let size = 0;
      // Chunks gathered to 1 MB per write: a file stream's 64 kB chunks written one by one cost 5× more.
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      for await (const chunk of data as AsyncIterable<Uint8Array>) {
        if (!(chunk instanceof Uint8Array)) throw new SessionStoreError('ERR_INVALID_OPTION', 'An artifact stream must yield Uint8Arrays (Buffers), not strings or objects.');
        hash.update(chunk);
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH) {
          await handle.writev(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pending.length > 0) await handle.writev(pending);
      if (this.#durable) await handle.sync();
      return { ref: `sha256:${hash.digest('hex')}`, size };
    } finally {
      await handle.close();
    }
  }

  /** Records that `sessionId` uses blob `hex` (again if a removal took the folder away in between). */
  async #use(hex: string, sessionId: string): Promise<void> {
    const users = path.join(this.#root, 'users', hex);
    for (let attempt = 0; ; attempt++) {
      try {
        // Inside the retry: a removal can take the folder (or, emptied, its parent) away between
        // a recursive mkdir's steps, which then fails with ENOENT as the write would.
        await this.#mkdir(users);
        await fs.promises.writeFile(path.join(users, sessionId), '', { mode: 0o600 });
        return;
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT' || attempt >= 5) throw err;
      }
    }
  }

  /** Makes sure the blob is in place (after this put's user file exists). */
  async #place(hex: string, temp: string): Promise<void> {
    const blob = this.#blob(hex);
    await this.#mkdir(path.dirname(blob));
    if (fs.existsSync(blob)) return;
    // link, not rename: the temp stays for a second try, and an existing blob is never replaced.
    try {
      await fs.promises.link(temp, blob);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }

  /** Removes the blob if no session uses it, safely against a concurrent put (see the module comment). */
  async #removeIfUnused(hex: string): Promise<boolean> {
    const users = path.join(this.#root, 'users', hex);
    if ((await names(users)).length > 0) return false;
    const blob = this.#blob(hex);
    const aside = path.join(this.#root, 'tmp', `${hex}.${process.pid}.${randomBytes(4).toString('hex')}.gone`);
    await this.#mkdir(path.dirname(aside));
    try {
      await fs.promises.rename(blob, aside);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw err;
    }
    if ((await names(users)).length > 0) {
      // A put came in between: the blob goes back (unless that put already wrote it again).
      await fs.promises.link(aside, blob).catch((err: unknown) => {
        if (errnoOf(err) !== 'EEXIST') throw err;
      });
      await fs.promises.rm(aside, { force: true });
      return false;
    }
    await fs.promises.rm(aside, { force: true });
    await fs.promises.rmdir(users).catch(() => undefined);
    return true;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw err;
  }
}
