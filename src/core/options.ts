/** Options of `openStore`, their defaults, and their validation. */
import path from 'node:path';
import type { z } from 'zod';
import type { RedactFunction } from '../secrets/redact.js';
import type { RetentionOptions } from './retention.js';
import { SessionStoreError } from './errors.js';

/** When buffered entries are written. A flush happens when any threshold is reached. */
export interface FlushOptions {
  /**
   * Flush when this many entries are buffered in a session.
   * @default 100
   */
  readonly maxEntries?: number;
  /**
   * Flush when a session's buffer holds this many bytes.
   * @default 1048576 (1 MiB)
   */
  readonly maxBytes?: number;
  /**
   * Flush this long after the first entry of a batch was buffered. This bounds what a SIGKILL or a
   * power cut can take to about one interval of activity.
   * @default 1000
   */
  readonly intervalMs?: number;
}

/** Options of `watch` when given as an object. */
export interface WatchOptions {
  /**
   * Every this many ms the whole folder is compared with the index by `lstat` (a file is read only
   * when its fingerprint changed), healing events the OS dropped (a full inotify queue). About
   * 25 ms of CPU per 10,000 sessions.
   * @default 10000
   */
  readonly reconcileIntervalMs?: number;
}

/** Default of {@link WatchOptions.reconcileIntervalMs}. */
export const DEFAULT_RECONCILE_MS = 10_000;

/** Options every backend takes. */
export interface CommonStoreOptions<S extends z.ZodType = z.ZodType> {
  /** Buffer thresholds. */
  readonly flush?: FlushOptions;
  /**
   * `'buffered'`: a flush hands bytes to the OS (survives a process crash).
   * `'fsync'`: every flush is fsynced, and the folder on create (survives power loss) at the cost
   * of a disk round trip per flush.
   * @default 'buffered'
   */
  readonly durability?: 'buffered' | 'fsync';
  /** A zod schema for entries; its output type flows through `append`, `read` and `stream`. */
  readonly schema?: S;
  /**
   * Largest entry accepted, as encoded JSON bytes. Larger entries are refused by `append` before
   * anything is written, and larger lines on disk are reported as `oversize` and skipped. At most
   * 512 MiB: a longer line could not be decoded into a JS string at all.
   * @default 67108864 (64 MiB)
   */
  readonly maxEntryBytes?: number;
  /**
   * When a session buffers more than this, `append` waits for the flush to finish
   * (backpressure) instead of letting memory grow.
   * @default 67108864 (64 MiB)
   */
  readonly maxBufferedBytes?: number;
  /**
   * Flush buffered entries synchronously on process exit, `process.exit()`, SIGINT, SIGTERM and
   * SIGHUP. The process still exits as it would have (a signal is re-raised when no other
   * listener handles it).
   * @default true
   */
  readonly flushOnExit?: boolean;
  /**
   * Secrets in appended entries (any string: content, tool arguments and results, metadata) are
   * replaced by `[REDACTED:<kind>:<hash>]` before the entry is buffered: AWS, GitHub, OpenAI,
   * Anthropic, Slack, Stripe, Google and npm keys, private keys, JWTs, passwords in URLs and
   * `NAME=value` assignments of secret-looking names (docs/secrets.md). `false` turns it off; a
   * function adds your own rules, run after the built-in ones.
   * @default true
   */
  readonly redact?: boolean | RedactFunction;
  /**
   * Opt-in retention: on open, sessions not updated for `olderThan` are moved to the trash, and
   * reported (`onPrune`, else a warning). Never applied unless given.
   */
  readonly retention?: RetentionOptions;
  /**
   * Clock for timestamps (`ts`, `createdAt`), in ms since the epoch. Injected by tests.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** Options of `openStore` for the file backend: a folder of session files. */
export interface FileStoreOptions<S extends z.ZodType = z.ZodType> extends CommonStoreOptions<S> {
  /** The store folder; created with mode 0700 if missing. */
  readonly dir: string;
  readonly url?: undefined;
  /**
   * Keep the session index live: changes by other processes, editors and sync tools show in
   * `list()` / `get()` within about a second and are reported as `change` events with
   * `source: 'external'`. One `fs.watch` on the folder (one inotify watch, whatever the number of
   * sessions) plus a periodic reconcile; see docs/listing.md. The watcher does not keep the process
   * alive. Without it, `list()` re-validates the folder by `lstat` on every call instead.
   * @default false
   */
  readonly watch?: boolean | WatchOptions;
}

/** Options of `openStore` for the PostgreSQL backend: one database for many machines. */
export interface PostgresStoreOptions<S extends z.ZodType = z.ZodType> extends CommonStoreOptions<S> {
  /**
   * `postgres://user@host:port/database` (libpq's URL form; `sslmode` honoured). Without a
   * password in it, `PGPASSWORD` or `~/.pgpass` supply one, as for psql. Never echoed with its password.
   */
  readonly url: string;
  readonly dir?: undefined;
  /**
   * Connections the store's pool opens at most (one more is held for change events).
   * @default 4
   */
  readonly maxConnections?: number;
}

/** Options of `openStore`: a folder (`dir`) or a server (`url`). */
export type StoreOptions<S extends z.ZodType = z.ZodType> = FileStoreOptions<S> | PostgresStoreOptions<S>;

/** The options every backend resolves the same way. */
export interface ResolvedCommon {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly intervalMs: number;
  readonly durable: boolean;
  readonly maxEntryBytes: number;
  readonly maxBufferedBytes: number;
  readonly flushOnExit: boolean;
  /** Redaction: off, the built-in rules, or those and a function of the caller's. */
  readonly redact: false | true | RedactFunction;
  readonly now: () => number;
}

/** The file backend's options after defaults, validated and frozen. */
export interface ResolvedOptions extends ResolvedCommon {
  readonly dir: string;
  readonly watch: boolean;
  /** With `watch`: how often the whole folder is reconciled with the index. */
  readonly reconcileIntervalMs: number;
}

/** The defaults, with the reasons in {@link FlushOptions} and {@link StoreOptions}. */
export const DEFAULTS = Object.freeze({
  maxEntries: 100,
  maxBytes: 1024 * 1024,
  intervalMs: 1000,
  maxEntryBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
});

function invalid(name: string, expected: string, value: unknown): SessionStoreError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new SessionStoreError('ERR_INVALID_OPTION', `Expected \`${name}\` to be ${expected}, got ${shown} (${typeof value}).`);
}

