/**
 * State folded from a session's entries, kept per process. Entries this process appends are folded
 * at once, unverified; a read first checks the session's entry count (one `get`): equal, and the
 * state is current; else entries came from elsewhere, and they are read (only those after the last
 * entry folded, unless this process's own folds may sit out of file order: then all again).
 */
import type { SessionStore } from '../../core/contract.js';

type Entry = { readonly type: string; readonly id: string };

/** A fold over a session's entries, in file order. */
export abstract class EntryFold {
  /** Entries folded so far: when the session holds another number, something changed. */
  entryCount = 0;
  /** Id of the last entry folded, to read only what follows it. */
  lastEntryId: string | undefined;
  /** Entries this process appended and folded since the count was last found equal to the file's. */
  unverified = 0;

  /** Folds one entry read from the session (types the fold does not know are passed over by `apply`). */
  fold(entry: Entry): void {
    this.entryCount += 1;
    this.lastEntryId = entry.id;
    this.apply(entry);
  }

  /** Folds entries this process has just appended (resolved `append` and `flush`). */
  foldOwn(entries: readonly Entry[]): void {
    for (const entry of entries) this.fold(entry);
    this.unverified += entries.length;
  }

  protected abstract apply(entry: Entry): void;
}

/**
 * `current` brought up to date with session `id`, or a new fold made by `fresh`; undefined when
 * the session does not exist.
 */
export async function upToDate<F extends EntryFold>(store: SessionStore, id: string, current: F | undefined, fresh: () => F): Promise<F | undefined> {
  const info = await store.get(id);
  if (info === undefined) return undefined;
  if (current !== undefined && current.entryCount === info.entryCount) {
    current.unverified = 0;
    return current;
  }
  // Another process appended (or the session was replaced). Read only what follows the last entry
  // folded, unless that entry is one of this process's, folded before entries that came first in the file.
  const state = current === undefined || current.unverified > 0 || current.entryCount > info.entryCount ? fresh() : current;
  if (state.lastEntryId === undefined) for await (const entry of store.stream(id)) state.fold(entry);
  else for (const entry of (await store.read(id, { after: state.lastEntryId })).entries) state.fold(entry);
  return state;
}
