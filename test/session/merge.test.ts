/** mergeConflicts(): the union of a session and its sync-conflict copies, and what it never loses. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { mergeOrder } from '../../src/file/rewrite/merge-order.js';
import { startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

const CONFLICT = '.sync-conflict-20261102-100000-ABCDEFG.jsonl';

/**
 * One session appended to on two machines while they could not sync: `shared` entries before the
 * copy, then `a` on machine A and `b` on machine B (whose clock is `skewMs` ahead). Returns the
 * two files' bytes.
 */
async function divergedCopies(options: { id?: string; shared?: number; a?: number; b?: number; skewMs?: number } = {}): Promise<{ id: string; a: Buffer; b: Buffer }> {
  const { id = 's', shared = 3, a = 4, b = 5, skewMs = 0 } = options;
  const dirA = tempDir();
  const dirB = tempDir();
  const storeA = await openStore({ dir: dirA });
  await storeA.create({ id, title: 'T' });
  for (let n = 0; n < shared; n++) await storeA.append(id, { role: 'user', content: `shared ${n}` });
  await storeA.flush(id);
  fs.copyFileSync(path.join(dirA, `${id}.jsonl`), path.join(dirB, `${id}.jsonl`));
  const storeB = await openStore({ dir: dirB, now: () => Date.now() + skewMs });
  for (let n = 0; n < Math.max(a, b); n++) {
    if (n < a) await storeA.append(id, { role: 'assistant', content: `from A ${n}` });
    if (n < b) await storeB.append(id, { role: 'assistant', content: `from B ${n}` });
  }
  await Promise.all([storeA.close(), storeB.close()]);
  return { id, a: fs.readFileSync(path.join(dirA, `${id}.jsonl`)), b: fs.readFileSync(path.join(dirB, `${id}.jsonl`)) };
}

/** A store folder holding `main` as the session and `copy` as its Syncthing conflict copy. */
function conflictFolder(id: string, main: Buffer | string, copy: Buffer | string): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, `${id}.jsonl`), main, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, id + CONFLICT), copy, { mode: 0o600 });
  return dir;
}

