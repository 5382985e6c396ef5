/**
 * A session's info, folded from its file: the header with its updates applied, entry count, last
 * activity, token totals, problems. The fold is incremental so a cache can resume it from an offset.
 */
import { decodeLine } from '../../format/codec.js';
import { classifyLine, type EntryValidator } from '../../format/records.js';
import { HEADER_TYPE, type Header, UPDATE_TYPE, type UpdateRecord } from '../../format/schema.js';
import { type SessionInfo, type UsageTotals, withTotal } from '../../core/info.js';
import type { ScannedLine } from './scan.js';
import { headerProblem, interpret, type ReaderContext } from './reader.js';



/**
 * A fold's state as plain JSON, so a cache can persist it and resume the fold later from the byte
 * offset where it stopped ({@link SessionSummary.restore}). Entry ids are not kept: see `uncertain`.
 */
export interface SummaryState {
  readonly header?: { readonly createdAt: string; readonly version: number; readonly parent?: { readonly id: string; readonly entryId?: string | undefined } | undefined } | undefined;
  readonly title?: string | undefined;
  readonly model?: string | undefined;
  readonly cwd?: string | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly updatedAt?: string | undefined;
  readonly entryCount: number;
  readonly problems: number;
  readonly usage: Readonly<UsageTotals>;
  readonly lastCompaction?: number | undefined;
  readonly readOnly: boolean;
  /** The greatest entry id folded (string order). */
  readonly maxId?: string | undefined;
}

const UPDATE_MARK = `"${UPDATE_TYPE}"`;
const USAGE_KEYS = ['input', 'output', 'cacheRead', 'cacheWrite', 'total'] as const;

/** Incremental fold of a session file into its {@link SessionInfo}. */
export class SessionSummary {
  readonly #id: string;
  #header: Header | undefined;
  #title: string | undefined;
  #model: string | undefined;
  #cwd: string | undefined;
  #metadata: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  #updatedAt: string | undefined;
  #entryCount = 0;
  #problems = 0;
  #usage: UsageTotals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 };
  #lastCompaction: number | undefined;
  #readOnly = false;
  readonly #seen = new Set<string>();
  #maxId: string | undefined;
  /** For a restored fold: the greatest id before the resume point (ids at or below it may be duplicates). */
  #resumeMaxId: string | undefined;
  #uncertain = false;

  constructor(id: string) {
    this.#id = id;
  }

