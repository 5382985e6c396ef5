/** Rows H3/H4/H6/H9 for the one lock the store takes: around a repair (appends take none). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockPathFor, withRewriteLock } from '../../src/file/fs/lock.js';
import { openStore } from '../../src/index.js';
import { runChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { figure, scale } from './matrix.js';

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
        () =>
          store.repair('s').catch((err: Error & { code?: string }) => {
            if (err.code !== 'ERR_LOCKED') throw err;
            return undefined;
          }),
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

/** The files and folders a lock holder left, to plant again (aged) before each trial. */
interface LockSnapshot {
  readonly dirs: string[];
  readonly files: { rel: string; data: Buffer }[];
}

function snapshotLock(lockDir: string): LockSnapshot {
  const snapshot: LockSnapshot = { dirs: [''], files: [] };
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(lockDir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        snapshot.dirs.push(child);
        walk(child);
      } else snapshot.files.push({ rel: child, data: fs.readFileSync(path.join(lockDir, child)) });
    }
  };
  walk('');
  return snapshot;
}

/** Recreates what a killed holder left, a minute old: a lock that every contender finds stale. */
function plantStaleLock(lockDir: string, snapshot: LockSnapshot): void {
  const old = new Date(Date.now() - 60_000);
  for (const rel of snapshot.dirs) fs.mkdirSync(path.join(lockDir, rel), { recursive: true, mode: 0o700 });
  for (const { rel, data } of snapshot.files) fs.writeFileSync(path.join(lockDir, rel), data, { mode: 0o600 });
  // Children first: creating them touched their folder's mtime.
  for (const rel of [...snapshot.files.map((f) => f.rel), ...snapshot.dirs.reverse()]) fs.utimesSync(path.join(lockDir, rel), old, old);
  snapshot.dirs.reverse();
}

/** Log lines of one trial in append order: how many sections were open at once, at most. */
function maxOpenSections(log: string): { enters: number; exits: number; maxOpen: number } {
  let open = 0;
  let maxOpen = 0;
  let enters = 0;
  let exits = 0;
  for (const line of log.split('\n').filter(Boolean)) {
    const what = line.split(' ')[2];
    if (what === 'enter') {
      enters++;
      maxOpen = Math.max(maxOpen, ++open);
    } else if (what === 'exit') {
      exits++;
      open--;
    }
  }
  return { enters, exits, maxOpen };
}

describe('H4 many processes taking over one stale lock at once', () => {
  const trials = scale(10, 200);
  const contenders = 12;

  it(`lets exactly one into the critical section (${contenders} contenders, ${trials} trials)`, async () => {
    const dir = tempDir();
    const file = path.join(dir, 's.jsonl');
    fs.writeFileSync(file, '');
    const lockDir = lockPathFor(file);
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(logDir);
    const counter = path.join(dir, 'counter');
    fs.writeFileSync(counter, '0');
    // The stale lock is exactly what a SIGKILLed holder leaves behind.
    const holder = startChild('lock-holder.mjs', [file]);
    await holder.line(/^locked$/);
    holder.process.kill('SIGKILL');
    await holder.done;
    const snapshot = snapshotLock(lockDir);
    fs.rmSync(lockDir, { recursive: true });

    const children = Array.from({ length: contenders }, () => startChild('lock-contender.mjs', [file, logDir, counter]));
    let overlapping = 0;
    let noHolder = 0;
    let entered = 0;
    let errors: string[] = [];
    try {
      await Promise.all(children.map((child) => child.line(/^ready$/, 60_000)));
      for (let n = 1; n <= trials; n++) {
        plantStaleLock(lockDir, snapshot);
        for (const child of children) child.process.kill('SIGUSR2');
        const outcomes = await Promise.all(children.map((child) => child.line(new RegExp(`^done ${n} `), 60_000)));
        errors = errors.concat(outcomes.filter((o) => o.includes('error:')));
        const sections = maxOpenSections(fs.readFileSync(path.join(logDir, `trial-${n}.log`), 'utf8'));
        expect(sections.exits, `trial ${n}: every section that entered left`).toBe(sections.enters);
        if (sections.maxOpen > 1) overlapping++;
        if (sections.enters === 0) noHolder++;
        entered += sections.enters;
        // Released after the trial: nothing left that would hold off the next repair.
        await waitFor('the lock to be released', () => !fs.existsSync(lockDir) || fs.readdirSync(lockDir).length === 0);
        fs.rmSync(lockDir, { recursive: true, force: true });
      }
    } finally {
      for (const child of children) child.process.kill('SIGKILL');
      await Promise.all(children.map((child) => child.done));
    }
    const count = Number(fs.readFileSync(counter, 'utf8'));
    figure('H4', `stale-takeover race, ${contenders} processes on one stale lock: overlapping critical sections ${overlapping}/${trials}, trials with no holder ${noHolder}, sections ${entered}, counter lost updates ${entered - count}, errors ${errors.length}`);
    expect(errors).toEqual([]);
    expect(overlapping).toBe(0);
    expect(count).toBe(entered);
    expect(noHolder).toBe(0);
  });
});

