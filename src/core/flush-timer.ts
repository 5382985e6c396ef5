/**
 * When a backend's buffered entries are flushed without a caller asking: this long after the first
 * entry of a batch, or at once when a threshold is reached. A failed background flush is reported
 * (no caller is waiting for it), stays sticky in the writer, and is retried with a doubling delay.
 * Shared by the file and the PostgreSQL writers.
 */
import type { SessionStoreError } from './errors.js';

/** Retry a failing background flush no more often than this, doubling from the interval. */
const MAX_RETRY_MS = 30_000;

/** The flush timer of one writer. */
export class FlushTimer {
  readonly #intervalMs: number;
  readonly #flush: () => Promise<void>;
  readonly #onError: (error: SessionStoreError) => void;
  #timer: NodeJS.Timeout | undefined;
  #retryMs: number;
  #stopped = false;

  /** `flush` runs a background flush; `onError` hears of its failure. */
  constructor(intervalMs: number, flush: () => Promise<void>, onError: (error: SessionStoreError) => void) {
    this.#intervalMs = intervalMs;
    this.#retryMs = intervalMs;
    this.#flush = flush;
    this.#onError = onError;
  }

  /** Flushes in `ms` unless a flush is already due (the first entry of a batch sets the time). */
  arm(ms: number = this.#intervalMs): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.now();
    }, ms);
    // A pending flush must not keep the process alive; exit hooks or close() write what is left.
    this.#timer.unref();
  }

  /** Flushes now, in the background. */
  now(): void {
    this.disarm();
    this.#flush().catch((err: unknown) => {
      this.#onError(err as SessionStoreError);
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      this.arm(this.#retryMs);
    });
  }

  /** A flush succeeded: the next failure retries after one interval again. */
  succeeded(): void {
    this.#retryMs = this.#intervalMs;
  }

  /** Cancels the flush due, if any. */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** No more timed flushes (the writer is closed). */
  stop(): void {
    this.#stopped = true;
    this.disarm();
  }
}
