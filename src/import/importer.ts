/**
 * Importing other agents' transcripts into a store: one sessionlog session per source session,
 * keeping the source's session id. Incremental and idempotent: how many bytes of each source file
 * were imported is remembered in the store's folder (`.sessionlog-import.json`; for a store
 * without a folder, in the session's metadata), never beside the source; a run maps the
 * file from its start again (the mappers need earlier lines: which API responses were counted,
 * the previous cumulative usage) and appends only the entries of lines past that point, each id
 * once. A line still being written (no newline yet) waits for the next run. Sources are only
 * read: nothing is written to them or created beside them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decompress } from 'fzstd';
import { moveInlineImages, type PutImage } from './images.js';
import type { SessionStore } from '../core/contract.js';
import { replaceAtomically } from '../file/fs/atomic.js';
import { idProblem } from '../core/ids.js';
import { ClaudeMapper } from './claude.js';
import { CodexMapper } from './codex.js';
import type { LineMapper, MappedEntry, SourceMeta } from './source.js';

/** The tools whose transcripts can be imported. */
export type SourceTool = 'claude' | 'codex';

/** Options of {@link importTranscripts}. */
export interface ImportOptions {
  /** Files or folders to import; default the tool's own folder (see {@link defaultSourceDirs}). */
  readonly paths?: readonly string[];
  /** Count what would be imported, write nothing. */
  readonly dryRun?: boolean;
  /** Called after each file, for a progress bar. */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number; readonly file: string }) => void;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Where the imported positions are remembered; default `<store folder>/.sessionlog-import.json`
   * for a folder store, else the sessions' metadata (which adds an update record per run).
   */
  readonly statePath?: string;
}

/** The remembered positions: bytes of each source file imported, by file path. */
interface ImportState {
  version: 1;
  files: Record<string, { id: string; bytes: number }>;
}

/** The file name of the remembered positions in a store folder. */
export const IMPORT_STATE_FILE = '.sessionlog-import.json';

function loadState(file: string | undefined): ImportState {
  if (file === undefined) return { version: 1, files: {} };
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as ImportState;
    if (value.version === 1 && typeof value.files === 'object' && value.files !== null) return value;
  } catch {
    // Missing or damaged: every session is checked against the store by entry id instead.
  }
  return { version: 1, files: {} };
}

function saveState(file: string, state: ImportState): void {
  // The store's one atomic replace: an exclusive 0600 temp named by temps.ts (swept if we die), then rename.
  replaceAtomically(file, Buffer.from(JSON.stringify(state)));
}

/** What one run imported. */
export interface ImportReport {
  readonly files: number;
  readonly sessions: number;
  readonly created: number;
  readonly entries: number;
  /** Files that could not be read or hold no session: the file and why (never its content). */
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

/** Where each tool keeps its transcripts: `$CLAUDE_CONFIG_DIR/projects` (or `~/.claude`), `$CODEX_HOME/sessions` and `archived_sessions` (or `~/.codex`). */
export function defaultSourceDirs(tool: SourceTool, env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env['HOME'] ?? '';
  if (tool === 'claude') return [path.join(env['CLAUDE_CONFIG_DIR'] ?? path.join(home, '.claude'), 'projects')];
  const codex = env['CODEX_HOME'] ?? path.join(home, '.codex');
  return [path.join(codex, 'sessions'), path.join(codex, 'archived_sessions')];
}

const TRANSCRIPT = /\.jsonl(\.zst)?$/;
const MAX_DEPTH = 6;

/** The transcript files under `paths` (files named directly, or found in folders), sorted. */
export function findTranscripts(paths: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) walk(full, depth + 1);
      else if (entry.isFile() && TRANSCRIPT.test(entry.name)) found.push(full);
    }
  };
  for (const p of paths) {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory() === true) walk(path.resolve(p), 0);
    else if (st?.isFile() === true) found.push(path.resolve(p));
  }
  return found.sort();
}

