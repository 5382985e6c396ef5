/**
 * Checking a whole store folder: damaged sessions, copies and leftovers, permissions. Reads only;
 * what to do about each finding is in its `fix`. Never reports a line's content.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProblemKind } from '../format/codec.js';
import { decodeLine } from '../format/codec.js';
import { readHeader } from '../format/migrate.js';
import { ioError } from '../core/errors.js';
import { lockHeartbeatMs } from '../file/fs/lock.js';
import { conflictOf, idFromFileName } from '../file/fs/paths.js';
import { isAlive } from '../file/fs/temps.js';
import { interpret, readLines, type ReaderContext } from '../file/session/reader.js';
import { readFirstLine } from '../file/session/scan.js';
import { TRASH_DIR } from '../file/session/trash.js';
import { INDEX_FILE, loadIndex } from '../file/catalog/catalog-file.js';
import { ARTIFACTS_DIR } from '../file/artifacts.js';
import { EMBEDDINGS_DIR } from '../file/embeddings/file-embeddings.js';
import { artifactFindings, embeddingFindings } from './side-stores.js';

/** What a finding is about. */
export type FindingKind =
  | 'torn-tail'
  | 'bad-lines'
  | 'duplicate-entry-ids'
  | 'bad-header'
  | 'header-id-mismatch'
  | 'duplicate-session'
  | 'newer-format'
  | 'unsafe-file'
  | 'unreadable'
  | 'loose-permissions'
  | 'orphan-temp'
  | 'orphan-lock'
  | 'conflict-copy'
  | 'index-drift'
  | 'recovery-file'
  | 'trash'
  | 'artifact-corrupt'
  | 'embeddings-damaged';

/** `error`: data the reader skips; `warning`: something to clean up; `info`: nothing wrong. */
export type Severity = 'error' | 'warning' | 'info';

/** One thing `check()` found. */
export interface Finding {
  readonly severity: Severity;
  readonly kind: FindingKind;
  /** The file or folder, relative to the store folder (`.` for the folder itself). */
  readonly file: string;
  /** The session concerned, when there is one. */
  readonly id?: string;
  /** What is wrong, without any of the file's content. */
  readonly message: string;
  /** What to do about it. */
  readonly fix?: string;
  /** Line numbers concerned (at most {@link MAX_LINES_REPORTED}). */
  readonly lines?: readonly number[];
  /** When one finding stands for the same thing found in many files: those files. */
  readonly files?: readonly string[];
}

/** The result of `check()`. */
export interface CheckReport {
  readonly dir: string;
  /** Session files checked. */
  readonly sessions: number;
  /** Their total size. */
  readonly bytes: number;
  /** Errors first, then warnings, then notes; by file within each. */
  readonly findings: readonly Finding[];
  /** True when there is no error and no warning. */
  readonly ok: boolean;
}

/** Options of `check()`. */
export interface CheckOptions {
  /** Called after each file, for a progress bar. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What the check needs from the store. */
export interface CheckContext {
  readonly reader: ReaderContext<unknown>;
  /** The schema tag the store's index is made with; when set, the index file is compared with the folder. */
  readonly indexSchema?: string;
  readonly now: number;
}

/** At most this many line numbers are listed per finding. */
export const MAX_LINES_REPORTED = 20;
/**
 * A `*.lock` whose holder has not refreshed it for this long, or a temp whose process is gone or
 * that is older than this, is a leftover. Far above the lock's own stale time (20 s): doctor only
 * names what is certainly abandoned, not a holder stopped for a moment.
 */
const STALE_MS = 10 * 60 * 1000;
const TEMP = /^\..+\.(\d+)\.\d+\.tmp$/;
/** write-file-atomic's temp files of the index: `<index>.<uint32>`. */
const INDEX_TEMP = /^\.sessionlog-index\.json\.\d+$/;
const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };


