/**
 * The index file: a hidden JSON file in the store folder holding one {@link IndexRecord} per
 * session. It is a cache: loading never trusts it beyond a fingerprint match, and anything odd about
 * it (missing, corrupt, another version, another folder, another schema) means "rebuild".
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../../core/errors.js';
import { replaceAtomically } from '../fs/atomic.js';
import { isLegacyIndexTemp } from '../fs/temps.js';
import { idProblem } from '../../core/ids.js';
import type { IndexRecord } from './fold.js';

/** Name of the index file in the store folder. Not a `.jsonl` name, so never taken for a session. */
export const INDEX_FILE = '.sessionlog-index.json';
/** Bumped whenever the shape of a record or of the fold changes; other versions are rebuilt. */
export const INDEX_VERSION = 1;
const FORMAT = 'sessionlog-index';
/** An index larger than this is not read (a planted or runaway file), just rebuilt. */
const MAX_INDEX_BYTES = 512 * 1024 * 1024;
/**
 * Temp files of earlier versions, which wrote the index with write-file-atomic (`<index>.<uint32>`,
 * a hash that does not say whose it is): left over from a crash once older than this.
 */
const STALE_TEMP_MS = 60_000;

/** The identity of the folder an index belongs to, and of the schema its counts were made with. */
export interface IndexIdentity {
  readonly dev: number;
  readonly ino: number;
  /** 'builtin', or a hash of the caller's schema: entry counts and problems depend on it. */
  readonly schema: string;
}

interface IndexDocument {
  readonly format: typeof FORMAT;
  readonly version: number;
  readonly folder: { readonly dev: number; readonly ino: number };
  readonly schema: string;
  readonly savedAt: string;
  readonly sessions: readonly IndexRecord[];
}

/** What loading found: the records, or why there are none. */
export type LoadResult =
  | { readonly ok: true; readonly records: IndexRecord[] }
  | { readonly ok: false; readonly reason: 'missing' | 'corrupt' | 'version' | 'foreign' | 'schema' | 'unsafe'; readonly detail: string };

/** Reads and checks the index; never throws. Records of the wrong shape are dropped one by one. */
export async function loadIndex(dir: string, identity: IndexIdentity): Promise<LoadResult> {
  const file = path.join(dir, INDEX_FILE);
  let text: string;
  try {
    text = readRegular(file);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 'ENOENT') return { ok: false, reason: 'missing', detail: `${file} does not exist` };
    if (errno === 'ELOOP' || errno === 'ENXIO' || errno === 'EUNSAFE') {
      return { ok: false, reason: 'unsafe', detail: `${file} is not a regular file (a symlink?); it is ignored` };
    }
    return { ok: false, reason: 'corrupt', detail: `${file} could not be read (${errno ?? String(err)})` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'corrupt', detail: `${file} is not valid JSON (${text.length} bytes)` };
  }
  if (!isObject(doc) || doc['format'] !== FORMAT || !Array.isArray(doc['sessions'])) {
    return { ok: false, reason: 'corrupt', detail: `${file} is not a sessionlog index` };
  }
  if (doc['version'] !== INDEX_VERSION) {
    return { ok: false, reason: 'version', detail: `${file} has version ${String(doc['version'])}, this sessionlog uses ${INDEX_VERSION}` };
  }
  const folder = doc['folder'];
  if (!isObject(folder) || folder['dev'] !== identity.dev || folder['ino'] !== identity.ino) {
    return { ok: false, reason: 'foreign', detail: `${file} was made for another folder (copied or restored?)` };
  }
  if (doc['schema'] !== identity.schema) {
    return { ok: false, reason: 'schema', detail: `${file} was made with another entry schema` };
  }
  return { ok: true, records: (doc['sessions'] as unknown[]).filter(isRecord) };
}

/**
 * Reads a regular file without following a symlink or blocking on a FIFO. Synchronously, in one
 * read of its size: the async FileHandle.readFile took a thread-pool round trip per 512 KiB chunk
 * and decoded through a StringDecoder, a fifth of opening 10,000 sessions (docs/performance.md).
 */
