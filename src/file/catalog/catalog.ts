/**
 * The session index: what listing needs of every session, kept in memory, persisted to a hidden
 * file as a cache, validated against the folder by fingerprints (size, mtime, ctime, inode), and
 * kept live by a folder watcher plus a periodic reconcile.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import PQueue from 'p-queue';
import { z } from 'zod';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { assertRegular } from '../fs/files.js';
import { conflictOf, idFromFileName, SESSION_EXT, sessionPath } from '../fs/paths.js';
import type { ListFilter, ListOptions, ListPage } from '../../core/list-options.js';
import type { WatchOptions } from '../../core/options.js';
import type { ReaderContext } from '../session/reader.js';
import type { SessionInfo } from '../../core/info.js';
import { fingerprintOf, foldSession, type IndexRecord, infoOf, sameFingerprint } from './fold.js';
import { INDEX_FILE, type IndexIdentity, loadIndex, saveIndex, sweepTemps } from './catalog-file.js';
import { type SortKey, SortedRows } from './order.js';
import { msOf, page, type PageResult, parseQuery, type Query, type Row } from './query.js';
import { DirWatcher } from './watcher.js';

/** After a change, the index file is written at most this long later (changes in between coalesce). */
const SAVE_DELAY_MS = 5_000;
/** A watched session whose file vanished is dropped only if it is still missing this much later. */
const DELETE_CONFIRM_MS = 150;
/** Files read at once while reconciling. */
const READ_CONCURRENCY = 8;
/** A folder changed this recently before a full pass may change again unseen in the same clock tick. */
const RACY_FOLDER_MS = 1_000;
/** lstat calls between two yields to the event loop while reconciling. */
const STAT_BATCH = 1000;

/** What the index tells its owner. */
export interface IndexHooks {
  /** A session was created, changed or deleted by someone else (another process, an editor). */
  readonly change: (id: string, kind: 'created' | 'changed' | 'deleted') => void;
  /** Something unusual was handled (index rebuilt, index not written, unsafe file skipped). */
  readonly warn: (code: string, message: string, id?: string) => void;
}

/** Settings of a {@link Catalog}. */
export interface IndexSettings {
  readonly dir: string;
  readonly reader: ReaderContext<unknown>;
  /** Tag of the entry schema (see {@link schemaTag}); an index made with another is rebuilt. */
  readonly schema: string;
  /** Undefined: no watcher; list() re-validates the folder by lstat each time instead. */
  readonly watch: Required<WatchOptions> | undefined;
  readonly hooks: IndexHooks;
}

/** The tag of an entry schema, so an index made with another schema's counts is not reused. */
export function schemaTag(schema: z.ZodType | undefined): string {
  if (schema === undefined) return 'builtin';
  try {
    const json = JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
    return `custom:${createHash('sha1').update(json).digest('base64url').slice(0, 16)}`;
  } catch {
    return 'custom:opaque';
  }
}

