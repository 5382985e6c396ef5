import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs the durable.mjs child under strace and returns the syscall lines of the trace. */
async function trace(durability: 'buffered' | 'fsync', syscalls: string): Promise<{ lines: string[]; dir: string }> {
  const dir = tempDir();
  const log = path.join(dir, 'strace.log');
  const store = path.join(dir, 'store');
  const result = await runChild('durable.mjs', [store, durability], {
    wrap: (nodeArgs) => ['strace', ['-f', '-qq', '-y', '-o', log, '-e', `trace=${syscalls}`, process.execPath, ...nodeArgs]],
  });
  expect(result.code, result.stderr).toBe(0);
  return { lines: fs.readFileSync(log, 'utf8').split('\n'), dir: store };
}

describe.skipIf(!hasStrace())('system calls (strace)', () => {
  it('writes each flush of 20 entries with exactly one write on the session file', async () => {
    const { lines } = await trace('buffered', 'write,writev,pwrite64');
    const writes = lines.filter((line) => /^\d+\s+(write|writev|pwrite64)\(\d+<[^>]*traced\.jsonl>/.test(line));
    // One for the header at create, then one per flush.
    expect(writes).toHaveLength(4);
  });

  it("durability 'fsync' fsyncs every flush, and the file and folder on create; 'buffered' never does", async () => {
    const durable = await trace('fsync', 'fsync,fdatasync');
    const onFile = durable.lines.filter((line) => /(fsync|fdatasync)\(\d+<[^>]*traced\.jsonl>/.test(line));
    const onDir = durable.lines.filter((line) => new RegExp(`fsync\\(\\d+<${durable.dir}>`).test(line));
    expect(onFile.length).toBeGreaterThanOrEqual(4); // create + 3 flushes
    expect(onDir.length).toBeGreaterThanOrEqual(1);
    const buffered = await trace('buffered', 'fsync,fdatasync');
    expect(buffered.lines.filter((line) => /traced\.jsonl/.test(line))).toEqual([]);
  });
});
