/** store.search(): the raw-byte scan agrees with a line-by-line reference, across chunk boundaries. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type SearchHit } from '../../src/index.js';
import { rawSafe, searchableText } from '../../src/search/search.js';
import { tempDir } from '../helpers/tmp.js';
import { rng } from '../helpers/transcripts.js';

/** A session file of about `bytes` with lines of 10 B to 300 kB, some holding `needle`, one of 3 MB. */
function writeFile(dir: string, id: string, bytes: number, needle: string, seed: number): void {
  const random = rng(seed);
  const lines = [JSON.stringify({ type: 'session', version: 1, id, createdAt: '2026-01-01T00:00:00.000Z', title: `T ${id}` })];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const len = random() < 0.1 ? Math.floor(random() * 300_000) : Math.floor(random() * 2000);
    let text = 'ж'.repeat(Math.floor(len / 4)) + 'x'.repeat(len - Math.floor(len / 4) * 2);
    if (random() < 0.3) {
      const at = Math.floor(random() * text.length);
      text = `${text.slice(0, at)}${needle}${text.slice(at)}`;
    }
    if (i === 40) text = `${'y'.repeat(3_000_000)}${needle}`;
    const line = JSON.stringify({ type: 'message', id: `${id}-${i}`, role: i % 2 === 0 ? 'user' : 'tool', content: text });
    lines.push(line);
    size += line.length;
  }
  fs.writeFileSync(path.join(dir, `${id}.jsonl`), `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** The reference: every line decoded, searched in its text. */
function reference(file: string, needle: string): { line: number; entryId: string }[] {
  const out: { line: number; entryId: string }[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (i === 0 || text === '') return;
      const entry = JSON.parse(text) as Record<string, unknown>;
      if (searchableText(entry).some((s) => s.includes(needle))) out.push({ line: i + 1, entryId: entry['id'] as string });
    });
  return out;
}

describe('search', () => {
  it('finds exactly the lines a line-by-line search finds, with their numbers, over many chunks', async () => {
    const dir = tempDir();
    const needle = 'nee"dle\\ 針';
    writeFile(dir, 'a', 6_000_000, needle, 1);
    writeFile(dir, 'b', 2_500_000, needle, 2);
    const store = await openStore({ dir });
    for (const id of ['a', 'b']) {
      const hits: SearchHit[] = [];
      for await (const hit of store.search(needle, { sessions: [id] })) hits.push(hit);
      expect(hits.map((h) => ({ line: h.line, entryId: h.entryId as string }))).toEqual(reference(path.join(dir, `${id}.jsonl`), needle));
      expect(hits.length).toBeGreaterThan(10);
      expect(hits.every((h) => h.snippet.slice(h.match[0], h.match[1]) === needle && h.title === `T ${id}`)).toBe(true);
      // The same lines by regex (every line decoded) and case-insensitively.
      const byRegex: number[] = [];
      for await (const hit of store.search('nee"dle\\\\ 針', { sessions: [id], regex: true })) byRegex.push(hit.line);
      expect(byRegex).toEqual(hits.map((h) => h.line));
    }
    await store.close();
  });

  it('reports progress, stops at --limit and on abort', async () => {
    const dir = tempDir();
    writeFile(dir, 'a', 3_000_000, 'hit', 3);
    const store = await openStore({ dir });
    const seen: number[] = [];
    let count = 0;
    for await (const hit of store.search('hit', { limit: 3, onProgress: (p) => seen.push(p.bytesDone) })) {
      expect(hit.session).toBe('a');
      count++;
    }
    expect(count).toBe(3);
    expect(seen.length).toBeGreaterThan(0);
    const ac = new AbortController();
    ac.abort();
    let after = 0;
    for await (const hit of store.search('hit', { signal: ac.signal })) after += hit.line;
    expect(after).toBe(0);
    await store.close();
  });

  it('lets timers and an abort through during a long search without hits', async () => {
    const dir = tempDir();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) writeFile(dir, id, 6_000_000, 'ordinary', 6);
    const store = await openStore({ dir });
    const ac = new AbortController();
    let last = { bytes: 0, bytesDone: 0 };
    let armed = false;
    const onProgress = (p: { bytes: number; bytesDone: number }): void => {
      last = p;
      // Armed once reading has begun; the abort comes from a timer, which fires only if the search
      // lets the event loop run (a timer set before the search could fire before it reads at all).
      if (!armed) setTimeout(() => ac.abort(), 0);
      armed = true;
    };
    for await (const hit of store.search('no such needle', { signal: ac.signal, onProgress })) expect(hit).toBeUndefined();
    expect(last.bytes).toBeGreaterThan(35_000_000);
    // The timer fires at the second yield at the latest (one every 8 MiB): well before the end.
    expect(last.bytesDone).toBeLessThan(last.bytes - 10_000_000);
    await store.close();
  });

  it('limitPerSession stops reading each session at its nth hit and still reports every byte done', async () => {
    const dir = tempDir();
    writeFile(dir, 'a', 3_000_000, 'hit', 4);
    writeFile(dir, 'b', 2_000_000, 'hit', 5);
    const store = await openStore({ dir });
    const progress: { bytes: number; bytesDone: number }[] = [];
    const found: SearchHit[] = [];
    for await (const hit of store.search('hit', { limitPerSession: 2, onProgress: (p) => progress.push(p) })) found.push(hit);
    expect(found.map((h) => h.session).sort()).toEqual(['a', 'a', 'b', 'b']);
    const last = progress.at(-1);
    expect(last?.bytesDone).toBe(last?.bytes);
    for (const bad of [0, 1.5, -1]) {
      await expect(store.search('hit', { limitPerSession: bad }).next()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      await expect(store.search('hit', { limit: bad }).next()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
    await store.close();
  });

  it('scans raw bytes first only for regexes whose matches JSON never escapes', () => {
    const cases: [string, boolean][] = [
      ['retrying request in [0-9]+ms', true],
      ['ERR_[A-Z]+', true],
      ['(?:ab)+c', true],
      ['\\d{3}-\\d{4}', true],
      ['a.b', false],
      ['foo\\sbar', false],
      ['^foo', false],
      ['[^x]', false],
      ['x[ -~]', false],
      ['\\bword', false],
      ['a"b', false],
      ['(?=a)', false],
      ['\\\\', false],
      ['内存', false],
    ];
    expect(cases.filter(([source, safe]) => rawSafe(source) !== safe)).toEqual([]);
  });
});
