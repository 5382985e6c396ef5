import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChangeEvent, openStore, type SessionStore } from '../../src/index.js';
import { inotifyWatches } from '../helpers/inotify.mjs';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** "Within a second" (the promise), checked by polling. */
const SECOND = { timeoutMs: 1000 };

function header(id: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ type: 'session', version: 1, id, createdAt: '2025-05-05T00:00:00.000Z', ...extra })}\n`;
}

function message(id: string, content: string, ts = new Date().toISOString()): string {
  return `${JSON.stringify({ type: 'message', id, ts, role: 'user', content })}\n`;
}

function events(store: SessionStore): ChangeEvent[] {
  const seen: ChangeEvent[] = [];
  store.on('change', (e: ChangeEvent) => seen.push(e));
  return seen;
}

async function ids(store: SessionStore): Promise<string[]> {
  return (await store.list({ limit: 1000 })).sessions.map((s) => s.id).sort();
}


describe('watch: true', () => {
  it('shows sessions added, appended to, rename-saved, rewritten in place and removed by hand within a second', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, watch: true });
    const seen = events(store);
    const file = path.join(dir, 'by-hand.jsonl');

    fs.writeFileSync(file, header('by-hand', { title: 'typed in' }));
    await waitFor('a file added by hand', async () => (await store.list()).sessions[0]?.title === 'typed in', SECOND);
    await waitFor('its created event', () => seen.some((e) => e.id === 'by-hand' && e.kind === 'created' && e.source === 'external'), SECOND);

    fs.appendFileSync(file, message('m1', 'appended by another program'));
    await waitFor('an append', async () => (await store.list()).sessions[0]?.entryCount === 1, SECOND);
    await waitFor('its changed event', () => seen.some((e) => e.id === 'by-hand' && e.kind === 'changed' && e.source === 'external'), SECOND);

    // Rename-save (write a temp file, rename over): a new inode.
    fs.writeFileSync(`${file}.tmp-save`, header('by-hand', { title: 'saved by an editor' }) + message('m1', 'x') + message('m2', 'y'));
    fs.renameSync(`${file}.tmp-save`, file);
    await waitFor('a rename-save', async () => (await store.list()).sessions[0]?.title === 'saved by an editor', SECOND);
    expect((await store.list()).sessions[0]?.entryCount).toBe(2);

    // vim-style: move the original to a backup, write a new file, delete the backup.
    fs.renameSync(file, `${file}~`);
    fs.writeFileSync(file, header('by-hand', { title: 'vim' }) + message('m1', 'x'));
    fs.rmSync(`${file}~`);
    await waitFor('a vim save', async () => (await store.list()).sessions[0]?.title === 'vim', SECOND);

    // In place (same inode), shorter.
    fs.writeFileSync(file, header('by-hand', { title: 'in place' }));
    await waitFor('an in-place rewrite', async () => (await store.get('by-hand'))?.title === 'in place', SECOND);
    expect((await store.get('by-hand'))?.entryCount).toBe(0);

    fs.rmSync(file);
    await waitFor('a removal', async () => (await store.list()).sessions.length === 0, SECOND);
    await waitFor('its deleted event', () => seen.some((e) => e.id === 'by-hand' && e.kind === 'deleted' && e.source === 'external'), SECOND);
    expect(seen.filter((e) => e.id === 'by-hand' && e.kind === 'deleted')).toHaveLength(1);
  });

  it('reports its own writes as local only, never again as external', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, watch: true });
    const seen = events(store);
    const { id } = await store.create();
    for (let i = 0; i < 5; i++) {
      await store.append(id, { role: 'user', content: `m${i}` });
      await store.flush(id);
    }
    await store.update(id, { title: 'named' });
    await store.delete(id);
    // The external write below is awaited, which is later than the watcher's debounce for all of the above.
    const other = await store.create();
    await store.get(other.id); // its local creation is folded: what follows is someone else's
    fs.appendFileSync(path.join(dir, `${other.id}.jsonl`), message('ext', 'external marker'));
    await waitFor('the external marker', () => seen.some((e) => e.source === 'external'), SECOND);
    expect(seen.filter((e) => e.source === 'external')).toEqual([{ id: other.id, kind: 'changed', source: 'external' }]);
    expect(seen.filter((e) => e.id === id).map((e) => e.kind)).toEqual(['created', 'changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'deleted']);
  });

  it('ignores temp files, swap files, backups and lock files', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, watch: true });
    const seen = events(store);
    const noise = ['4913', 'a.jsonl~', '.a.jsonl.swp', '#a.jsonl#', 'a.jsonl___jb_tmp___', '.syncthing.a.jsonl.tmp', 'a.jsonl.1234567', '.sessionlog-index.json.42', 'x.lock'];
    for (const name of noise) fs.writeFileSync(path.join(dir, name), header('a'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, '.#a.jsonl'));
    fs.mkdirSync(path.join(dir, 'a.jsonl.lock'));
    fs.writeFileSync(path.join(dir, 'real.jsonl'), header('real'));
    await waitFor('the real session', async () => (await ids(store)).includes('real'), SECOND);
    expect(await ids(store)).toEqual(['real']);
    expect(seen).toEqual([{ id: 'real', kind: 'created', source: 'external' }]);
  });

  it('surfaces sync-conflict copies as conflicts of their session, never as sessions, never deleting them', async () => {
    const dir = tempDir();
    await using store = await openStore({ dir, watch: true });
    const { id } = await store.create({ title: 'synced' });
    await store.append(id, { role: 'user', content: 'on this machine' });
    await store.flush(id);
    const file = path.join(dir, `${id}.jsonl`);
    const copy = `${id}.sync-conflict-20250101-120000-ABCDEFG.jsonl`;
    fs.writeFileSync(path.join(dir, copy), fs.readFileSync(file, 'utf8') + message('other', 'on the other machine'));
    await waitFor('the conflict', async () => (await store.get(id))?.conflicts.length === 1, SECOND);
    const { sessions } = await store.list();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.conflicts).toEqual([copy]);
    await store.delete(id);
    expect(fs.existsSync(path.join(dir, copy))).toBe(true);
    expect(await ids(store)).toEqual([]);
  });

  // 100 JetBrains-style safe writes whose unlink comes last: reliability row F9 (test/reliability/index.test.ts).

  it.runIf(process.platform === 'linux')('holds one inotify watch however many sessions there are, and releases it on close', async () => {
    const dir = tempDir();
    for (let i = 0; i < 500; i++) fs.writeFileSync(path.join(dir, `s${i}.jsonl`), header(`s${i}`));
    const before = inotifyWatches();
    const store = await openStore({ dir, watch: true });
    expect((await store.list({ limit: 1000 })).sessions).toHaveLength(500);
    expect(inotifyWatches() - before).toBe(1);
    await store.close();
    await waitFor('the watch to be released', () => inotifyWatches() === before);
    // Closed: changes are not reported any more.
    const seen = events(store);
    fs.writeFileSync(path.join(dir, 'after.jsonl'), header('after'));
    const probe = await openStore({ dir, watch: true });
    const probeSeen = events(probe);
    fs.appendFileSync(path.join(dir, 'after.jsonl'), message('x', 'y'));
    await waitFor('a live store to see the change', () => probeSeen.length > 0, SECOND);
    expect(seen).toEqual([]);
    await probe.close();
  });

  it('follows the folder when it is replaced (moved away and recreated) under a running store', async () => {
    const parent = tempDir();
    const dir = path.join(parent, 'sessions');
    fs.mkdirSync(dir, { mode: 0o700 });
    await using store = await openStore({ dir, watch: { reconcileIntervalMs: 200 } });
    fs.writeFileSync(path.join(dir, 'old.jsonl'), header('old'));
    await waitFor('old', async () => (await ids(store)).includes('old'), SECOND);
    fs.renameSync(dir, path.join(parent, 'moved-away'));
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'new.jsonl'), header('new'));
    await waitFor('the new folder', async () => (await ids(store)).join() === 'new', { timeoutMs: 2000 });
    fs.appendFileSync(path.join(dir, 'new.jsonl'), message('m', 'live again'));
    await waitFor('events from the new folder', async () => (await store.list()).sessions[0]?.entryCount === 1, SECOND);
  });
});
