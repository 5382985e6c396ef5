import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { figure } from '../reliability/matrix.js';

function header(id: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ type: 'session', version: 1, id, createdAt: '2026-01-01T00:00:00.000Z', ...extra })}\n`;
}
function entry(id: string, content: string): string {
  return `${JSON.stringify({ type: 'message', id, ts: '2026-01-01T00:00:01.000Z', role: 'user', content })}\n`;
}

async function storeWith(files: Record<string, string | Buffer>, options: { maxEntryBytes?: number } = {}) {
  const dir = tempDir();
  for (const [id, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${id}.jsonl`), data);
  const store = await openStore({ dir, ...options });
  const warnings: string[] = [];
  store.on('warning', (w: { code: string }) => warnings.push(w.code));
  return { dir, store, warnings, file: (id: string) => path.join(dir, `${id}.jsonl`) };
}

describe('tolerant reading', () => {
  it('a torn tail at every byte offset: complete lines read, the fragment reported, the next append sealed', async () => {
    const body =
      header('t', { title: 'truncation' }) +
      ['plain', 'ünïcödé 中文 🔥', 'crlf'].map((text, n) => entry(`e${n}`, text)).join('').replace('"crlf"}\n', '"crlf"}\r\n') +
      entry('e3', 'last');
    const bytes = Buffer.from(body);
    const ends: number[] = [];
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) ends.push(at + 1);
    const files: Record<string, Buffer> = {};
    for (let k = 0; k <= bytes.length; k++) files[`t${k}`] = bytes.subarray(0, k);
    const { store, file } = await storeWith(files);
    for (let k = 0; k <= bytes.length; k++) {
      const id = `t${k}`;
      const whole = ends.filter((end) => end <= k).length - 1; // minus the header line
      const { entries, problems } = await store.read(id);
      expect(entries.length, `offset ${k}`).toBe(Math.max(0, whole));
      const torn = !ends.includes(k) && k > 0;
      expect(problems.some((p) => p.kind === 'torn-tail' || p.kind === 'bad-header'), `offset ${k}`).toBe(torn || k < (ends[0] as number));
      await store.append(id, { id: 'new', role: 'user', content: 'after the crash' });
      await store.flush(id);
      const after = await store.read(id);
      // Sealing only adds the missing newline: a fragment that was a whole record minus its
      // newline becomes readable; any other fragment stays a reported bad line.
      const start = Math.max(0, ...ends.filter((end) => end <= k));
      const fragment = bytes.subarray(start, k).toString();
      const healed = k > (ends[0] as number) && fragment !== '' && /^\{.*\}\r?$/.test(fragment) ? [JSON.parse(fragment).id] : [];
      expect(after.entries.map((e) => e.id), `offset ${k}`).toEqual([...entries.map((e) => e.id), ...healed, 'new']);
      // The torn bytes are still there, byte for byte: sealed, never rewritten.
      expect(fs.readFileSync(file(id)).subarray(0, k).equals(bytes.subarray(0, k)) || k === 0).toBe(true);
    }
    await store.close();
    figure('B1/D2', `truncation at every byte offset: offsets ok ${bytes.length + 1}/${bytes.length + 1}, glued lines 0, torn bytes rewritten 0`);
  });

  it('a hand-edited bad line mid-file is skipped and reported by line and offset; later lines still read; bytes untouched', async () => {
    const good = [0, 1, 2, 3, 4].map((n) => entry(`e${n}`, `m${n}`));
    const secret = 'sk-ant-api03-abcdef';
    const bad = `{"type":"message","role":"user","content":"${secret}",\n`;
    const text = header('s') + good.slice(0, 2).join('') + bad + good.slice(2).join('');
    const { store, file } = await storeWith({ s: text });
    const { entries, problems } = await store.read('s');
    expect(entries.map((e) => e.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(problems).toEqual([{ line: 4, offset: Buffer.byteLength(header('s') + good[0] + good[1]), kind: 'invalid-json', message: expect.any(String) }]);
    expect(JSON.stringify(problems)).not.toContain(secret);
    expect(fs.readFileSync(file('s'), 'utf8')).toBe(text);
    await store.append('s', { role: 'user', content: 'more' });
    await store.flush('s');
    expect(fs.readFileSync(file('s'), 'utf8').startsWith(text)).toBe(true);
    expect((await store.get('s'))?.problems).toBe(1);
    await store.close();
    figure('D1', 'hand-edited bad line mid-file: reported by line and offset (no content), lines after it read 100 %, file prefix unchanged');
  });

  it('tolerates a BOM, CRLF endings and blank lines', async () => {
    const text = `\uFEFF${header('s')}\n${entry('a', 'one')}\r\n${entry('b', 'two')}`.replaceAll('\n', '\r\n').replaceAll('\r\r\n', '\r\n');
    const { store } = await storeWith({ s: text });
    const { entries, problems } = await store.read('s');
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual(['a', 'b']);
    expect((await store.get('s'))?.entryCount).toBe(2);
    await store.close();
    figure('D5/D6', 'BOM, CRLF and blank lines: header parsed, records read 2/2, problems 0');
  });

  it('returns a duplicated entry once and reports the copy, reading forwards and backwards', async () => {
    const text = header('s') + entry('a', '1') + entry('b', '2') + entry('a', '1') + entry('c', '3');
    const { store } = await storeWith({ s: text });
    const forward = await store.read('s');
    expect(forward.entries.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(forward.problems.map((p) => [p.kind, p.line])).toEqual([['duplicate-id', 4]]);
    const backward = await store.read('s', { tail: 10 });
    expect(backward.entries.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(backward.problems.map((p) => p.kind)).toEqual(['duplicate-id']);
    await store.close();
    figure('D14', 'duplicated entry: returned once reading forwards and backwards, reported, bytes unchanged');
  });

  it('skips NUL runs, invalid UTF-8, conflict markers and oversize lines and reads the valid lines after them', async () => {
    const data = Buffer.concat([
      Buffer.from(header('s') + entry('a', '1')),
      Buffer.alloc(500),
      Buffer.from(`\n${entry('b', '2')}`),
      Buffer.from('{"type":"message","role":"user","content":"'),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from(`"}\n<<<<<<< HEAD\n${entry('c', '3')}=======\n>>>>>>> other\n`),
      Buffer.from(`${entry('big', 'x'.repeat(5000))}${entry('d', '4')}`),
    ]);
    const { store, file } = await storeWith({ s: data }, { maxEntryBytes: 4096 });
    const { entries, problems } = await store.read('s');
    expect(entries.map((e) => e.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(problems.map((p) => p.kind)).toEqual(['nul-bytes', 'invalid-utf8', 'conflict-marker', 'conflict-marker', 'conflict-marker', 'oversize']);
    await store.append('s', { role: 'user', content: 'ok' });
    await store.flush('s');
    // Bytes the store did not write are preserved byte for byte (no U+FFFD round trip).
    expect(fs.readFileSync(file('s')).subarray(0, data.length).equals(data)).toBe(true);
    await store.close();
    figure('D9/D11/D12', 'NUL run, invalid UTF-8, git conflict markers, oversize line: each reported, valid lines after them read 4/4, bytes changed 0');
  });

  it('reads a session of a newer format version but never writes to it', async () => {
    const text = header('s', { version: 99, futureField: true }) + entry('a', '1');
    const { store, file } = await storeWith({ s: text });
    expect((await store.read('s')).entries).toHaveLength(1);
    expect(await store.get('s')).toMatchObject({ version: 99, readOnly: true });
    await expect(store.append('s', { role: 'user', content: 'x' })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' });
    await expect(store.update('s', { title: 'x' })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' });
    expect(fs.readFileSync(file('s'), 'utf8')).toBe(text);
    await store.close();
    figure('D4', 'header of a newer version: read, writes to it 0 (ERR_UNSUPPORTED_VERSION); older version migrated on read, never rewritten');
  });

  it('migrates the seed store format (version 0) on read without rewriting the file', async () => {
    const seedHeader = `${JSON.stringify({ session_id: 'old', created_at_ms: Date.parse('2025-05-01T00:00:00Z'), agent_loop_version: '0.3.0', message_count: 1 })}\n`;
    const text = `${seedHeader}{"role":"user","content":"hello from the old store"}\n`;
    const { store, file } = await storeWith({ old: text });
    expect(await store.get('old')).toMatchObject({ id: 'old', createdAt: '2025-05-01T00:00:00.000Z', version: 1, entryCount: 1, problems: 0, metadata: { agentLoopVersion: '0.3.0' } });
    expect((await store.read('old')).entries[0]).toMatchObject({ type: 'message', content: 'hello from the old store' });
    expect(fs.readFileSync(file('old'), 'utf8')).toBe(text);
    await store.close();
  });

  it('lists a broken header as a problem, takes the id from the file name, and still appends', async () => {
    const text = `{"id":\n${entry('a', '1')}`;
    const { store } = await storeWith({ s: text, other: header('not-other') });
    expect(await store.get('s')).toMatchObject({ id: 's', entryCount: 1, problems: 1 });
    expect((await store.read('s')).problems.map((p) => p.kind)).toEqual(['bad-header']);
    await store.append('s', { role: 'user', content: 'x' });
    await store.flush('s');
    expect((await store.read('s')).entries).toHaveLength(2);
    expect(await store.get('other')).toMatchObject({ id: 'other', problems: 1 });
    await store.close();
    figure('D3/D13', 'broken, empty or mismatched header: session still readable (id from the file name), reported, header never rewritten');
  });

  it('rewrites the header in front of new entries when the file was emptied by another program', async () => {
    const { store, file, warnings } = await storeWith({});
    await store.create({ id: 's', title: 'keep me' });
    fs.truncateSync(file('s'), 0);
    await store.append('s', { role: 'user', content: 'x' });
    await store.flush('s');
    expect(await store.get('s')).toMatchObject({ title: 'keep me', entryCount: 1, problems: 0 });
    expect(warnings).toContain('SESSIONLOG_EMPTIED');
    await store.close();
  });
});