function idsOf(bytes: Buffer | string): string[] {
  return String(bytes)
    .split('\n')
    .slice(1)
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

describe('mergeOrder', () => {
  const nodes = (keys: string[], ts: (k: string) => string = () => ''): { key: string; ts: string }[] => keys.map((key) => ({ key, ts: ts(key) }));

  it("keeps each copy's order and the shared prefix, whichever copy comes first", () => {
    const list = nodes(['p1', 'p2', 'a1', 'a2', 'b1', 'b2'], (k) => ({ p1: '1', p2: '2', a1: '5', a2: '3', b1: '4', b2: '6' })[k] as string);
    const a = [0, 1, 2, 3];
    const b = [0, 1, 4, 5];
    const order = mergeOrder(list, [a, b]).map((i) => list[i]?.key);
    // a2 has an earlier ts than a1 but comes after it in its copy: the copy's order wins.
    expect(order).toEqual(['p1', 'p2', 'b1', 'a1', 'a2', 'b2']);
    expect(mergeOrder(list, [b, a])).toEqual(mergeOrder(list, [a, b]));
  });

  it('breaks contradicting copies (a cycle) by (ts, key), the same either way', () => {
    const list = nodes(['x', 'y', 'z'], (k) => ({ x: '2', y: '1', z: '3' })[k] as string);
    const one = mergeOrder(list, [[0, 1, 2], [1, 0]]);
    expect(one.map((i) => list[i]?.key)).toEqual(['y', 'x', 'z']);
    expect(mergeOrder(list, [[1, 0], [0, 1, 2]])).toEqual(one);
  });
});

describe('mergeConflicts', () => {
  it('merges a conflict copy: every record once, the copy moved to the trash, the conflict gone from the listing', async () => {
    const { id, a, b } = await divergedCopies();
    const dir = conflictFolder(id, a, b);
    const store = await openStore({ dir });
    const before = (await store.list()).sessions;
    expect(before.map((s) => s.id)).toEqual([id]);
    expect(before[0]?.conflicts).toEqual([id + CONFLICT]);

    const report = await store.mergeConflicts(id);
    const union = new Set([...idsOf(a), ...idsOf(b)]);
    expect(report).toMatchObject({ merged: true, entries: union.size, updates: 0, added: 5, problems: [], recoveryFile: undefined, headerRewritten: false });
    // The 3 shared entries are in both files: written once each.
    expect(report.duplicates).toBe(3);
    const merged = fs.readFileSync(path.join(dir, `${id}.jsonl`));
    expect(new Set(idsOf(merged))).toEqual(union);
    expect(idsOf(merged)).toHaveLength(union.size);
    expect(String(merged).split('\n')[0]).toBe(String(a).split('\n')[0]);
    expect(report.copies).toEqual([{ file: path.join(dir, id + CONFLICT), records: 8, added: 5, movedTo: path.join(dir, '.trash', id + CONFLICT) }]);
    expect(fs.readFileSync(path.join(dir, '.trash', id + CONFLICT))).toEqual(b);
    expect((await store.list()).sessions[0]?.conflicts).toEqual([]);
    const { entries, problems } = await store.read(id);
    expect(problems).toEqual([]);
    expect(entries).toHaveLength(union.size);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('.recovered-'))).toEqual([]);
    await store.close();
  });

  it('gives the same bytes whichever copy is the session file', async () => {
    const { id, a, b } = await divergedCopies({ skewMs: 3_600_000 });
    const one = conflictFolder(id, a, b);
    const two = conflictFolder(id, b, a);
    for (const dir of [one, two]) {
      await using store = await openStore({ dir });
      await store.mergeConflicts(id);
    }
    const merged = fs.readFileSync(path.join(one, `${id}.jsonl`));
    expect(fs.readFileSync(path.join(two, `${id}.jsonl`))).toEqual(merged);
    // B's clock is an hour ahead: its entries come after A's, each copy's order kept.
    const contents = (await (await openStore({ dir: one })).read(id)).entries.map((e) => (e as { content: string }).content);
    expect(contents).toEqual([0, 1, 2].map((n) => `shared ${n}`).concat([0, 1, 2, 3].map((n) => `from A ${n}`), [0, 1, 2, 3, 4].map((n) => `from B ${n}`)));
  });

  it('keeps bad lines, torn fragments and a second version of an id in the recovery file, and reports them', async () => {
    const { id, a, b } = await divergedCopies({ a: 1, b: 1 });
    const lines = String(b).split('\n');
    const shared = JSON.parse(lines[1] as string) as Record<string, unknown>;
    const edited = JSON.stringify({ ...shared, content: 'edited on B' });
    const copy = [lines[0], edited, ...lines.slice(2, -1), 'not json', '{"id":"torn","role":"us'].join('\n');
    const dir = conflictFolder(id, a, copy);
    const store = await openStore({ dir });
    const report = await store.mergeConflicts(id);
    const copyFile = path.join(dir, id + CONFLICT);
    // Which version of the edited entry stays is decided by its bytes, not by which file it is in.
    expect(report.problems.map((p) => [p.line, p.kind])).toEqual([
      [2, 'diverged'],
      [6, 'invalid-json'],
      [7, 'torn-tail'],
    ]);
    expect(report.problems.slice(1).map((p) => p.file)).toEqual([copyFile, copyFile]);
    const recovered = fs.readFileSync(report.recoveryFile as string, 'utf8');
    // Both versions of the shared entry survive: one in the session, the other in the recovery file.
    const original = lines[1] as string;
    const inSession = String(fs.readFileSync(path.join(dir, `${id}.jsonl`)));
    expect([inSession.includes(original), inSession.includes(edited)].filter(Boolean)).toHaveLength(1);
    expect(recovered.includes(original) !== recovered.includes(edited)).toBe(true);
    expect(recovered).toContain('not json\n');
    expect(recovered).toContain('{"id":"torn","role":"us\n');
    expect(report.problems.every((p) => !p.message.includes('edited') && !p.message.includes('not json'))).toBe(true);
    expect((await store.read(id)).problems).toEqual([]);
    expect(fs.existsSync(copyFile)).toBe(false);
    await store.close();
  });

  it('does not touch a session without conflict copies', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 's' });
    await store.append('s', { role: 'user', content: 'hi' });
    await store.flush('s');
    const file = path.join(dir, 's.jsonl');
    const before = fs.statSync(file);
    const report = await store.mergeConflicts('s');
    expect(report).toMatchObject({ merged: false, copies: [], entries: 1 });
    const after = fs.statSync(file);
    expect([after.ino, after.mtimeMs, after.size]).toEqual([before.ino, before.mtimeMs, before.size]);
    await store.close();
  });

  it('refuses a copy whose header names another session, changing nothing', async () => {
    const { id, a } = await divergedCopies();
    const other = String(a).replace(`"id":"${id}"`, '"id":"other"');
    const dir = conflictFolder(id, a, other);
    const store = await openStore({ dir });
    await expect(store.mergeConflicts(id)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(fs.readFileSync(path.join(dir, `${id}.jsonl`))).toEqual(a);
    expect(fs.readdirSync(dir).sort()).toEqual([`${id}.jsonl`, id + CONFLICT].sort());
    await store.close();
  });

  it("merges another sync tool's copy named by the caller, and bookkeeping updates from it", async () => {
    const dirA = tempDir();
    const storeA = await openStore({ dir: dirA });
    await storeA.create({ id: 'd', title: 'before' });
    await storeA.close();
    const dir = tempDir();
    const dropbox = "d (Alice's conflicted copy 2026-11-02).jsonl";
    fs.copyFileSync(path.join(dirA, 'd.jsonl'), path.join(dir, 'd.jsonl'));
    fs.copyFileSync(path.join(dirA, 'd.jsonl'), path.join(dir, dropbox));
    {
      // The copy was renamed by the sync tool after it was updated on the other machine.
      fs.renameSync(path.join(dir, dropbox), path.join(dirA, 'd.jsonl'));
      await using other = await openStore({ dir: dirA });
      await other.update('d', { title: 'renamed elsewhere' });
      await other.append('d', { role: 'user', content: 'x' });
      await other.flush('d');
      fs.copyFileSync(path.join(dirA, 'd.jsonl'), path.join(dir, dropbox));
    }
    const store = await openStore({ dir });
    expect((await store.mergeConflicts('d')).merged).toBe(false);
    await expect(store.mergeConflicts('d', { copies: ['../x.jsonl'] })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    const report = await store.mergeConflicts('d', { copies: [dropbox] });
    expect(report).toMatchObject({ merged: true, entries: 1, updates: 1, added: 2 });
    expect(await store.get('d')).toMatchObject({ title: 'renamed elsewhere', entryCount: 1 });
    expect(fs.existsSync(path.join(dir, '.trash', dropbox))).toBe(true);
    await store.close();
  });

  it('finishes moving a copy a crash left hard-linked in the trash and beside the session', async () => {
    const { id, a, b } = await divergedCopies();
    const dir = conflictFolder(id, a, b);
    const store = await openStore({ dir });
    fs.mkdirSync(path.join(dir, '.trash'), { mode: 0o700 });
    // Killed between link() and unlink(): the copy is in both places, one inode.
    fs.linkSync(path.join(dir, id + CONFLICT), path.join(dir, '.trash', id + CONFLICT));
    const report = await store.mergeConflicts(id);
    expect(report).toMatchObject({ merged: false, copies: [] });
    expect(fs.existsSync(path.join(dir, id + CONFLICT))).toBe(false);
    expect(fs.readFileSync(path.join(dir, '.trash', id + CONFLICT))).toEqual(b);
    // A copy hard-linked anywhere else is not ours to unlink: the read refuses it.
    fs.writeFileSync(path.join(dir, id + CONFLICT), b, { mode: 0o600 });
    fs.linkSync(path.join(dir, id + CONFLICT), path.join(tempDir(), 'elsewhere'));
    await expect(store.mergeConflicts(id)).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    expect(fs.existsSync(path.join(dir, id + CONFLICT))).toBe(true);
    await store.close();
  });

  it('is idempotent: merging the same copy again gives the same file', async () => {
    const { id, a, b } = await divergedCopies({ skewMs: -3_600_000 });
    const dir = conflictFolder(id, a, b);
    const store = await openStore({ dir });
    const first = await store.mergeConflicts(id);
    const merged = fs.readFileSync(path.join(dir, `${id}.jsonl`));
    // The sync tool brings the copy back (a second device still had it).
    fs.copyFileSync(first.copies[0]?.movedTo as string, path.join(dir, id + CONFLICT));
    const again = await store.mergeConflicts(id);
    expect(again).toMatchObject({ merged: true, added: 0 });
    expect(fs.readFileSync(path.join(dir, `${id}.jsonl`))).toEqual(merged);
    expect(again.copies[0]?.movedTo).not.toBe(first.copies[0]?.movedTo);
    expect(fs.readdirSync(path.join(dir, '.trash'))).toHaveLength(2);
    await store.close();
  });

  it('never loses entries this process appends while it runs', async () => {
    const { id, a, b } = await divergedCopies({ a: 50, b: 50 });
    const dir = conflictFolder(id, a, b);
    const store = await openStore({ dir, flush: { maxEntries: 3, intervalMs: 1 } });
    const appended: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let n = 0; !stop || n < 50; n++) {
        const entry = await store.append(id, { role: 'user', content: `live ${n}` });
        appended.push(entry.id);
        if (n % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    let merges = 0;
    for (let round = 0; round < 10; round++) {
      fs.writeFileSync(path.join(dir, id + CONFLICT), b, { mode: 0o600 });
      if ((await store.mergeConflicts(id)).merged) merges++;
    }
    stop = true;
    await writer;
    await store.flush(id);
    const ids = idsOf(fs.readFileSync(path.join(dir, `${id}.jsonl`)));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((x) => appended.includes(x))).toEqual(appended);
    expect(new Set(ids)).toEqual(new Set([...idsOf(a), ...idsOf(b), ...appended]));
    expect(merges).toBe(10);
    await store.close();
  });

  it('keeps entries another process appends while it runs', async () => {
    const { id, a, b } = await divergedCopies({ a: 20, b: 20 });
    const dir = conflictFolder(id, a, b);
    const store = await openStore({ dir });
    const count = 3000;
    const child = startChild('appender.mjs', [dir, id, 'w', String(count)]);
    let merges = 0;
    while (child.process.exitCode === null && merges < 100) {
      fs.writeFileSync(path.join(dir, id + CONFLICT), b, { mode: 0o600 });
      try {
        if ((await store.mergeConflicts(id)).merged) merges++;
      } catch (err) {
        // The other writer can keep the file growing; the merge then asks to be run again.
        if ((err as { code?: string }).code !== 'ERR_LOCKED') throw err;
      }
    }
    const result = await child.done;
    expect(result.code).toBe(0);
    fs.writeFileSync(path.join(dir, id + CONFLICT), b, { mode: 0o600 });
    await store.mergeConflicts(id);
    const { entries, problems } = await store.read(id);
    expect(problems).toEqual([]);
    const seqs = entries.flatMap((e) => (e as { metadata?: { seq?: number } }).metadata?.seq ?? []);
    // Every entry, once. Not always in order: bytes the other process appended to the old file in
    // the instant before a rename are carried over after it, and may land after entries it already
    // appended to the new file (at most one flush of it, 10 entries, per merge; docs/reliability.md).
    expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
    let highest = -1;
    let displaced = 0;
    for (const seq of seqs) {
      if (seq < highest) displaced++;
      highest = Math.max(highest, seq);
    }
    expect(displaced).toBeLessThanOrEqual(10 * (merges + 1));
    expect(new Set(entries.map((e) => e.id))).toEqual(new Set([...idsOf(a), ...idsOf(b), ...entries.filter((e) => (e as { metadata?: unknown }).metadata !== undefined).map((e) => e.id)]));
    expect(merges).toBeGreaterThan(0);
    await store.close();
  });
});
