/**
 * Several real processes on one folder (children run the built package: `npm run build` first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { INDEX } from './fixtures.js';

describe('several processes on one folder', () => {
  it('two watching processes creating sessions both converge on all of them, and so does a third', async () => {
    const dir = tempDir();
    const a = startChild('index-creator.mjs', [dir, 'alpha', '100', '200']);
    const b = startChild('index-creator.mjs', [dir, 'beta', '100', '200']);
    const [lineA, lineB] = await Promise.all([a.line(/^saw /), b.line(/^saw /)]);
    expect(lineA).toMatch(/^saw 200 complete 200/);
    expect(lineB).toMatch(/^saw 200 complete 200/);
    expect((await a.done).code).toBe(0);
    expect((await b.done).code).toBe(0);
    // Both wrote the index; whichever won, it never makes a third process list anything wrongly.
    JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8'));
    const store = await openStore({ dir });
    const { sessions } = await store.list({ limit: 1000 });
    expect(sessions).toHaveLength(200);
    expect(sessions.every((s) => s.entryCount === 2 && s.problems === 0)).toBe(true);
    await store.close();
  });

  // Index writes racing from three processes: reliability row F5 (test/reliability/index.test.ts).
  // A watcher starved of events, healed by the periodic reconcile: row F8.
});
