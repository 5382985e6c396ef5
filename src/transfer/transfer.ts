/**
 * Moving sessions between two stores of any kind (a folder and a server, usually): `push`, `pull`
 * and `sync` are this one copy run in a direction. Entries are matched by entry id, so several
 * machines pushing one session to a server converge on the union, each entry once; entries the
 * target lacks are appended after what it has, in the source's order, with their own ids and
 * timestamps (so their lines are the same on every machine). A run that was interrupted resumes
 * where it stopped; a second run changes nothing. Title, model, cwd and metadata travel as an
 * update when they differ. Deletes do not travel: a session removed on one side is copied back
 * from the other unless it is removed on both.
 *
 * Knows only the {@link SessionStore} contract: no files, no SQL.
 */
import type { SessionStore } from '../core/contract.js';
import type { SessionInfo } from '../core/info.js';
import { jsonEqual } from '../core/list-query.js';
import type { StoredEntry } from '../core/types.js';

/** Options of {@link copySessions}. */
export interface CopyOptions {
  /** Only these sessions (ids); default every session of the source. */
  readonly ids?: readonly string[];
  /** Called after each session, for a progress bar. */
  readonly onProgress?: (progress: { readonly done: number; readonly total: number; readonly id: string }) => void;
  /** Stops between sessions; what was copied stays copied. */
  readonly signal?: AbortSignal;
}

/** What a copy did to one session. */
export interface SessionCopy {
  readonly id: string;
  /** The target did not have the session. */
  readonly created: boolean;
  /** Entries appended to the target. */
  readonly entries: number;
  /** Title / model / cwd / metadata brought over as an update. */
  readonly updated: boolean;
}

/** What a copy did. */
export interface CopyReport {
  readonly sessions: number;
  readonly created: number;
  readonly entries: number;
  readonly updated: number;
  /** The sessions that changed in the target. */
  readonly changed: readonly SessionCopy[];
}

/** Entries are appended in batches of this many. */
const BATCH = 500;

/** Copies what `to` lacks of `from`'s sessions into `to`. */
export async function copySessions(from: SessionStore, to: SessionStore, options: CopyOptions = {}): Promise<CopyReport> {
  const ids = options.ids ?? (await from.ids());
  const changed: SessionCopy[] = [];
  let entries = 0;
  let created = 0;
  let updated = 0;
  for (let i = 0; i < ids.length; i++) {
    if (options.signal?.aborted === true) break;
    const copy = await copyOne(from, to, ids[i] as string);
    if (copy !== undefined && (copy.created || copy.entries > 0 || copy.updated)) {
      changed.push(copy);
      entries += copy.entries;
      if (copy.created) created++;
      if (copy.updated) updated++;
    }
    options.onProgress?.({ done: i + 1, total: ids.length, id: ids[i] as string });
  }
  await to.flush();
  return { sessions: ids.length, created, entries, updated, changed };
}

/** Both ways: `a` gets what `b` has that it lacks, then `b` what `a` has. */
export async function syncSessions(a: SessionStore, b: SessionStore, options: CopyOptions = {}): Promise<{ readonly pulled: CopyReport; readonly pushed: CopyReport }> {
  const pulled = await copySessions(b, a, options);
  const pushed = await copySessions(a, b, options);
  return { pulled, pushed };
}

async function copyOne(from: SessionStore, to: SessionStore, id: string): Promise<SessionCopy | undefined> {
  const source = await from.get(id);
  if (source === undefined) return undefined;
  let target = await to.get(id);
  const created = target === undefined;
  if (target === undefined) {
    target = await to.create({
      id,
      createdAt: source.createdAt,
      ...(source.title === undefined ? {} : { title: source.title }),
      ...(source.model === undefined ? {} : { model: source.model }),
      ...(source.cwd === undefined ? {} : { cwd: source.cwd }),
      metadata: { ...source.metadata },
      ...(source.parent === undefined ? {} : { parent: source.parent }),
    });
  }
  const entries = (await inSync(from, to, source, target)) ? 0 : await copyEntries(from, to, id);
  const patch = patchOf(source, target);
  if (patch !== undefined) await to.update(id, patch);
  return { id, created, entries, updated: patch !== undefined && !created };
}

/** The cheap check that makes a second run cheap: the same count and the same last entry. */
async function inSync(from: SessionStore, to: SessionStore, source: SessionInfo, target: SessionInfo): Promise<boolean> {
  if (source.entryCount !== target.entryCount) return false;
  if (source.entryCount === 0) return true;
  const [a, b] = await Promise.all([from.read(source.id, { tail: 1 }), to.read(target.id, { tail: 1 })]);
  return a.entries[0]?.id === b.entries[0]?.id;
}

/** Appends the entries of `from` whose ids `to` does not hold, in `from`'s order. */
async function copyEntries(from: SessionStore, to: SessionStore, id: string): Promise<number> {
  const have = new Set<string>();
  for await (const entry of to.stream(id)) have.add(entry.id);
  let batch: StoredEntry<Record<string, unknown>>[] = [];
  let copied = 0;
  for await (const entry of from.stream(id)) {
    if (have.has(entry.id)) continue;
    have.add(entry.id);
    batch.push(entry);
    if (batch.length >= BATCH) {
      copied += await appendBatch(to, id, batch);
      batch = [];
    }
  }
  if (batch.length > 0) copied += await appendBatch(to, id, batch);
  return copied;
}

async function appendBatch(to: SessionStore, id: string, batch: readonly StoredEntry<Record<string, unknown>>[]): Promise<number> {
  await to.append(id, batch as never);
  // Flushed per batch: an interrupted run keeps what it copied, and the next run resumes after it.
  await to.flush(id);
  return batch.length;
}

/** The update that makes the target's title / model / cwd / metadata the source's, if any differs. */
function patchOf(source: SessionInfo, target: SessionInfo): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const key of ['title', 'model', 'cwd'] as const) if (source[key] !== target[key]) patch[key] = source[key] ?? null;
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source.metadata)) if (!jsonEqual(value, target.metadata[key])) metadata[key] = value;
  if (Object.keys(metadata).length > 0) patch['metadata'] = metadata;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
