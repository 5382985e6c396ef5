// Decisions of issue 10, each tested: buffered entries of a session another program deleted or
// moved, a store folder that is a symlink, and recovery files piling up after many repairs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type WarningEvent } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('entries buffered for a session whose file another program removed', () => {
  for (const how of ['deleted', 'moved'] as const) {
    it(`${how}: close() resolves, the entries are kept in the trash and a warning says where`, async () => {
      const dir = tempDir();
      const store = await openStore({ dir, flush: { maxEntries: 1000, intervalMs: 60_000 } });
      const warnings: WarningEvent[] = [];
      store.on('warning', (event) => warnings.push(event));
      await store.create({ id: 's' });
      await store.append('s', [{ role: 'user', content: 'one' }, { role: 'assistant', content: 'two' }]);
      const file = path.join(dir, 's.jsonl');
      if (how === 'deleted') fs.unlinkSync(file);
      else fs.renameSync(file, path.join(tempDir(), 's.jsonl'));
      await expect(store.close()).resolves.toBeUndefined();
      const warning = warnings.find((event) => event.code === 'SESSIONLOG_ORPHANED');
      expect(warning?.message).toMatch(/2 entries were buffered/);
      const kept = fs.readdirSync(path.join(dir, '.trash'));
      expect(kept).toHaveLength(1);
      expect(warning?.message).toContain(kept[0]);
      // A session file of its own: the header, then the two entries.
      const again = await openStore({ dir: path.join(dir, '.trash') });
      const { entries } = await again.read(kept[0]!.replace(/\.jsonl$/, ''));
      expect(entries.map((entry) => entry.content)).toEqual(['one', 'two']);
      await again.close();
      // The session itself is not brought back: whoever removed it meant it.
      expect(fs.existsSync(file)).toBe(false);
    });
  }

  it('flush() still rejects with ERR_SESSION_NOT_FOUND, so an app that flushes hears of it', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, flush: { maxEntries: 1000, intervalMs: 60_000 } });
    store.on('warning', () => undefined);
    await store.create({ id: 's' });
    await store.append('s', { role: 'user', content: 'one' });
    fs.unlinkSync(path.join(dir, 's.jsonl'));
    await expect(store.flush('s')).rejects.toMatchObject({ code: 'ERR_SESSION_NOT_FOUND' });
    await store.close();
  });
});

describe('a store folder that is a symlink', () => {
  it('is followed once at open: the store works on the real folder', async () => {
    const real = tempDir();
    const link = path.join(tempDir(), 'sessions');
    fs.symlinkSync(real, link);
    const store = await openStore({ dir: link });
    expect(store.dir).toBe(fs.realpathSync(real));
    await store.create({ id: 's' });
    // Swapping the link while the store is open does not redirect its writes.
    const elsewhere = tempDir();
    fs.unlinkSync(link);
    fs.symlinkSync(elsewhere, link);
    await store.append('s', { role: 'user', content: 'still in the real folder' });
    await store.flush('s');
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect((await store.read('s')).entries).toHaveLength(1);
    await store.close();
  });

  it('a file in the way is "not a folder", not EEXIST', async () => {
    const file = path.join(tempDir(), 'plain');
    fs.writeFileSync(file, 'x');
    await expect(openStore({ dir: file })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/is not a folder/) });
  });
});

describe('recovery files after many repairs', () => {
  it('are one doctor finding per session, with one command that moves them all to the trash', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, now: (() => { let t = Date.parse('2026-11-02T10:00:00Z'); return () => (t += 1000); })() });
    await store.create({ id: 's' });
    for (let n = 0; n < 5; n++) {
      fs.appendFileSync(path.join(dir, 's.jsonl'), `{"broken": ${n},\n`);
      expect((await store.repair('s')).repaired).toBe(true);
    }
    const findings = (await store.check()).findings.filter((finding) => finding.kind === 'recovery-file');
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toMatch(/^5 recovery files/);
    expect(findings[0]?.fix).toContain('.trash');
    await store.close();
  });
});
