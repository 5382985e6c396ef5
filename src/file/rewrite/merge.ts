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
import { decodeLine, encodeLine, type ProblemKind } from '../../format/codec.js';
import { LineSplitter, type RawLine } from '../../format/lines.js';
import { readHeader } from '../../format/migrate.js';
import { classifyLine } from '../../format/records.js';
import type { Header } from '../../format/schema.js';
import { SessionStoreError } from '../../core/errors.js';
import { closeQuietly, openForRead } from '../fs/files.js';
import { headerProblem, type ReaderContext } from '../session/reader.js';
import { mergeOrder, type OrderNode } from './merge-order.js';
import { assertCopyUnchanged, hashOf, hashRange, moveCopyAside } from './merge-files.js';
import { type OutputFile, RangeReader, readUntilStill, readUpTo, type RewriteJob, SessionRewrite } from './rewrite.js';

/** Why a line was kept in the recovery file instead of the merged session. */
export type MergeProblemKind = ProblemKind | 'header-id-mismatch' | 'diverged' | 'other-header';

/** A line of the session file or of a copy that is not in the merged session: where it was and why, never its content. */
export interface MergeProblem {
  /** The file it was in (the session file or a copy), where it was when the merge began. */
  readonly file: string;
  /** Line number in that file, from 1. */
  readonly line: number;
  /** Byte offset in that file. */
  readonly offset: number;
  /** Length in bytes, without the newline. */
  readonly length: number;
  /**
   * A reader problem (torn tail, invalid JSON, schema, …); `header-id-mismatch`: the session file's
   * header names another session; `diverged`: a second version of a record whose id is in the merged
   * session with other bytes; `other-header`: a different header for this session id.
   */
  readonly kind: MergeProblemKind;
  readonly message: string;
}

/** One conflict copy and what the merge took from it. */
export interface MergedCopy {
  /** Where the copy was. */
  readonly file: string;
  /** Records (entries and updates) read from it. */
  readonly records: number;
  /** Of those, how many the session file did not have. */
  readonly added: number;
  /** Where the copy is now: the store's trash folder (`<dir>/.trash/<its name>`). */
  readonly movedTo: string | undefined;
}

/** What `mergeConflicts()` did. */
export interface MergeReport {
  readonly id: string;
  readonly file: string;
  /** False when the session had no conflict copies: nothing was touched. */
  readonly merged: boolean;
  /** The copies merged, sorted by name. */
  readonly copies: readonly MergedCopy[];
  /** Entries in the merged session (what `read()` returns). */
  readonly entries: number;
  /** Bookkeeping records (title, metadata updates) in the merged session. */
  readonly updates: number;
  /** Records the session file lacked that came from the copies. */
  readonly added: number;
  /** Lines found in several files (or twice in one), byte for byte, and written once. */
  readonly duplicates: number;
  /** Whitespace-only lines, which carry nothing and are not written. */
  readonly blankLines: number;
  /** Lines kept in the recovery file, in file order (session file first). */
  readonly problems: readonly MergeProblem[];
  /** Where the problem lines are: each once (identical lines in several files once), each followed by a newline. */
  readonly recoveryFile: string | undefined;
  /** Bytes written to the recovery file. */
  readonly recoveredBytes: number;
  /** No file had a usable header for this session: a fresh one was written. */
  readonly headerRewritten: boolean;
  /** Size of the session file before, and of the merged file after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** What a merge needs besides the files. */
export interface MergePlan {
  readonly id: string;
  readonly dir: string;
  readonly file: string;
  /** The conflict copies, absolute paths in the store folder (see `conflictCopies`). */
  readonly copies: readonly string[];
  readonly reader: ReaderContext<unknown>;
  /** A fresh header for the session, used when no file has a usable one; gets the first record's `ts` when known. */
  readonly header: (createdAt: string | undefined) => Header;
  readonly now: number;
  /** Called right before the rename that replaces the file; throws if the rewrite lock was lost. */
  readonly assertHeld?: () => void;
}

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
  const sources: Source[] = [];
  const nodes: RecordNode[] = [];
  const byKey = new Map<string, number>();
  const pieces: Piece[] = [];
  const headers: (Occurrence & { readonly createdAt: string })[] = [];
  const rewrite = new SessionRewrite(plan.file, plan.dir, plan.now);
  const { temp, recovery } = rewrite;
  const written = new Set<string>();
  const problems: MergeProblem[] = [];
  let duplicates = 0;
  let blankLines = 0;
  let added = 0;
  /** The merged session's header, once chosen (undefined: none, or a fresh one). */
  let chosenHeader: Occurrence | undefined;
  let ordered = false;

  /** A problem line: kept for the recovery file, or written there at once when the order is made already. */
  const keep = (piece: Piece): void => {
    if (ordered) recover(piece);
    else pieces.push(piece);
  };

