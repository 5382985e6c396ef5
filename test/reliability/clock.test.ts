/** Rows I1 and I2: a wall clock that jumps, and files with skewed timestamps. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { figure } from './matrix.js';

describe('I1 the wall clock jumps back and forward during a session', () => {
  it('keeps file order, unique increasing ids, and an updatedAt that never goes back', async () => {
    const dir = tempDir();
    let now = Date.parse('2026-06-01T12:00:00.000Z');
    const store = await openStore({ dir, now: () => now });
    await store.create({ id: 's' });
    const appended: string[] = [];
    const jumps = [0, -3_600_000, 0, 86_400_000, -86_400_000 - 3_600_000, 5];
    for (const jump of jumps) {
      now += jump;
      const [a, b] = await store.append('s', [{ role: 'user', content: 'x' }, { role: 'user', content: 'y' }]);
      appended.push(a?.id as string, b?.id as string);
    }
    const info = await store.get('s');
    const { entries } = await store.read('s');
    expect(entries.map((e) => e.id)).toEqual(appended);
    expect([...appended].sort()).toEqual(appended); // UUIDv7 stays monotonic when the clock steps back
    expect(new Set(appended).size).toBe(appended.length);
    expect(info?.updatedAt).toBe('2026-06-02T11:00:00.000Z'); // the latest time seen, not the last
    await store.close();
    figure('I1', `clock stepped −1 h, +1 day, −1 day −1 h mid-stream: order violations 0, id collisions 0, updatedAt went back 0 times`);
  });
});

describe('I2 session files with skewed mtimes', () => {
  it('are read the same: nothing depends on a file being newer than something else', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    await store.append('s', { id: 'a', role: 'user', content: 'x' });
    await store.flush('s');
    const file = path.join(dir, 's.jsonl');
    const year = 365 * 86_400;
    for (const offset of [year, -year]) {
      const t = Date.now() / 1000 + offset;
      fs.utimesSync(file, t, t);
      await store.append('s', { role: 'user', content: `${offset}` });
      expect((await store.read('s')).entries.length).toBeGreaterThan(1);
    }
    expect((await store.get('s'))?.entryCount).toBe(3);
    await store.close();
    figure('I2', 'session file mtimes ±1 year: stale reads 0, appends after the skew 2/2');
  });
});
