// The write races of issue 10, each reproduced with real processes: an acknowledged entry glued
// onto another writer's torn fragment, and repairs racing appenders (at scale, then its one
// window held open on purpose). Race 3, a line a rewrite took for torn that its writer was only
// slow to finish, is played inside the rewrite's last hook.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockPathFor, withRewriteLock } from '../../src/file/fs/lock.js';
import { mergeSession } from '../../src/file/rewrite/merge.js';
import { repairSession } from '../../src/file/rewrite/repair.js';
import { makeValidator } from '../../src/format/validate.js';
import { openStore, type SessionStore } from '../../src/index.js';
import { type RunningChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { figure, scale, straceWorks } from './matrix.js';

/** Whether a thread of `pid` is inside an openat(2) of a folder (x86-64: syscall 257, flags with O_DIRECTORY). */
function inOpenDir(pid: number): boolean {
  return fs.readdirSync(`/proc/${pid}/task`).some((tid) => {
    const fields = fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ');
    return fields[0] === '257' && (Number.parseInt(fields[3] ?? '0', 16) & fs.constants.O_DIRECTORY) !== 0;
  });
}

/** Whether a thread of `pid` is inside a write(2) on an fd open on `file` (x86-64: syscall 1). */
function inWriteTo(pid: number, file: string): boolean {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const fields = fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ');
    if (fields[0] !== '1') continue;
    const fd = Number.parseInt(fields[1] ?? '', 16);
    if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file) return true;
  }
  return false;
}

/** A store in a new folder, with session `s`, and that session's file (its real path, as /proc shows it). */
async function storeWithSession(): Promise<{ dir: string; store: SessionStore; file: string }> {
  const dir = tempDir();
  const store = await openStore({ dir });
  await store.create({ id: 's' });
  return { dir, store, file: fs.realpathSync(path.join(dir, 's.jsonl')) };
}

const withStrace = straceWorks() && process.arch === 'x64';

/** Starts `test/children/<name>` under strace, which holds each of its `syscall`s on `onPath` for 1.5 s; resolves with the child and its pid ("ready <pid>"). */
async function startHeld(name: string, args: string[], onPath: string, syscall: 'write' | 'openat'): Promise<{ child: RunningChild; pid: number }> {
  const child = startChild(name, args, {
    wrap: (nodeArgs) => ['strace', ['-f', '-qq', '-o', '/dev/null', '-P', onPath, '-e', `trace=${syscall}`, '-e', `inject=${syscall}:delay_enter=1500000`, process.execPath, ...nodeArgs]],
  });
  return { child, pid: Number((await child.line(/^ready \d+/)).split(' ')[1]) };
}

describe.skipIf(!withStrace)('race 1: a torn fragment between the tail check and the write', () => {
  it('keeps the acknowledged entry readable whatever lands before it', async () => {
    const { dir, store, file } = await storeWithSession();
    // strace holds the child's write on the session file for 1.5 s, after its look at the file's end.
    const { child, pid } = await startHeld('one-flush.mjs', [dir, 's'], file, 'write');
    await waitFor('the child inside its delayed write', () => inWriteTo(pid, file), { timeoutMs: 20_000, intervalMs: 5 });
    // Another writer, killed mid-line, leaves a fragment while ours is held.
    fs.appendFileSync(file, '{"role":"user","content":"torn');
    const acked = (await child.line(/^flushed /)).split(' ')[1];
    expect((await child.done).code).toBe(0);
    const { entries, problems } = await store.read('s');
    expect(entries.map((entry) => entry.id)).toEqual([acked]);
    // The fragment and the copy glued to it are one reported line, never content.
    expect(problems.map((problem) => problem.kind)).toEqual(['invalid-json']);
    figure('race 1', `torn fragment appended while the store's write was held 1.5 s by strace: acknowledged entry readable ${entries.length}/1, fragment + glued copy reported as 1 bad line`);
    await store.close();
  });
});

describe('race 2: repairs racing appenders', () => {
  it('loses no acknowledged entry, writes none twice, and warns of no false restore', async () => {
    const rounds = scale(4, 20);
    let lost = 0;
    let twice = 0;
    let restored = 0;
    for (let round = 0; round < rounds; round++) {
      const dir = tempDir();
      const store = await openStore({ dir });
      await store.create({ id: 's' });
      const writers = ['A', 'B', 'C'].map((tag) => startChild('pairs-appender.mjs', [dir, 's', tag, '300']));
      const repairer = startChild('repair-update-loop.mjs', [dir, 's', '15']);
      const results = await Promise.all([...writers.map((w) => w.done), repairer.done]);
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      const acked = writers.flatMap((w) => w.stdout().split('\n').filter((line) => line.startsWith('acked ')).flatMap((line) => line.split(' ').slice(1).filter(Boolean)));
      restored += results.flatMap((r) => r.stdout.split('\n')).filter((line) => line === 'warning SESSIONLOG_RESTORED').length;
      const { entries } = await store.read('s');
      const counts = new Map<string, number>();
      for (const entry of entries) counts.set(entry.id, (counts.get(entry.id) ?? 0) + 1);
      // The file itself, not only what read() shows: a second copy of an id is a duplicate written.
      const onDisk = fs.readFileSync(path.join(dir, 's.jsonl'), 'utf8');
      for (const id of acked) {
        if (!counts.has(id)) lost++;
        if (onDisk.split(`"id":"${id}"`).length - 1 > 1) twice++;
      }
      await store.close();
    }
    figure('race 2', `${rounds} rounds of 3 appenders × 300 entries against 15 repair + update rounds: ${lost} lost, ${twice} written twice, ${restored} restore warnings`);
    expect({ lost, twice, restored }).toEqual({ lost: 0, twice: 0, restored: 0 });
  });
});

