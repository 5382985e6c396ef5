import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { rng } from '../helpers/transcripts.js';
import { runChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Entry ids in the file as it is on disk, counting copies (the reader would hide duplicates). */
function idsOnDisk(file: string): string[] {
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

async function sessionIn(dir: string, id = 's'): Promise<string> {
  const store = await openStore({ dir });
  await store.create({ id });
  await store.close();
  return path.join(dir, `${id}.jsonl`);
}

describe('exit paths write the buffer (real child processes)', () => {
  it.each([
    ['natural', 0],
    ['exit', 3],
    ['throw', 1],
  ] as const)('%s exit', async (mode, code) => {
    const dir = tempDir();
    const file = await sessionIn(dir);
    const result = await runChild('exit-paths.mjs', [dir, 's', mode]);
    expect(result.code).toBe(code);
    if (mode === 'throw') expect(result.stderr).toContain('boom');
    expect(idsOnDisk(file)).toHaveLength(3);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: flushed, and the process still dies of the signal', async (signal) => {
    const dir = tempDir();
    const file = await sessionIn(dir);
    const child = startChild('exit-paths.mjs', [dir, 's', 'wait']);
    await child.line(/^ready$/);
    child.process.kill(signal);
    const result = await child.done;
    expect(result.signal).toBe(signal);
    expect(idsOnDisk(file)).toHaveLength(3);
  });

  it('leaves a signal to the application when it handles it itself', async () => {
    const dir = tempDir();
    const file = await sessionIn(dir);
    const child = startChild('exit-paths.mjs', [dir, 's', 'own-handler']);
    await child.line(/^ready$/);
    child.process.kill('SIGTERM');
    const result = await child.done;
    expect(result.stdout).toContain('handled');
    expect(result.code).toBe(7);
    expect(idsOnDisk(file)).toHaveLength(3);
  });
});

describe('SIGKILL at random moments', () => {
  const RUNS = Number(process.env['SESSIONLOG_KILL_RUNS'] ?? 30);

  it(`loses no acknowledged entry and duplicates none over ${RUNS} kills`, async () => {
    const dir = tempDir();
    const random = rng(20261121);
    let acked = 0;
    let unacked = 0;
    for (let run = 0; run < RUNS; run++) {
      const id = `k${run}`;
      const file = await sessionIn(dir, id);
      const ackFile = path.join(dir, `${id}.acks`);
      const child = startChild('crash-writer.mjs', [dir, id, ackFile, String(run + 1)]);
      await child.line(/^ready$/);
      // A random moment: after a random number of acknowledged flushes, plus up to 15 ms.
      const target = Math.floor(random() * 40);
      await waitFor('acknowledgements', () => !fs.existsSync(ackFile) || fs.readFileSync(ackFile, 'utf8').split('\n').length > target || target === 0);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
      child.process.kill('SIGKILL');
      expect((await child.done).signal).toBe('SIGKILL');

      const ackedIds = fs.existsSync(ackFile) ? fs.readFileSync(ackFile, 'utf8').split('\n').filter(Boolean) : [];
      const onDisk = idsOnDisk(file);
      const counts = new Map<string, number>();
      for (const entryId of onDisk) counts.set(entryId, (counts.get(entryId) ?? 0) + 1);
      expect([...counts.values()].every((n) => n === 1), `run ${run}: duplicates`).toBe(true);
      const missing = ackedIds.filter((entryId) => !counts.has(entryId));
      expect(missing, `run ${run}: acknowledged but lost`).toEqual([]);
      // In order: the writer's ids are e-<batch>-<index>, increasing.
      const order = onDisk.map((entryId) => entryId.split('-').slice(1).map(Number));
      for (let i = 1; i < order.length; i++) {
        const [b0 = 0, i0 = 0] = order[i - 1] ?? [];
        const [b1 = 0, i1 = 0] = order[i] ?? [];
        expect(b1 > b0 || (b1 === b0 && i1 > i0), `run ${run}: order`).toBe(true);
      }
      acked += ackedIds.length;
      unacked += onDisk.length - ackedIds.length;

      // The next process appends after whatever the kill left: sealed, never glued.
      const store = await openStore({ dir });
      await store.append(id, { id: 'after-restart', role: 'user', content: 'resumed' });
      await store.close();
      const { entries, problems } = await (await openStore({ dir })).read(id);
      expect(entries.at(-1)?.id).toBe('after-restart');
      expect(problems.every((p) => p.kind === 'invalid-json'), `run ${run}: ${JSON.stringify(problems)}`).toBe(true);
      expect(problems.length).toBeLessThanOrEqual(1);
    }
    expect(acked).toBeGreaterThan(0);
    console.log(`SIGKILL x${RUNS}: ${acked} acknowledged entries, 0 lost, 0 duplicated; ${unacked} unacknowledged entries also on disk`);
  });
});

describe('several processes', () => {
  it('two processes appending to one session lose nothing and keep each one’s order', async () => {
    const dir = tempDir();
    const file = await sessionIn(dir);
    const results = await Promise.all(['A', 'B'].map((tag) => runChild('appender.mjs', [dir, 's', tag, '400'])));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const store = await openStore({ dir });
    const { entries, problems } = await store.read('s');
    expect(problems).toEqual([]);
    expect(entries).toHaveLength(800);
    for (const tag of ['A', 'B']) {
      const seqs = entries.flatMap((e) => ((e.metadata as { tag?: string } | undefined)?.tag === tag ? [(e.metadata as { seq: number }).seq] : []));
      expect(seqs).toEqual(Array.from({ length: 400 }, (_, n) => n));
    }
    await store.close();
    expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('two processes creating the same id: exactly one succeeds', async () => {
    const dir = tempDir();
    const attempts = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const store = await openStore({ dir });
        try {
          await store.create({ id: 'same' });
          return 'created';
        } catch (err) {
          return (err as { code?: string }).code;
        } finally {
          await store.close();
        }
      }),
    );
    expect(attempts.filter((a) => a === 'created')).toHaveLength(1);
    expect(attempts.filter((a) => a === 'ERR_SESSION_EXISTS')).toHaveLength(3);
  });
});

describe('the built package', () => {
  it('imports by name from dist with its public surface', async () => {
    const result = await runChild('import-package.mjs');
    expect(result.code).toBe(0);
    const names = JSON.parse(result.stdout) as string[];
    expect(names).toEqual(expect.arrayContaining(['openStore', 'SessionStoreError', 'SessionStore', 'ErrorCodes']));
  });
});
