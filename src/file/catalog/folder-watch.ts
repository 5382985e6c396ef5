/**
 * The catalog's live view of its folder: one `fs.watch` (through {@link DirWatcher}) for hints,
 * and a periodic pass that re-arms a failed watch, follows a folder that was replaced (moved away
 * and recreated: the watch would still follow the old one), and asks for a reconcile that heals
 * any event the kernel dropped.
 */
import fs from 'node:fs';
import { errnoOf } from '../../core/errors.js';
import { conflictOf, idFromFileName } from '../fs/paths.js';
import { INDEX_FILE } from './catalog-file.js';
import { DirWatcher } from './watcher.js';

/** What the watch tells the catalog. */
export interface FolderWatchHandlers {
  /** A name in the folder may have changed (a session, a conflict copy, the catalog file). */
  readonly hinted: (name: string) => void;
  /** Compare the whole folder with the catalog. */
  readonly reconcile: () => void;
  /** The folder now at the path is another one (its dev and ino). */
  readonly replaced: (st: fs.Stats) => void;
  /** The folder's identity as the catalog knows it, if loaded. */
  readonly identity: () => { readonly dev: number; readonly ino: number } | undefined;
  readonly warn: (code: string, message: string) => void;
}

/** A running watch of the store folder. */
export class FolderWatch {
  readonly #watcher: DirWatcher;
  readonly #interval: NodeJS.Timeout;

  constructor(dir: string, reconcileIntervalMs: number, handlers: FolderWatchHandlers) {
    this.#watcher = new DirWatcher(dir, (name) => name === INDEX_FILE || idFromFileName(name) !== undefined || conflictOf(name) !== undefined, {
      settled: handlers.hinted,
      rescan: handlers.reconcile,
      failed: (err) =>
        handlers.warn(
          'SESSIONLOG_WATCH_FAILED',
          `Watching ${dir} failed (${errnoOf(err) ?? err.message}); changes by other programs are picked up every ${reconcileIntervalMs} ms instead.`,
        ),
    });
    this.#watcher.start();
    this.#interval = setInterval(() => {
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      const identity = handlers.identity();
      if (st !== undefined && identity !== undefined && (st.ino !== identity.ino || st.dev !== identity.dev)) {
        handlers.replaced(st);
        this.#watcher.restart();
      } else {
        this.#watcher.start(); // re-arms a watch that failed
      }
      handlers.reconcile();
    }, reconcileIntervalMs);
    this.#interval.unref();
  }

  /** Whether the watch is delivering events (else listing checks the folder itself). */
  get active(): boolean {
    return this.#watcher.active;
  }

  /** Stops the watch and the periodic pass. */
  close(): void {
    this.#watcher.close();
    clearInterval(this.#interval);
  }
}