function count(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(name, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * The largest `maxEntryBytes`: a line is decoded into one JS string, and V8 refuses strings over
 * 536,870,888 characters (Node's ERR_STRING_TOO_LONG), so a larger cap would let such a line
 * throw instead of being reported oversize (row D8 of docs/reliability.md).
 */
export const MAX_ENTRY_BYTES_LIMIT = 512 * 1024 * 1024;

/** Applies defaults to the options every backend takes and validates them. @throws ERR_INVALID_OPTION */
export function resolveCommon(options: CommonStoreOptions): ResolvedCommon {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  const flush = options.flush ?? {};
  const durability = options.durability ?? 'buffered';
  if (durability !== 'buffered' && durability !== 'fsync') throw invalid('durability', "'buffered' or 'fsync'", durability);
  if (options.schema !== undefined && typeof (options.schema as { safeParse?: unknown }).safeParse !== 'function') {
    throw invalid('schema', 'a zod schema', options.schema);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw invalid('now', 'a function', now);
  const redact = options.redact ?? true;
  if (typeof redact !== 'boolean' && typeof redact !== 'function') throw invalid('redact', 'a boolean or a function', redact);
  return {
    maxEntries: count('flush.maxEntries', flush.maxEntries, DEFAULTS.maxEntries, 1),
    maxBytes: count('flush.maxBytes', flush.maxBytes, DEFAULTS.maxBytes, 1),
    intervalMs: count('flush.intervalMs', flush.intervalMs, DEFAULTS.intervalMs, 1),
    durable: durability === 'fsync',
    maxEntryBytes: count('maxEntryBytes', options.maxEntryBytes, DEFAULTS.maxEntryBytes, 1024, MAX_ENTRY_BYTES_LIMIT),
    maxBufferedBytes: count('maxBufferedBytes', options.maxBufferedBytes, DEFAULTS.maxBufferedBytes, 1),
    flushOnExit: options.flushOnExit ?? true,
    redact,
    now,
  };
}

/** Applies defaults and validates the file backend's options; throws ERR_INVALID_OPTION naming the option. */
export function resolveOptions(options: FileStoreOptions): ResolvedOptions {
  const common = resolveCommon(options);
  if (typeof options.dir !== 'string' || options.dir.length === 0) throw invalid('dir', 'a folder path', options.dir);
  const watch: unknown = options.watch;
  if (watch !== undefined && typeof watch !== 'boolean' && (typeof watch !== 'object' || watch === null || Array.isArray(watch))) {
    throw invalid('watch', 'a boolean or { reconcileIntervalMs }', watch);
  }
  return Object.freeze({
    ...common,
    dir: path.resolve(options.dir),
    watch: options.watch !== undefined && options.watch !== false,
    reconcileIntervalMs: count(
      'watch.reconcileIntervalMs',
      typeof options.watch === 'object' && options.watch !== null ? options.watch.reconcileIntervalMs : undefined,
      DEFAULT_RECONCILE_MS,
      100,
    ),
  });
}

/** Exported for the backends' own options. */
export { count as countOption };
