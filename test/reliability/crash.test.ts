/**
 * Rows A1, A2, A4 of the reliability matrix: process crashes at random moments, at every I/O
 * step, and in the middle of one huge write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { rng } from '../helpers/transcripts.js';
import { runChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { duplicates, figure, FULL, idsOnDisk, scale, straceWorks } from './matrix.js';

async function sessionIn(dir: string, id: string): Promise<string> {
  const store = await openStore({ dir });
  await store.create({ id });
  await store.close();
  return path.join(dir, `${id}.jsonl`);
}

/** After a crash: the next process appends, and the new entry is read whole (sealed, never glued). */
async function appendsAfterRestart(dir: string, id: string): Promise<{ ok: boolean; problems: string[] }> {
  const store = await openStore({ dir });
  await store.append(id, { id: 'after-restart', role: 'user', content: 'resumed' });
  await store.flush(id);
  const { entries, problems } = await store.read(id);
  await store.close();
  return { ok: entries.at(-1)?.id === 'after-restart', problems: problems.map((p) => p.kind) };
}

describe('A1 SIGKILL at random moments', () => {
  const runs = scale(30, 500);

  it(`recovers every acknowledged entry, once and in order, over ${runs} kills`, async () => {
    const dir = tempDir();
    const random = rng(20261121);
    let acked = 0;
    let lost = 0;
    let dup = 0;
    let unacked = 0;
    let recovered = 0;
    let glued = 0;
    for (let run = 0; run < runs; run++) {
      const id = `k${run}`;
      const file = await sessionIn(dir, id);
      const ackFile = path.join(dir, `${id}.acks`);
      const child = startChild('crash-writer.mjs', [dir, id, ackFile, String(run + 1)]);
      await child.line(/^ready$/);
      // A random moment: after a random number of acknowledged flushes, plus up to 15 ms.
      const target = Math.floor(random() * 40);
      await waitFor('acknowledgements', () => target === 0 || (fs.existsSync(ackFile) && fs.readFileSync(ackFile, 'utf8').split('\n').length > target));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
      child.process.kill('SIGKILL');
      expect((await child.done).signal).toBe('SIGKILL');

      const ackedIds = fs.existsSync(ackFile) ? fs.readFileSync(ackFile, 'utf8').split('\n').filter(Boolean) : [];
      const onDisk = idsOnDisk(file);
      const present = new Set(onDisk);
      const missing = ackedIds.filter((entryId) => !present.has(entryId));
      // In order: the writer's ids are e-<batch>-<index>, increasing.
      const order = onDisk.map((entryId) => entryId.split('-').slice(1).map(Number));
      const inOrder = order.every((pair, i) => i === 0 || (pair[0] ?? 0) > (order[i - 1]?.[0] ?? 0) || ((pair[0] ?? 0) === (order[i - 1]?.[0] ?? 0) && (pair[1] ?? 0) > (order[i - 1]?.[1] ?? 0)));
      const after = await appendsAfterRestart(dir, id);
      expect(missing, `run ${run}: acknowledged but lost`).toEqual([]);
      expect(duplicates(onDisk), `run ${run}: duplicates`).toBe(0);
      expect(inOrder, `run ${run}: order`).toBe(true);
      expect(after.ok, `run ${run}: append after restart`).toBe(true);
      // At most the sealed fragment of the write the kill interrupted.
      expect(after.problems.filter((kind) => kind !== 'invalid-json'), `run ${run}`).toEqual([]);
      expect(after.problems.length).toBeLessThanOrEqual(1);
      acked += ackedIds.length;
      lost += missing.length;
      dup += duplicates(onDisk);
      unacked += onDisk.length - ackedIds.length;
      glued += after.ok ? 0 : 1;
      recovered += 1;
    }
    figure('A1', `SIGKILL at random: recovered ${recovered}/${runs}, acked ${acked}, acked lost ${lost}, duplicates ${dup}, glued ${glued}; ${unacked} unacknowledged entries also survived`);
  });
});

const CRASH_SYSCALLS = ['openat', 'write', 'fdatasync', 'fsync', 'close', 'link', 'read', 'pread64'];

