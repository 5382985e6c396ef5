/** repair(): what it removes, what it keeps, and that concurrent appends survive it. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

function contentsOf(entries: readonly unknown[]): string[] {
  return entries.map((e) => String((e as { content: unknown }).content));
}

describe('repair', () => {
  it('removes every kind of unreadable line, keeps their bytes exactly, and keeps the rest verbatim', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, maxEntryBytes: 1024 });
    await store.create({ id: 's', title: 'T' });
    await store.append('s', [{ id: 'e1', role: 'user', content: 'one' }]);
    await store.flush('s');
    const file = path.join(dir, 's.jsonl');
    const bad = [
      '{"id":"x","role":"user",', // invalid JSON
      '[1,2]', // not an object
      `{"id":"big","role":"user","content":"${'z'.repeat(2000)}"}`, // oversize for maxEntryBytes 1024
      '{"id":"e1","role":"user","content":"copy"}', // duplicate id
      '{"id":"r","role":"robot","content":"?"}', // schema
      '<<<<<<< HEAD', // conflict marker
    ];
    fs.appendFileSync(file, `${bad.join('\n')}\n{"id":"e2","role":"user","content":"two\\r"}\r\n\n`);
    fs.appendFileSync(file, '{"id":"torn","role":"us');
    const before = fs.readFileSync(file);
    const report = await store.repair('s');
    expect(report.removed.map((r) => r.kind)).toEqual(['invalid-json', 'not-an-object', 'oversize', 'duplicate-id', 'schema', 'conflict-marker', 'torn-tail']);
    expect(report.removed.map((r) => r.line)).toEqual([3, 4, 5, 6, 7, 8, 11]);
    const recovered = fs.readFileSync(report.recoveryFile as string, 'utf8');
    expect(recovered).toBe(`${bad.join('\n')}\n{"id":"torn","role":"us`);
    const after = fs.readFileSync(file);
    expect(after.length + Buffer.byteLength(recovered)).toBe(before.length);
    // Kept lines are byte for byte what they were (CRLF and the blank line included).
    expect(after.toString()).toBe(`${before.toString().split('\n').slice(0, 2).join('\n')}\n{"id":"e2","role":"user","content":"two\\r"}\r\n\n`);
    expect((await store.read('s')).problems).toEqual([]);
    expect((await store.read('s')).entries.map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await store.close();
  });

  it('writes a fresh header when line 1 is unusable, keeping the old line', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'h.jsonl');
    fs.writeFileSync(file, 'garbage header\n{"id":"e1","ts":"2026-01-02T03:04:05.000Z","role":"user","content":"hi"}\n', { mode: 0o600 });
    const store = await openStore({ dir });
    const report = await store.repair('h');
    expect(report).toMatchObject({ repaired: true, headerRewritten: true, removed: [{ line: 1, kind: 'bad-header' }] });
    const header = JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[0] as string) as Record<string, unknown>;
    expect(header).toMatchObject({ type: 'session', id: 'h', createdAt: '2026-01-02T03:04:05.000Z' });
    expect(fs.readFileSync(report.recoveryFile as string, 'utf8')).toBe('garbage header\n');
    expect((await store.get('h'))?.problems).toBe(0);
    await store.close();
  });

  it('never loses entries this process appends while it runs', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, flush: { maxEntries: 3, intervalMs: 1 } });
    await store.create({ id: 's' });
    const file = path.join(dir, 's.jsonl');
    const appended: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let n = 0; !stop || n < 50; n++) {
        await store.append('s', { role: 'user', content: `m${n}` });
        appended.push(`m${n}`);
        if (n % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let round = 0; round < 20; round++) {
      await store.flush('s');
      fs.appendFileSync(file, 'not json\n');
      const report = await store.repair('s');
      expect(report.repaired).toBe(true);
    }
    stop = true;
    await writer;
    await store.flush('s');
    const { entries, problems } = await store.read('s');
    expect(problems).toEqual([]);
    expect(contentsOf(entries)).toEqual(appended);
    await store.close();
  });

  it('keeps entries another process appends while it runs', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    const file = path.join(dir, 's.jsonl');
    const count = 3000;
    const child = startChild('appender.mjs', [dir, 's', 'w', String(count)]);
    let repairs = 0;
    while (child.process.exitCode === null && repairs < 200) {
      fs.appendFileSync(file, 'not json\n');
      try {
        if ((await store.repair('s')).repaired) repairs++;
      } catch (err) {
        // The other writer can keep the file growing; repair then asks to be run again.
        if ((err as { code?: string }).code !== 'ERR_LOCKED') throw err;
      }
    }
    const result = await child.done;
    expect(result.code).toBe(0);
    await store.repair('s');
    const { entries, problems } = await store.read('s');
    expect(problems).toEqual([]);
    const seqs = entries.map((e) => ((e as { metadata?: { seq?: number } }).metadata?.seq ?? -1));
    expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(repairs).toBeGreaterThan(0);
    await store.close();
  });

  it('refuses a session of a newer format and leaves no temp file', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'n.jsonl'), '{"type":"session","version":99,"id":"n","createdAt":"2026-01-01T00:00:00Z"}\nbad\n', { mode: 0o600 });
    const store = await openStore({ dir });
    await expect(store.repair('n')).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_VERSION' });
    expect(fs.readdirSync(dir).sort()).toEqual(['n.jsonl']);
    await store.close();
  });
});