function readRegular(file: string): string {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_INDEX_BYTES) throw Object.assign(new Error('not a regular file'), { code: 'EUNSAFE' });
    // readFileSync on the fd reads to the end, also if the file grew since the fstat.
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the index atomically: a temp file beside it (`.sessionlog-index.json.<pid>.<n>.tmp`, 0600,
 * created `O_EXCL | O_NOFOLLOW`), every byte written, then renamed over the index, so a reader sees
 * the old index or the new one, never part of one. Refuses, by throwing, when the index path is a
 * symlink or anything but a regular file, and leaves it alone. On any failure the temp file is
 * removed and the old index stays; a temp left by a killed writer is swept at the next open (its
 * pid is dead: `sweepStaleTemps`).
 *
 * Not write-file-atomic, which wrote the index until this was measured: it ignores a short write
 * (libuv reports a write cut short by a full disk or the file-size limit as success), so a
 * truncated index was renamed into place; it resolves symlinks at the index path before writing
 * (a link planted between the check here and its `realpath` would have redirected the write out
 * of the folder); and its temp names are a hash that cannot tell a dead writer's leftover from a
 * live one's. The write is synchronous: it costs less than the `JSON.stringify` before it.
 */
export async function saveIndex(dir: string, identity: IndexIdentity, records: Iterable<IndexRecord>): Promise<void> {
  const file = path.join(dir, INDEX_FILE);
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st !== undefined && !st.isFile()) {
    throw Object.assign(new Error(`${file} is not a regular file (a symlink?); the index is not written there. Remove it.`), {
      code: 'EUNSAFE',
    });
  }
  const doc: IndexDocument = {
    format: FORMAT,
    version: INDEX_VERSION,
    folder: { dev: identity.dev, ino: identity.ino },
    schema: identity.schema,
    savedAt: new Date().toISOString(),
    sessions: [...records],
  };
  // No fsync: the index is a cache, and a torn one after a power cut is simply rebuilt.
  replaceAtomically(file, Buffer.from(JSON.stringify(doc)));
}

/**
 * Removes index temp files of earlier versions (write-file-atomic's `<index>.<uint32>`) once older
 * than a minute. Temps of this version carry their writer's pid and are swept by `sweepStaleTemps`.
 */
export function sweepTemps(dir: string, names: readonly string[], now: number): void {
  for (const name of names) {
    if (!isLegacyIndexTemp(name)) continue;
    const file = path.join(dir, name);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st?.isFile() === true && now - st.mtimeMs > STALE_TEMP_MS) fs.rmSync(file, { force: true });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isCount = (value: unknown): value is number => isNumber(value) && Number.isInteger(value) && value >= 0;
const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

/**
 * Shape check of one record read from disk; a record that fails it is dropped and its file read
 * again. Written out field by field: it runs 10,000 times while a listing waits.
 */
function isRecord(value: unknown): value is IndexRecord {
  if (!isObject(value) || typeof value['id'] !== 'string' || idProblem(value['id']) !== undefined) return false;
  const fp = value['fp'];
  if (!isObject(fp) || !isNumber(fp['size']) || !isNumber(fp['mtimeMs']) || !isNumber(fp['ctimeMs']) || !isNumber(fp['ino']) || !isNumber(fp['dev'])) return false;
  if (!isCount(value['offset']) || !isCount(value['line']) || !isCount(value['tail']) || !isCount(value['anchorLength'])) return false;
  if (typeof value['head'] !== 'string' || typeof value['anchor'] !== 'string') return false;
  const state = value['state'];
  if (!isObject(state) || !isObject(state['metadata'])) return false;
  const usage = state['usage'];
  if (!isObject(usage) || !isNumber(usage['input']) || !isNumber(usage['output']) || !isNumber(usage['cacheRead']) || !isNumber(usage['cacheWrite']) || !isNumber(usage['total'])) return false;
  if (!isCount(state['entryCount']) || !isCount(state['problems']) || typeof state['readOnly'] !== 'boolean') return false;
  if (!isOptionalString(state['title']) || !isOptionalString(state['model']) || !isOptionalString(state['cwd'])) return false;
  if (!isOptionalString(state['updatedAt']) || !isOptionalString(state['maxId'])) return false;
  if (state['lastCompaction'] !== undefined && !isCount(state['lastCompaction'])) return false;
  const header = state['header'];
  if (header !== undefined) {
    if (!isObject(header) || typeof header['createdAt'] !== 'string' || !isNumber(header['version'])) return false;
    const parent = header['parent'];
    if (parent !== undefined && (!isObject(parent) || typeof parent['id'] !== 'string' || !isOptionalString(parent['entryId']))) return false;
  }
  return true;
}

/** Why the catalog file could not be written: the errno first (ENOSPC, EFBIG, …), then the message. */
export function indexWriteReason(err: unknown): string {
  const errno = errnoOf((err as { cause?: unknown }).cause ?? err);
  const message = (err as Error).message;
  return errno === undefined || errno.startsWith('ERR_') ? message : `${errno}: ${message}`;
}
