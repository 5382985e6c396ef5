/**
 * State folded from a session's entries, kept per process and brought up to date from what any
 * process appended since (read after the last entry folded), so a long session is read once.
 */
import type { SessionStore } from '../../core/contract.js';

/** A fold over a session's entries, in file order. */
export abstract class EntryFold {
  /** Entries folded so far: when the session holds another number, something changed. */
  entryCount = 0;
  /** Id of the last entry folded, to read only what follows it. */
  lastEntryId: string | undefined;

  /** Folds one entry (entries of types the fold does not know are passed over by `apply`). */
  fold(entry: { readonly type: string; readonly id: string }): void {
    this.entryCount += 1;
    this.lastEntryId = entry.id;
    this.apply(entry);
  }

  protected abstract apply(entry: { readonly type: string; readonly id: string }): void;
}

/**
 * `current` brought up to date with session `id`, or a new fold made by `fresh` when there is none
 * or the session shrank (deleted and created again, repaired); undefined when the session does not exist.
 */
export async function upToDate<F extends EntryFold>(store: SessionStore, id: string, current: F | undefined, fresh: () => F): Promise<F | undefined> {
  const info = await store.get(id);
  if (info === undefined) return undefined;
  if (current !== undefined && current.entryCount === info.entryCount) return current;
  const state = current === undefined || current.entryCount > info.entryCount ? fresh() : current;
  if (state.lastEntryId === undefined) for await (const entry of store.stream(id)) state.fold(entry);
  else for (const entry of (await store.read(id, { after: state.lastEntryId })).entries) state.fold(entry);
  return state;
}