function lines(problems: readonly { line?: number }[]): number[] {
  return problems.flatMap((p) => (p.line === undefined ? [] : [p.line])).slice(0, MAX_LINES_REPORTED);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Whether the first line of `file` reads as an entry (not a header). */
async function firstLineIsEntry(file: string, ctx: CheckContext): Promise<boolean> {
  const first = await readFirstLine(file, ctx.reader.maxLineBytes).catch(() => undefined);
  return first !== undefined && !first.torn && interpret(first, ctx.reader, new Set()).kind === 'entry';
}

/** Checks one session file's lines and header. */
async function checkSession(dir: string, name: string, id: string, ctx: CheckContext, out: Finding[]): Promise<{ headerId: string | undefined; bytes: number }> {
  const file = path.join(dir, name);
  const repair = `sessionlog repair ${id}`;
  const st = await fs.promises.lstat(file);
  if (st.isSymbolicLink() || !st.isFile() || st.nlink > 1) {
    const what = st.isSymbolicLink() ? 'a symlink' : !st.isFile() ? 'not a regular file' : `hard-linked (${st.nlink} links)`;
    out.push({ severity: 'error', kind: 'unsafe-file', file: name, id, message: `${what}: the store refuses to read or write it`, fix: 'replace it with a regular copy of the file, or move it out of the folder' });
    return { headerId: undefined, bytes: 0 };
  }
  if ((st.mode & 0o077) !== 0) {
    out.push({ severity: 'warning', kind: 'loose-permissions', file: name, id, message: `mode ${(st.mode & 0o777).toString(8)}: other users can read it`, fix: `chmod 600 ${JSON.stringify(file)}` });
  }
  let headerId: string | undefined;
  const problems: { line?: number; kind: ProblemKind }[] = [];
  try {
    const first = await readFirstLine(file, ctx.reader.maxLineBytes);
    const decoded = first === undefined || first.torn || first.oversize ? undefined : decodeLine(first.bytes, true);
    const header = decoded?.ok === true ? readHeader(decoded.value) : undefined;
    if (header?.ok === true) {
      headerId = header.header.id;
      if (header.newer) {
        out.push({ severity: 'info', kind: 'newer-format', file: name, id, message: `written by a newer sessionlog (format ${header.header.version}): read-only here` });
      }
      if (headerId !== id) {
        out.push({ severity: 'error', kind: 'header-id-mismatch', file: name, id, message: `its header names session ${JSON.stringify(headerId)} (a copied or renamed file?)`, fix: `${repair} (rewrites the header with the file's id)` });
      }
    }
    for await (const item of readLines(file, ctx.reader)) if (item.kind === 'problem') problems.push(item.problem);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_SESSION_NOT_FOUND') return { headerId, bytes: 0 };
    out.push({ severity: 'error', kind: 'unreadable', file: name, id, message: err instanceof Error ? err.message : String(err), fix: 'check the file and its permissions' });
    return { headerId, bytes: st.size };
  }
  const byKind = (kinds: readonly ProblemKind[]): typeof problems => problems.filter((p) => kinds.includes(p.kind));
  const torn = byKind(['torn-tail']);
  const header = byKind(['bad-header']);
  const dupes = byKind(['duplicate-id']);
  const bad = problems.filter((p) => !['torn-tail', 'bad-header', 'duplicate-id'].includes(p.kind));
  if (torn.length > 0) {
    out.push({ severity: 'error', kind: 'torn-tail', file: name, id, message: 'the last line is incomplete (an interrupted write)', fix: repair, lines: lines(torn) });
  }
  if (header.length > 0) {
    // Said the way repair will act on it: an empty file gets a header; a first line that is an
    // entry keeps its place after the new header; anything else goes to the recovery file.
    const firstIsEntry = st.size > 0 && (await firstLineIsEntry(file, ctx));
    const [message, what] = st.size === 0
      ? ['the file is empty: its creation was cut short before the header', 'writes its header']
      : firstIsEntry
        ? ['line 1 is an entry, not a session header (written by hand or by another tool?)', 'writes a header before it; no line is removed']
        : ['line 1 is not a usable session header', 'writes a fresh header; the old line is kept in a recovery file'];
    out.push({ severity: 'error', kind: 'bad-header', file: name, id, message, fix: `${repair} (${what})`, lines: [1] });
  }
  if (bad.length > 0) {
    const kinds = [...new Set(bad.map((p) => p.kind))].join(', ');
    out.push({ severity: 'error', kind: 'bad-lines', file: name, id, message: `${plural(bad.length, 'line')} the reader skips (${kinds})`, fix: repair, lines: lines(bad) });
  }
  if (dupes.length > 0) {
    out.push({ severity: 'error', kind: 'duplicate-entry-ids', file: name, id, message: `${plural(dupes.length, 'line')} repeat an earlier entry's id (copied lines?)`, fix: repair, lines: lines(dupes) });
  }
  return { headerId, bytes: st.size };
}

/** Checks every file of the store folder. */
export async function checkStore(dir: string, ctx: CheckContext, options: CheckOptions = {}): Promise<CheckReport> {
  const out: Finding[] = [];
  let entries: fs.Dirent[];
  try {
    entries = (await fs.promises.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    throw ioError('list the store folder', dir, err);
  }
  const dirStat = await fs.promises.stat(dir);
  if ((dirStat.mode & 0o077) !== 0) {
    out.push({ severity: 'warning', kind: 'loose-permissions', file: '.', message: `the store folder has mode ${(dirStat.mode & 0o777).toString(8)}: other users can list or read sessions`, fix: `chmod 700 ${JSON.stringify(dir)}` });
  }
  const claimed = new Map<string, string[]>();
  /** Recovery files by the session they were removed from: grouped, so a hundred repairs are one finding. */
  const recovered = new Map<string, string[]>();
  let sessions = 0;
  let bytes = 0;
  let done = 0;
  for (const entry of entries) {
    const name = entry.name;
    const id = idFromFileName(name);
    const full = path.join(dir, name);
    if (id !== undefined) {
      sessions++;
      const result = await checkSession(dir, name, id, ctx, out);
      bytes += result.bytes;
      if (result.headerId !== undefined) claimed.set(result.headerId, [...(claimed.get(result.headerId) ?? []), name]);
    } else if (conflictOf(name) !== undefined) {
      const of = conflictOf(name) as string;
      out.push({ severity: 'warning', kind: 'conflict-copy', file: name, id: of, message: `a sync-conflict copy of session ${of}; its entries are not part of the session`, fix: `sessionlog merge ${of} (adds its entries to the session, then moves the copy to the trash)` });
    } else if (name === TRASH_DIR && entry.isDirectory()) {
      const trashed = (await fs.promises.readdir(full)).filter((n) => n.endsWith('.jsonl')).length;
      if (trashed > 0) out.push({ severity: 'info', kind: 'trash', file: name, message: `${plural(trashed, 'session')} in the trash`, fix: `move one back with mv, or empty it with rm -r ${JSON.stringify(full)}` });
    } else if (name === ARTIFACTS_DIR && entry.isDirectory()) {
      out.push(...(await artifactFindings(dir)));
    } else if (name === EMBEDDINGS_DIR && entry.isDirectory()) {
      out.push(...(await embeddingFindings(dir)));
    } else if (name.includes('.jsonl.recovered-')) {
      const of = name.slice(0, name.indexOf('.jsonl.recovered-'));
      recovered.set(of, [...(recovered.get(of) ?? []), name]);
    } else if (name !== INDEX_FILE) {
      const leftover = await leftoverFinding(name, full, ctx.now);
      if (leftover !== undefined) out.push(leftover);
    }
    done++;
    options.onProgress?.(done, entries.length);
  }
  out.push(...recoveryFindings(dir, recovered));
  for (const [headerId, files] of claimed) {
    if (files.length > 1) {
      out.push({ severity: 'warning', kind: 'duplicate-session', file: files.join(', '), id: headerId, message: `${files.length} files claim session ${JSON.stringify(headerId)}`, fix: 'keep one; repair the copies to give them their own ids, or delete them' });
    }
  }
  if (ctx.indexSchema !== undefined) out.push(...(await indexFindings(dir, dirStat, ctx.indexSchema, entries)));
  groupLoosePermissions(dir, out);
  out.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.file.localeCompare(b.file));
  return { dir, sessions, bytes, findings: out, ok: out.every((f) => f.severity === 'info') };
}

/**
 * Session files readable by others, as every file of a git clone or an archive is, make one
 * finding with one command that fixes them all, not one finding per file.
 */
function groupLoosePermissions(dir: string, out: Finding[]): void {
  const loose = out.filter((f) => f.kind === 'loose-permissions' && f.id !== undefined);
  if (loose.length < 2) return;
  const modes = [...new Set(loose.map((f) => /^mode (\d+)/.exec(f.message)?.[1] ?? '?'))].sort();
  out.splice(0, out.length, ...out.filter((f) => !loose.includes(f)));
  out.push({
    severity: 'warning',
    kind: 'loose-permissions',
    file: `${loose.length} session files`,
    files: loose.map((f) => f.file),
    message: `mode${modes.length === 1 ? '' : 's'} ${modes.join(', ')}: other users can read them`,
    fix: `chmod 600 ${JSON.stringify(dir)}/*.jsonl`,
  });
}

/** An orphan temp or lock (file or folder), or undefined for anything else. */
async function leftoverFinding(name: string, full: string, now: number): Promise<Finding | undefined> {
  const temp = TEMP.exec(name);
  const isLock = name.endsWith('.lock');
  if (temp === null && !isLock && !name.endsWith('.tmp') && !INDEX_TEMP.test(name)) return undefined;
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(full);
  } catch {
    // Gone since the folder was listed: a temp or lock file finishing its job.
    return undefined;
  }
  if (isLock) {
    // A held lock's folder keeps the mtime of the moment it was taken; its owner file is what the
    // holder refreshes. Without an owner file (an old-style lock, one made by hand) the folder's own.
    let heartbeat: number | undefined;
    try {
      heartbeat = lockHeartbeatMs(full);
    } catch {
      // Cannot list it (permissions): judge by what can be seen.
    }
    const age = now - (heartbeat ?? st.mtimeMs);
    return age > STALE_MS ? { severity: 'warning', kind: 'orphan-lock', file: name, message: `a lock not refreshed for ${Math.round(age / 60000)} min: its owner is gone`, fix: `rm -r ${JSON.stringify(full)} (no process holds it)` } : undefined;
  }
  const old = now - st.mtimeMs > STALE_MS;
  const pid = temp === null ? undefined : Number(temp[1]);
  const gone = pid === undefined ? old : !isAlive(pid) || old;
  if (!gone) return undefined;
  // A folder of the temp pattern is a lock a contender was preparing (`<lock>.<pid>.<n>.tmp`) when it was killed.
  return st.isDirectory()
    ? { severity: 'warning', kind: 'orphan-temp', file: name, message: 'a temp folder left by an interrupted lock attempt (repair or merge)', fix: `rm -r ${JSON.stringify(full)}` }
    : { severity: 'warning', kind: 'orphan-temp', file: name, message: 'a temp file left by an interrupted write (fork, repair or index)', fix: `rm ${JSON.stringify(full)}` };
}

