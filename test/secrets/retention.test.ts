// Retention, opt-in and visible: prune says what it moves (and a dry run moves nothing), the trash
// lists, restores (never over a live session) and empties with a line per file;
// openStore({ retention }) applies only when given, and reports.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type Pruned } from '../../src/index.js';
import { runCli } from '../cli/run.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;

/** A folder with an old session (updated 100 days ago) and a fresh one. */
async function folder(): Promise<string> {
  const dir = tempDir();
  const old = await openStore({ dir, now: () => Date.now() - 100 * DAY });
  await old.create({ id: 'old', title: 'Old work' });
  await old.append('old', { role: 'user', content: 'long ago' });
  await old.close();
  const fresh = await openStore({ dir });
  await fresh.create({ id: 'fresh' });
  await fresh.close();
  return dir;
}

describe('retention', () => {
  it('prune --older-than: a dry run moves nothing; then it moves and says so; trash list / restore / empty', async () => {
    const dir = await folder();
    const dry = await runCli(['prune', '--older-than', '90d', '--dry-run'], { dir });
    expect(dry.stdout).toMatch(/^would move old .*Old work\n$/);
    expect(fs.existsSync(path.join(dir, 'old.jsonl'))).toBe(true);
    const real = await runCli(['prune', '--older-than', '90d'], { dir });
    expect(real.stdout).toMatch(/^moved old /);
    expect(real.stderr).toContain('1 session were moved to the trash');
    expect(fs.existsSync(path.join(dir, 'old.jsonl'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'fresh.jsonl'))).toBe(true);

    const list = JSON.parse((await runCli(['trash', 'list', '--json'], { dir })).stdout) as { files: { name: string; session: string; title: string }[] };
    expect(list.files.map((f) => [f.name, f.session, f.title])).toEqual([['old.jsonl', 'old', 'Old work']]);
    // Restore never replaces a live session of the same id.
    const other = await openStore({ dir });
    await other.create({ id: 'old' });
    await other.close();
    const refused = await runCli(['trash', 'restore', 'old'], { dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ERR_SESSION_EXISTS');
    fs.unlinkSync(path.join(dir, 'old.jsonl'));
    expect((await runCli(['trash', 'restore', 'old'], { dir })).stdout).toBe('restored old\n');
    expect(fs.readFileSync(path.join(dir, 'old.jsonl'), 'utf8')).toContain('long ago');

    await runCli(['prune', '--older-than', '90d'], { dir });
    expect((await runCli(['trash', 'empty', '--older-than', '1d'], { dir })).stdout).toBe('');
    const emptied = await runCli(['trash', 'empty'], { dir });
    expect(emptied.stdout).toMatch(/^deleted old\.jsonl /);
    expect((await runCli(['trash', 'list', '--json'], { dir })).stdout).toContain('"files": []');
    expect((await runCli(['trash', 'restore', '../fresh.jsonl'], { dir })).code).toBe(2);
  });

  it('a trashed session keeps its vectors and artifacts; emptying the trash deletes them (not another session’s)', async () => {
    const dir = await folder();
    const store = await openStore({ dir });
    const shared = await store.artifacts.put('old', 'shared bytes');
    await store.artifacts.put('fresh', 'shared bytes');
    const own = await store.artifacts.put('old', 'only old');
    await store.embeddings.upsertMany([{ id: 'o', sessionId: 'old', vector: [1, 0] }, { id: 'f', sessionId: 'fresh', vector: [0, 1] }]);
    await store.trash('old');
    expect(await store.artifacts.gc()).toEqual([]);
    expect(await store.embeddings.count()).toBe(2);
    expect((await runCli(['trash', 'empty'], { dir })).code).toBe(0);
    expect((await store.embeddings.search([1, 0])).map((h) => h.id)).toEqual(['f']);
    expect(await store.artifacts.get(own.ref)).toBeUndefined();
    expect((await store.artifacts.get(shared.ref))?.toString()).toBe('shared bytes');
    await store.close();
  });

  it('openStore({ retention }) moves old sessions on open and reports them; without it nothing moves', async () => {
    const dir = await folder();
    const plain = await openStore({ dir });
    expect((await plain.ids()).sort()).toEqual(['fresh', 'old']);
    await plain.close();
    let reported: readonly Pruned[] = [];
    const store = await openStore({ dir, retention: { olderThan: '90d', onPrune: (moved) => (reported = moved) } });
    expect(await store.ids()).toEqual(['fresh']);
    expect(reported.map((m) => [m.id, m.title])).toEqual([['old', 'Old work']]);
    expect(reported[0]?.to).toContain(`${path.sep}.trash${path.sep}`);
    await store.close();
    await expect(openStore({ dir, retention: { olderThan: 'soon' } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});