describe.skipIf(!withStrace)('race 2, its window held open: a rewrite ends while a writer looks at the file it put in place', () => {
  it('judges what the new file lacks at its size after the carry-over, so nothing is appended twice', async () => {
    const { dir, store, file } = await storeWithSession();
    // strace holds the child's look at the rewrite lock (the readdir of its folder) for 1.5 s.
    const { child, pid } = await startHeld('two-flushes.mjs', [dir, 's'], lockPathFor(file), 'openat');
    const first = (await child.line(/^flushed /)).split(' ')[1] as string;
    await withRewriteLock(file, async () => {
      // A rewrite whose last read came just before the child's first entry landed: the new file
      // lacks it, and the rewrite carries it over after its rename…
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      const late = `${lines.find((line) => line.includes(first)) as string}\n`;
      fs.writeFileSync(`${file}.new`, lines.filter((line) => !line.includes(first)).join('\n'));
      fs.renameSync(`${file}.new`, file);
      // …while the child's second flush has opened the new file and is held at its lock check.
      fs.writeFileSync(path.join(dir, 'go'), '');
      await waitFor('the child looking at the rewrite lock', () => inOpenDir(pid), { timeoutMs: 20_000, intervalMs: 5 });
      fs.appendFileSync(file, late);
    });
    const second = (await child.line(/^flushed /)).split(' ')[1] as string;
    const result = await child.done;
    expect(result.code, result.stderr).toBe(0);
    const onDisk = fs.readFileSync(file, 'utf8');
    expect([first, second].map((id) => onDisk.split(`"id":"${id}"`).length - 1)).toEqual([1, 1]);
    expect(result.stdout).not.toContain('warning SESSIONLOG_RESTORED');
    await store.close();
  });
});

describe('race 3: a line still being written when a rewrite gives up waiting for it', () => {
  // A rewrite that finds the session ending inside a line waits 50 ms for the rest, then takes the
  // fragment for torn and keeps it in the recovery file. If the writer was only slow (a loaded
  // machine), the rest of the line arrives between that last read and the rename, with more lines
  // after it. No process can be timed into that window reliably: the rewrite's last hook before its
  // rename (`assertHeld`, where it checks its lock) plays that writer instead.
  const createdAt = '2026-12-05T12:00:00.000Z';
  const header = () => ({ type: 'session' as const, version: 1, id: 's', createdAt });
  const entry = (n: number) => JSON.stringify({ type: 'message', id: `e${n}`, ts: createdAt, role: 'user', content: `line ${n} ${'x'.repeat(200)}` });
  const plan = (dir: string, assertHeld: () => void) => ({
    id: 's',
    file: path.join(dir, 's.jsonl'),
    reader: { validate: makeValidator(undefined), maxLineBytes: 64 * 1024 * 1024 },
    header,
    now: Date.now(),
    assertHeld,
  });
  /** A session whose last line, entry 3, is a third written; `finish` writes the rest and entry 4. */
  const startSession = () => {
    const dir = tempDir();
    const file = path.join(dir, 's.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(header())}\n${entry(1)}\n${entry(2)}\n${entry(3).slice(0, 100)}`, { mode: 0o600 });
    const finish = () => fs.appendFileSync(file, `${entry(3).slice(100)}\n${entry(4)}\n`);
    return { dir, file, finish };
  };
  const idsIn = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { id: string }).id);

  it('repair carries the finished line over whole: no fragment in the session, no entry lost', async () => {
    const { dir, file, finish } = startSession();
    await repairSession(plan(dir, finish));
    // Every line parses (a fragment would not), and every entry is there once.
    expect(idsIn(file)).toEqual(['s', 'e1', 'e2', 'e3', 'e4']);
  });

  it('repair still keeps out a torn line that another writer sealed and appended after', async () => {
    const { dir, file } = startSession();
    // A writer that finds a torn tail seals it with a newline before its own lines.
    const report = await repairSession(plan(dir, () => fs.appendFileSync(file, `\n${entry(4)}\n`)));
    expect(idsIn(file)).toEqual(['s', 'e1', 'e2', 'e4']);
    expect(fs.readFileSync(report.recoveryFile as string, 'utf8')).toBe(entry(3).slice(0, 100));
  });

  it('merge carries it over whole too', async () => {
    const { dir, file, finish } = startSession();
    const copy = path.join(dir, 's.sync-conflict-20261205-120000-ABCDEFG.jsonl');
    fs.writeFileSync(copy, `${JSON.stringify(header())}\n${entry(1)}\n${entry(9)}\n`, { mode: 0o600 });
    await mergeSession({ ...plan(dir, finish), dir, copies: [copy] });
    expect(new Set(idsIn(file))).toEqual(new Set(['s', 'e1', 'e2', 'e3', 'e4', 'e9']));
    expect(idsIn(file)).toHaveLength(6);
  });
});
