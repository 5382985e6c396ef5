/** Option parsers and help text shared by the commands. */
import { InvalidArgumentError } from 'commander';
import type { SessionInfo, FileSessionStore } from '../../index.js';
import { durationMs } from '../../core/retention.js';
import { CliError } from '../context.js';

/** Parses a whole number >= 0 (commander reports the error as a usage error). */
export function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number.');
  return n;
}

/** Parses a whole number >= 1. */
export function positive(value: string): number {
  const n = count(value);
  if (n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

/** Parses a time: an ISO date or date-time, or a duration back from now (`30m`, `12h`, `7d`, `2w`). Returns ISO. */
export function since(value: string, now: number = Date.now()): string {
  const back = durationMs(value);
  if (back !== undefined) return new Date(now - back).toISOString();
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('expected a date (2026-11-02, 2026-11-02T10:00) or a duration (30m, 12h, 7d, 2w).');
  }
  return new Date(ms).toISOString();
}

/** An "Examples:" help section. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/** Every session's info, most recently updated first, page by page; `onProgress` after each page. */
export async function allSessions(store: FileSessionStore, onProgress?: (done: number, total: number) => void): Promise<SessionInfo[]> {
  const infos: SessionInfo[] = [];
  let cursor: string | undefined;
  const total = (await store.ids()).length;
  do {
    const page = await store.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    infos.push(...page.sessions);
    onProgress?.(infos.length, Math.max(total, infos.length));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return infos;
}

/** `@` names the most recently updated session; anything else is an id or a unique prefix. */
export async function resolveName(store: FileSessionStore, name: string): Promise<string> {
  if (name !== LATEST) return store.resolveId(name);
  const latest = await store.latest();
  if (latest === undefined) throw new CliError('ERR_SESSION_NOT_FOUND', `There are no sessions in ${store.dir}.`);
  return latest.id;
}

/** The name of the most recently updated session. */
export const LATEST = '@';