/** The state letter of a process in /proc (T: stopped). */
function processState(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] ?? '?';
}

describe('H6 a holder stalled past the stale time wakes up after a takeover', () => {
  // Injected for this test only (production: 20 s), so the row takes seconds.
  const staleMs = 3000;

  it('the woken holder refuses with ERR_LOCKED and replaces nothing; the takeover repaired once', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    await store.append('s', [{ id: 'a', role: 'user', content: 'one' }, { id: 'b', role: 'assistant', content: 'two' }]);
    await store.close();
    const file = path.join(dir, 's.jsonl');
    fs.appendFileSync(file, '{"broken":\n');
    const stalled = startChild('repair-stall.mjs', [file, 's', String(staleMs), 'stall']);
    try {
      await stalled.line(/^stalling$/);
      const stalledAt = Date.now();
      const pid = stalled.process.pid ?? 0;
      await waitFor('the holder to be stopped', () => processState(pid) === 'T');
      // Built its temp and recovery files, stopped right before the fencing check and the rename.
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp') && n.startsWith('.s.jsonl.'))).toHaveLength(1);
      const early = await runChild('repair-stall.mjs', [file, 's', String(staleMs), 'once']);
      expect(early.stdout.trim()).toBe('refused ERR_LOCKED');
      await waitFor(
        'the stale lock to be taken over',
        async () => (await runChild('repair-stall.mjs', [file, 's', String(staleMs), 'once'])).stdout.trim() === 'repaired',
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const takeoverMs = Date.now() - stalledAt;
      expect(takeoverMs).toBeGreaterThanOrEqual(staleMs - 500);
      // Another process appends to the repaired file: a rename by the woken holder would lose it.
      fs.appendFileSync(file, `${JSON.stringify({ type: 'message', id: 'c', ts: new Date().toISOString(), role: 'user', content: 'three' })}\n`);
      const repaired = fs.statSync(file);
      stalled.process.kill('SIGCONT');
      const result = await stalled.done;
      expect(result.stdout).toContain('woke');
      expect(result.stdout.trim().split('\n').at(-1)).toBe('refused ERR_LOCKED');
      const after = fs.statSync(file);
      expect(after.ino).toBe(repaired.ino);
      expect(after.size).toBe(repaired.size);
      const reader = await openStore({ dir });
      const { entries, problems } = await reader.read('s');
      await reader.close();
      expect(entries.map((e) => e.id)).toEqual(['a', 'b', 'c']);
      expect(problems).toEqual([]);
      // The woken holder removed its temp and its recovery file; the takeover's recovery file stays.
      const names = fs.readdirSync(dir);
      expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(names.filter((n) => n.includes('.recovered-'))).toHaveLength(1);
      expect(!fs.existsSync(lockPathFor(file)) || fs.readdirSync(lockPathFor(file)).length === 0).toBe(true);
      figure('H6 wake-up', `holder SIGSTOPped right before its rename past the stale time (${staleMs / 1000} s, injected; production 20 s): taken over after ${(takeoverMs / 1000).toFixed(1)} s, on SIGCONT refused with ERR_LOCKED, files it replaced 0, entries lost 0`);
    } finally {
      stalled.process.kill('SIGKILL');
      await stalled.done;
    }
  });
});

describe('H7 the lock folder removed by hand while held', () => {
  it('is caught by the fencing check before the point of no return', async () => {
    const dir = tempDir();
    const file = path.join(dir, 's.jsonl');
    fs.writeFileSync(file, '');
    const outcome = await withRewriteLock(file, async (assertHeld) => {
      assertHeld();
      fs.rmSync(lockPathFor(file), { recursive: true });
      try {
        assertHeld();
        return 'not caught';
      } catch (err) {
        return (err as { code?: string }).code;
      }
    });
    expect(outcome).toBe('ERR_LOCKED');
    figure('H7', 'lock folder removed by hand while held: caught by the fencing check before the rename (ERR_LOCKED), writes after it 0');
  });
});