  /** Line 1: a header for this id is a candidate; anything else goes to the recovery file. */
  const seeHeader = (src: number, raw: RawLine, torn: boolean): void => {
    const source = sources[src] as Source;
    const decoded = raw.oversize || torn ? undefined : decodeLine(raw.bytes, true);
    const result = decoded?.ok === true ? readHeader(decoded.value) : undefined;
    if (result?.ok === true && result.newer) {
      throw new SessionStoreError('ERR_UNSUPPORTED_VERSION', `${source.file} was written by a newer sessionlog; merge it with that version.`, { path: source.file });
    }
    const problem = headerProblem({ ...raw, line: 1, torn });
    const at = { src, line: 1, offset: raw.offset, length: raw.length, oversize: raw.oversize };
    if (problem === undefined && result?.ok === true) {
      if (result.header.id === plan.id) {
        const hash = hashOf(raw.bytes);
        if (!ordered) headers.push({ ...at, hash, createdAt: result.header.createdAt });
        // Line 1 completed only after the header was chosen (a file just created): kept if it differs.
        else if (hash !== chosenHeader?.hash) keep({ ...at, hash, kind: 'other-header', message: OTHER_HEADER });
        return;
      }
      if (src !== MAIN) {
        throw new SessionStoreError(
          'ERR_INVALID_OPTION',
          `The header of ${source.file} names another session: it is not a copy of ${plan.id}. Move it out of the store folder; nothing was changed.`,
          { path: source.file },
        );
      }
      keep({ ...at, hash: hashOf(raw.bytes), kind: 'header-id-mismatch', message: 'the header names another session (a copied file?)' });
      return;
    }
    const why = problem ?? { kind: 'bad-header' as const, message: 'line 1 is not a session header' };
    keep({ ...at, hash: raw.oversize ? hashRange(source.fd, source.file, raw.offset, raw.length) : hashOf(raw.bytes), kind: why.kind, message: why.message });
  };

  /**
   * Every other line: a record joins its node (or makes one), a problem is kept aside. Once the
   * order is made, only the session file is read, for what was appended to it meanwhile.
   */
  const see = (src: number, raw: RawLine, torn: boolean): void => {
    const source = sources[src] as Source;
    const line = source.lineNo++;
    if (line === 1) return seeHeader(src, raw, torn);
    const at = { src, line, offset: raw.offset, length: raw.length, oversize: raw.oversize };
    const problem = (kind: MergeProblemKind, message: string): void => {
      const hash = raw.oversize ? hashRange(source.fd, source.file, raw.offset, raw.length) : hashOf(raw.bytes);
      keep({ ...at, hash, kind, message });
    };
    if (torn) return problem('torn-tail', `last ${raw.length} bytes have no newline (an interrupted write?)`);
    if (raw.oversize) return problem('oversize', `line of ${raw.length} bytes exceeds maxEntryBytes`);
    const decoded = decodeLine(raw.bytes, false);
    const classified = classifyLine(decoded, false, plan.reader.validate);
    if (classified.kind === 'blank') {
      blankLines++;
      return;
    }
    if (classified.kind === 'problem' || classified.kind === 'header') {
      // A header is only ever classified on line 1; the branch is for the type checker.
      return classified.kind === 'problem' ? problem(classified.problem, classified.message) : problem('schema', 'a second header line');
    }
    const hash = hashOf(raw.bytes);
    const value = decoded.ok ? decoded.value : {};
    const ts = typeof value['ts'] === 'string' ? value['ts'] : '';
    let key: string;
    if (classified.kind === 'update') {
      key = `id:${classified.update.id}`;
    } else if (classified.id !== undefined) {
      key = `id:${classified.id}`;
    } else {
      // Without an id a record is known by its bytes; the n-th identical one in a file is its own record.
      const n = (source.anonymous.get(hash) ?? 0) + 1;
      source.anonymous.set(hash, n);
      key = `bytes:${hash}:${n}`;
    }
    const occurrence = { ...at, hash };
    let index = byKey.get(key);
    if (index === undefined) {
      index = nodes.length;
      byKey.set(key, index);
      nodes.push({ key, ts, kind: classified.kind === 'update' ? 'update' : 'entry', versions: new Map([[hash, occurrence]]), sources: new Set([src]) });
      // Appended to the session while the merge ran: newer than everything merged, so it goes last.
      if (ordered) temp.add(Buffer.concat([raw.bytes, NEWLINE]));
    } else {
      const node = nodes[index] as RecordNode;
      if (node.versions.has(hash)) duplicates++;
      else if (ordered) keep({ ...occurrence, oversize: false, kind: 'diverged', message: DIVERGED });
      else node.versions.set(hash, occurrence);
      node.sources.add(src);
    }
    if (!source.inChain.has(index)) {
      source.inChain.add(index);
      source.chain.push(index);
    }
  };

