/**
 * Rows G9 and I5: a session appended to on two machines while they could not sync. Syncthing keeps
 * the copy with the newer mtime as `<id>.jsonl` and renames the other
 * `<id>.sync-conflict-<date>-<time>-<device>.jsonl`. The store must list one session with a
 * conflict (never a second session), merge the two by record id on request, lose no byte of
 * either, and give the same merged session whichever copy the sync tool kept, also when one
 * machine's clock (and so its mtimes) is an hour ahead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { startChild } from '../helpers/children.js';
import { rng } from '../helpers/transcripts.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { duplicates, figure, idsOnDisk, scale } from './matrix.js';

const HOUR = 3_600_000;

/** Syncthing's name for the losing copy: the loser's mtime and the first 7 characters of the device id. */
function conflictName(id: string, mtime: Date, device: string): string {
  const stamp = mtime.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${id}.sync-conflict-${stamp}-${device}.jsonl`;
}

/** The lines of a file as written (a torn last fragment included), without empty ones. */
function linesOf(bytes: Buffer): string[] {
  return bytes.toString('utf8').split('\n').filter((line) => line !== '');
}

/** Each machine's sequence numbers in file order. */
function seqsByTag(file: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of linesOf(fs.readFileSync(file)).slice(1)) {
    const meta = (JSON.parse(line) as { metadata?: { tag?: string; seq?: number } }).metadata;
    if (meta?.tag !== undefined && meta.seq !== undefined) out.set(meta.tag, [...(out.get(meta.tag) ?? []), meta.seq]);
  }
  return out;
}

interface Outcome {
  readonly detected: boolean;
  readonly listedTwice: boolean;
  readonly merged: Buffer;
  readonly recordsOk: boolean;
  readonly lostLines: number;
  readonly recovered: number;
  readonly movedAside: boolean;
}

/** Puts `winner` in place as the session and `loser` under the conflict name, then lists, checks and merges. */
async function resolveAndMerge(id: string, winner: { bytes: Buffer; mtime: Date }, loser: { bytes: Buffer; mtime: Date }, union: Set<string>): Promise<Outcome> {
  const dir = tempDir();
  const main = path.join(dir, `${id}.jsonl`);
  const copyName = conflictName(id, loser.mtime, 'ZQ3XW7R');
  const copy = path.join(dir, copyName);
  fs.writeFileSync(main, winner.bytes, { mode: 0o600 });
  fs.utimesSync(main, winner.mtime, winner.mtime);
  fs.writeFileSync(copy, loser.bytes, { mode: 0o600 });
  fs.utimesSync(copy, loser.mtime, loser.mtime);
  await using store = await openStore({ dir });
  const { sessions } = await store.list();
  const doctor = await store.check();
  const detected = sessions[0]?.conflicts.join() === copyName && doctor.findings.some((f) => f.kind === 'conflict-copy' && f.file === copyName);
  const listedTwice = sessions.length !== 1 || sessions[0]?.id !== id;

  const report = await store.mergeConflicts(id);
  const merged = fs.readFileSync(main);
  const ids = idsOnDisk(main);
  const { problems } = await store.read(id);
  const recoveredText = report.recoveryFile === undefined ? '' : fs.readFileSync(report.recoveryFile, 'utf8');
  // Nothing lost: every line of either copy is in the merged session or, byte for byte, in the recovery file.
  const kept = new Set([...linesOf(merged), ...recoveredText.split('\n')]);
  const lostLines = [...linesOf(winner.bytes), ...linesOf(loser.bytes)].filter((line) => !kept.has(line)).length;
  const movedTo = report.copies[0]?.movedTo;
  const movedAside = movedTo !== undefined && !fs.existsSync(copy) && fs.readFileSync(movedTo).equals(loser.bytes) && (await store.list()).sessions[0]?.conflicts.length === 0;
  const recordsOk = duplicates(ids) === 0 && ids.length === union.size && ids.every((x) => union.has(x)) && problems.length === 0;
  return { detected, listedTwice, merged, recordsOk, lostLines, recovered: report.problems.length, movedAside };
}

describe('G9/I5 sync-conflict copies', () => {
  const trials = scale(6, 100);

  it(`are surfaced, merged into |A ∪ B| without loss, identically whichever copy won (${trials} trials)`, async () => {
    const random = rng(9);
    let detected = 0;
    let listedTwice = 0;
    let recordsOk = 0;
    let lostLines = 0;
    let recovered = 0;
    let movedAside = 0;
    let identical = 0;
    let skewed = 0;
    let records = 0;
    for (let trial = 0; trial < trials; trial++) {
      const id = `conflict-${trial}`;
      const dirA = tempDir();
      const dirB = tempDir();
      {
        await using store = await openStore({ dir: dirA });
        await store.create({ id, title: 'shared history' });
        for (let n = 1 + Math.floor(random() * 10); n > 0; n--) await store.append(id, { role: 'user', content: `before the split ${n}` });
      }
      fs.copyFileSync(path.join(dirA, `${id}.jsonl`), path.join(dirB, `${id}.jsonl`));
      // Machine B's clock is an hour ahead in every other trial (I5).
      const skew = trial % 2 === 1 ? HOUR : 0;
      if (skew !== 0) skewed++;
      const a = startChild('offline-appender.mjs', [dirA, id, 'A', String(1 + Math.floor(random() * 40)), '0']);
      const b = startChild('offline-appender.mjs', [dirB, id, 'B', String(1 + Math.floor(random() * 40)), String(skew)]);
      const results = await Promise.all([a.done, b.done]);
      expect(results.map((r) => [r.code, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      // In a third of the trials machine B crashed mid-write: its copy ends in a torn fragment.
      if (trial % 3 === 2) fs.appendFileSync(path.join(dirB, `${id}.jsonl`), '{"id":"01a1fdb7-torn","role":"assistant","content":"cut');
      const now = Date.now();
      const copyA = { bytes: fs.readFileSync(path.join(dirA, `${id}.jsonl`)), mtime: new Date(now) };
      const copyB = { bytes: fs.readFileSync(path.join(dirB, `${id}.jsonl`)), mtime: new Date(now + skew + 1000) };
      const union = new Set([...idsOnDisk(path.join(dirA, `${id}.jsonl`)), ...idsOnDisk(path.join(dirB, `${id}.jsonl`))].filter((x) => x !== '01a1fdb7-torn'));
      records += union.size;
      // Syncthing keeps the newer mtime (B); the other outcome is what a clock ahead on A would give.
      const outcomes = [await resolveAndMerge(id, copyB, copyA, union), await resolveAndMerge(id, copyA, copyB, union)];
      for (const outcome of outcomes) {
        if (outcome.detected) detected++;
        if (outcome.listedTwice) listedTwice++;
        if (outcome.recordsOk) recordsOk++;
        if (outcome.movedAside) movedAside++;
        lostLines += outcome.lostLines;
        recovered += outcome.recovered;
      }
      const [one, two] = outcomes as [Outcome, Outcome];
      if (one.merged.equals(two.merged)) identical++;
      // Each machine's own order survives the merge.
      const mergedFile = path.join(dirA, 'merged.jsonl');
      fs.writeFileSync(mergedFile, one.merged);
      for (const seqs of seqsByTag(mergedFile).values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    const runs = 2 * trials;
    expect({ detected, listedTwice, recordsOk, lostLines, movedAside, identical }).toEqual({
      detected: runs,
      listedTwice: 0,
      recordsOk: runs,
      lostLines: 0,
      movedAside: runs,
      identical: trials,
    });
    expect(recovered).toBe(2 * Math.floor(trials / 3));
    figure(
      'G9',
      `${trials} sessions appended offline by 2 processes, each resolved both ways (${runs} merges): conflicts detected ${detected}/${runs} (100 %), listed as a second session 0, merged records = |A ∪ B| ${recordsOk}/${runs} (${records} records), duplicates 0, lines lost 0 (torn fragments kept in the recovery file ${recovered}), copies moved to .trash ${movedAside}/${runs}, deleted 0`,
    );
    figure('I5', `whichever copy won (${skewed} of ${trials} with one machine's clock and mtimes +1 h): merged session byte-identical ${identical}/${trials}`);
  });
});

