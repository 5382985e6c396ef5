/**
 * How every backend reports what it handled: a `warning` event when someone listens, else one
 * `process.emitWarning` per code for the whole process (lru-cache's way); a failed background
 * write as `writeError`, else as a warning. Nothing is silent and nothing floods stderr.
 */
import type { EventEmitter } from 'node:events';
import type { StoreEventMap } from './contract.js';
import type { SessionStoreError } from './errors.js';
import { type ChangeEvent, StoreEvents, type WarningEvent } from './types.js';

const warnedCodes = new Set<string>();

/** Emits `warning`, or reports the code once per process when nobody listens. */
export function emitWarning(store: EventEmitter<StoreEventMap>, event: WarningEvent): void {
  if (store.listenerCount(StoreEvents.WARNING) > 0) {
    store.emit(StoreEvents.WARNING, event);
  } else if (!warnedCodes.has(event.code)) {
    warnedCodes.add(event.code);
    process.emitWarning(event.message, { code: event.code, type: 'SessionlogWarning' });
  }
}

/** Emits `writeError` for a failed background write, or a warning when nobody listens for it. */
export function emitWriteError(store: EventEmitter<StoreEventMap>, error: SessionStoreError, id: string): void {
  if (store.listenerCount(StoreEvents.WRITE_ERROR) > 0) store.emit(StoreEvents.WRITE_ERROR, error, id);
  else emitWarning(store, { code: error.code, message: error.message, id });
}

/** Calls `notify` on every `change` of session `id`; returns the function that stops it. */
export function onSessionChange(store: EventEmitter<StoreEventMap>, id: string, notify: () => void): () => void {
  const listener = (event: ChangeEvent): void => {
    if (event.id === id) notify();
  };
  store.on(StoreEvents.CHANGE, listener);
  return () => store.off(StoreEvents.CHANGE, listener);
}
