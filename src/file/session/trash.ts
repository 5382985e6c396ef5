/**
 * Moving a session to the store's trash folder instead of deleting it. The trash is a hidden
 * sub-folder: listing and watching read the store folder's own entries only, so a trashed
 * session is gone from the store, and `mv .trash/<name> .` brings it back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { DIR_MODE, fsyncDir } from '../fs/files.js';
import { SESSION_EXT } from '../fs/paths.js';

/** Name of the trash folder inside the store folder. */
export const TRASH_DIR = '.trash';

/** A compact UTC stamp for file names: 20261102T100000Z. */
export function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Moves `file` (session `id`) into `<dir>/.trash/`, as `<id>.jsonl` when that name is free, else
 * `<id>.<stamp>[-n].jsonl`. Never replaces a file already in the trash. Returns the new path.
 * @throws ERR_SESSION_NOT_FOUND, ERR_IO
 */
export async function moveToTrash(dir: string, id: string, file: string, now: number): Promise<string> {
  const trash = path.join(dir, TRASH_DIR);
  try {
    await fs.promises.mkdir(trash, { mode: DIR_MODE });
    await fs.promises.chmod(trash, DIR_MODE);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw ioError('create the trash folder', trash, err);
  }
  const stamp = fileStamp(now);
  for (let attempt = 0; ; attempt++) {
    const name = attempt === 0 ? id + SESSION_EXT : `${id}.${stamp}${attempt > 1 ? `-${attempt}` : ''}${SESSION_EXT}`;
    const target = path.join(trash, name);
    try {
      // link() refuses an existing name where rename() would silently replace it.
      await fs.promises.link(file, target);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'EEXIST') continue;
      if (errno === 'ENOENT') {
        throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session file at ${file}: it was deleted or moved.`, { path: file, cause: err });
      }
      throw ioError('move to the trash', file, err);
    }
    try {
      await fs.promises.unlink(file);
    } catch (err) {
      await fs.promises.unlink(target).catch(() => undefined);
      throw ioError('move to the trash', file, err);
    }
    await fsyncDir(dir);
    return target;
  }
}

/**
 * Deletes a session file; an absent one is not an error (another process deleted it first).
 * Resolves with whether this call removed it.
 * @throws ERR_IO
 */
export async function removeSessionFile(file: string): Promise<boolean> {
  try {
    await fs.promises.unlink(file);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw ioError('delete', file, err);
  }
}

/**
 * Keeps bytes that have no session file to go to (entries buffered for a session another program
 * deleted or moved) as a new file in the trash, `<id>.<stamp>[-n].jsonl`, so they are never lost
 * silently. Returns its path.
 * @throws ERR_IO
 */
export async function keepInTrash(dir: string, id: string, data: Buffer, now: number): Promise<string> {
  const trash = path.join(dir, TRASH_DIR);
  await fs.promises.mkdir(trash, { mode: DIR_MODE, recursive: true }).catch((err: unknown) => {
    throw ioError('create the trash folder', trash, err);
  });
  const stamp = fileStamp(now);
  for (let attempt = 1; ; attempt++) {
    const target = path.join(trash, `${id}.${stamp}${attempt > 1 ? `-${attempt}` : ''}${SESSION_EXT}`);
    try {
      await fs.promises.writeFile(target, data, { flag: 'wx', mode: 0o600 });
      return target;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw ioError('write', target, err);
    }
  }
}
