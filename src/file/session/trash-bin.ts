/**
 * The trash folder as a bin the user manages (`sessionlog trash list | restore | empty`): what is
 * in it, putting a session back, and emptying it. Each function reports every file it moves or
 * deletes; nothing leaves the trash without a line saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { decodeLine } from '../../format/codec.js';
import { SESSION_EXT } from '../fs/paths.js';
import { TRASH_DIR } from './trash.js';

/** A file in the trash. */
export interface TrashedFile {
  /** Its name in `<dir>/.trash/`. */
  readonly name: string;
  /** The session it holds (from its header), when it has a readable one. */
  readonly session: string | undefined;
  readonly title: string | undefined;
  readonly bytes: number;
  /** When it was moved there (its mtime: moving keeps the content's, so this is the last write). */
  readonly modifiedAt: string;
}

function headerOf(file: string): Record<string, unknown> | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const end = buffer.subarray(0, n).indexOf(10);
    const decoded = decodeLine(buffer.subarray(0, end === -1 ? n : end), true);
    return decoded.ok && decoded.value['type'] === 'session' ? decoded.value : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The session files in the trash, newest first. */
export function listTrash(dir: string): TrashedFile[] {
  const trash = path.join(dir, TRASH_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(trash);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw ioError('read the trash folder', trash, err);
  }
  const out: TrashedFile[] = [];
  for (const name of names.filter((n) => n.endsWith(SESSION_EXT))) {
    const file = path.join(trash, name);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) continue;
    const header = headerOf(file);
    out.push({
      name,
      session: typeof header?.['id'] === 'string' ? header['id'] : undefined,
      title: typeof header?.['title'] === 'string' ? header['title'] : undefined,
      bytes: st.size,
      modifiedAt: st.mtime.toISOString(),
    });
  }
  return out.sort((a, b) => (a.modifiedAt < b.modifiedAt ? 1 : -1));
}

/**
 * Puts a trashed session back as `<session id>.jsonl`: `name` is a file name in the trash, or a
 * session id (its newest file in the trash). Never replaces a session of that id. Returns the id.
 * @throws ERR_SESSION_NOT_FOUND (not in the trash), ERR_SESSION_EXISTS, ERR_INVALID_ID, ERR_IO
 */
export function restoreFromTrash(dir: string, name: string): string {
  if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new SessionStoreError('ERR_INVALID_ID', `"${name}" is not a file name in the trash or a session id.`);
  const entry = listTrash(dir).find((t) => t.name === name || t.session === name);
  if (entry === undefined) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `Nothing named ${name} in ${path.join(dir, TRASH_DIR)}; \`sessionlog trash list\` shows what is there.`);
  if (entry.session === undefined) throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `${entry.name} in the trash has no readable header; move it back by hand and run \`sessionlog repair\`.`);
  const from = path.join(dir, TRASH_DIR, entry.name);
  const to = path.join(dir, `${entry.session}${SESSION_EXT}`);
  try {
    // link, not rename: it refuses to replace a session that exists.
    fs.linkSync(from, to);
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') throw new SessionStoreError('ERR_SESSION_EXISTS', `A session ${entry.session} exists already; the trashed copy stays in the trash as ${entry.name}.`, { path: to });
    throw ioError('restore', from, err);
  }
  fs.unlinkSync(from);
  return entry.session;
}

/** Deletes the trash's files last written before `before` (all when undefined); with `dryRun`, only says which. */
export function emptyTrash(dir: string, options: { before?: string; dryRun?: boolean } = {}): TrashedFile[] {
  const gone = listTrash(dir).filter((t) => options.before === undefined || t.modifiedAt < options.before);
  if (options.dryRun === true) return gone;
  for (const t of gone) {
    const file = path.join(dir, TRASH_DIR, t.name);
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw ioError('delete', file, err);
    }
  }
  return gone;
}
