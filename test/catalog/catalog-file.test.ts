import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openStore, type SessionStore, type WarningEvent } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { collectWarnings, INDEX, listAll, populated, truth } from './fixtures.js';

/** Opens with warnings collected from the first moment (openStore with watch starts the index at once). */
async function openWatching(dir: string): Promise<{ store: SessionStore; warnings: WarningEvent[] }> {
  const store = await openStore({ dir });
  return { store, warnings: collectWarnings(store) };
}

describe('the index file', () => {
  it('is a hidden 0600 file written when sessions exist, never listed, and reused on the next open', async () => {
    const { dir, ids } = await populated(3);
    const st = fs.statSync(path.join(dir, INDEX));
    expect(st.mode & 0o777).toBe(0o600);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8'));
    expect(doc).toMatchObject({ format: 'sessionlog-index', version: 1 });
    expect(doc.sessions.map((s: { id: string }) => s.id).sort()).toEqual([...ids].sort());
    const { store, warnings } = await openWatching(dir);
    expect((await listAll(store)).map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(warnings).toEqual([]);
    await store.close();
  });

  it('writes no index into an empty folder', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    expect((await store.list()).sessions).toEqual([]);
    await store.close();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  const damages: [string, (file: string) => void][] = [
    ['deleted', (file) => fs.rmSync(file)],
    ['truncated', (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))],
    ['random bytes', (file) => fs.writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)))],
    ['valid JSON of the wrong shape', (file) => fs.writeFileSync(file, JSON.stringify({ sessions: 'nope', hello: [1, 2] }))],
    ['an older version', (file) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"version":1', '"version":0'))],
    ['version 999', (file) => fs.writeFileSync(file, JSON.stringify({ format: 'sessionlog-index', version: 999 }))],
    [
      'records of the wrong shape',
      (file) => {
        const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
        doc.sessions[0].state.entryCount = 'many';
        doc.sessions[1].fp = null;
        doc.sessions[2].id = '../../etc/passwd';
        fs.writeFileSync(file, JSON.stringify(doc));
      },
    ],
    [
      'lies with valid fingerprints',
      // Another process's stale view: right fingerprints are required, so wrong ones are re-read.
      (file) => {
        const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
        for (const record of doc.sessions) {
          record.fp.size += 1;
          record.state.title = 'wrong';
          record.state.entryCount = 99;
        }
        fs.writeFileSync(file, JSON.stringify(doc));
      },
    ],
  ];

  it.each(damages)('is rebuilt when %s, and lists the truth', async (what, damage) => {
    const { dir } = await populated(6);
    const expected = await truth(dir);
    damage(path.join(dir, INDEX));
    const { store, warnings } = await openWatching(dir);
    expect(await listAll(store)).toEqual(expected);
    if (['truncated', 'random bytes', 'valid JSON of the wrong shape', 'an older version', 'version 999'].includes(what)) {
      expect(warnings.map((w) => w.code)).toContain('SESSIONLOG_INDEX_REBUILT');
    }
    await store.close();
    // Written again, complete, and used without complaint by the next store.
    JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8'));
    const { store: again, warnings: none } = await openWatching(dir);
    expect(await listAll(again)).toEqual(expected);
    expect(none).toEqual([]);
    await again.close();
  });

  it('deleted while a store runs: listing is unaffected and the index is written again', async () => {
    const { dir, ids } = await populated(3);
    const store = await openStore({ dir });
    expect((await listAll(store)).map((s) => s.id).sort()).toEqual([...ids].sort());
    fs.rmSync(path.join(dir, INDEX));
    expect((await listAll(store)).map((s) => s.id).sort()).toEqual([...ids].sort());
    await store.close();
    expect(JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8')).sessions).toHaveLength(3);
  });

  it('is rebuilt when it belongs to another folder (copied or restored)', async () => {
    const { dir } = await populated(3);
    const other = tempDir();
    for (const name of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, name), path.join(other, name));
    const { store, warnings } = await openWatching(other);
    expect(await listAll(store)).toEqual(await truth(dir));
    expect(warnings.map((w) => w.code)).toContain('SESSIONLOG_INDEX_REBUILT');
    await store.close();
  });

  it('is not reused across entry schemas: counts follow the schema of the store that lists', async () => {
    const { dir, ids } = await populated(2);
    // A schema under which assistant messages are invalid lines.
    const strict = z.looseObject({ type: z.string(), role: z.literal('user'), content: z.string() });
    const store = await openStore({ dir, schema: strict });
    expect((await store.get(ids[0] as string))?.entryCount).toBe(1);
    expect((await store.get(ids[0] as string))?.problems).toBe(1);
    await store.list();
    await store.close();
    const plain = await openStore({ dir });
    expect((await plain.get(ids[0] as string))?.entryCount).toBe(2);
    await plain.close();
  });

  it('refuses to write through a symlink planted at its path, and listing still works', async () => {
    const { dir, ids } = await populated(2);
    const outside = tempDir('sessionlog-outside-');
    const target = path.join(outside, 'bashrc');
    fs.writeFileSync(target, 'export SECRET=1\n');
    fs.rmSync(path.join(dir, INDEX));
    fs.symlinkSync(target, path.join(dir, INDEX));
    const store = await openStore({ dir });
    const warnings = collectWarnings(store);
    await store.create({ title: 'more' });
    expect((await listAll(store)).map((s) => s.id)).toEqual(expect.arrayContaining(ids));
    await store.close();
    expect(fs.readFileSync(target, 'utf8')).toBe('export SECRET=1\n');
    expect(fs.lstatSync(path.join(dir, INDEX)).isSymbolicLink()).toBe(true);
    expect(warnings.map((w) => w.code)).toContain('SESSIONLOG_INDEX_WRITE_FAILED');
  });

  it('sweeps write-file-atomic temp files left by a crash, but not a fresh one being written', async () => {
    const { dir } = await populated(1);
    const stale = path.join(dir, `${INDEX}.123456`);
    const fresh = path.join(dir, `${INDEX}.654321`);
    fs.writeFileSync(stale, '{"half');
    fs.writeFileSync(fresh, '{"half');
    const old = new Date(Date.now() - 10 * 60_000);
    fs.utimesSync(stale, old, old);
    const store = await openStore({ dir });
    expect((await store.list()).sessions).toHaveLength(1);
    await store.close();
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
  });
});

