/**
 * Shared by the reliability rows: the scale of a run (a fast subset in `npm test`, the full matrix
 * in `npm run torture`) and the figure each row reports.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { vi } from 'vitest';

/** `npm run torture` sets SESSIONLOG_TORTURE=full. */
export const FULL = process.env['SESSIONLOG_TORTURE'] === 'full';

// A row loops over real processes (kills, crash points, races): on a loaded machine even the CI
// scale can take minutes, and a full row (500 kills, 1,000 trials) longer. A hang still fails.
vi.setConfig({ testTimeout: FULL ? 1_800_000 : 300_000 });

/** The CI count, or the full-matrix count under `npm run torture`. */
export function scale(ci: number, full: number): number {
  return FULL ? full : ci;
}

/** Prints a row's figure and records it for docs/reliability.md (when SESSIONLOG_FIGURES names a file). */
export function figure(row: string, text: string): void {
  const line = `${row} ${text}`;
  console.log(line);
  const out = process.env['SESSIONLOG_FIGURES'];
  if (out !== undefined && out !== '') fs.appendFileSync(out, `${JSON.stringify({ row, text, full: FULL })}\n`);
}

/** Entry ids as they are on disk, counting copies (the reader hides duplicates, a check must not). */
export function idsOnDisk(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      try {
        const id = (JSON.parse(line) as { id?: unknown }).id;
        return typeof id === 'string' ? [id] : [];
      } catch {
        return [];
      }
    });
}

/** How many ids occur more than once. */
export function duplicates(ids: readonly string[]): number {
  return ids.length - new Set(ids).size;
}

/** Whether strace can trace (and inject into) a child here. */
export function straceWorks(): boolean {
  try {
    execFileSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