describe('G9 SIGKILL in the middle of a merge', () => {
  const runs = scale(4, 100);

  it(`leaves the old file or the merged one, the copy in place or in the trash, never a loss (${runs} kills)`, async () => {
    const random = rng(99);
    let intact = 0;
    let leftoverTemps = 0;
    let copiesIntact = 0;
    let killedMidRewrite = 0;
    for (let run = 0; run < runs; run++) {
      const source = tempDir();
      const dir = tempDir();
      const copyName = conflictName('s', new Date(), 'ZQ3XW7R');
      {
        await using store = await openStore({ dir });
        await store.create({ id: 's' });
        await store.append('s', Array.from({ length: 6000 }, (_, n) => ({ id: `r${n}`, role: 'user' as const, content: `r${n} ${'y'.repeat(200)}` })));
      }
      // The copy: the first 3000 records, then 3000 of its own (1.3 MB each: the merged file is written in several batches).
      const lines = linesOf(fs.readFileSync(path.join(dir, 's.jsonl')));
      const own = Array.from({ length: 3000 }, (_, n) => JSON.stringify({ id: `c${n}`, ts: new Date(Date.now() + n).toISOString(), type: 'message', role: 'user', content: `c${n}` }));
      const copyBytes = Buffer.from(`${[...lines.slice(0, 3001), ...own].join('\n')}\n`);
      fs.writeFileSync(path.join(source, copyName), copyBytes);
      const union = new Set([...idsOnDisk(path.join(dir, 's.jsonl')), ...own.map((_, n) => `c${n}`)]);
      const child = startChild('merge-loop.mjs', [dir, 's', path.join(source, copyName), copyName]);
      await child.line(new RegExp(`^merged ${Math.floor(random() * 3)}$`));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 150)));
      child.process.kill('SIGKILL');
      await child.done;
      // Wherever the copy is (beside the session, or in the trash), it is the copy byte for byte.
      const trash = path.join(dir, '.trash');
      const copies = [...(fs.existsSync(path.join(dir, copyName)) ? [path.join(dir, copyName)] : []), ...(fs.existsSync(trash) ? fs.readdirSync(trash).map((n) => path.join(trash, n)) : [])];
      if (copies.length > 0 && copies.every((file) => fs.readFileSync(file).equals(copyBytes))) copiesIntact++;
      // Killed before the copy was moved aside: the session and the copy still hold the union
      // (a merge run later takes it, once the dead process's lock is stale); after: the session alone.
      const beside = fs.existsSync(path.join(dir, copyName));
      // The merge's own temp file (`.s.jsonl.<pid>.<n>.tmp`, as repair's); the lock's files are the lock's business.
      const mergeTemps = (): string[] => fs.readdirSync(dir).filter((n) => /^\.s\.jsonl\.\d+\.\d+\.tmp$/.test(n));
      if (mergeTemps().length > 0) killedMidRewrite++;
      const ids = idsOnDisk(path.join(dir, 's.jsonl'));
      expect(duplicates(ids), `run ${run}`).toBe(0);
      expect(ids.every((x) => union.has(x)), `run ${run}`).toBe(true);
      expect(new Set([...ids, ...(beside ? idsOnDisk(path.join(dir, copyName)) : [])]), `run ${run}`).toEqual(union);
      const after = await openStore({ dir });
      expect((await after.read('s')).problems).toEqual([]);
      await waitFor('the temp sweep', () => mergeTemps().length === 0);
      leftoverTemps += mergeTemps().length;
      await after.close();
      intact++;
    }
    expect(copiesIntact).toBe(runs);
    figure('G9 crash', `SIGKILL during merges: ${intact}/${runs} sessions intact (old or merged file, each record once; with the copy, every record of A ∪ B), copies intact beside the session or in .trash ${copiesIntact}/${runs}, killed while the merged file was being written ${killedMidRewrite}, temp files left after the next open ${leftoverTemps}`);
  });
});
