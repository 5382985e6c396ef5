/** Where things live in the store folder, and which names in it are sessions. */
import path from 'node:path';
import { idProblem } from '../../core/ids.js';

/** Extension of session files. */
export const SESSION_EXT = '.jsonl';

/** The path of session `id`'s file. `id` must already be validated (see `assertValidId`). */
export function sessionPath(dir: string, id: string): string {
  const file = path.join(dir, id + SESSION_EXT);
  // Containment check at the sink, behind the allowlist at the boundary (reliability.md E1).
  if (path.dirname(file) !== dir) throw new Error(`session path escapes the store folder: ${id}`);
  return file;
}

/**
 * The session id a file name stands for, or undefined for anything that is not a session:
 * temp files, editor swap and backup files, sync-conflict copies, the index, other files.
 */
export function idFromFileName(name: string): string | undefined {
  const id = sessionStem(name);
  // The id allowlist already rejects `.#x` (emacs locks), `.x.swp`, `x.sync-conflict-…` and the like.
  return id !== undefined && idProblem(id) === undefined ? id : undefined;
}

/** A `.jsonl` name without its extension, not checked as an id (for names already known to be sessions). */
export function sessionStem(name: string): string | undefined {
  return name.endsWith(SESSION_EXT) ? name.slice(0, -SESSION_EXT.length) : undefined;
}

const CONFLICT = /^(.+)\.sync-conflict-[^/]*\.jsonl$/;

/** For a Syncthing conflict copy `<id>.sync-conflict-….jsonl`, the id it is a copy of. */
export function conflictOf(name: string): string | undefined {
  const match = CONFLICT.exec(name);
  const id = match?.[1];
  return id !== undefined && idProblem(id) === undefined ? id : undefined;
}
