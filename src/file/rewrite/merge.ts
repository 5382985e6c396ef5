/**
 * Merging sync-conflict copies into their session (reliability rows G9 and I5). Two machines
 * appended to one session while they could not sync; the sync tool kept one file as `<id>.jsonl`
 * (Syncthing: the newer mtime wins) and renamed the other `<id>.sync-conflict-….jsonl`.
 *
 * The merged session is the union of the records (entries and bookkeeping updates) of the session
 * file and its copies, by record id, in the order of src/file/rewrite/merge-order.ts: each copy's own
 * order is kept, and the result does not depend on which copy the sync tool let win. Identical
 * lines are written once. Bytes that are not valid records — bad lines, torn fragments, a second
 * version of a record with the same id, a different header — are never dropped: they go to a
 * recovery file beside the session (`<id>.jsonl.recovered-<time>`, as repair names it) and are
 * reported by file, line and offset, never by content. The copies are then moved to the trash
 * folder, never deleted.
 *
 * The rewrite is repair's (src/file/rewrite/rewrite.ts, shared by both): a temp file in the folder
 * (0600), fsync, rename, fsync of the folder, under the session's rewrite lock. Concurrent appends: the caller
 * flushes this process's writer first; whatever reaches the session file while the merge runs is
 * read in one synchronous step that ends with the rename, so no flush of this process can land in
 * between, and appended after the merged records; another process's append that lands after that
 * step is copied onto the new file right after the rename.
 */
import type fs from 'node:fs';
import { decodeLine, encodeLine } from '../../format/codec.js';
import { LineSplitter, type RawLine } from '../../format/lines.js';
import { readHeader } from '../../format/migrate.js';
import { classifyLine } from '../../format/records.js';
import { SessionStoreError } from '../../core/errors.js';
import { closeQuietly, openForRead } from '../fs/files.js';
import { headerProblem } from '../session/reader.js';
import { mergeOrder, type OrderNode } from './merge-order.js';
import { assertCopyUnchanged, hashOf, hashRange, moveCopyAside } from './merge-files.js';
import { type OutputFile, RangeReader, readUntilStill, readUpTo, type RewriteJob, SessionRewrite } from './rewrite.js';
import type { MergedCopy, MergePlan, MergeProblem, MergeProblemKind, MergeReport } from './merge-types.js';

export type { MergedCopy, MergePlan, MergeProblem, MergeProblemKind, MergeReport } from './merge-types.js';

/** For the messages of the shared rewrite steps. */
const MERGE: RewriteJob = { done: 'merged', retry: 'run the merge again' };
const NEWLINE = Buffer.from('\n');
/** Index of the session file among the sources; the copies follow. */
const MAIN = 0;

interface Source {
  readonly file: string;
  readonly fd: number;
  readonly stat: fs.Stats;
  /** Copies records' bytes out of the file, a window at a time. */
  readonly ranges: RangeReader;
  readonly splitter: LineSplitter;
  position: number;
  lineNo: number;
  /** Records without an id, by hash: how many seen, so the n-th identical one has its own key. */
  readonly anonymous: Map<string, number>;
  /** Nodes in file order, each once: this copy's order, for merge-order. */
  readonly chain: number[];
  readonly inChain: Set<number>;
}

/** Where a line is. */
interface Occurrence {
  readonly src: number;
  readonly line: number;
  readonly offset: number;
  readonly length: number;
  readonly hash: string;
}

/** One record of the merged session, with every distinct version of it that was found. */
interface RecordNode extends OrderNode {
  readonly kind: 'entry' | 'update';
  readonly versions: Map<string, Occurrence>;
  readonly sources: Set<number>;
}

interface Piece extends Occurrence {
  readonly oversize: boolean;
  readonly kind: MergeProblemKind;
  readonly message: string;
}

const DIVERGED = 'another version of a record whose id is also in another file, with different bytes; the merged session has one version, this one is in the recovery file';
const OTHER_HEADER = "a different header for this session's id (was the id created on two machines?); the earliest one is the merged session's header";

/**
 * Merges the conflict copies into the session. See the module comment for the guarantees.
 * @throws ERR_SESSION_NOT_FOUND, ERR_UNSAFE_FILE, ERR_UNSUPPORTED_VERSION (a file of a newer format),
 *   ERR_INVALID_OPTION (a copy whose header names another session), ERR_LOCKED (a file was replaced
 *   or changed, or the session kept growing, while it was merged: run it again), ERR_IO
 */
export async function mergeSession(plan: MergePlan): Promise<MergeReport> {
  const merge = new SessionMerge(plan);
  try {
    await merge.openAll();
    // Nothing to merge: counted for the report, not touched.
    if (plan.copies.length === 0) return await merge.countOnly();
    await merge.readAll();
    merge.writeOrdered();
    const bytesAfter = await merge.replace();
    return merge.report(true, await merge.moveCopiesAside(), bytesAfter);
  } finally {
    await merge.dispose();
  }
}