  /** Writes a problem line to the recovery file (identical bytes once) and reports it. */
  const recover = (piece: Piece): void => {
    const source = sources[piece.src] as Source;
    problems.push({ file: source.file, line: piece.line, offset: piece.offset, length: piece.length, kind: piece.kind, message: piece.message });
    if (written.has(piece.hash)) return;
    written.add(piece.hash);
    if (piece.oversize) recovery.addRange(source.fd, source.file, piece.offset, piece.length);
    else recovery.add(source.ranges.read(piece.offset, piece.length));
    recovery.add(NEWLINE);
  };

  /** What is read of a source: its complete lines go to `see`. */
  const feed = (src: number) => (piece: Buffer): void => {
    for (const raw of (sources[src] as Source).splitter.push(piece)) see(src, raw, false);
  };

  /** Reads a source asynchronously up to `size`. */
  const readSourceUpTo = async (src: number, size: number): Promise<void> => {
    const source = sources[src] as Source;
    source.position = await readUpTo(source.fd, source.file, source.position, size, feed(src));
  };

  const open = async (file: string): Promise<void> => {
    const { fd, stat } = await openForRead(file);
    sources.push({ file, fd, stat, ranges: new RangeReader(fd, file), splitter: new LineSplitter(0, plan.reader.maxLineBytes), position: 0, lineNo: 1, anonymous: new Map(), chain: [], inChain: new Set() });
  };

  const report = (merged: boolean, copies: readonly MergedCopy[], headerRewritten: boolean, after: number): MergeReport => {
    let entries = 0;
    for (const node of nodes) if (node.kind === 'entry') entries++;
    return {
      id: plan.id,
      file: plan.file,
      merged,
      copies,
      entries,
      updates: nodes.length - entries,
      added,
      duplicates,
      blankLines,
      problems,
      recoveryFile: recovery.bytes > 0 ? recovery.file : undefined,
      recoveredBytes: recovery.bytes,
      headerRewritten,
      bytesBefore: (sources[MAIN] as Source).position,
      bytesAfter: after,
    };
  };

  try {
    await open(plan.file);
    for (const copy of plan.copies) await open(copy);
    if (plan.copies.length === 0) {
      // Nothing to merge: counted for the report, not touched.
      await readSourceUpTo(MAIN, (sources[MAIN] as Source).stat.size);
      return report(false, [], false, (sources[MAIN] as Source).position);
    }
    // Phase 1, asynchronous: read everything, order it, write the temp file.
    for (let src = 0; src < sources.length; src++) {
      const source = sources[src] as Source;
      await readSourceUpTo(src, source.stat.size);
      if (src === MAIN) continue;
      // A copy is complete: its bytes after the last newline are a torn fragment.
      const tail = source.splitter.end();
      if (tail !== undefined) see(src, tail, true);
    }
    const order = mergeOrder(nodes, sources.map((source) => source.chain));
    chosenHeader = chooseHeader(headers, pieces);
    const firstTs = order.map((index) => (nodes[index] as RecordNode).ts).find((ts) => ts !== '');
    if (chosenHeader === undefined) temp.add(Buffer.from(encodeLine(plan.header(firstTs))));
    else writeLine(temp, sources[chosenHeader.src] as Source, chosenHeader);
    const addedBy = new Map<number, number>();
    for (const index of order) {
      const node = nodes[index] as RecordNode;
      // Of several versions of one id, the one with the least hash: the same whichever file it is in.
      const [chosen, ...others] = [...node.versions.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1));
      writeLine(temp, sources[(chosen as Occurrence).src] as Source, chosen as Occurrence);
      for (const other of others) pieces.push({ ...other, oversize: false, kind: 'diverged', message: DIVERGED });
      if (node.sources.has(MAIN)) continue;
      added++;
      for (const src of node.sources) addedBy.set(src, (addedBy.get(src) ?? 0) + 1);
    }
    ordered = true;
    for (const piece of pieces.sort((a, b) => a.src - b.src || a.offset - b.offset)) recover(piece);

    // Phase 2, synchronous from here to the rename: what reached the session file meanwhile goes last.
    const main = sources[MAIN] as Source;
    main.position = readUntilStill(main.fd, main.file, main.stat, main.position, MERGE, feed(MAIN));
    const tail = main.splitter.end();
    if (tail !== undefined) see(MAIN, tail, true);
    const bytesAfter = await rewrite.replace(main.fd, main.position, () => {
      for (const source of sources.slice(1)) assertCopyUnchanged(source.file, source.stat);
      plan.assertHeld?.();
    });
    // Only now, with every record in the session file, are the copies moved aside (never deleted).
    const copies: MergedCopy[] = [];
    for (let src = 1; src < sources.length; src++) {
      const source = sources[src] as Source;
      copies.push({ file: source.file, records: source.chain.length, added: addedBy.get(src) ?? 0, movedTo: await moveCopyAside(plan.dir, source.file, plan.now) });
    }
    return report(true, copies, chosenHeader === undefined, bytesAfter);
  } finally {
    rewrite.discard();
    await Promise.all(sources.map((source) => closeQuietly(source.fd)));
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