  /** Folds in one scanned line, in file order. */
  feed(scanned: ScannedLine, ctx: ReaderContext<unknown>): void {
    if (scanned.line === 1) {
      this.#feedHeader(scanned);
      return;
    }
    if (!scanned.torn && !scanned.oversize && scanned.bytes.includes(UPDATE_MARK)) {
      // Updates are not entries: interpret() skips them, so they are folded here.
      const classified = classifyLine(decodeLine(scanned.bytes), false, noValidation);
      if (classified.kind === 'update') {
        this.#applyUpdate(classified.update);
        return;
      }
    }
    const item = interpret(scanned, ctx, this.#seen);
    if (item.kind === 'problem') this.#problems++;
    if (item.kind !== 'entry') return;
    if (item.id !== undefined) {
      if (this.#resumeMaxId !== undefined && item.id <= this.#resumeMaxId) this.#uncertain = true;
      if (this.#maxId === undefined || item.id > this.#maxId) this.#maxId = item.id;
    }
    this.#entryCount++;
    const entry = item.entry as Record<string, unknown>;
    this.#touch(entry['ts']);
    if (entry['type'] === 'compaction') this.#lastCompaction = item.offset;
    const usage = entry['usage'];
    if (typeof usage === 'object' && usage !== null) {
      for (const key of USAGE_KEYS) {
        const value = (usage as Record<string, unknown>)[key];
        if (typeof value === 'number' && Number.isFinite(value)) this.#usage[key] += value;
      }
    }
  }

  #feedHeader(scanned: ScannedLine): void {
    const problem = headerProblem(scanned);
    if (problem !== undefined) {
      this.#problems++;
      return;
    }
    const classified = classifyLine(decodeLine(scanned.bytes, true), true, noValidation);
    if (classified.kind !== 'header') return;
    this.#takeHeader(classified.header, classified.newer);
  }

  #takeHeader(header: Header, newer: boolean): void {
    this.#header = header;
    this.#readOnly = newer;
    this.#title = header.title;
    this.#model = header.model;
    this.#cwd = header.cwd;
    if (header.metadata !== undefined) this.#mergeMetadata(header.metadata);
    this.#touch(header.createdAt);
    // The file name is the session's identity; a header naming another id is flagged.
    if (header.id !== this.#id) this.#problems++;
  }

  #applyUpdate(update: UpdateRecord): void {
    if (update.title !== undefined) this.#title = update.title ?? undefined;
    if (update.model !== undefined) this.#model = update.model ?? undefined;
    if (update.cwd !== undefined) this.#cwd = update.cwd ?? undefined;
    if (update.metadata !== undefined) this.#mergeMetadata(update.metadata);
    this.#touch(update.ts);
  }

  #mergeMetadata(patch: Record<string, unknown>): void {
    // Own keys only, onto a null-prototype object: a "__proto__" key stays a plain key.
    for (const key of Object.keys(patch)) {
      const value = patch[key];
      if (value === null) delete this.#metadata[key];
      else Object.defineProperty(this.#metadata, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }

  #touch(ts: unknown): void {
    if (typeof ts === 'string' && (this.#updatedAt === undefined || ts > this.#updatedAt)) this.#updatedAt = ts;
  }

  /**
   * True when a restored fold met an entry id that may repeat one from before the resume point
   * (ids there are not kept): the counts may be off by a duplicate, so fold the file again from 0.
   * Ids generated by the store increase, so this stays false for sessions it wrote.
   */
  get uncertain(): boolean {
    return this.#uncertain;
  }

  /** The fold's state, to persist and later {@link SessionSummary.restore}. */
  state(): SummaryState {
    const header = this.#header;
    const parent = header?.parent;
    return {
      header: header === undefined ? undefined : {
        createdAt: header.createdAt,
        version: header.version,
        parent: parent === undefined ? undefined : { id: parent.id, entryId: parent.entryId },
      },
      title: this.#title,
      model: this.#model,
      cwd: this.#cwd,
      metadata: { ...this.#metadata },
      updatedAt: this.#updatedAt,
      entryCount: this.#entryCount,
      problems: this.#problems,
      usage: withTotal(this.#usage),
      lastCompaction: this.#lastCompaction,
      readOnly: this.#readOnly,
      maxId: this.#maxId,
    };
  }

  /**
   * The info of a session just created: its header line (with its `\n`, `bytes` long) and nothing
   * else. The line was built by this store (buildHeader), so it is parsed but not validated: the
   * header checks, the migration and the zod schema took 17–22 ms for 1,000 new sessions in a
   * fresh process, against 3 ms (row 11 of docs/performance.md). Parsed rather than taken as the
   * object, so that the info shares nothing with the caller's `metadata`.
   */
  static ofNewSession(id: string, headerLine: string, bytes: number): SessionInfo {
    const summary = new SessionSummary(id);
    summary.#takeHeader(JSON.parse(headerLine) as Header, false);
    return summary.info(bytes, '');
  }

  /** A fold that continues from `state`: feed it the lines after the offset where that state stopped. */
  static restore(id: string, state: SummaryState): SessionSummary {
    const summary = new SessionSummary(id);
    const header = state.header;
    if (header !== undefined) {
      summary.#header = { type: HEADER_TYPE, version: header.version, id, createdAt: header.createdAt, parent: header.parent };
    }
    summary.#title = state.title;
    summary.#model = state.model;
    summary.#cwd = state.cwd;
    summary.#mergeMetadata({ ...state.metadata });
    summary.#updatedAt = state.updatedAt;
    summary.#entryCount = state.entryCount;
    summary.#problems = state.problems;
    summary.#usage = { ...state.usage };
    summary.#lastCompaction = state.lastCompaction;
    summary.#readOnly = state.readOnly;
    summary.#maxId = state.maxId;
    summary.#resumeMaxId = state.maxId;
    return summary;
  }

  /** The info as of the lines fed so far; `bytes` is the file size. */
  info(bytes: number, fallbackCreatedAt: string): SessionInfo {
    const header = this.#header;
    const createdAt = header?.createdAt ?? fallbackCreatedAt;
    const parent = header?.parent;
    return {
      id: this.#id,
      title: this.#title,
      model: this.#model,
      cwd: this.#cwd,
      metadata: { ...this.#metadata },
      createdAt,
      updatedAt: this.#updatedAt ?? createdAt,
      entryCount: this.#entryCount,
      bytes,
      usage: withTotal(this.#usage),
      problems: this.#problems,
      parent: parent === undefined ? undefined : { id: parent.id, entryId: parent.entryId },
      version: header?.version ?? 0,
      readOnly: this.#readOnly,
      lastCompactionOffset: this.#lastCompaction,
      conflicts: [],
    };
  }
}

const noValidation: EntryValidator<unknown> = (value) => ({ ok: true, value });
