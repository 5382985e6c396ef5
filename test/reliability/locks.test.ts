/** Rows H3/H9 for the one lock the store takes: around a repair (appends take none). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockPathFor, withRewriteLock } from '../../src/fs/lock.js';
import { openStore } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { figure } from './matrix.js';

describe('the repair lock', () => {
  it('a second repair of a session waits its turn or is refused with ERR_LOCKED; appends never wait', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    await store.append('s', { id: 'a', role: 'user', content: 'x' });
    await store.flush('s');
    fs.appendFileSync(path.join(dir, 's.jsonl'), '{"broken":\n');
    const file = path.join(dir, 's.jsonl');
    let modeWhileHeld = 0;
    await withRewriteLock(file, async () => {
      modeWhileHeld = fs.statSync(lockPathFor(file)).mode & 0o777;
      await expect(store.repair('s')).rejects.toMatchObject({ code: 'ERR_LOCKED' });
      // Appending needs no lock: it goes through while the lock is held.
      await store.append('s', { id: 'b', role: 'user', content: 'y' });
      await store.flush('s');
    });
    expect(modeWhileHeld).toBe(0o700);
    expect(fs.existsSync(lockPathFor(file))).toBe(false);
    const report = await store.repair('s');
    expect(report.repaired).toBe(true);
    expect((await store.read('s')).entries.map((e) => e.id)).toEqual(['a', 'b']);
    await store.close();
    figure('H9', 'repair lock: a concurrent repair refused with ERR_LOCKED, appends never blocked, lock folder 0700 and removed after');
  });
});

describe('H3/H6 a repair lock whose holder died or stalls', () => {
  it.each(['SIGKILL', 'SIGSTOP'] as const)('after %s of the holder, a repair gets the lock once it is stale (20 s), and not before', async (signal) => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    const file = path.join(dir, 's.jsonl');
    fs.appendFileSync(file, '{"broken":\n');
    const holder = startChild('lock-holder.mjs', [file]);
    await holder.line(/^locked$/);
    const t0 = Date.now();
    holder.process.kill(signal);
    try {
      await expect(store.repair('s')).rejects.toMatchObject({ code: 'ERR_LOCKED' });
      const report = await waitFor(
        'the stale lock to be taken over',
        () => store.repair('s').catch((err: { code?: string }) => (err.code === 'ERR_LOCKED' ? undefined : Promise.reject(err))),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const takeover = Date.now() - t0;
      expect(report.repaired).toBe(true);
      expect(takeover).toBeGreaterThanOrEqual(19_000);
      figure(`H3/H6 ${signal}`, `repair lock held by a ${signal === 'SIGKILL' ? 'killed' : 'stopped'} process: refused with ERR_LOCKED until stale, taken over after ${(takeover / 1000).toFixed(1)} s, ERR_LOCKED reaching the caller once it is stale 0`);
    } finally {
      holder.process.kill('SIGKILL');
      await holder.done;
      await store.close();
    }
  }, 90_000);
});
