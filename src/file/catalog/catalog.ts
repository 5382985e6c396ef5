/**
 * The catalog (the docs' "session index"): what listing needs of every session, in memory,
 * cached in a hidden file, validated by fingerprints (size, mtime, ctime, inode), kept live by a
 * folder watcher plus a periodic reconcile.
 */
import fs from 'node:fs';
import path from 'node:path';
import PQueue from 'p-queue';
import { ioError, SessionStoreError } from '../../core/errors.js';
import { assertRegular } from '../fs/files.js';
import { conflictOf, idFromFileName, sessionPath } from '../fs/paths.js';
import type { ListFilter, ListOptions, ListPage } from '../../core/list-options.js';
import type { WatchOptions } from '../../core/options.js';
import type { SessionInfo } from '../../core/info.js';
import { fingerprintOf, foldSession, type IndexRecord, sameFingerprint } from './fold.js';
import { INDEX_FILE, type IndexIdentity, indexWriteReason, loadIndex, saveIndex } from './catalog-file.js';
import { page, type PageResult, parseQuery, type Query } from '../../core/list-query.js';
import { PerKeySerial } from './per-key.js';
import { DebouncedSave } from './saver.js';
import type { IndexSettings } from './settings.js';
import { CatalogTable } from './table.js';
import { type FolderSeen, folderUnchanged, mapLimit, scanFolder, staleRows } from './folder-scan.js';
import { FolderWatch } from './folder-watch.js';

/** After a change, the index file is written at most this long later (changes in between coalesce). */
const SAVE_DELAY_MS = 5_000;
/** A watched session whose file vanished is dropped only if it is still missing this much later. */
const DELETE_CONFIRM_MS = 150;
/** Files read at once while reconciling. */
const READ_CONCURRENCY = 8;

/** The session index of one store folder. */
export class Catalog {
  readonly #s: IndexSettings;
  readonly #table = new CatalogTable();
  readonly #refreshes = new PerKeySerial();
  /** Files being read: bounded, so a burst of 10,000 hints never opens 10,000 files at once. */
  readonly #reads = new PQueue({ concurrency: READ_CONCURRENCY });
  /** Writes this process made per session, not yet folded: their changes were already announced. */
  readonly #local = new Map<string, number>();
  readonly #warnedUnsafe = new Set<string>();
  readonly #warnedRead = new Set<string>();
  /** The folder's times before the last full pass read it (see #folderUnchanged). */
  #folderSeen: FolderSeen | undefined;
  /** Why the index file was not used, reported once the folder turns out to hold sessions. */
  #rebuilt: string | undefined;
  #identity: IndexIdentity | undefined;
  #loading: Promise<void> | undefined;
  #baseline: Promise<void> | undefined;
  #reconciling: Promise<void> | undefined;
  #announce = false;
  #watcher: FolderWatch | undefined;
  readonly #save = new DebouncedSave(SAVE_DELAY_MS, () => this.#writeFile(), () => this.#identity !== undefined);
  #closed = false;

  constructor(settings: IndexSettings) {
    this.#s = settings;
  }

  /**
   * Loads the index file and validates every session against the folder (lstat only; files whose
   * fingerprint changed are read, from where the index stopped when they only grew). With `watch`,
   * starts the watcher first so nothing that happens during the scan is missed.
   */
  start(): Promise<void> {
    this.#baseline ??= this.#start();
    return this.#baseline;
  }

  async #start(): Promise<void> {
    if (this.#s.watch !== undefined) this.#startWatching(this.#s.watch);
    await this.#load();
    await this.#reconcile(true);
    this.#announce = true;
  }