describe.skipIf(!straceWorks())('A2 a crash at every I/O step (strace kills at the n-th syscall)', () => {
  it.each(FULL ? ['buffered', 'fsync'] : ['fsync'])('create, append, flush, update, sync, fork, close (%s)', async (durability) => {
    const root = tempDir();
    let points = 0;
    let recovered = 0;
    let lost = 0;
    for (const syscall of CRASH_SYSCALLS) {
      for (let n = 1; ; n++) {
        const dir = path.join(root, `${syscall}-${n}`);
        fs.mkdirSync(dir);
        const ackFile = path.join(root, `${syscall}-${n}.acks`);
        const result = await runChild('workload.mjs', [dir, ackFile, durability], {
          wrap: (nodeArgs) => [
            'strace',
            ['-f', '-qq', '-o', '/dev/null', '-P', path.join(dir, 's.jsonl'), '-P', path.join(dir, 'f.jsonl'), '-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=KILL:when=${n}`, process.execPath, ...nodeArgs],
          ],
        });
        if (result.code === 0) break; // the n-th call never came: every point of this syscall is covered
        // strace re-raises the tracee's fatal signal on itself.
        expect(result.signal === 'SIGKILL' || result.code === 137, result.stderr).toBe(true);
        points++;
        const acks = fs.existsSync(ackFile) ? fs.readFileSync(ackFile, 'utf8').split('\n').filter(Boolean) : [];
        const file = path.join(dir, 's.jsonl');
        const where = `${syscall} #${n}`;
        if (acks.includes('created')) {
          const store = await openStore({ dir });
          const info = await store.get('s');
          const { entries } = await store.read('s');
          const ids = new Set(entries.map((e) => e.id));
          const missing = acks.filter((a) => a.startsWith('entry ')).map((a) => a.slice(6)).filter((entryId) => !ids.has(entryId));
          lost += missing.length;
          expect(missing, where).toEqual([]);
          expect(duplicates(idsOnDisk(file)), where).toBe(0);
          if (acks.includes('updated second')) expect(info?.title, where).toBe('second');
          if (acks.includes('forked')) expect((await store.read('f')).entries.map((e) => e.id), where).toEqual(['a1', 'a2', 'a3', 'a4']);
          // A fork is linked into place whole, or not at all.
          if (fs.existsSync(path.join(dir, 'f.jsonl'))) expect((await store.get('f'))?.entryCount, where).toBe(4);
          await store.close();
          expect((await appendsAfterRestart(dir, 's')).ok, where).toBe(true);
        } else if (fs.existsSync(file)) {
          // Killed inside create: an empty or partial file is reported as damaged, never listed as a valid session.
          const store = await openStore({ dir });
          const { problems } = await store.read('s');
          const info = await store.get('s');
          await store.close();
          if (fs.statSync(file).size === 0) expect(problems.map((p) => p.kind), where).toEqual(['bad-header']);
          else expect(info?.problems ?? 0, where).toBe(0);
        }
        recovered++;
      }
    }
    expect(points).toBeGreaterThan(15);
    figure('A2', `crash at every I/O step (${durability}; ${CRASH_SYSCALLS.join(', ')} on the session files): points ${recovered}/${points} recovered, acked lost ${lost}`);
  });
});

describe('A4 one huge record torn by SIGKILL mid-write', () => {
  const runs = scale(3, 30);
  const mb = FULL ? 256 : 64;

  it(`reports the fragment and seals it before the next append (${runs} runs, ${mb} MiB)`, async () => {
    const dir = tempDir();
    const random = rng(4);
    let torn = 0;
    let reported = 0;
    let glued = 0;
    for (let run = 0; run < runs; run++) {
      const id = `h${run}`;
      const file = await sessionIn(dir, id);
      const headerBytes = fs.statSync(file).size;
      const child = startChild('huge-writer.mjs', [dir, id, String(mb)]);
      await child.line(/^writing$/);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(random() * 35)));
      child.process.kill('SIGKILL');
      await child.done;
      const size = fs.statSync(file).size;
      const wasTorn = size > headerBytes && size < headerBytes + mb * 1024 * 1024 + 40;
      const store = await openStore({ dir, maxEntryBytes: (mb + 1) * 1024 * 1024 });
      const { problems } = await store.read(id);
      await store.close();
      if (wasTorn) {
        torn++;
        if (problems.some((p) => p.kind === 'torn-tail')) reported++;
      }
      const after = await appendsAfterRestart(dir, id);
      if (!after.ok) glued++;
      expect(after.ok).toBe(true);
      fs.rmSync(file);
    }
    expect(reported).toBe(torn);
    figure('A4', `huge record (${mb} MiB) killed mid-write: torn ${torn}/${runs}, torn reported ${reported}/${torn}, glued lines ${glued}`);
  });
});

describe('A7 SIGKILL in the middle of a repair (the one rewrite of a session)', () => {
  const runs = scale(10, 100);

  it(`leaves the old file or the new one, never a mix, and never loses an entry (${runs} kills)`, async () => {
    const random = rng(77);
    let intact = 0;
    let leftoverTemps = 0;
    for (let run = 0; run < runs; run++) {
      const dir = tempDir();
      const store = await openStore({ dir });
      await store.create({ id: 's' });
      const ids = Array.from({ length: 2000 }, (_, n) => `r${n}`);
      await store.append('s', ids.map((entryId) => ({ id: entryId, role: 'user' as const, content: `${entryId} ${'y'.repeat(200)}` })));
      await store.close();
      const child = startChild('repair-loop.mjs', [dir, 's']);
      await child.line(new RegExp(`^repaired ${Math.floor(random() * 3)}$`));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 20)));
      child.process.kill('SIGKILL');
      await child.done;
      const after = await openStore({ dir });
      const { entries } = await after.read('s');
      expect(entries.map((e) => e.id), `run ${run}`).toEqual(ids);
      expect(duplicates(idsOnDisk(path.join(dir, 's.jsonl')))).toBe(0);
      // Every recovery file holds only what repair removed: the hand-made bad lines.
      for (const name of fs.readdirSync(dir).filter((n) => n.includes('.recovered-'))) {
        const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean);
        expect(lines.every((line) => line.startsWith('{"bad": ')), `run ${run}: ${name}`).toBe(true);
      }
      await waitFor('the temp sweep', () => fs.readdirSync(dir).every((n) => !n.endsWith('.tmp')));
      leftoverTemps += fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')).length;
      await after.close();
      intact++;
    }
    figure('A7', `SIGKILL during repair: ${intact}/${runs} sessions intact (old or new file, every entry once), recovery files hold only removed bytes, temp files left after the next open ${leftoverTemps}`);
  });
});
