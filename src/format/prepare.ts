/**
 * Turns what a caller appends into the exact lines to write: validated, stamped with `id` and
 * `ts`, stringified once. Pure apart from the id generator and clock it is given. Lines are not
 * measured here: the writer learns each line's byte length as it encodes it (one pass, not two).
 */
import { encodeJson } from './codec.js';
import type { EntryValidator } from './records.js';
import { RESERVED_TYPES } from './schema.js';
import { SessionStoreError } from '../core/errors.js';
import type { Redactor } from '../secrets/redact.js';

/** Lines ready for a writer, and the entries they encode. */
export interface Prepared<T> {
  readonly entries: T[];
  /** Each entry's JSON text, without the `\n` (the writer adds it; see encodeJson). */
  readonly lines: string[];
  /** The `id` of each entry, as stamped. */
  readonly ids: string[];
}

/** What preparing needs from the store. */
export interface PrepareContext<T> {
  readonly validate: EntryValidator<T>;
  readonly maxEntryBytes: number;
  readonly newId: () => string;
  readonly now: () => number;
  /** Replaces secrets before anything else looks at the entry (docs/secrets.md); none when off. */
  readonly redactor?: Redactor | undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates and encodes every entry before any is buffered, so a batch with one bad entry is
 * refused whole. `file` names the session in error messages. Throws ERR_INVALID_ENTRY or ERR_ENTRY_TOO_LARGE; messages give the index and
 * the field path, never a value.
 */
export function prepareEntries<T>(input: readonly unknown[], ctx: PrepareContext<T>, file: string): Prepared<T> {
  const entries: T[] = [];
  const lines: string[] = [];
  const ids: string[] = [];
  const ts = isoTime(ctx.now());
  input.forEach((raw, index) => {
    const where = input.length > 1 ? `entry ${index} for ${file}` : `entry for ${file}`;
    if (!isPlainObject(raw)) {
      throw new SessionStoreError('ERR_INVALID_ENTRY', `Invalid ${where}: expected a plain object.`, { path: file });
    }
    const type = raw['type'] ?? 'message';
    if (typeof type === 'string' && RESERVED_TYPES.has(type)) {
      throw new SessionStoreError('ERR_INVALID_ENTRY', `Invalid ${where}: type "${type}" is reserved for the store.`, {
        path: file,
      });
    }
    // Stamps first, so every line starts `{"type":…,"id":…,"ts":…` and reads well in an editor.
    const stamped: Record<string, unknown> = { type, id: undefined, ts: undefined, ...raw };
    stamped['type'] = type;
    stamped['id'] = raw['id'] ?? ctx.newId();
    stamped['ts'] = raw['ts'] ?? ts;
    if (typeof stamped['id'] !== 'string' || stamped['id'] === '' || typeof stamped['ts'] !== 'string') {
      throw new SessionStoreError('ERR_INVALID_ENTRY', `Invalid ${where}: \`id\` and \`ts\` must be non-empty strings when given.`, {
        path: file,
      });
    }
    const result = ctx.validate(stamped);
    if (!result.ok) {
      throw new SessionStoreError('ERR_INVALID_ENTRY', `Invalid ${where}: ${result.message}. Fix the entry; nothing was written.`, {
        path: file,
      });
    }
    let line: string;
    let value = result.value;
    try {
      line = encodeJson(value);
      // Redacted before the entry is buffered (never written, never returned): the entry's JSON is
      // tested once, and only an entry that may hold a secret is walked and encoded again.
      if (ctx.redactor?.mayContain(line) === true) {
        const redacted = ctx.redactor.value(value);
        if (redacted !== value) line = encodeJson((value = redacted));
      }
    } catch {
      // JSON.stringify overflows the stack on very deep nesting (and throws on BigInt, cycles).
      throw new SessionStoreError('ERR_INVALID_ENTRY', `Invalid ${where}: it cannot be encoded as JSON (too deeply nested, cyclic, or a BigInt). Nothing was written.`, {
        path: file,
      });
    }
    // A UTF-16 unit encodes to at most 3 UTF-8 bytes: only a line that long can be too large, so
    // only such a line is measured (measuring every line cost 20% of an append).
    const size = (line.length + 1) * 3 > ctx.maxEntryBytes ? Buffer.byteLength(line) + 1 : 0;
    if (size > ctx.maxEntryBytes) {
      throw new SessionStoreError(
        'ERR_ENTRY_TOO_LARGE',
        `The ${where} is ${size} bytes, above maxEntryBytes (${ctx.maxEntryBytes}). Store large blobs in files and reference them; nothing was written.`,
        { path: file },
      );
    }
    entries.push(value);
    lines.push(line);
    ids.push(stamped['id']);
  });
  return { entries, lines, ids };
}

let lastMs = Number.NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, reused within a millisecond (one append per message calls it). */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
