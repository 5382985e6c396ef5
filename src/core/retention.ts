/**
 * Retention: sessions not written to for a while moved to the trash, on any backend. Never by
 * default; when asked (`openStore({ retention })`, `sessionlog prune`), every session moved is
 * reported.
 */
import type { SessionStore } from './contract.js';
import { SessionStoreError } from './errors.js';

/** What `openStore({ retention })` takes. */
export interface RetentionOptions {
  /** Sessions last updated longer ago than this go to the trash: ms, or `90d`, `12h`, `2w`. */
  readonly olderThan: number | string;
  /**
   * Told what was moved, once the store is open. Without it, a `SessionlogWarning` (code
   * SESSIONLOG_RETENTION) says how many sessions went where.
   */
  readonly onPrune?: (moved: readonly Pruned[]) => void;
}

/** A session moved by retention. */
export interface Pruned {
  readonly id: string;
  readonly title: string | undefined;
  readonly updatedAt: string;
  /** Where it went (the file backend's trash path), when not a dry run. */
  readonly to: string | undefined;
}

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A duration written `30m`, `12h`, `90d` or `2w`, in ms; undefined for anything else. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d+)([mhdw])$/.exec(text);
  return match === null ? undefined : Number(match[1]) * (UNITS[match[2] as string] ?? 0);
}

/** `olderThan` in ms. @throws ERR_INVALID_OPTION */
export function ageMs(olderThan: number | string): number {
  if (typeof olderThan === 'number' && Number.isFinite(olderThan) && olderThan > 0) return olderThan;
  const ms = typeof olderThan === 'string' ? durationMs(olderThan) : undefined;
  if (ms === undefined || ms <= 0) {
    throw new SessionStoreError('ERR_INVALID_OPTION', `Expected \`retention.olderThan\` to be a positive number of ms or a duration like 90d, 12h, 2w; got ${JSON.stringify(olderThan)}.`);
  }
  return ms;
}

/** Moves the sessions last updated before `now - olderThan` to the trash (or, with `dryRun`, lists them). */
export async function pruneSessions(store: SessionStore, olderThan: number | string, options: { dryRun?: boolean; now?: number } = {}): Promise<Pruned[]> {
  const before = new Date((options.now ?? Date.now()) - ageMs(olderThan)).toISOString();
  const old: Pruned[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, cursor, sort: 'updatedAt', order: 'asc', filter: { updatedBefore: before } });
    for (const info of page.sessions) old.push({ id: info.id, title: info.title, updatedAt: info.updatedAt, to: undefined });
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  if (options.dryRun === true) return old;
  const moved: Pruned[] = [];
  for (const session of old) moved.push({ ...session, to: await store.trash(session.id) });
  return moved;
}

/** Applies `openStore`'s `retention` to a store just opened, and reports what it moved. */
export async function applyRetention(store: SessionStore, retention: RetentionOptions): Promise<void> {
  const moved = await pruneSessions(store, retention.olderThan);
  if (retention.onPrune !== undefined) retention.onPrune(moved);
  else if (moved.length > 0) {
    const shown = moved.slice(0, 10).map((m) => m.id).join(', ');
    process.emitWarning(`Retention (older than ${String(retention.olderThan)}) moved ${moved.length} session${moved.length === 1 ? '' : 's'} of ${store.location} to the trash: ${shown}${moved.length > 10 ? ', …' : ''}.`, { code: 'SESSIONLOG_RETENTION', type: 'SessionlogWarning' });
  }
}
