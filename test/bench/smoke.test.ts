/**
 * Smoke run of the benchmark suite: tiny sizes, one round, no timing asserted. It proves that
 * every case runs on the built package and that the report has every row of the target table.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('a quick run of the bench runs every case and reports every row', async () => {
  const { BEGIN, END, ROWS } = (await import(path.join(ROOT, 'bench/lib/report.mjs'))) as {
    BEGIN: string;
    END: string;
    ROWS: { id: string; target: string }[];
  };
  const dir = tempDir('sessionlog-bench-smoke-');
  const out = path.join(dir, 'performance.md');
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.mjs', '--quick', '--dir', dir, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.stderr).not.toMatch(/failed \(/);
  expect(run.status).toBe(0);
  const written = fs.readFileSync(out, 'utf8');
  expect(written).toContain(BEGIN);
  expect(written).toContain(END);
  const table = written.split('\n').filter((line) => /^\| \d+ \|/.test(line));
  expect(table).toHaveLength(ROWS.length);
  ROWS.forEach((row, i) => {
    expect(table[i]).toContain(row.target);
    // Every row is measured or names where it is measured.
    expect(table[i]).toMatch(/ (pass|\*\*miss\*\*|–) \|$/);
  });
  for (const peer of ['appendFileSync', 'FileSessionStore', 'write-file-atomic', 'better-sqlite3', 'sonic-boom']) {
    expect(written).toContain(peer);
  }
  // The temp folder is cleaned: only the report is left.
  expect(fs.readdirSync(dir)).toEqual(['performance.md']);
}, 150_000);

test('a quick run of the embeddings and artifacts bench reports every row and agrees with its floor', () => {
  const run = spawnSync(process.execPath, ['bench/embeddings.mjs', '3000', 'quick'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(run.stderr).not.toContain('disagrees');
  const rows = run.stdout.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| figure'));
  expect(rows.map((line) => line.split(' | ')[0])).toEqual(expect.arrayContaining(['| load in a fresh store (first call)', '| artifact put 4 MB (a file stream, hashed as written)', '| usearch HNSW: search top-10, recall@10']));
  expect(rows.find((line) => line.includes('exact'))).toMatch(/vs floor/);
});
