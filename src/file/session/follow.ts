/**
 * Following a session as it grows (`tail -f`): the last entries, then each entry appended later,
 * by this process or any other, exactly once. Woken by the store's change events, with a poll as
 * a safety net; reads only the bytes added since the last look.
 */
import fs from 'node:fs';
import type { FollowOptions } from '../../core/types.js';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { interpret, readTail, type ReaderContext } from './reader.js';
import { scanBackward, scanForward } from './scan.js';


/** What {@link followSession} needs from the store. */
export interface FollowContext<T> {
  readonly reader: ReaderContext<T>;
  /** Calls `notify` when the session may have changed; returns the unsubscribe function. */
  readonly subscribe: (notify: () => void) => () => void;
  readonly isOpen: () => boolean;
  readonly pollIntervalMs: number;
}

function statOrGone(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw ioError('stat', file, err);
  }
}

function deleted(file: string): SessionStoreError {
  return new SessionStoreError('ERR_SESSION_NOT_FOUND', `${file} was deleted while it was followed.`, { path: file });
}

/** Where the next complete line will start: the end of the file, or the start of a torn last line. */
async function endOfCompleteLines(file: string, maxLineBytes: number): Promise<number> {
  for await (const last of scanBackward(file, maxLineBytes)) return last.torn ? last.offset : last.offset + last.length + 1;
  return 0;
}

/** Byte offset just after the entry `id`, or undefined when the file no longer has it. */
async function offsetAfter<T>(file: string, ctx: ReaderContext<T>, id: string): Promise<number | undefined> {
  for await (const scanned of scanForward(file, { maxLineBytes: ctx.maxLineBytes })) {
    if (scanned.torn || scanned.line === 1) continue;
    const item = interpret(scanned, ctx, new Set());
    if (item.kind === 'entry' && item.id === id) return scanned.offset + scanned.length + 1;
  }
  return undefined;
}

/** Yields the last `tail` entries, then new entries as they are appended, until aborted or the store closes. */
export async function* followSession<T>(file: string, ctx: FollowContext<T>, options: FollowOptions = {}): AsyncGenerator<T> {
  const { reader } = ctx;
  const first = statOrGone(file);
  if (first === undefined) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session file at ${file}.`, { path: file });
  let ino = first.ino;
  let position = await endOfCompleteLines(file, reader.maxLineBytes);
  // Ids already yielded. The tail may include entries past `position` (appended meanwhile): skipped below.
  const seen = new Set<string>();
  const fromTail = new Set<string>();
  let lastId: string | undefined;

  if ((options.tail ?? 0) > 0) {
    const { entries, problems } = await readTail(file, reader, options.tail ?? 0);
    for (const problem of problems) options.onProblem?.(problem);
    for (const item of entries) {
      if (item.id !== undefined) {
        seen.add(item.id);
        fromTail.add(item.id);
        lastId = item.id;
      }
      yield item.entry;
    }
  }

  // Object fields, not locals: they change in callbacks, which flow analysis does not see.
  const state: { dirty: boolean; wake: (() => void) | undefined } = { dirty: false, wake: undefined };
  const notify = (): void => {
    state.dirty = true;
    state.wake?.();
  };
  const stopped = (): boolean => options.signal?.aborted === true || !ctx.isOpen();
  const unsubscribe = ctx.subscribe(notify);
  options.signal?.addEventListener('abort', notify, { once: true });
  try {
    while (!stopped()) {
      state.dirty = false;
      const st = statOrGone(file);
      if (st === undefined) throw deleted(file);
      if (st.ino !== ino || st.size < position) {
        // Replaced (repair, an editor's save) or truncated: continue after the last entry seen.
        ino = st.ino;
        const after = lastId === undefined ? undefined : await offsetAfter(file, reader, lastId);
        position = after ?? (await endOfCompleteLines(file, reader.maxLineBytes));
      }
      if (st.size > position) {
        for await (const scanned of scanForward(file, { offset: position, line: 0, maxLineBytes: reader.maxLineBytes })) {
          // A torn last line may still be completing: look again later.
          if (scanned.torn) break;
          position = scanned.offset + scanned.length + 1;
          const item = interpret({ ...scanned, line: undefined }, reader, new Set());
          if (item.kind === 'problem') options.onProblem?.(item.problem);
          if (item.kind !== 'entry') continue;
          if (item.id !== undefined) {
            if (seen.has(item.id)) {
              if (!fromTail.delete(item.id)) {
                options.onProblem?.({ offset: scanned.offset, kind: 'duplicate-id', message: 'entry id already seen earlier in the file; skipped (a copied line?)' });
              }
              continue;
            }
            seen.add(item.id);
            lastId = item.id;
          }
          yield item.entry;
        }
      }
      if (state.dirty || stopped()) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ctx.pollIntervalMs);
        state.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      state.wake = undefined;
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', notify);
  }
}