describe('validation by fingerprint', () => {
  it('corrects a stale index: files added, deleted, appended to and hand-edited while no store was open', async () => {
    const { dir, ids } = await populated(6);
    const file = (id: string) => path.join(dir, `${id}.jsonl`);
    // Added by hand (a copy under a new name, header fixed up).
    const added = fs.readFileSync(file(ids[0] as string), 'utf8').replace(ids[0] as string, 'added-by-hand');
    fs.writeFileSync(path.join(dir, 'added-by-hand.jsonl'), added);
    fs.rmSync(file(ids[1] as string));
    fs.appendFileSync(file(ids[2] as string), `${JSON.stringify({ type: 'message', id: 'm-x', ts: '2030-01-01T00:00:00.000Z', role: 'user', content: 'later' })}\n`);
    // Rename-save by an editor: the title in the header changed.
    const edited = fs.readFileSync(file(ids[3] as string), 'utf8').replace('session 3', 'renamed by hand');
    fs.writeFileSync(`${file(ids[3] as string)}.tmp`, edited);
    fs.renameSync(`${file(ids[3] as string)}.tmp`, file(ids[3] as string));
    // Same-length edit with size and mtime restored (`touch -r`): only ctime tells.
    const before = fs.statSync(file(ids[4] as string));
    const same = fs.readFileSync(file(ids[4] as string), 'utf8').replace('session 4', 'SESSION 4');
    fs.writeFileSync(file(ids[4] as string), same);
    fs.utimesSync(file(ids[4] as string), before.atime, before.mtime);
    // Synced from a machine with a skewed clock: mtime a year in the future and in the past.
    fs.utimesSync(file(ids[5] as string), new Date(Date.now() + 365 * 86_400_000), new Date(Date.now() + 365 * 86_400_000));
    fs.utimesSync(file(ids[0] as string), new Date(0), new Date(0));

    const store = await openStore({ dir });
    const listed = await listAll(store);
    expect(listed).toEqual(await truth(dir));
    const byId = new Map(listed.map((s) => [s.id, s]));
    expect(byId.has(ids[1] as string)).toBe(false);
    expect(byId.get('added-by-hand')?.entryCount).toBe(2);
    expect(byId.get(ids[2] as string)).toMatchObject({ entryCount: 3, updatedAt: '2030-01-01T00:00:00.000Z' });
    expect(byId.get(ids[3] as string)?.title).toBe('renamed by hand');
    expect(byId.get(ids[4] as string)?.title).toBe('SESSION 4');
    await store.close();
  });

  it.runIf(process.platform === 'linux')('reads only the new bytes when a session grows (rchar of /proc/self/io)', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    const { id } = await store.create();
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 100; i++) await store.append(id, { role: 'tool', content: big });
    expect((await store.get(id))?.entryCount).toBe(100); // ~6.5 MB folded once
    await store.append(id, { role: 'user', content: 'one more' });
    await store.flush(id);
    const rchar = () => Number(/rchar: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))?.[1]);
    const before = rchar();
    const info = await store.get(id);
    const read = rchar() - before;
    expect(info?.entryCount).toBe(101);
    expect(read).toBeLessThan(512 * 1024);
    await store.close();
  });

  it('folds a torn last line only once it is complete', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    const { id } = await store.create();
    await store.append(id, { role: 'user', content: 'one' });
    await store.flush(id);
    const file = path.join(dir, `${id}.jsonl`);
    const line = JSON.stringify({ type: 'message', id: 'm-2', ts: new Date().toISOString(), role: 'user', content: 'two' });
    fs.appendFileSync(file, line.slice(0, 20));
    expect(await store.get(id)).toMatchObject({ entryCount: 1, problems: 1, bytes: fs.statSync(file).size });
    fs.appendFileSync(file, `${line.slice(20)}\n`);
    expect(await store.get(id)).toMatchObject({ entryCount: 2, problems: 0, bytes: fs.statSync(file).size });
    await store.close();
  });

  it('re-reads a file that shrank, was replaced, or had its header rewritten in place', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    const { id } = await store.create({ title: 'original' });
    await store.append(id, [
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
      { role: 'user', content: 'c' },
    ]);
    expect((await store.get(id))?.entryCount).toBe(3);
    const file = path.join(dir, `${id}.jsonl`);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    fs.truncateSync(file, Buffer.byteLength(`${lines.slice(0, 3).join('\n')}\n`));
    expect((await store.get(id))?.entryCount).toBe(2);
    // In place (same inode), longer, new header: must not be taken for an append.
    const header = JSON.parse(lines[0] as string);
    const rewritten = [JSON.stringify({ ...header, title: 'rewritten in place' }), ...lines.slice(1, 4), ''].join('\n');
    const ino = fs.statSync(file).ino;
    fs.writeFileSync(file, rewritten);
    expect(fs.statSync(file).ino).toBe(ino);
    expect(await store.get(id)).toMatchObject({ title: 'rewritten in place', entryCount: 3 });
    // In place, longer, a changed last line.
    const changedLast = [lines[0], lines[1], lines[2], (lines[3] as string).replace('"c"', '"C"').replace('"user"', '"tool"'), lines[1]?.replace('"a"', '"d"'), ''].join('\n');
    fs.writeFileSync(file, changedLast);
    const info = await store.get(id);
    const { entries, problems } = await store.read(id);
    expect(info).toMatchObject({ entryCount: entries.length, problems: problems.length });
    // Replaced by a different file (new inode).
    fs.writeFileSync(`${file}.new`, `${lines[0]}\n`);
    fs.renameSync(`${file}.new`, file);
    expect((await store.get(id))?.entryCount).toBe(0);
    await store.close();
  });

  it('counts an entry repeating an id from before the resume point as read() does', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    const { id } = await store.create();
    await store.append(id, [{ id: 'zz-late-id', role: 'user', content: 'first' }, { role: 'user', content: 'second' }]);
    expect((await store.get(id))?.entryCount).toBe(2);
    await store.append(id, { id: 'zz-late-id', role: 'user', content: 'copy' });
    const { entries, problems } = await store.read(id);
    expect(await store.get(id)).toMatchObject({ entryCount: entries.length, problems: problems.length });
    expect(entries).toHaveLength(2);
    await store.close();
  });

  it('never lists symlinks, FIFOs, hard links, noise and editor artifacts; get() refuses the unsafe ones', async () => {
    const { dir, ids } = await populated(1);
    const outside = tempDir('sessionlog-outside-');
    fs.writeFileSync(path.join(outside, 'hostname'), 'secret\n');
    fs.symlinkSync(path.join(outside, 'hostname'), path.join(dir, 'linked.jsonl'));
    execFileSync('mkfifo', [path.join(dir, 'fifo.jsonl')]);
    fs.linkSync(path.join(dir, `${ids[0]}.jsonl`), path.join(outside, 'second-name'));
    for (const noise of ['4913', 'x.jsonl~', '.x.jsonl.swp', '#x.jsonl#', 'x.jsonl___jb_tmp___', 'sedAb12Cd', '.syncthing.x.jsonl.tmp', 'index.json.123456', 'x.jsonl.orig', 'notes.txt', '.hidden.jsonl']) {
      fs.writeFileSync(path.join(dir, noise), '{"type":"session","version":1,"id":"x","createdAt":"2025-01-01T00:00:00.000Z"}\n');
    }
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, '.#x.jsonl'));
    fs.mkdirSync(path.join(dir, 'sub.jsonl'));
    const store = await openStore({ dir });
    const warnings = collectWarnings(store);
    const started = Date.now();
    expect((await listAll(store)).map((s) => s.id)).toEqual([]); // the only real session is hard-linked now
    expect(Date.now() - started).toBeLessThan(1000);
    expect(warnings.filter((w) => w.code === 'SESSIONLOG_UNSAFE_FILE').map((w) => w.id).sort()).toEqual(['fifo', 'linked', ids[0], 'sub'].sort());
    await expect(store.get('linked')).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await expect(store.get('fifo')).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    fs.rmSync(path.join(outside, 'second-name'));
    expect((await listAll(store)).map((s) => s.id)).toEqual(ids);
    await store.close();
  });
});