/** One merge: its sources, the records found in them, and the rewrite that replaces the session. */
class SessionMerge {
  readonly #plan: MergePlan;
  readonly #sources: Source[] = [];
  readonly #nodes: RecordNode[] = [];
  readonly #byKey = new Map<string, number>();
  /** Problem lines found before the order is made (written to the recovery file after it). */
  readonly #pieces: Piece[] = [];
  readonly #headers: (Occurrence & { readonly createdAt: string })[] = [];
  readonly #rewrite: SessionRewrite;
  /** Hashes of the lines already in the recovery file. */
  readonly #written = new Set<string>();
  readonly #problems: MergeProblem[] = [];
  #duplicates = 0;
  #blankLines = 0;
  #added = 0;
  readonly #addedBy = new Map<number, number>();
  /** The merged session's header, once chosen (undefined: none, or a fresh one). */
  #chosenHeader: Occurrence | undefined;
  /** Set once the merged order is written: later lines are what was appended meanwhile. */
  #ordered = false;

  constructor(plan: MergePlan) {
    this.#plan = plan;
    this.#rewrite = new SessionRewrite(plan.file, plan.dir, plan.now);
  }

  /** Opens the session file and every copy. */
  async openAll(): Promise<void> {
    await this.#open(this.#plan.file);
    for (const copy of this.#plan.copies) await this.#open(copy);
  }

  /** Reads the session file to its end, for the report of a session without copies. */
  async countOnly(): Promise<MergeReport> {
    const main = this.#sources[MAIN] as Source;
    await this.#readSourceUpTo(MAIN, main.stat.size);
    return this.report(false, [], main.position);
  }

  /** Phase 1a, asynchronous: every line of every file read, records joined by key. */
  async readAll(): Promise<void> {
    for (let src = 0; src < this.#sources.length; src++) {
      const source = this.#sources[src] as Source;
      await this.#readSourceUpTo(src, source.stat.size);
      if (src === MAIN) continue;
      // A copy is complete: its bytes after the last newline are a torn fragment.
      const tail = source.splitter.end();
      if (tail !== undefined) this.#see(src, tail, true);
    }
  }

  /** Phase 1b: the header and the records in merged order into the temp file, problems into the recovery file. */
  writeOrdered(): void {
    const order = mergeOrder(this.#nodes, this.#sources.map((source) => source.chain));
    this.#chosenHeader = chooseHeader(this.#headers, this.#pieces);
    const firstTs = order.map((index) => (this.#nodes[index] as RecordNode).ts).find((ts) => ts !== '');
    if (this.#chosenHeader === undefined) this.#rewrite.temp.add(Buffer.from(encodeLine(this.#plan.header(firstTs))));
    else writeLine(this.#rewrite.temp, this.#sources[this.#chosenHeader.src] as Source, this.#chosenHeader);
    for (const index of order) {
      const node = this.#nodes[index] as RecordNode;
      // Of several versions of one id, the one with the least hash: the same whichever file it is in.
      const [chosen, ...others] = [...node.versions.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1));
      writeLine(this.#rewrite.temp, this.#sources[(chosen as Occurrence).src] as Source, chosen as Occurrence);
      for (const other of others) this.#pieces.push({ ...other, oversize: false, kind: 'diverged', message: DIVERGED });
      if (node.sources.has(MAIN)) continue;
      this.#added++;
      for (const src of node.sources) this.#addedBy.set(src, (this.#addedBy.get(src) ?? 0) + 1);
    }
    this.#ordered = true;
    for (const piece of this.#pieces.sort((a, b) => a.src - b.src || a.offset - b.offset)) this.#recover(piece);
  }

  /**
   * Phase 2, synchronous from the last read to the rename: what reached the session file
   * meanwhile goes last, then the temp file replaces it. Returns the new size.
   */
  async replace(): Promise<number> {
    const main = this.#sources[MAIN] as Source;
    main.position = readUntilStill(main.fd, main.file, main.stat, main.position, MERGE, this.#feed(MAIN));
    const tail = main.splitter.end();
    if (tail !== undefined) this.#see(MAIN, tail, true);
    return this.#rewrite.replace(
      main.fd,
      main.position,
      () => {
        for (const source of this.#sources.slice(1)) assertCopyUnchanged(source.file, source.stat);
        this.#plan.assertHeld?.();
      },
      tail?.offset,
    );
  }

  /** Only once every record is in the session file are the copies moved aside (never deleted). */
  async moveCopiesAside(): Promise<MergedCopy[]> {
    const copies: MergedCopy[] = [];
    for (let src = 1; src < this.#sources.length; src++) {
      const source = this.#sources[src] as Source;
      const movedTo = await moveCopyAside(this.#plan.dir, source.file, this.#plan.now);
      copies.push({ file: source.file, records: source.chain.length, added: this.#addedBy.get(src) ?? 0, movedTo });
    }
    return copies;
  }

  /** Removes the outputs if nothing was replaced, and closes every file. */
  async dispose(): Promise<void> {
    this.#rewrite.discard();
    await Promise.all(this.#sources.map((source) => closeQuietly(source.fd)));
  }


  /** A problem line: kept for the recovery file, or this.#written there at once when the order is made already. */
  #keep(piece: Piece): void {
    if (this.#ordered) this.#recover(piece);
    else this.#pieces.push(piece);
  }

  /** Line 1: a header for this id is a candidate; anything else goes to the recovery file. */
  #seeHeader(src: number, raw: RawLine, torn: boolean): void {
    const source = this.#sources[src] as Source;
    const decoded = raw.oversize || torn ? undefined : decodeLine(raw.bytes, true);
    const result = decoded?.ok === true ? readHeader(decoded.value) : undefined;
    if (result?.ok === true && result.newer) {
      throw new SessionStoreError('ERR_UNSUPPORTED_VERSION', `${source.file} was this.#written by a newer sessionlog; merge it with that version.`, { path: source.file });
    }
    const problem = headerProblem({ ...raw, line: 1, torn });
    const at = { src, line: 1, offset: raw.offset, length: raw.length, oversize: raw.oversize };
    if (problem === undefined && result?.ok === true) {
      if (result.header.id === this.#plan.id) {
        const hash = hashOf(raw.bytes);
        if (!this.#ordered) this.#headers.push({ ...at, hash, createdAt: result.header.createdAt });
        // Line 1 completed only after the header was chosen (a file just created): kept if it differs.
        else if (hash !== this.#chosenHeader?.hash) this.#keep({ ...at, hash, kind: 'other-header', message: OTHER_HEADER });
        return;
      }
      if (src !== MAIN) {
        throw new SessionStoreError(
          'ERR_INVALID_OPTION',
          `The header of ${source.file} names another session: it is not a copy of ${this.#plan.id}. Move it out of the store folder; nothing was changed.`,
          { path: source.file },
        );
      }
      this.#keep({ ...at, hash: hashOf(raw.bytes), kind: 'header-id-mismatch', message: 'the header names another session (a copied file?)' });
      return;
    }
    const why = problem ?? { kind: 'bad-header' as const, message: 'line 1 is not a session header' };
    this.#keep({ ...at, hash: raw.oversize ? hashRange(source.fd, source.file, raw.offset, raw.length) : hashOf(raw.bytes), kind: why.kind, message: why.message });
  }

  /**
   * Every other line: a record joins its node (or makes one), a problem is kept aside. Once the
   * order is made, only the session file is read, for what was appended to it meanwhile.
   */
  #see(src: number, raw: RawLine, torn: boolean): void {
    const source = this.#sources[src] as Source;
    const line = source.lineNo++;
    if (line === 1) return this.#seeHeader(src, raw, torn);
    const at = { src, line, offset: raw.offset, length: raw.length, oversize: raw.oversize };
    const problem = (kind: MergeProblemKind, message: string): void => {
      const hash = raw.oversize ? hashRange(source.fd, source.file, raw.offset, raw.length) : hashOf(raw.bytes);
      this.#keep({ ...at, hash, kind, message });
    };
    if (torn) return problem('torn-tail', `last ${raw.length} bytes have no newline (an interrupted write?)`);
    if (raw.oversize) return problem('oversize', `line of ${raw.length} bytes exceeds maxEntryBytes`);
    const decoded = decodeLine(raw.bytes, false);
    const classified = classifyLine(decoded, false, this.#plan.reader.validate);
    if (classified.kind === 'blank') {
      this.#blankLines++;
      return;
    }
    if (classified.kind === 'problem' || classified.kind === 'header') {
      // A header is only ever classified on line 1; the branch is for the type checker.
      return classified.kind === 'problem' ? problem(classified.problem, classified.message) : problem('schema', 'a second header line');
    }
    const value = decoded.ok ? decoded.value : {};
    const recordId = classified.kind === 'update' ? classified.update.id : classified.id;
    this.#joinRecord(src, raw, at, { kind: classified.kind === 'update' ? 'update' : 'entry', id: recordId, ts: typeof value['ts'] === 'string' ? value['ts'] : '' });
  }
  /** A record joins its node by key (its id; without one, its bytes), or makes a new one. */
  #joinRecord(src: number, raw: RawLine, at: Omit<Occurrence, 'hash'>, record: { kind: 'entry' | 'update'; id: string | undefined; ts: string }): void {
    const source = this.#sources[src] as Source;
    const hash = hashOf(raw.bytes);
    const { ts } = record;
    let key: string;
    if (record.id !== undefined) {
      key = `id:${record.id}`;
    } else {
      // Without an id a record is known by its bytes; the n-th identical one in a file is its own record.
      const n = (source.anonymous.get(hash) ?? 0) + 1;
      source.anonymous.set(hash, n);
      key = `bytes:${hash}:${n}`;
    }
    const occurrence = { ...at, hash };
    let index = this.#byKey.get(key);
    if (index === undefined) {
      index = this.#nodes.length;
      this.#byKey.set(key, index);
      this.#nodes.push({ key, ts, kind: record.kind, versions: new Map([[hash, occurrence]]), sources: new Set([src]) });
      // Appended to the session while the merge ran: newer than everything merged, so it goes last.
      if (this.#ordered) this.#rewrite.temp.add(Buffer.concat([raw.bytes, NEWLINE]));
    } else {
      const node = this.#nodes[index] as RecordNode;
      if (node.versions.has(hash)) this.#duplicates++;
      else if (this.#ordered) this.#keep({ ...occurrence, oversize: false, kind: 'diverged', message: DIVERGED });
      else node.versions.set(hash, occurrence);
      node.sources.add(src);
    }
    if (!source.inChain.has(index)) {
      source.inChain.add(index);
      source.chain.push(index);
    }
  }

  /** Writes a problem line to the recovery file (identical bytes once) and reports it. */
  #recover(piece: Piece): void {
    const source = this.#sources[piece.src] as Source;
    this.#problems.push({ file: source.file, line: piece.line, offset: piece.offset, length: piece.length, kind: piece.kind, message: piece.message });
    if (this.#written.has(piece.hash)) return;
    this.#written.add(piece.hash);
    if (piece.oversize) this.#rewrite.recovery.addRange(source.fd, source.file, piece.offset, piece.length);
    else this.#rewrite.recovery.add(source.ranges.read(piece.offset, piece.length));
    this.#rewrite.recovery.add(NEWLINE);
  }

  /** What is read of a source: its complete lines go to `see`. */
  #feed(src: number): (piece: Buffer) => void {
    return (piece) => {
      for (const raw of (this.#sources[src] as Source).splitter.push(piece)) this.#see(src, raw, false);
    };
  }

  /** Reads a source asynchronously up to `size`. */
  async #readSourceUpTo(src: number, size: number): Promise<void> {
    const source = this.#sources[src] as Source;
    source.position = await readUpTo(source.fd, source.file, source.position, size, this.#feed(src));
  }

  async #open(file: string): Promise<void> {
    const { fd, stat } = await openForRead(file);
    this.#sources.push({ file, fd, stat, ranges: new RangeReader(fd, file), splitter: new LineSplitter(0, this.#plan.reader.maxLineBytes), position: 0, lineNo: 1, anonymous: new Map(), chain: [], inChain: new Set() });
  }

  /** What the merge did, as `mergeConflicts()` reports it. */
  report(merged: boolean, copies: readonly MergedCopy[], after: number): MergeReport {
    let entries = 0;
    for (const node of this.#nodes) if (node.kind === 'entry') entries++;
    return {
      id: this.#plan.id,
      file: this.#plan.file,
      merged,
      copies,
      entries,
      updates: this.#nodes.length - entries,
      added: this.#added,
      duplicates: this.#duplicates,
      blankLines: this.#blankLines,
      problems: this.#problems,
      recoveryFile: this.#rewrite.recovery.bytes > 0 ? this.#rewrite.recovery.file : undefined,
      recoveredBytes: this.#rewrite.recovery.bytes,
      headerRewritten: merged && this.#chosenHeader === undefined,
      bytesBefore: (this.#sources[MAIN] as Source).position,
      bytesAfter: after,
    };
  }
}

/** Copies one line (and a newline) from a source into `out`. */
function writeLine(out: OutputFile, source: Source, at: { readonly offset: number; readonly length: number }): void {
  out.add(source.ranges.read(at.offset, at.length));
  out.add(NEWLINE);
}

/**
 * The merged session's header: the earliest (createdAt, then bytes) of the files' headers for this
 * id, whichever file it is in. A different header is kept aside; identical ones are the same header.
 */
function chooseHeader(headers: readonly (Occurrence & { readonly createdAt: string })[], pieces: Piece[]): Occurrence | undefined {
  const sorted = [...headers].sort((a, b) => (a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? -1 : 1) : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const chosen = sorted[0];
  for (const other of sorted.slice(1)) {
    if (other.hash !== chosen?.hash) pieces.push({ ...other, oversize: false, kind: 'other-header', message: OTHER_HEADER });
  }
  return chosen;
}
