/**
 * Rows C1–C6: real I/O faults. strace injects errors and delays into the session file's system
 * calls only (-P), ulimit produces real short writes (EFBIG) and descriptor exhaustion (EMFILE).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { type ChildResult, runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { duplicates, figure, idsOnDisk, scale, straceWorks } from './matrix.js';

interface Report {
  batch?: number;
  ack?: string[];
  error?: string;
  errno?: string;
  append?: string;
  attempt?: number;
  latencies?: number[];
}

function reports(result: ChildResult): Report[] {
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Report);
}

async function session(): Promise<{ dir: string; file: string }> {
  const dir = tempDir();
  const store = await openStore({ dir });
  await store.create({ id: 's' });
  await store.close();
  return { dir, file: path.join(dir, 's.jsonl') };
}

/** Every line after the header parses: no partial line was left behind by a failed write. */
function partialLines(file: string): number {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line !== '')
    .filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    }).length;
}

function strace(file: string, inject: string, trace: string) {
  return (nodeArgs: string[]): [string, string[]] => ['strace', ['-f', '-qq', '-o', '/dev/null', '-P', file, '-e', `trace=${trace}`, '-e', `inject=${inject}`, process.execPath, ...nodeArgs]];
}

function check(file: string, out: Report[]) {
  const acked = out.flatMap((r) => r.ack ?? []);
  const onDisk = idsOnDisk(file);
  const present = new Set(onDisk);
  return { acked, lost: acked.filter((id) => !present.has(id)).length, dup: duplicates(onDisk), partial: partialLines(file), errors: out.filter((r) => r.error !== undefined) };
}

describe.skipIf(!straceWorks())('C1–C4, C6 injected faults (strace)', () => {
  it('C1 ENOSPC, persistent: flush rejects with ERR_IO, nothing acked is lost, no partial line is left', async () => {
    const { dir, file } = await session();
    const result = await runChild('fault-writer.mjs', [dir, 's', 'flush', '8'], { wrap: strace(file, 'write:error=ENOSPC:when=4+', 'write') });
    const out = reports(result);
    const c = check(file, out);
    expect(result.code).toBe(0);
    expect(c.errors.length).toBeGreaterThan(0);
    expect(c.errors.every((e) => e.error === 'ERR_IO' && e.errno === 'ENOSPC')).toBe(true);
    // After the first failure the session's calls keep rejecting (sticky) until a flush succeeds.
    expect(out.filter((r) => r.append !== undefined).every((r) => r.append === 'ERR_IO')).toBe(true);
    expect([c.lost, c.dup, c.partial]).toEqual([0, 0, 0]);
    expect(result.stderr).toContain('could not flush on exit');
    figure('C1', `ENOSPC persistent (from the 4th write): acked ${c.acked.length}, acked lost ${c.lost}, duplicates ${c.dup}, partial lines ${c.partial}, errors surfaced ${c.errors.length} (all ERR_IO/ENOSPC)`);
  });

  it('C2 ENOSPC / EIO, transient: the retry writes each entry once, no gap', async () => {
    let total = 0;
    for (const errno of ['ENOSPC', 'EIO']) {
      const { dir, file } = await session();
      const result = await runChild('fault-writer.mjs', [dir, 's', 'flush', '8'], { wrap: strace(file, `write:error=${errno}:when=3`, 'write') });
      const out = reports(result);
      const c = check(file, out);
      expect(c.errors).toHaveLength(1);
      expect(c.errors[0]?.errno).toBe(errno);
      expect(c.acked).toHaveLength(24); // the failed batch was retried and acknowledged
      expect(idsOnDisk(file)).toEqual(Array.from({ length: 8 }, (_, b) => [0, 1, 2].map((n) => `b${b}-${n}`)).flat());
      expect([c.lost, c.dup, c.partial]).toEqual([0, 0, 0]);
      total += c.acked.length;
    }
    figure('C2', `ENOSPC and EIO transient (3rd write fails once): acked ${total}, duplicates 0, gaps 0, partial lines 0`);
  });

  it('C4 fsync fails with EIO: sync() rejects every time, never reported as success; data stays written once', async () => {
    const { dir, file } = await session();
    const result = await runChild('fault-writer.mjs', [dir, 's', 'sync', '4'], { wrap: strace(file, 'fdatasync,fsync:error=EIO:when=1+', 'fdatasync,fsync') });
    const out = reports(result);
    const c = check(file, out);
    const syncs = out.filter((r) => r.batch !== undefined && (r.ack !== undefined || r.error !== undefined));
    const falseSuccess = out.filter((r) => r.ack !== undefined).length;
    expect(falseSuccess).toBe(0);
    expect(syncs.length).toBeGreaterThan(0);
    expect(c.errors.every((e) => e.error === 'ERR_IO' && e.errno === 'EIO')).toBe(true);
    expect([c.dup, c.partial]).toEqual([0, 0]);
    // The bytes reached the OS (a flush-level guarantee), once each.
    expect(idsOnDisk(file)).toEqual(Array.from({ length: 4 }, (_, b) => [0, 1, 2].map((n) => `b${b}-${n}`)).flat());
    figure('C4', `fsync EIO on every call: sync() calls ${syncs.length}, reported success ${falseSuccess}, duplicates ${c.dup}, partial lines ${c.partial}`);
  });

  it('C6 slow disk (200 ms per write): flushes stay in order and complete', async () => {
    const { dir, file } = await session();
    const result = await runChild('fault-writer.mjs', [dir, 's', 'flush', String(scale(5, 20))], { wrap: strace(file, 'write:delay_enter=200000', 'write') });
    const out = reports(result);
    const c = check(file, out);
    const latencies = (out.find((r) => r.latencies)?.latencies ?? []).sort((a, b) => a - b);
    expect(idsOnDisk(file)).toEqual(c.acked);
    expect([c.lost, c.dup, c.errors.length]).toEqual([0, 0, 0]);
    const p = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
    figure('C6', `slow disk (+200 ms per write): ${c.acked.length} entries in order, ordering violations 0, flush latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`);
  });
});