/** Imports the transcripts of `tool` found under `options.paths` into `store`. */
export async function importTranscripts(store: SessionStore, tool: SourceTool, options: ImportOptions = {}): Promise<ImportReport> {
  const files = findTranscripts(options.paths ?? defaultSourceDirs(tool, options.env));
  const dir = (store as { dir?: unknown }).dir;
  const statePath = options.statePath ?? (typeof dir === 'string' ? path.join(dir, IMPORT_STATE_FILE) : undefined);
  const state = loadState(statePath);
  const skipped: { file: string; reason: string }[] = [];
  let sessions = 0;
  let created = 0;
  let entries = 0;
  // Main sessions first: a subagent's session names its parent, which should exist by then.
  const ordered = [...files].sort((a, b) => Number(isSubagent(a)) - Number(isSubagent(b)) || a.localeCompare(b));
  for (let i = 0; i < ordered.length; i++) {
    const file = ordered[i] as string;
    try {
      const result = await importFile(store, tool, file, options.dryRun === true, statePath === undefined ? undefined : state);
      if (statePath !== undefined && options.dryRun !== true && result.session) saveState(statePath, state);
      if (result.session) sessions++;
      if (result.created) created++;
      entries += result.entries;
    } catch (err) {
      skipped.push({ file, reason: (err as { code?: string }).code ?? (err as Error).message });
    }
    options.onProgress?.({ done: i + 1, total: ordered.length, file });
  }
  if (options.dryRun !== true) await store.flush();
  return { files: files.length, sessions, created, entries, skipped };
}

function isSubagent(file: string): boolean {
  return /(^|\/)agent-[^/]+\.jsonl$/.test(file);
}

/** The complete lines of a transcript (a `.zst` one decompressed), each with the offset it ends at. */
function readLines(file: string): { lines: { text: string; end: number }[]; size: number } {
  let bytes: Uint8Array = fs.readFileSync(file);
  if (file.endsWith('.zst')) bytes = decompress(bytes);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: { text: string; end: number }[] = [];
  let start = 0;
  for (let nl = buffer.indexOf(0x0a); nl !== -1; nl = buffer.indexOf(0x0a, start)) {
    lines.push({ text: buffer.toString('utf8', start, nl), end: nl + 1 });
    start = nl + 1;
  }
  // Bytes after the last newline: a line still being written, imported by a later run.
  return { lines, size: start };
}