/**
 * How the index file compares with the folder. The index is a cache that every listing checks
 * against the files and brings up to date, so a lag is normal (a note); an index that cannot be
 * used at all (corrupt, another version, folder or schema, not a regular file) is a warning.
 */
async function indexFindings(dir: string, dirStat: fs.Stats, schema: string, entries: readonly fs.Dirent[]): Promise<Finding[]> {
  const loaded = await loadIndex(dir, { dev: dirStat.dev, ino: dirStat.ino, schema });
  const fix = 'sessionlog reindex (or any sessionlog list) rebuilds it from the session files';
  if (!loaded.ok) {
    if (loaded.reason === 'missing') return [{ severity: 'info', kind: 'index-drift', file: INDEX_FILE, message: 'no index yet: the next listing builds it' }];
    return [{ severity: 'warning', kind: 'index-drift', file: INDEX_FILE, message: `the index cannot be used (${loaded.reason}): ${loaded.detail}`, fix }];
  }
  const files = new Map<string, fs.Stats>();
  for (const entry of entries) {
    const id = idFromFileName(entry.name);
    if (id === undefined) continue;
    const st = await fs.promises.lstat(path.join(dir, entry.name)).catch(() => undefined);
    if (st !== undefined) files.set(id, st);
  }
  const indexed = new Set(loaded.records.map((r) => r.id));
  const gone = loaded.records.filter((r) => !files.has(r.id)).length;
  const added = [...files.keys()].filter((id) => !indexed.has(id)).length;
  const changed = loaded.records.filter((r) => {
    const st = files.get(r.id);
    return st !== undefined && (st.size !== r.fp.size || st.mtimeMs !== r.fp.mtimeMs || st.ino !== r.fp.ino);
  }).length;
  if (gone + added + changed === 0) return [];
  const parts = [...(changed > 0 ? [`${plural(changed, 'session')} changed`] : []), ...(added > 0 ? [`${added} new`] : []), ...(gone > 0 ? [`${gone} deleted`] : [])];
  return [{ severity: 'info', kind: 'index-drift', file: INDEX_FILE, message: `the index lags the files (${parts.join(', ')} since it was saved); the next listing catches up`, fix }];
}

/**
 * One finding per session with recovery files. They pile up (every repair or merge that removed
 * bytes adds one, and the store never deletes removed bytes on its own): the finding counts them
 * and says how to move them all to the trash at once.
 */
function recoveryFindings(dir: string, recovered: ReadonlyMap<string, string[]>): Finding[] {
  return [...recovered].map(([id, names]) => ({
    severity: 'info' as const,
    kind: 'recovery-file' as const,
    file: names.length === 1 ? (names[0] as string) : `${id}.jsonl.recovered-* (${names.length} files)`,
    id,
    message: `${plural(names.length, 'recovery file')} of lines removed by repair or merge, kept byte for byte`,
    fix: `check them, then move them to the trash: mkdir -p ${JSON.stringify(path.join(dir, TRASH_DIR))} && mv ${JSON.stringify(path.join(dir, id))}.jsonl.recovered-* ${JSON.stringify(path.join(dir, TRASH_DIR))}/`,
  }));
}