/** The session index of one store folder. */
export class Catalog {
  readonly #s: IndexSettings;
  readonly #records = new Map<string, IndexRecord>();
  readonly #rows = new Map<string, Row>();
  /** The rows in each sort order a listing asked for, kept sorted as rows change. */
  readonly #orders = new Map<SortKey, SortedRows>();
  /** Conflict copies by the id they belong to. */
  #conflicts = new Map<string, string[]>();
  readonly #running = new Map<string, Promise<void>>();
  /** Files being read: bounded, so a burst of 10,000 hints never opens 10,000 files at once. */
  readonly #reads = new PQueue({ concurrency: READ_CONCURRENCY });
  readonly #queued = new Map<string, Promise<void>>();
  /** Writes this process made per session, not yet folded: their changes were already announced. */
  readonly #local = new Map<string, number>();
  readonly #warnedUnsafe = new Set<string>();
  readonly #warnedRead = new Set<string>();
  /** The folder's times before the last full pass read it (see #folderUnchanged). */
  #folderSeen: { mtimeMs: number; ctimeMs: number; ino: number; atMs: number } | undefined;
  /** Why the index file was not used, reported once the folder turns out to hold sessions. */
  #rebuilt: string | undefined;
  #identity: IndexIdentity | undefined;
  #loading: Promise<void> | undefined;
  #baseline: Promise<void> | undefined;
  #reconciling: Promise<void> | undefined;
  #announce = false;
  #watcher: DirWatcher | undefined;
  #interval: NodeJS.Timeout | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  #saving: Promise<void> | undefined;
  #unsaved = false;
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
    return this.#info(id);
  }

  /** One page of sessions. Without a live watcher the folder is re-validated (lstat) first. @throws ERR_INVALID_OPTION, ERR_IO */
  async list(options: ListOptions = {}): Promise<ListPage> {
    const query = parseQuery(options);
    const result = (await this.#fresh(query)) ?? page(this.#ordered(query.sort), query);
    return { sessions: result.rows.map((row) => this.#info(row.id) as SessionInfo), nextCursor: result.nextCursor };
  }

  /** The most recently updated session matching `filter`. */
  async latest(filter?: ListFilter): Promise<SessionInfo | undefined> {
    const { sessions } = await this.list(filter === undefined ? { limit: 1 } : { limit: 1, filter });
    return sessions[0];
  }

  /** Forgets everything and reads every session file again from byte 0. Returns the number of sessions. */
  async reindex(): Promise<number> {
    await this.start();
    await Promise.all([...this.#running.values(), ...this.#queued.values()]);
    this.#records.clear();
    this.#rows.clear();
    // Rebuilt on the next listing: one sort beats 10,000 sorted inserts.
    this.#orders.clear();
    const before = this.#announce;
    this.#announce = false;
    try {
      await this.#reconcile(false);
    } finally {
      this.#announce = before;
    }
    this.#unsaved = true;
    await this.#saveNow();
    return this.#records.size;
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
    clearInterval(this.#interval);
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    await Promise.allSettled([this.#baseline, this.#reconciling, ...this.#running.values(), ...this.#queued.values()]);
    if (this.#loading === undefined) return;
    const missing = !fs.existsSync(path.join(this.#s.dir, INDEX_FILE)) && this.#records.size > 0;
    if (this.#unsaved || missing) {
      this.#unsaved = true;
      await this.#saveNow();
    }
    await this.#saving;
  }

  /**
   * Brings one session up to date with its file. Calls for the same id run one after another;
   * `urgent` reads (a caller is waiting) go ahead of background ones.
   */
  refresh(id: string, urgent = false): Promise<void> {
    const running = this.#running.get(id);
    if (running !== undefined) {
      let queued = this.#queued.get(id);
      if (queued === undefined) {
        queued = running
          .catch(() => undefined)
          .then(() => {
            this.#queued.delete(id);
            return this.refresh(id, urgent);
          });
        this.#queued.set(id, queued);
      }
      return queued;
    }
    const run = this.#refreshNow(id, urgent).finally(() => this.#running.delete(id));
    this.#running.set(id, run);
    return run;
  }

  async #refreshNow(id: string, urgent: boolean): Promise<void> {
    const file = sessionPath(this.#s.dir, id);
    // Our own writes noted before this stat are what this fold will see (later ones, maybe not).
    const local = this.#local.get(id) ?? 0;
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    const previous = this.#records.get(id);
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
    this.#put(record);
    this.#changed(record.id, kind, local);
  }

  /** Stores a record and its row, without announcing anything. */
  #put(record: IndexRecord): void {
    this.#records.set(record.id, record);
    const state = record.state;
    const createdAt = state.header?.createdAt;
    const createdMs = createdAt === undefined ? record.fp.mtimeMs : msOf(createdAt);
    const row: Row = {
      id: record.id,
      createdMs,
      updatedMs: state.updatedAt === undefined ? createdMs : msOf(state.updatedAt),
      title: state.title,
      model: state.model,
      cwd: state.cwd,
      metadata: state.metadata,
    };
    const previous = this.#rows.get(record.id);
    this.#rows.set(record.id, row);
    for (const order of this.#orders.values()) order.replace(previous, row);
  }

  /** The rows sorted by `sort`, sorted once on first use and kept sorted after. */
  #ordered(sort: SortKey): SortedRows {
    let order = this.#orders.get(sort);
    if (order === undefined) {
      order = new SortedRows(sort, this.#rows.values());
      this.#orders.set(sort, order);
    }
    return order;
  }

  #remove(id: string, local = 0): void {
    this.#records.delete(id);
    const previous = this.#rows.get(id);
    this.#rows.delete(id);
    for (const order of this.#orders.values()) order.replace(previous, undefined);
    this.#changed(id, 'deleted', local);
  }

  /** Records a change; announces it unless it is (also) the result of this process's own writes. */
  #changed(id: string, kind: 'created' | 'changed' | 'deleted', local: number): void {
    this.#scheduleSave();
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
    if (this.#records.has(id)) this.#remove(id);
    if (this.#warnedUnsafe.has(id)) return;
    this.#warnedUnsafe.add(id);
    let message = `${file} is not a regular file; it is not listed`;
    try {
      assertRegular(file, st);
    } catch (err) {
      message = (err as Error).message;
    }
    this.#s.hooks.warn('SESSIONLOG_UNSAFE_FILE', message, id);
  }

  #info(id: string): SessionInfo | undefined {
    const record = this.#records.get(id);
    return record === undefined ? undefined : infoOf(record, this.#conflicts.get(id) ?? []);
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
        for (const record of loaded.records) if (!this.#records.has(record.id)) this.#put(record);
        return;
      }
      this.#unsaved = true;
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
    if (query.after !== undefined && this.#folderUnchanged()) return this.#freshPage(query);
    await this.#reconcile(false);
  }

  /**
   * Whether no file was created, deleted or renamed in the folder since the last full pass: its
   * mtime and ctime are those seen before that pass read the folder. A folder changed within
   * {@link RACY_FOLDER_MS} of that pass is not trusted: file times are taken from a coarse clock
   * (one tick, up to 10 ms), so a later change in the same tick would leave them equal — git's
   * "racily clean" index entries.
   */
  #folderUnchanged(): boolean {
    const seen = this.#folderSeen;
    if (seen === undefined || seen.atMs - seen.mtimeMs < RACY_FOLDER_MS) return false;
    const st = fs.statSync(this.#s.dir, { throwIfNoEntry: false });
    return st !== undefined && st.mtimeMs === seen.mtimeMs && st.ctimeMs === seen.ctimeMs && st.ino === seen.ino;
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
      const result = page(this.#ordered(query.sort), query);
      const rows = result.rows.filter((row) => !checked.has(row.id));
      if (rows.length === 0) return result;
      const stale = rows.filter((row) => {
        checked.add(row.id);
        const record = this.#records.get(row.id);
        // Ids in the index are valid ids (checked on load), so the path needs no containment check here.
        const st = fs.lstatSync(`${this.#s.dir}/${row.id}${SESSION_EXT}`, { throwIfNoEntry: false });
        return record === undefined || st === undefined || !sameFingerprint(record.fp, st);
      });
      await mapLimit(
        stale.map((row) => row.id),
        READ_CONCURRENCY,
        (id) => this.#refreshQuietly(id),
      );
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
    // Taken before the folder is read: a change during the pass then shows as a changed folder.
    const folder = fs.statSync(dir, { throwIfNoEntry: false });
    this.#folderSeen = folder === undefined ? undefined : { mtimeMs: folder.mtimeMs, ctimeMs: folder.ctimeMs, ino: folder.ino, atMs: Date.now() };
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch (err) {
      throw ioError('list the store folder', dir, err);
    }
    if (initial) sweepTemps(dir, names, Date.now());
    const onDisk = new Set<string>();
    const stale: string[] = [];
    const conflicts = new Map<string, string[]>();
    for (let i = 0; i < names.length; i++) {
      if (i > 0 && i % STAT_BATCH === 0) await yieldToLoop();
      const name = names[i] as string;
      const id = idFromFileName(name);
      if (id === undefined) {
        const of = conflictOf(name);
        if (of !== undefined) conflicts.set(of, [...(conflicts.get(of) ?? []), name]);
        continue;
      }
      onDisk.add(id);
      const record = this.#records.get(id);
      // A template string, not path.join (dir is absolute and normalised), and the Stats compared
      // as they are: this loop runs once per session on every full pass.
      const st = fs.lstatSync(`${dir}/${name}`, { throwIfNoEntry: false });
      if (record === undefined || st === undefined || !sameFingerprint(record.fp, st)) stale.push(id);
    }
    for (const id of this.#records.keys()) if (!onDisk.has(id)) stale.push(id);
    this.#setConflicts(conflicts);
    await mapLimit(stale, READ_CONCURRENCY, (id) => this.#refreshQuietly(id));
    if (initial && this.#rebuilt !== undefined && this.#records.size > 0) {
      this.#s.hooks.warn('SESSIONLOG_INDEX_REBUILT', `The session index was rebuilt from the session files: ${this.#rebuilt}.`);
    }
    if (initial && this.#records.size === 0 && this.#unsaved && !fs.existsSync(path.join(dir, INDEX_FILE))) {
      // Nothing to cache: an empty folder gets no index file.
      this.#unsaved = false;
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      return;
    }
    if (initial && this.#unsaved) {
      await this.#saveNow();
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

  #setConflicts(next: Map<string, string[]>): void {
    for (const list of next.values()) list.sort();
    const previous = this.#conflicts;
    this.#conflicts = next;
    for (const id of new Set([...previous.keys(), ...next.keys()])) {
      const before = previous.get(id)?.join('\n');
      const after = next.get(id)?.join('\n');
      if (before !== after && this.#records.has(id) && this.#announce) this.#s.hooks.change(id, 'changed');
    }
  }

  /** Re-reads the conflict copies of one session after a watcher hint about one of them. */
  #refreshConflict(name: string, id: string): void {
    const exists = fs.lstatSync(path.join(this.#s.dir, name), { throwIfNoEntry: false }) !== undefined;
    const list = this.#conflicts.get(id) ?? [];
    if (exists === list.includes(name)) return;
    const next = new Map(this.#conflicts);
    next.set(id, exists ? [...list, name] : list.filter((other) => other !== name));
    if (next.get(id)?.length === 0) next.delete(id);
    this.#setConflicts(next);
  }

  #startWatching(options: Required<WatchOptions>): void {
    const dir = this.#s.dir;
    const watcher = new DirWatcher(
      dir,
      (name) => name === INDEX_FILE || idFromFileName(name) !== undefined || conflictOf(name) !== undefined,
      {
        settled: (name) => this.#hinted(name),
        rescan: () => this.#background(),
        failed: (err) =>
          this.#s.hooks.warn(
            'SESSIONLOG_WATCH_FAILED',
            `Watching ${dir} failed (${errnoOf(err) ?? err.message}); changes by other programs are picked up every ${options.reconcileIntervalMs} ms instead.`,
          ),
      },
    );
    this.#watcher = watcher;
    watcher.start();
    this.#interval = setInterval(() => {
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      const identity = this.#identity;
      if (st !== undefined && identity !== undefined && (st.ino !== identity.ino || st.dev !== identity.dev)) {
        // The folder was replaced (moved away and recreated): the watch still follows the old one.
        this.#identity = { dev: st.dev, ino: st.ino, schema: identity.schema };
        this.#unsaved = true;
        watcher.restart();
      } else {
        watcher.start(); // re-arms a watch that failed
      }
      this.#background();
    }, options.reconcileIntervalMs);
    this.#interval.unref();
  }

  #hinted(name: string, confirming = false): void {
    if (this.#closed || this.#baseline === undefined) return;
    if (name === INDEX_FILE) {
      // Deleted or replaced by hand, or written by another process: ours is written again in time.
      if (!fs.existsSync(path.join(this.#s.dir, INDEX_FILE))) this.#scheduleSave();
      return;
    }
    const id = idFromFileName(name);
    if (id !== undefined) {
      const gone = !fs.existsSync(path.join(this.#s.dir, name));
      if (gone && !confirming && this.#records.has(id)) {
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

  #scheduleSave(): void {
    this.#unsaved = true;
    if (this.#saveTimer !== undefined || this.#closed) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.#saveNow();
    }, SAVE_DELAY_MS);
    this.#saveTimer.unref();
  }

  /** Writes the newest state; a write already in flight is followed by one more, never overlapped. */
  async #saveNow(): Promise<void> {
    while (this.#saving !== undefined) await this.#saving;
    if (!this.#unsaved || this.#identity === undefined) return;
    this.#unsaved = false;
    const identity = this.#identity;
    this.#saving = saveIndex(this.#s.dir, identity, this.#records.values())
      .catch((err: unknown) => {
        // Still unsaved: close() (or the next change) tries again; the old index stays meanwhile.
        this.#unsaved = true;
        this.#s.hooks.warn(
          'SESSIONLOG_INDEX_WRITE_FAILED',
          `The session index in ${this.#s.dir} could not be written (${(err as Error).message}); listing still works, from the session files.`,
        );
      })
      .finally(() => {
        this.#saving = undefined;
      });
    await this.#saving;
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