async function importFile(
  store: SessionStore,
  tool: SourceTool,
  file: string,
  dryRun: boolean,
  state: ImportState | undefined,
): Promise<{ session: boolean; created: boolean; entries: number }> {
  const { lines, size } = readLines(file);
  const mapper: LineMapper = tool === 'claude' ? new ClaudeMapper() : new CodexMapper();
  const mapped: { entry: MappedEntry; readonly end: number }[] = [];
  lines.forEach((line, n) => {
    if (line.text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch {
      // A damaged line of the source: kept verbatim as text, never dropped.
      mapped.push({ entry: { type: `${tool}.unparsed`, id: `${tool}-unparsed-${n + 1}`, text: line.text }, end: line.end });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const entry of mapper.map(value as Record<string, unknown>, n + 1)) mapped.push({ entry, end: line.end });
  });
  // Lines without a time of their own (titles, snapshots) take the time of the line before them:
  // stamped with the import's time instead, they would make the session look active today.
  let lastTs = mapper.meta.createdAt;
  for (const item of mapped) {
    const ts = item.entry['ts'];
    if (typeof ts === 'string') lastTs = ts;
    else if (lastTs !== undefined) item.entry = { ...item.entry, ts: lastTs };
  }
  const id = sessionIdOf(mapper.meta, file);
  if (id === undefined) throw Object.assign(new Error('no session id in it'), { code: 'not a transcript' });
  const existing = await store.get(id);
  const source = existing?.metadata['source'] as { bytes?: unknown } | undefined;
  const remembered = state === undefined ? source?.bytes : state.files[file]?.id === id ? state.files[file]?.bytes : undefined;
  const done = existing !== undefined && typeof remembered === 'number' ? remembered : 0;
  if (existing !== undefined && done === size) return { session: true, created: false, entries: 0 };
  // Entries of lines already imported are skipped by position; a resumed transcript's repeated
  // uuids, and anything the store holds although the remembered position says otherwise, by id.
  const seen = new Set<string>();
  const wanted = mapped.filter(({ entry, end }) => {
    const first = !seen.has(entry.id);
    seen.add(entry.id);
    return first && end > done;
  });
  if (existing !== undefined && wanted.length > 0) {
    const expected = new Set(mapped.filter(({ end }) => end <= done).map(({ entry }) => entry.id)).size;
    if (existing.entryCount !== expected) {
      const have = new Set<string>();
      for await (const entry of store.stream(id)) have.add(entry.id);
      for (let i = wanted.length - 1; i >= 0; i--) if (have.has((wanted[i] as { entry: MappedEntry }).entry.id)) wanted.splice(i, 1);
    }
  }
  if (dryRun) return { session: true, created: existing === undefined, entries: wanted.length };
  const meta = mapper.meta;
  const sourceInfo = { tool: meta.tool, ...(meta.version === undefined ? {} : { version: meta.version }), file };
  if (existing === undefined) {
    const parent = parentOf(meta, file);
    await store.create({
      id,
      ...(meta.createdAt === undefined ? {} : { createdAt: meta.createdAt }),
      ...(meta.title === undefined ? {} : { title: meta.title }),
      ...(meta.model === undefined ? {} : { model: meta.model }),
      ...(meta.cwd === undefined ? {} : { cwd: meta.cwd }),
      metadata: { source: sourceInfo, ...(meta.gitBranch === undefined ? {} : { gitBranch: meta.gitBranch }) },
      ...(parent === undefined ? {} : { parent: { id: parent } }),
    });
  }
  const put: PutImage = (bytes, mediaType) => store.artifacts.put(id, bytes, mediaType === undefined ? {} : { mediaType });
  for (const item of wanted) item.entry = await moveInlineImages(item.entry, put);
  for (let i = 0; i < wanted.length; i += 500) await store.append(id, wanted.slice(i, i + 500).map(({ entry }) => entry) as never);
  await store.flush(id);
  // The position last, once the entries are written: an interrupted run re-reads, never skips.
  // In the state file it costs the session nothing; as metadata it is an update record, whose
  // time would become the session's last activity, so it is only the fallback.
  const retitle = meta.title !== undefined && existing !== undefined && existing.title !== meta.title;
  if (state !== undefined) {
    state.files[file] = { id, bytes: size };
    if (retitle) await store.update(id, { title: meta.title ?? null });
  } else {
    await store.update(id, { metadata: { source: { ...sourceInfo, bytes: size } }, ...(retitle ? { title: meta.title ?? null } : {}) });
  }
  return { session: true, created: existing === undefined, entries: wanted.length };
}

/** The sessionlog id of a transcript: the tool's session id (a subagent's: `<session>.<agent file name>`). */
function sessionIdOf(meta: SourceMeta, file: string): string | undefined {
  const base = meta.sessionId ?? /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(path.basename(file))?.[1];
  if (base === undefined) return undefined;
  const id = isSubagent(file) ? `${base}.${path.basename(file).replace(/\.jsonl(\.zst)?$/, '')}` : base;
  return idProblem(id) === undefined ? id : undefined;
}

/** A subagent's parent is its main session; a Codex fork's, the session it was forked from. */
function parentOf(meta: SourceMeta, file: string): string | undefined {
  if (isSubagent(file)) return meta.sessionId;
  return meta.parentId;
}
