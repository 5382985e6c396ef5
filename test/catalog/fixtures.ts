/**
 * Folders and checks shared by the index tests (test/index) and the index rows of the reliability
 * matrix (test/reliability/index.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { openStore, type SessionInfo, type SessionStore, type WarningEvent } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

/** The index file's name in a store folder. */
export const INDEX = '.sessionlog-index.json';

/** A folder with `n` sessions of a few entries each, closed (so its index file is written). */
export async function populated(n = 5): Promise<{ dir: string; ids: string[] }> {
  const dir = tempDir();
  const store = await openStore({ dir });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { id } = await store.create({ title: `session ${i}`, cwd: `/w/${i % 2}` });
    await store.append(id, [
      { role: 'user', content: `question ${i}`, usage: { input: i, output: 0 } },
      { role: 'assistant', content: `answer ${i}`, usage: { input: 0, output: 2 * i } },
    ]);
    ids.push(id);
  }
  await store.list();
  await store.close();
  expect(fs.existsSync(path.join(dir, INDEX))).toBe(true);
  return { dir, ids };
}

/** What a full read of every file says, through a fresh store with no index at all: the truth. */
export async function truth(dir: string): Promise<SessionInfo[]> {
  const copy = tempDir('sessionlog-truth-');
  for (const name of fs.readdirSync(dir)) {
    const st = fs.lstatSync(path.join(dir, name));
    if (name.endsWith('.jsonl') && st.isFile()) fs.copyFileSync(path.join(dir, name), path.join(copy, name));
  }
  const store = await openStore({ dir: copy });
  const sessions = await listAll(store);
  await store.close();
  return sessions;
}

/** Every session, oldest first (one page: the tests stay under 1,000 unless they page themselves). */
export async function listAll(store: SessionStore): Promise<SessionInfo[]> {
  const all: SessionInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, sort: 'createdAt', ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.sessions);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}

/** Collects the store's warnings from now on. */
export function collectWarnings(store: SessionStore): WarningEvent[] {
  const warnings: WarningEvent[] = [];
  store.on('warning', (w: WarningEvent) => warnings.push(w));
  return warnings;
}
