import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { runChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { figure, idsOnDisk } from '../reliability/matrix.js';

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
    figure(`K2/K3 ${mode}`, `buffered entries written at exit 3/3, exit code ${result.code} as the program chose`);
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
    figure(`K1 ${signal}`, 'buffered entries written 3/3, process still ended by the signal');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s with signal-exit (v3 and v4) listening too: flushed, and the process still dies of it', async (signal) => {
    const dir = tempDir();
    const file = await sessionIn(dir);
    const child = startChild('exit-paths.mjs', [dir, 's', 'wait', '022', 'signal-exit']);
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
    expect(names).toEqual(expect.arrayContaining(['openStore', 'SessionStoreError', 'FileSessionStore', 'ErrorCodes']));
  });
});
