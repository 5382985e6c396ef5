/**
 * The file work of a merge (src/file/rewrite/merge.ts): finding the conflict copies of a session,
 * hashing lines, checking that a copy did not change, and moving merged copies aside. The
 * safe-rewrite steps (output files, the "did it grow?" check, rename, carry-over) are shared with
 * repair in src/file/rewrite/rewrite.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ioError, SessionStoreError } from '../../core/errors.js';
import { conflictOf, SESSION_EXT } from '../fs/paths.js';
import { CHUNK, readRange } from './rewrite.js';
import { moveToTrash, TRASH_DIR } from '../session/trash.js';

/**
 * The conflict copies of session `id` in `dir` (Syncthing's `<id>.sync-conflict-….jsonl`), plus
 * the file names the caller names (another sync tool's copy: Dropbox's "(conflicted copy)",
 * Nextcloud's "(conflicted copy …)"), as absolute paths, sorted, each once.
 * @throws ERR_INVALID_OPTION (a name that is not a plain file name in the folder, or the session's own file), ERR_IO
 */
export async function conflictCopies(dir: string, id: string, named: readonly string[] = []): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    throw ioError('list the store folder', dir, err);
  }
  const found = new Set(names.filter((name) => conflictOf(name) === id));
  for (const name of named) {
    if (name === '' || name === '.' || name === '..' || name !== path.basename(name) || name.includes('\0')) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `Expected a file name in ${dir} (no folder), got ${JSON.stringify(name.slice(0, 80))}.`);
    }
    if (name === id + SESSION_EXT) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `${name} is the session's own file, not a copy of it; name the copies only.`);
    }
    if (!names.includes(name)) {
      throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No file ${name} in ${dir}; list the folder to check the name.`, { path: path.join(dir, name) });
    }
    found.add(name);
  }
  const copies: string[] = [];
  for (const name of [...found].sort()) {
    const file = path.join(dir, name);
    if (!(await finishInterruptedMove(dir, file))) copies.push(file);
  }
  return copies;
}

/**
 * A copy is moved to the trash by link, then unlink (trash.ts), after its records were merged: a
 * crash in between leaves it hard-linked in both places, which every read refuses. The one in the
 * trash holds the bytes, so the move is finished here. Returns true when `file` was such a leftover.
 */
async function finishInterruptedMove(dir: string, file: string): Promise<boolean> {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st === undefined || !st.isFile() || st.nlink !== 2) return false;
  const trash = path.join(dir, TRASH_DIR);
  let names: string[];
  try {
    names = await fs.promises.readdir(trash);
  } catch {
    return false; // No trash folder: not ours; the read reports the hard link.
  }
  const twin = names.some((name) => {
    const other = fs.lstatSync(path.join(trash, name), { throwIfNoEntry: false });
    return other !== undefined && other.ino === st.ino && other.dev === st.dev;
  });
  if (!twin) return false;
  try {
    await fs.promises.unlink(file);
  } catch (err) {
    throw ioError('finish moving to the trash', file, err);
  }
  return true;
}

/** sha256 of bytes: identical lines in several copies are told apart from different versions by it. */
export function hashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of bytes [from, from + length), read in chunks: for lines too long to hold. */
export function hashRange(fd: number, file: string, from: number, length: number): string {
  const hash = createHash('sha256');
  for (let at = from; at < from + length; at += CHUNK) hash.update(readRange(fd, file, at, Math.min(CHUNK, from + length - at)));
  return hash.digest('hex');
}

/** Throws ERR_LOCKED when a copy is no longer the file that was read (a sync tool still at work). */
export function assertCopyUnchanged(file: string, stat: fs.Stats): void {
  const now = fs.lstatSync(file, { throwIfNoEntry: false });
  if (now === undefined || now.ino !== stat.ino || now.size !== stat.size || now.mtimeMs !== stat.mtimeMs) {
    throw new SessionStoreError('ERR_LOCKED', `${file} changed while it was merged (a sync tool at work?); nothing was replaced. Run the merge again.`, {
      path: file,
    });
  }
}

/**
 * Moves a merged copy into the store's trash folder under its own name (a time stamp is added
 * when the name is taken there), never deleting it. Returns the new path.
 */
export async function moveCopyAside(dir: string, copy: string, now: number): Promise<string> {
  const name = path.basename(copy);
  // moveToTrash names the file `<stem>.jsonl`: the copy keeps its name.
  const stem = name.endsWith(SESSION_EXT) ? name.slice(0, -SESSION_EXT.length) : name;
  return moveToTrash(dir, stem, copy, now);
}
