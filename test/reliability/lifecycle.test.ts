/** Rows K5 and K6 (K1–K4 are in test/core/process.test.ts): abort, and close during a flush. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { figure, idsOnDisk, straceWorks } from './matrix.js';

describe('K6 close semantics', () => {
  it('close() waits for a flush in flight, returns the same promise twice, and later calls fail with ERR_CLOSED', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, durability: 'fsync' });
    await store.create({ id: 's' });
    await store.append('s', Array.from({ length: 50 }, (_, n) => ({ id: `c${n}`, role: 'user' as const, content: 'x'.repeat(10_000) })));
    const flushing = store.flush('s');
    const closing = store.close();
    expect(store.close()).toBe(closing);
    await Promise.all([flushing, closing]);
    expect(idsOnDisk(path.join(dir, 's.jsonl'))).toHaveLength(50);
    for (const call of [store.append('s', { role: 'user', content: 'late' }), store.read('s'), store.flush(), store.create()]) {
      await expect(call).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    }
    figure('K6', 'close during a flush: waits for it, double close returns the same promise, untyped errors after close 0');
  });

  it.skipIf(!straceWorks())('close() during a slow fsync waits for it', async () => {
    const dir = tempDir();
    const setup = await openStore({ dir });
    await setup.create({ id: 's' });
    await setup.close();
    const file = path.join(dir, 's.jsonl');
    const result = await runChild('fault-writer.mjs', [dir, 's', 'sync', '2'], {
      wrap: (nodeArgs) => ['strace', ['-f', '-qq', '-o', '/dev/null', '-P', file, '-e', 'trace=fdatasync', '-e', 'inject=fdatasync:delay_enter=300000', process.execPath, ...nodeArgs]],
    });
    expect(result.code).toBe(0);
    expect(idsOnDisk(file)).toHaveLength(6);
  });
});

describe('K5 process.abort()', () => {
  it('loses nothing that flush() acknowledged', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    await store.close();
    const result = await runChild('exit-paths.mjs', [dir, 's', 'abort']);
    expect(result.signal).toBe('SIGABRT');
    const ids = idsOnDisk(path.join(dir, 's.jsonl'));
    expect(ids).toHaveLength(3);
    figure('K5', 'process.abort(): flush()-acknowledged entries lost 0 of 3; the one buffered entry is lost, as with SIGKILL (bounded by the flush thresholds)');
  });
});
