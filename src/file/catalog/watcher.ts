/**
 * Hints that something in the store folder changed. One `fs.watch` on the folder (one inotify
 * watch however many sessions it holds), debounced per file name. Events are only hints: the index
 * re-stats before acting, and a periodic reconcile heals whatever the OS dropped.
 *
 * Why not chokidar (measured with 10,000 sessions, docs/listing.md): by default it puts one inotify
 * watch on every file (10,001 watches, 120 MB RSS, 0.5 s to get ready). Configured to ignore the
 * files and report the folder's raw events it needs one watch, but on every event it re-reads the
 * folder with an lstat per entry, so while a single session streams it used ~0.8 of a CPU core at
 * 10,000 sessions (0.4 at 1,000), against 0.01 for `fs.watch` on the folder.
 */
import fs from 'node:fs';

/** Debounce: wait this long after the last event for a name… */
const WAIT_MS = 75;
/** …but never longer than this after the first, so a session that streams still updates. */
const MAX_WAIT_MS = 400;

/** What the watcher reports. */
export interface WatcherEvents {
  /** Events for `name` (a file name in the folder) have settled. */
  readonly settled: (name: string) => void;
  /** The OS gave an event without a name, or the watch broke: look at the whole folder. */
  readonly rescan: () => void;
  /** The watch failed (e.g. ENOSPC: out of inotify watches); the periodic reconcile carries on. */
  readonly failed: (err: Error) => void;
}

/** A debounced `fs.watch` on one folder. */
export class DirWatcher {
  readonly #dir: string;
  readonly #events: WatcherEvents;
  readonly #accept: (name: string) => boolean;
  readonly #timers = new Map<string, { first: number; timer: NodeJS.Timeout }>();
  #watcher: fs.FSWatcher | undefined;
  #closed = false;

  /** @param accept - names worth a hint (sessions and conflict copies); others are dropped at once. */
  constructor(dir: string, accept: (name: string) => boolean, events: WatcherEvents) {
    this.#dir = dir;
    this.#accept = accept;
    this.#events = events;
  }

  /** True while the OS watch is up. */
  get active(): boolean {
    return this.#watcher !== undefined;
  }

  /** Starts (or restarts after a failure) the OS watch. Reports failure through `failed`. */
  start(): void {
    if (this.#closed || this.#watcher !== undefined) return;
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(this.#dir, { persistent: false }, (_event, name) => this.#hint(name));
    } catch (err) {
      this.#events.failed(err as Error);
      return;
    }
    watcher.on('error', (err) => {
      this.#stopWatch();
      this.#events.failed(err);
      this.#events.rescan();
    });
    this.#watcher = watcher;
  }

  /** Watches again from scratch: the folder at the path was replaced (its old inode is what a watch follows). */
  restart(): void {
    this.#stopWatch();
    this.start();
  }

  /** Stops watching and drops pending hints. */
  close(): void {
    this.#closed = true;
    this.#stopWatch();
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #stopWatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #hint(name: string | Buffer | null): void {
    if (this.#closed) return;
    if (name === null) {
      this.#events.rescan();
      return;
    }
    const text = name.toString();
    if (!this.#accept(text)) return;
    const now = Date.now();
    const pending = this.#timers.get(text);
    const first = pending?.first ?? now;
    if (pending !== undefined) clearTimeout(pending.timer);
    const delay = Math.min(WAIT_MS, Math.max(0, first + MAX_WAIT_MS - now));
    const timer = setTimeout(() => {
      this.#timers.delete(text);
      this.#events.settled(text);
    }, delay);
    timer.unref();
    this.#timers.set(text, { first, timer });
  }
}
