/** Rows H1 and H8: several processes writing one session, and racing to create one id. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { runChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { figure, scale } from './matrix.js';

const WRITERS = 8;

describe('H1 eight processes appending to one session, 100 B – 2 MB entries', () => {
  const places: [string, string][] = [['TMPDIR', os.tmpdir()], ...(fs.existsSync('/dev/shm') ? [['/dev/shm (tmpfs)', '/dev/shm'] as [string, string]] : [])];

  it.each(places)('on %s: no torn or interleaved line, nothing lost, each writer in order', async (name, base) => {
    const dir = fs.mkdtempSync(path.join(base, 'sessionlog-h1-'));
    try {
      const count = scale(25, 150);
      const setup = await openStore({ dir });
      await setup.create({ id: 's' });
      await setup.close();
      const tags = 'ABCDEFGH'.split('').slice(0, WRITERS);
      const results = await Promise.all(tags.map((tag, n) => runChild('big-appender.mjs', [dir, 's', tag, String(count), String(n + 1)])));
      expect(results.map((r) => r.code)).toEqual(tags.map(() => 0));
      const store = await openStore({ dir });
      const { entries, problems } = await store.read('s');
      await store.close();
      expect(problems).toEqual([]);
      let corrupt = 0;
      for (const entry of entries) {
        const { tag } = entry.metadata as { tag: string };
        if (typeof entry.content !== 'string' || entry.content.replaceAll(tag, '') !== '') corrupt++;
      }
      for (const tag of tags) {
        const seqs = entries.filter((e) => (e.metadata as { tag: string }).tag === tag).map((e) => (e.metadata as { seq: number }).seq);
        expect(seqs, tag).toEqual(Array.from({ length: count }, (_, n) => n));
      }
      expect(corrupt).toBe(0);
      const bytes = fs.statSync(path.join(dir, 's.jsonl')).size;
      figure(`H1 ${name}`, `${WRITERS} processes × ${count} entries (100 B–2 MB, ${(bytes / 1048576).toFixed(0)} MiB): corrupt lines 0, lost 0, order violations 0`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('H8 two processes create the same new id', () => {
  const races = scale(10, 100);

  it(`exactly one wins, every time (${races} races)`, async () => {
    const dir = tempDir();
    let doubles = 0;
    for (let race = 0; race < races; race++) {
      const start = path.join(dir, `go-${race}`);
      const children = [0, 1].map(() => startChild('creator.mjs', [dir, `same-${race}`, start]));
      fs.writeFileSync(start, '');
      const outcomes = (await Promise.all(children.map((child) => child.done))).map((r) => r.stdout.trim());
      expect(outcomes.sort()).toEqual(['ERR_SESSION_EXISTS', 'created']);
      const header = fs.readFileSync(path.join(dir, `same-${race}.jsonl`), 'utf8');
      if (header.split('\n').filter(Boolean).length !== 1) doubles++;
    }
    expect(doubles).toBe(0);
    figure('H8', `create race between two processes: ${races} races, exactly one winner ${races}/${races}, double headers ${doubles}`);
  });
});
