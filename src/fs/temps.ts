/**
 * Temp files for whole-file writes (fork, repair): hidden, unique per process and call, never a
 * valid session name, and swept when the process that made them died before removing them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../errors.js';

let counter = 0;
const TEMP = /^\.(.+\.jsonl)\.(\d+)\.\d+\.tmp$/;

/** A temp path beside `file`: `.<name>.<pid>.<n>.tmp`. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
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
 * Removes temp files whose process is gone (killed in the middle of a fork or repair). Only names
 * of the store's own pattern are touched, and only when their pid is not alive on this machine.
 * Resolves with the names removed.
 */
export async function sweepStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.promises.readdir(dir)) {
    const match = TEMP.exec(name);
    if (match === null || Number(match[2]) === process.pid || isAlive(Number(match[2]))) continue;
    try {
      const file = path.join(dir, name);
      if (!(await fs.promises.lstat(file)).isFile()) continue;
      await fs.promises.unlink(file);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove: nothing to do.
    }
  }
  return removed;
}
