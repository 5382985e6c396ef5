/**
 * Temp files for whole-file writes (fork, repair, the index): hidden, unique per process and call,
 * never a valid session name, and swept when the process that made them died before removing them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../../core/errors.js';

let counter = 0;
/** Temps of a session file (`.<id>.jsonl.<pid>.<n>.tmp`) or of the index (`.sessionlog-index.json.<pid>.<n>.tmp`). */
const TEMP = /^\.(.+\.jsonl|sessionlog-index\.json)\.(\d+)\.\d+\.tmp$/;
/** The staging folder of a rewrite lock (`.<id>.jsonl.lock.<pid>.<n>.tmp`, src/file/fs/lock.ts): a folder holding an owner file. */
const LOCK_STAGING = /^\.(.+\.jsonl)\.lock\.(\d+)\.\d+\.tmp$/;

/** write-file-atomic's temp of the index (`.sessionlog-index.json.<uint32>`), written by versions before 0.1. */
const LEGACY_INDEX_TEMP = /^\.sessionlog-index\.json\.\d+$/;

/** Whether `name` is an index temp of an earlier version (swept by age: it carries no pid). */
export function isLegacyIndexTemp(name: string): boolean {
  return LEGACY_INDEX_TEMP.test(name);
}

/** The staging folder of a rewrite lock: `<lockDir>.<pid>.<n>.tmp` (a folder holding an owner file, renamed into place). */
export function stagingPathFor(lockDir: string): string {
  return `${lockDir}.${process.pid}.${++counter}.tmp`;
}

/** A temp path beside `file`: `.<name>.<pid>.<n>.tmp` (one leading dot, also for a hidden `file`). */
export function tempPathFor(file: string): string {
  const name = path.basename(file).replace(/^\./, '');
  return path.join(path.dirname(file), `.${name}.${process.pid}.${++counter}.tmp`);
}

/**
 * The pid in the name of a rewrite lock's staging folder (`.<id>.jsonl.lock.<pid>.<n>.tmp`) when
 * that process is gone, so the folder is a leftover; undefined for any other name or a live pid.
 */
export function deadStagingPid(name: string): number | undefined {
  return deadPidIn(LOCK_STAGING, name);
}

/** The pid `pattern` captures (as its second group) from `name`, when that process is gone. */
function deadPidIn(pattern: RegExp, name: string): number | undefined {
  const match = pattern.exec(name);
  const pid = match === null ? NaN : Number(match[2]);
  return Number.isInteger(pid) && pid !== process.pid && !isAlive(pid) ? pid : undefined;
}

/** Whether a process with this pid runs on this machine (EPERM: alive, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}

/**
 * Removes temp files whose process is gone (killed in the middle of a fork, a repair, a merge or an
 * index write), and the staging folders of rewrite locks such a process was preparing. Only names
 * of the store's own patterns are touched, and only when their pid is not alive on this machine.
 * Resolves with the names removed.
 */
export async function sweepStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.promises.readdir(dir)) {
    const staging = LOCK_STAGING.test(name);
    if (deadPidIn(staging ? LOCK_STAGING : TEMP, name) === undefined) continue;
    try {
      const file = path.join(dir, name);
      const st = await fs.promises.lstat(file);
      // A contender killed while it prepared its lock folder leaves that folder (the lock itself, a
      // folder without pid in its name, is the lock's business: it goes stale).
      if (staging && st.isDirectory()) await fs.promises.rm(file, { recursive: true, force: true });
      else if (!staging && st.isFile()) await fs.promises.unlink(file);
      else continue;
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: nothing to do.
    }
  }
  return removed;
}
