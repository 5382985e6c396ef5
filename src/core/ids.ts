import { randomFillSync } from 'node:crypto';
import { SessionStoreError } from './errors.js';

/** The longest session id accepted; with `.jsonl` and any sidecar suffix it stays far below NAME_MAX (255). */
export const MAX_ID_LENGTH = 128;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// Names Windows refuses as files (with any extension): sessions get synced to Windows machines.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// Syncthing names its conflict copies `<id>.sync-conflict-…`; an id containing it would be mistaken for one.
const CONFLICT_MARK = '.sync-conflict-';

/** Why `id` is not a valid session id, or undefined when it is. */
export function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `expected a string, got ${typeof id}`;
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_ID_LENGTH) return `it is ${id.length} characters long (at most ${MAX_ID_LENGTH})`;
  if (!ID_PATTERN.test(id)) {
    return 'use only letters, digits, ".", "_" and "-", starting with a letter or digit';
  }
  if (id.endsWith('.')) return 'it must not end with "."';
  if (WINDOWS_RESERVED.test(id)) return 'it is a reserved file name on Windows';
  if (id.includes(CONFLICT_MARK)) return `it must not contain "${CONFLICT_MARK}"`;
  return undefined;
}

/**
 * Throws `ERR_INVALID_ID` unless `id` is 1–128 characters of letters, digits, `.`, `_` and `-`,
 * starts with a letter or digit and does not end with `.`. Called before any fs access.
 */
export function assertValidId(id: unknown): asserts id is string {
  const problem = idProblem(id);
  if (problem !== undefined) {
    // The id is the caller's input, not transcript content; still, cap what is echoed.
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 40)) : String(id);
    throw new SessionStoreError('ERR_INVALID_ID', `Invalid session id ${shown}: ${problem}.`);
  }
}

let lastMs = 0;
let sequence = 0;

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/**
 * Random bytes are drawn 4 KiB at a time and used once each, as Node's randomUUID() does: one
 * randomBytes(16) call per id cost about 7 µs, half the cost of writing a 3 KB message (docs/performance.md).
 */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
/** The time part of the ids of the current millisecond, built once per millisecond. */
let prefixMs = -1;
let prefix = '';

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits.
 *
 * Why not the `uuid` package's `v7()`: measured on this machine, one id cost 6–10 µs there against
 * 0.13–0.18 µs here (a million ids each), a cost paid by every appended entry; and with a fixed
 * `msecs` its ids were not increasing within the millisecond, which listing order relies on. Within one millisecond a
 * 12-bit counter in `rand_a` keeps ids from one process strictly increasing, so they sort by creation.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    // Counter exhausted (4096 ids in one ms) or the clock stepped back: borrow the next millisecond.
    lastMs += 1;
    sequence = 0;
  }
  if (poolAt + 8 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += 8;
  if (lastMs !== prefixMs) {
    const time = lastMs.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-`;
    prefixMs = lastMs;
  }
  const p = POOL;
  // rand_a is the counter; rand_b is 62 random bits after the variant (0b10).
  return `${prefix}${(0x7000 | sequence).toString(16)}-${HEX[0x80 | ((p[r] as number) & 0x3f)]}${HEX[p[r + 1] as number]}-${HEX[p[r + 2] as number]}${HEX[p[r + 3] as number]}${HEX[p[r + 4] as number]}${HEX[p[r + 5] as number]}${HEX[p[r + 6] as number]}${HEX[p[r + 7] as number]}`;
}
