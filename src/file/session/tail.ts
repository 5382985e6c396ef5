/**
 * The checks a writer makes at the end of the file it appends to: whether the last line is
 * complete, whether another writer's fragment got in front of our first line, and removing our
 * own partial line after a failed write. Each touches only bytes around the end.
 */
import fs from 'node:fs';
import { writeAllSync } from '../fs/files.js';

const NEWLINE = Buffer.from('\n');
/** How often a batch glued onto another writer's torn fragment is written again. */
const MAX_UNGLUE = 3;

/** Whether the last byte of the file (open as `fd`, `size` bytes) is a newline. */
export function endsWithNewline(fd: number, size: number): boolean {
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, size - 1);
  return byte[0] === 0x0a;
}

/**
 * Another process wrote between our look at the file's end and our write (`data` written at
 * `before`; the file is now `size` bytes): when that was a torn fragment (a writer killed
 * mid-line), our first line is glued onto it and unreadable. Our line is then written again on a
 * line of its own; the glued copy stays, reported by the reader as a bad line (it is not ours to
 * delete). Lines after the first start after our own newlines. Returns whether it wrote again.
 */
export function rewriteGlued(fd: number, before: number, size: number, data: Buffer): boolean {
  if (data.length === 0 || data[0] === 0x0a) return false;
  const first = data.subarray(0, data.indexOf(0x0a) + 1);
  let wrote = false;
  for (let attempt = 0; attempt < MAX_UNGLUE; attempt++) {
    const from = Math.max(0, before - 1);
    const region = Buffer.allocUnsafe(size - from);
    const n = fs.readSync(fd, region, 0, region.length, from);
    const at = region.subarray(0, n).indexOf(first, before - from);
    // Not found: the file was rewritten meanwhile, which the writer's restore handles.
    if (at <= 0 || region[at - 1] === 0x0a) return wrote;
    before = fs.fstatSync(fd).size;
    writeAllSync(fd, Buffer.concat([NEWLINE, first]));
    wrote = true;
    size = fs.fstatSync(fd).size;
    if (size === before + first.length + 1) return wrote;
    before += 1;
  }
  return wrote;
}

/** After a failed write, removes our partial line if nobody else has written since (else the next flush seals it). */
export function undoPartial(fd: number, before: number, err: unknown): void {
  const written = (err as { written?: unknown }).written;
  if (typeof written !== 'number' || written === 0) return;
  try {
    if (fs.fstatSync(fd).size === before + written) fs.ftruncateSync(fd, before);
  } catch {
    // Left as a torn line: the next flush seals it, so it is never glued to.
  }
}