  /** The session's info, validated against its file now; undefined when there is no such session. @throws ERR_UNSAFE_FILE, ERR_IO */
  async get(id: string): Promise<SessionInfo | undefined> {
    await this.#load();
    const file = sessionPath(this.#s.dir, id);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st !== undefined) assertRegular(file, st);
    await this.refresh(id, true);
    return this.#table.info(id);
  }

  /** One page of sessions. Without a live watcher the folder is re-validated (lstat) first. @throws ERR_INVALID_OPTION, ERR_IO */
  async list(options: ListOptions = {}): Promise<ListPage> {
    const query = parseQuery(options);
    const result = (await this.#fresh(query)) ?? page(this.#table.ordered(query.sort), query);
    return { sessions: result.rows.map((row) => this.#table.info(row.id) as SessionInfo), nextCursor: result.nextCursor };
  }

  /** The most recently updated session matching `filter`. */
  async latest(filter?: ListFilter): Promise<SessionInfo | undefined> {
    const { sessions } = await this.list(filter === undefined ? { limit: 1 } : { limit: 1, filter });
    return sessions[0];
  }

  /** Forgets everything and reads every session file again from byte 0. Returns the number of sessions. */
  async reindex(): Promise<number> {
    await this.start();
    await Promise.all(this.#refreshes.pending());
    this.#table.clear();
    // Rebuilt on the next listing: one sort beats 10,000 sorted inserts.
    const before = this.#announce;
    this.#announce = false;
    try {
      await this.#reconcile(false);
    } finally {
      this.#announce = before;
    }
    this.#save.markDirty();
    await this.#save.now();
    return this.#table.size;
  }

  /** This process wrote to (or created, or deleted) `id`; the store announces that change itself. */
  noteLocal(id: string): void {
    // Before the first full pass nothing is announced, so there is nothing to tell apart.
    if (!this.#announce) return;
    this.#local.set(id, (this.#local.get(id) ?? 0) + 1);
    // Live: fold it now, so the flag is consumed by this write and not by a later external one.
    if (this.#watcher !== undefined && this.#announce && !this.#closed) void this.#refreshQuietly(id);
  }

  /** Stops the watcher and timers, waits for reads in flight and writes the index if it changed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher?.close();
    this.#save.stop();
    await Promise.allSettled([this.#baseline, this.#reconciling, ...this.#refreshes.pending()]);
    if (this.#loading === undefined) return;
    const missing = !fs.existsSync(path.join(this.#s.dir, INDEX_FILE)) && this.#table.size > 0;
    if (missing) this.#save.markDirty();
    await this.#save.now();
  }

  /**
   * Brings one session up to date with its file. Calls for the same id run one after another;
   * `urgent` reads (a caller is waiting) go ahead of background ones.
   */
  refresh(id: string, urgent = false): Promise<void> {
    return this.#refreshes.run(id, () => this.#refreshNow(id, urgent));
  }

  async #refreshNow(id: string, urgent: boolean): Promise<void> {
    const file = sessionPath(this.#s.dir, id);
    // Our own writes noted before this stat are what this fold will see (later ones, maybe not).
    const local = this.#local.get(id) ?? 0;
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    const previous = this.#table.record(id);
    if (st === undefined) {
      if (previous !== undefined) this.#remove(id, local);
      return;
    }
    if (!st.isFile() || st.nlink > 1) {
      this.#skipUnsafe(id, file, st);
      return;
    }
    if (previous !== undefined && sameFingerprint(previous.fp, fingerprintOf(st))) {
      // Nothing new: those writes were folded by an earlier pass.
      this.#consumeLocal(id, local);
      return;
    }
    let record: IndexRecord;
    try {
      record = await this.#reads.add(() => foldSession(file, id, st, this.#s.reader, previous), { priority: urgent ? 1 : 0 });
    } catch (err) {
      const code = err instanceof SessionStoreError ? err.code : undefined;
      if (code === 'ERR_SESSION_NOT_FOUND') {
        if (previous !== undefined) this.#remove(id, local);
        return;
      }
      if (code === 'ERR_UNSAFE_FILE') {
        this.#skipUnsafe(id, file, st);
        return;
      }
      throw err instanceof SessionStoreError ? err : ioError('index', file, err);
    }
    this.#warnedRead.delete(id);
    this.#set(record, previous === undefined ? 'created' : 'changed', local);
  }

  #set(record: IndexRecord, kind: 'created' | 'changed', local: number): void {
    this.#table.put(record);
    this.#changed(record.id, kind, local);
  }

  #remove(id: string, local = 0): void {
    this.#table.remove(id);
    this.#changed(id, 'deleted', local);
  }

  /** Records a change; announces it unless it is (also) the result of this process's own writes. */
  #changed(id: string, kind: 'created' | 'changed' | 'deleted', local: number): void {
    this.#save.schedule();
    if (local > 0) this.#consumeLocal(id, local);
    else if (this.#announce) this.#s.hooks.change(id, kind);
  }

  #consumeLocal(id: string, count: number): void {
    if (count === 0) return;
    const left = (this.#local.get(id) ?? 0) - count;
    if (left > 0) this.#local.set(id, left);
    else this.#local.delete(id);
  }

  #skipUnsafe(id: string, file: string, st: fs.Stats): void {
    if (this.#table.has(id)) this.#remove(id);
    if (this.#warnedUnsafe.has(id)) return;
    this.#warnedUnsafe.add(id);
    this.#s.hooks.warn('SESSIONLOG_UNSAFE_FILE', unsafeReason(file, st), id);
  }

  /** Reads the index file into memory (unvalidated: every use validates by fingerprint first). */
  #load(): Promise<void> {
    this.#loading ??= (async () => {
      const dir = this.#s.dir;
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(dir);
      } catch (err) {
        throw ioError('open the store folder', dir, err);
      }
      this.#identity = { dev: st.dev, ino: st.ino, schema: this.#s.schema };
      const loaded = await loadIndex(dir, this.#identity);
      if (loaded.ok) {
        // Sessions already refreshed (a get() racing the load) are newer than the file's records.
        for (const record of loaded.records) if (!this.#table.has(record.id)) this.#table.put(record);
        return;
      }
      this.#save.markDirty();
      // A missing index is the normal state of a folder never listed before: no warning for that.
      if (loaded.reason !== 'missing') this.#rebuilt = loaded.detail;
    })();
    return this.#loading;
  }

  /** Makes the in-memory index true to the folder before a listing; returns the page when checking it already made it. */
  async #fresh(query: Query): Promise<PageResult | undefined> {
    const first = this.#baseline === undefined;
    await this.start();
    // The first call has just compared the whole folder: no second pass.
    if (first) return;
    if (this.#watcher?.active === true) {
      // Live: only this process's own recent writes may not have been folded yet.
      await Promise.all([...this.#local.keys()].map((id) => this.refresh(id)));
      return;
    }
    if (query.after !== undefined && folderUnchanged(this.#s.dir, this.#folderSeen)) return this.#freshPage(query);
    await this.#reconcile(false);
  }

  /**
   * A next page without a watcher, in an unchanged folder: checks (lstat) the sessions the page
   * would return, not all of them, and reads those that changed, until the page is made of
   * checked sessions. Keyset paging already tolerates sessions moving between pages; a session
   * whose change moves it onto this page from one not checked is seen by the next full pass
   * (a call without `cursor`). docs/listing.md
   */
  async #freshPage(query: Query): Promise<PageResult> {
    const checked = new Set<string>();
    for (;;) {
      const result = page(this.#table.ordered(query.sort), query);
      const rows = result.rows.filter((row) => !checked.has(row.id));
      if (rows.length === 0) return result;
      for (const row of rows) checked.add(row.id);
      await mapLimit(staleRows(this.#s.dir, this.#table, rows), READ_CONCURRENCY, (id) => this.#refreshQuietly(id));
    }
  }

  /**
   * Compares the folder with the index: one readdir and one lstat per entry; reads only the files
   * whose fingerprint changed. Concurrent calls share one pass.
   */
  #reconcile(initial: boolean): Promise<void> {
    if (this.#reconciling !== undefined) return this.#reconciling;
    this.#reconciling = this.#reconcileNow(initial).finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #reconcileNow(initial: boolean): Promise<void> {
    await this.#load();
    const dir = this.#s.dir;
    const { stale, conflicts, seen } = await scanFolder(dir, this.#table, initial);
    this.#folderSeen = seen;
    this.#conflictsChanged(this.#table.setConflicts(conflicts));
    await mapLimit(stale, READ_CONCURRENCY, (id) => this.#refreshQuietly(id));
    if (initial && this.#rebuilt !== undefined && this.#table.size > 0) {
      this.#s.hooks.warn('SESSIONLOG_INDEX_REBUILT', `The session index was rebuilt from the session files: ${this.#rebuilt}.`);
    }
    if (initial && this.#table.size === 0 && this.#save.dirty && !fs.existsSync(path.join(dir, INDEX_FILE))) {
      // Nothing to cache: an empty folder gets no index file.
      this.#save.markClean();
      return;
    }
    if (initial && this.#save.dirty) {
      await this.#save.now();
    }
  }

  /** refresh() for background work: a failure is reported once per session and the others go on. */
  async #refreshQuietly(id: string): Promise<void> {
    try {
      await this.refresh(id);
    } catch (err) {
      // One unreadable file must not hide the others; it is left out until it can be read.
      if (this.#warnedRead.has(id)) return;
      this.#warnedRead.add(id);
      this.#s.hooks.warn('SESSIONLOG_INDEX_READ_FAILED', (err as Error).message, id);
    }
  }

  /** Announces sessions whose conflict copies changed. */
  #conflictsChanged(ids: readonly string[]): void {
    if (this.#announce) for (const id of ids) this.#s.hooks.change(id, 'changed');
  }

  /** Re-reads the conflict copies of one session after a watcher hint about one of them. */
  #refreshConflict(name: string, id: string): void {
    const exists = fs.lstatSync(path.join(this.#s.dir, name), { throwIfNoEntry: false }) !== undefined;
    this.#conflictsChanged(this.#table.setConflict(id, name, exists));
  }

  #startWatching(options: Required<WatchOptions>): void {
    this.#watcher = new FolderWatch(this.#s.dir, options.reconcileIntervalMs, {
      hinted: (name) => this.#hinted(name),
      reconcile: () => this.#background(),
      identity: () => this.#identity,
      replaced: (st) => {
        if (this.#identity !== undefined) this.#identity = { dev: st.dev, ino: st.ino, schema: this.#identity.schema };
        this.#save.markDirty();
      },
      warn: (code, message) => this.#s.hooks.warn(code, message),
    });
  }

  #hinted(name: string, confirming = false): void {
    if (this.#closed || this.#baseline === undefined) return;
    if (name === INDEX_FILE) {
      // Deleted or replaced by hand, or written by another process: ours is written again in time.
      if (!fs.existsSync(path.join(this.#s.dir, INDEX_FILE))) this.#save.schedule();
      return;
    }
    const id = idFromFileName(name);
    if (id !== undefined) {
      const gone = !fs.existsSync(path.join(this.#s.dir, name));
      if (gone && !confirming && this.#table.has(id)) {
        // Editors' safe writes move the file away for a moment (their unlink event can come last):
        // a session is only dropped when it is still missing a little later.
        setTimeout(() => this.#hinted(name, true), DELETE_CONFIRM_MS).unref();
        return;
      }
      void this.#load().then(() => this.#refreshQuietly(id), () => undefined);
      return;
    }
    const of = conflictOf(name);
    if (of !== undefined) this.#refreshConflict(name, of);
  }

  #background(): void {
    if (this.#closed || this.#baseline === undefined) return;
    this.#baseline
      .then(() => this.#reconcile(false))
      .catch((err: unknown) => this.#s.hooks.warn('SESSIONLOG_INDEX_READ_FAILED', (err as Error).message));
  }

  /** Writes the catalog file; a failure is reported, and the state stays unsaved for the next try. */
  async #writeFile(): Promise<void> {
    try {
      await saveIndex(this.#s.dir, this.#identity as IndexIdentity, this.#table.records());
    } catch (err) {
      this.#s.hooks.warn(
        'SESSIONLOG_INDEX_WRITE_FAILED',
        `The session index in ${this.#s.dir} could not be written (${indexWriteReason(err)}); listing still works, from the session files.`,
      );
      throw err;
    }
  }
}

/** Why a session file is not listed, in the words of the check that refuses it. */
function unsafeReason(file: string, st: fs.Stats): string {
  try {
    assertRegular(file, st);
  } catch (err) {
    return (err as Error).message;
  }
  return `${file} is not a regular file; it is not listed`;
}
