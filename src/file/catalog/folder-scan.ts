/**
 * The catalog's checks of its folder against its rows: a full pass (one readdir, one lstat per
 * entry) that finds the sessions whose fingerprint changed, and the cheap checks a page makes
 * when the folder itself is unchanged.
 */
import fs from 'node:fs';
import PQueue from 'p-queue';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ioError } from '../../core/errors.js';
import { conflictOf, idFromFileName, SESSION_EXT, sessionStem } from '../fs/paths.js';
import { sweepTemps } from './catalog-file.js';
import { sameFingerprint } from './fold.js';
import type { Row } from '../../core/list-query.js';
import type { CatalogTable } from './table.js';

/** A folder changed this recently before a full pass may change again unseen in the same clock tick. */
const RACY_FOLDER_MS = 1_000;
/** lstat calls between two yields to the event loop while reconciling. */
const STAT_BATCH = 1000;

/** The folder's times before a full pass read it. */
export interface FolderSeen {
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly atMs: number;
}

/** What a full pass found. */
export interface FolderScan {
  /** Sessions to read again: changed, new, or gone from the folder. */
  readonly stale: string[];
  /** Conflict copies by the session they belong to. */
  readonly conflicts: Map<string, string[]>;
  readonly seen: FolderSeen | undefined;
}

/** Compares the folder with `table`; on the `initial` pass also sweeps dead temps. */
export async function scanFolder(dir: string, table: CatalogTable, initial: boolean): Promise<FolderScan> {
  // Taken before the folder is read: a change during the pass then shows as a changed folder.
  const folder = fs.statSync(dir, { throwIfNoEntry: false });
  const seen = folder === undefined ? undefined : { mtimeMs: folder.mtimeMs, ctimeMs: folder.ctimeMs, ino: folder.ino, atMs: Date.now() };
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    throw ioError('list the store folder', dir, err);
  }
  if (initial) sweepTemps(dir, names, Date.now());
  const stale: string[] = [];
  const conflicts = new Map<string, string[]>();
  /** Sessions of `table` whose file is there: when all are, none is gone, and no set of names is needed. */
  let present = 0;
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % STAT_BATCH === 0) await yieldToLoop();
    const name = names[i] as string;
    // A name the table knows is a valid id (ids are checked on their way in): only others are checked here.
    const known = sessionStem(name);
    const record = known === undefined ? undefined : table.record(known);
    const id = record === undefined ? idFromFileName(name) : known;
    if (id === undefined) {
      const of = conflictOf(name);
      if (of !== undefined) conflicts.set(of, [...(conflicts.get(of) ?? []), name]);
      continue;
    }
    if (record !== undefined) present++;
    // A template string, not path.join (dir is absolute and normalised), and the Stats compared
    // as they are: this loop runs once per session on every full pass.
    const st = fs.lstatSync(`${dir}/${name}`, { throwIfNoEntry: false });
    if (record === undefined || st === undefined || !sameFingerprint(record.fp, st)) stale.push(id);
  }
  if (present < table.size) {
    const onDisk = new Set(names);
    for (const id of table.ids()) if (!onDisk.has(id + SESSION_EXT)) stale.push(id);
  }
  return { stale, conflicts, seen };
}

/**
 * Whether no file was created, deleted or renamed in the folder since the last full pass: its
 * mtime and ctime are those seen before that pass read the folder. A folder changed within
 * {@link RACY_FOLDER_MS} of that pass is not trusted: file times are taken from a coarse clock
 * (one tick, up to 10 ms), so a later change in the same tick would leave them equal — git's
 * "racily clean" index entries.
 */
export function folderUnchanged(dir: string, seen: FolderSeen | undefined): boolean {
  if (seen === undefined || seen.atMs - seen.mtimeMs < RACY_FOLDER_MS) return false;
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  return st !== undefined && st.mtimeMs === seen.mtimeMs && st.ctimeMs === seen.ctimeMs && st.ino === seen.ino;
}

/** The rows among `rows` whose file changed since its record was made (or is gone). */
export function staleRows(dir: string, table: CatalogTable, rows: readonly Row[]): string[] {
  return rows
    .filter((row) => {
      const record = table.record(row.id);
      // Ids in the catalog are valid ids (checked on load), so the path needs no containment check here.
      const st = fs.lstatSync(`${dir}/${row.id}${SESSION_EXT}`, { throwIfNoEntry: false });
      return record === undefined || st === undefined || !sameFingerprint(record.fp, st);
    })
    .map((row) => row.id);
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  await new PQueue({ concurrency: limit }).addAll(items.map((item) => () => fn(item)));
}