describe('C3 and C5 resource limits (ulimit)', () => {
  it('C3 a real short write (ulimit -f, EFBIG): the partial line is removed, the error surfaced, the process lives on', async () => {
    const { dir, file } = await session();
    // 64 KiB file-size limit; batches of ~3 × 6 KB cross it mid-write.
    const result = await runChild('fault-writer.mjs', [dir, 's', 'flush', '6', '6000'], {
      wrap: (nodeArgs) => ['bash', ['-c', `ulimit -f 64; exec "${process.execPath}" "$@"`, 'bash', ...nodeArgs]],
    });
    const out = reports(result);
    const c = check(file, out);
    expect(result.code).toBe(0);
    expect(c.errors.some((e) => e.errno === 'EFBIG')).toBe(true);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(64 * 1024);
    expect([c.lost, c.dup, c.partial]).toEqual([0, 0, 0]);
    expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    figure('C3', `short write at the file-size limit (EFBIG): acked ${c.acked.length}, acked lost ${c.lost}, torn lines left ${c.partial}, process alive yes`);
  });

  it('C5 EMFILE under a 64-descriptor limit (prlimit) with 500 sessions appended concurrently', async () => {
    const dir = tempDir();
    const result = await runChild('many-sessions.mjs', [dir, '500', '64']);
    expect(result.code, result.stderr).toBe(0);
    const { acked, failed } = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as { acked: number; failed: string[] };
    let lost = 0;
    for (let n = 0; n < 500; n++) lost += 10 - idsOnDisk(path.join(dir, `m${n}.jsonl`)).length;
    expect(lost).toBe(0);
    figure('C5', `RLIMIT_NOFILE 64, 500 sessions × 10 entries appended at once: acknowledged ${acked}, lost 0, calls failed with EMFILE ${failed.length} (retried)`);
  });
});

describe.skipIf(!straceWorks())('C7 permission and read-only errors (strace)', () => {
  it.each([
    ['openat', 'EACCES'],
    ['write', 'EROFS'],
  ])('%s fails with %s: a typed error, nothing acknowledged lost, the session still readable', async (syscall, errno) => {
    const { dir, file } = await session();
    const result = await runChild('fault-writer.mjs', [dir, 's', 'flush', '4'], { wrap: strace(file, `${syscall}:error=${errno}:when=3+`, syscall) });
    const out = reports(result);
    const c = check(file, out);
    expect(result.code).toBe(0);
    expect(c.errors.length).toBeGreaterThan(0);
    expect(c.errors.every((e) => e.error === 'ERR_IO' && e.errno === errno)).toBe(true);
    expect([c.lost, c.dup, c.partial]).toEqual([0, 0, 0]);
    const store = await openStore({ dir });
    expect((await store.read('s')).entries.map((e) => e.id)).toEqual(c.acked);
    await store.close();
    figure(`C7 ${errno}`, `${syscall} fails with ${errno} from the 3rd call: acked ${c.acked.length}, acked lost 0, crashes 0, errors typed ERR_IO/${errno} ${c.errors.length}/${c.errors.length}, session still readable`);
  });
});
