/**
 * Rows A1, A2, A4 of the reliability matrix: process crashes at random moments, at every I/O
 * step, and in the middle of one huge write.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { rng } from '../helpers/transcripts.js';
import { type ChildResult, runChild, startChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { duplicates, figure, FULL, idsOnDisk, scale, straceWorks } from './matrix.js';

async function sessionIn(dir: string, id: string): Promise<string> {
  const store = await openStore({ dir });
  await store.create({ id });
  await store.close();
  return path.join(dir, `${id}.jsonl`);
}

/** After a crash: the next process appends, and the new entry is read whole (sealed, never glued). */
async function appendsAfterRestart(dir: string, id: string): Promise<{ ok: boolean; problems: string[] }> {
  const store = await openStore({ dir });
  await store.append(id, { id: 'after-restart', role: 'user', content: 'resumed' });
  await store.flush(id);
  const { entries, problems } = await store.read(id);
  await store.close();
  return { ok: entries.at(-1)?.id === 'after-restart', problems: problems.map((p) => p.kind) };
}

describe('A1 SIGKILL at random moments', () => {
  const runs = scale(30, 500);

  it(`recovers every acknowledged entry, once and in order, over ${runs} kills`, async () => {
    const dir = tempDir();
    const random = rng(20261121);
    let acked = 0;
    let lost = 0;
    let dup = 0;
    let unacked = 0;
    let recovered = 0;
    let glued = 0;
    for (let run = 0; run < runs; run++) {
      const id = `k${run}`;
      const file = await sessionIn(dir, id);
      const ackFile = path.join(dir, `${id}.acks`);
      const child = startChild('crash-writer.mjs', [dir, id, ackFile, String(run + 1)]);
      await child.line(/^ready$/);
      // A random moment: after a random number of acknowledged flushes, plus up to 15 ms.
      const target = Math.floor(random() * 40);
      await waitFor('acknowledgements', () => target === 0 || (fs.existsSync(ackFile) && fs.readFileSync(ackFile, 'utf8').split('\n').length > target));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
      child.process.kill('SIGKILL');
      expect((await child.done).signal).toBe('SIGKILL');

      const ackedIds = fs.existsSync(ackFile) ? fs.readFileSync(ackFile, 'utf8').split('\n').filter(Boolean) : [];
      const onDisk = idsOnDisk(file);
      const present = new Set(onDisk);
      const missing = ackedIds.filter((entryId) => !present.has(entryId));
      // In order: the writer's ids are e-<batch>-<index>, increasing.
      const order = onDisk.map((entryId) => entryId.split('-').slice(1).map(Number));
      const inOrder = order.every((pair, i) => i === 0 || (pair[0] ?? 0) > (order[i - 1]?.[0] ?? 0) || ((pair[0] ?? 0) === (order[i - 1]?.[0] ?? 0) && (pair[1] ?? 0) > (order[i - 1]?.[1] ?? 0)));
      const after = await appendsAfterRestart(dir, id);
      expect(missing, `run ${run}: acknowledged but lost`).toEqual([]);
      expect(duplicates(onDisk), `run ${run}: duplicates`).toBe(0);
      expect(inOrder, `run ${run}: order`).toBe(true);
      expect(after.ok, `run ${run}: append after restart`).toBe(true);
      // At most the sealed fragment of the write the kill interrupted.
      expect(after.problems.filter((kind) => kind !== 'invalid-json'), `run ${run}`).toEqual([]);
      expect(after.problems.length).toBeLessThanOrEqual(1);
      acked += ackedIds.length;
      lost += missing.length;
      dup += duplicates(onDisk);
      unacked += onDisk.length - ackedIds.length;
      glued += after.ok ? 0 : 1;
      recovered += 1;
    }
    figure('A1', `SIGKILL at random: recovered ${recovered}/${runs}, acked ${acked}, acked lost ${lost}, duplicates ${dup}, glued ${glued}; ${unacked} unacknowledged entries also survived`);
  });
});

const CRASH_SYSCALLS = ['openat', 'write', 'fdatasync', 'fsync', 'close', 'link', 'read', 'pread64'];

describe.skipIf(!straceWorks())('A2 a crash at every I/O step (strace kills at the n-th syscall)', () => {
  it.each(FULL ? ['buffered', 'fsync'] : ['fsync'])('create, append, flush, update, sync, fork, close (%s)', async (durability) => {
    const root = tempDir();
    let points = 0;
    let recovered = 0;
    let lost = 0;
    for (const syscall of CRASH_SYSCALLS) {
      for (let n = 1; ; n++) {
        const dir = path.join(root, `${syscall}-${n}`);
        fs.mkdirSync(dir);
        const ackFile = path.join(root, `${syscall}-${n}.acks`);
        const result = await runChild('workload.mjs', [dir, ackFile, durability], {
          wrap: (nodeArgs) => [
            'strace',
            ['-f', '-qq', '-o', '/dev/null', '-P', path.join(dir, 's.jsonl'), '-P', path.join(dir, 'f.jsonl'), '-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=KILL:when=${n}`, process.execPath, ...nodeArgs],
          ],
        });
        if (result.code === 0) break; // the n-th call never came: every point of this syscall is covered
        // strace re-raises the tracee's fatal signal on itself.
        expect(result.signal === 'SIGKILL' || result.code === 137, result.stderr).toBe(true);
        points++;
        const acks = fs.existsSync(ackFile) ? fs.readFileSync(ackFile, 'utf8').split('\n').filter(Boolean) : [];
        const file = path.join(dir, 's.jsonl');
        const where = `${syscall} #${n}`;
        if (acks.includes('created')) {
          const store = await openStore({ dir });
          const info = await store.get('s');
          const { entries } = await store.read('s');
          const ids = new Set(entries.map((e) => e.id));
          const missing = acks.filter((a) => a.startsWith('entry ')).map((a) => a.slice(6)).filter((entryId) => !ids.has(entryId));
          lost += missing.length;
          expect(missing, where).toEqual([]);
          expect(duplicates(idsOnDisk(file)), where).toBe(0);
          if (acks.includes('updated second')) expect(info?.title, where).toBe('second');
          if (acks.includes('forked')) expect((await store.read('f')).entries.map((e) => e.id), where).toEqual(['a1', 'a2', 'a3', 'a4']);
          // A fork is linked into place whole, or not at all.
          if (fs.existsSync(path.join(dir, 'f.jsonl'))) expect((await store.get('f'))?.entryCount, where).toBe(4);
          await store.close();
          expect((await appendsAfterRestart(dir, 's')).ok, where).toBe(true);
        } else if (fs.existsSync(file)) {
          // Killed inside create: an empty or partial file is reported as damaged, never listed as a valid session.
          const store = await openStore({ dir });
          const { problems } = await store.read('s');
          const info = await store.get('s');
          await store.close();
          if (fs.statSync(file).size === 0) expect(problems.map((p) => p.kind), where).toEqual(['bad-header']);
          else expect(info?.problems ?? 0, where).toBe(0);
        }
        recovered++;
      }
    }
    expect(points).toBeGreaterThan(15);
    figure('A2', `crash at every I/O step (${durability}; ${CRASH_SYSCALLS.join(', ')} on the session files): points ${recovered}/${points} recovered, acked lost ${lost}`);
  });
});

describe('A4 one huge record torn by SIGKILL mid-write', () => {
  const runs = scale(3, 30);
  const mb = FULL ? 256 : 64;

  it(`reports the fragment and seals it before the next append (${runs} runs, ${mb} MiB)`, async () => {
    const dir = tempDir();
    const random = rng(4);
    let torn = 0;
    let reported = 0;
    let glued = 0;
    for (let run = 0; run < runs; run++) {
      const id = `h${run}`;
      const file = await sessionIn(dir, id);
      const headerBytes = fs.statSync(file).size;
      const child = startChild('huge-writer.mjs', [dir, id, String(mb)]);
      await child.line(/^writing$/);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(random() * 35)));
      child.process.kill('SIGKILL');
      await child.done;
      const size = fs.statSync(file).size;
      const wasTorn = size > headerBytes && size < headerBytes + mb * 1024 * 1024 + 40;
      const store = await openStore({ dir, maxEntryBytes: (mb + 1) * 1024 * 1024 });
      const { problems } = await store.read(id);
      await store.close();
      if (wasTorn) {
        torn++;
        if (problems.some((p) => p.kind === 'torn-tail')) reported++;
      }
      const after = await appendsAfterRestart(dir, id);
      if (!after.ok) glued++;
      expect(after.ok).toBe(true);
      fs.rmSync(file);
    }
    expect(reported).toBe(torn);
    figure('A4', `huge record (${mb} MiB) killed mid-write: torn ${torn}/${runs}, torn reported ${reported}/${torn}, glued lines ${glued}`);
  });
});

describe('A7 SIGKILL in the middle of a repair (the one rewrite of a session)', () => {
  const runs = scale(10, 100);

  it(`leaves the old file or the new one, never a mix, and never loses an entry (${runs} kills)`, async () => {
    const random = rng(77);
    let intact = 0;
    let leftoverTemps = 0;
    for (let run = 0; run < runs; run++) {
      const dir = tempDir();
      const store = await openStore({ dir });
      await store.create({ id: 's' });
      const ids = Array.from({ length: 2000 }, (_, n) => `r${n}`);
      await store.append('s', ids.map((entryId) => ({ id: entryId, role: 'user' as const, content: `${entryId} ${'y'.repeat(200)}` })));
      await store.close();
      const child = startChild('repair-loop.mjs', [dir, 's']);
      await child.line(new RegExp(`^repaired ${Math.floor(random() * 3)}$`));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 20)));
      child.process.kill('SIGKILL');
      await child.done;
      const after = await openStore({ dir });
      const { entries } = await after.read('s');
      expect(entries.map((e) => e.id), `run ${run}`).toEqual(ids);
      expect(duplicates(idsOnDisk(path.join(dir, 's.jsonl')))).toBe(0);
      // Every recovery file holds only what repair removed: the hand-made bad lines.
      for (const name of fs.readdirSync(dir).filter((n) => n.includes('.recovered-'))) {
        const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean);
        expect(lines.every((line) => line.startsWith('{"bad": ')), `run ${run}: ${name}`).toBe(true);
      }
      await waitFor('the temp sweep', () => fs.readdirSync(dir).every((n) => !n.endsWith('.tmp')));
      leftoverTemps += fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')).length;
      await after.close();
      intact++;
    }
    figure('A7', `SIGKILL during repair: ${intact}/${runs} sessions intact (old or new file, every entry once), recovery files hold only removed bytes, temp files left after the next open ${leftoverTemps}`);
  });
});

/** Which of the store's files a path names, or undefined for anything outside the store folder. */
function repairPathKind(dir: string, p: string): string | undefined {
  if (p === dir) return 'folder';
  if (!p.startsWith(`${dir}/`)) return undefined;
  const name = p.slice(dir.length + 1);
  if (name === 's.jsonl') return 'session';
  if (name === COPY) return 'copy';
  if (name === `.trash/${COPY}`) return 'trash copy';
  if (name === '.trash') return 'trash';
  if (name.startsWith('s.jsonl.recovered-')) return 'recovery';
  if (name === '.s.jsonl.lock') return 'lock';
  if (/^\.s\.jsonl\.lock\/owner-/.test(name)) return 'lock owner';
  if (/^\.s\.jsonl\.lock\.\d+\.\d+\.tmp\/owner-/.test(name)) return 'staged owner';
  if (/^\.s\.jsonl\.lock\.\d+\.\d+\.tmp$/.test(name)) return 'lock staging';
  if (/^\.s\.jsonl\.\d+\.\d+\.tmp$/.test(name)) return 'temp';
  return `other ${name}`;
}

/** One call of strace `-y` output on the store's files: which thread, which syscall, on which of the files. */
interface RepairStep {
  readonly tid: number;
  readonly syscall: string;
  /** The kinds of store files it names, e.g. `temp` or `temp,session`. */
  readonly kinds: string;
  /** Whether it changes what is on disk (a read, a close or an open without O_CREAT does not). */
  readonly changes: boolean;
  /** The store paths it names. */
  readonly paths: string[];
}

const READ_ONLY_SYSCALLS = new Set(['read', 'pread64', 'close', 'openat']);

function repairSteps(dir: string, lines: readonly string[]): RepairStep[] {
  const steps: RepairStep[] = [];
  for (const line of lines) {
    const call = /^(\d+) +(\w+)\((.*)$/.exec(line);
    if (call === null) continue;
    const [, tid = '', syscall = '', args = ''] = call;
    // Paths appear quoted ("…") and, with -y, as fd annotations (<…>).
    const paths = [...new Set([...args.matchAll(/"([^"]*)"|<(\/[^>]*)>/g)].map((m) => (m[1] ?? m[2] ?? '').replace(/\(deleted\)$/, '')))].filter((p) => repairPathKind(dir, p) !== undefined);
    if (paths.length === 0) continue;
    const kinds = [...new Set(paths.map((p) => repairPathKind(dir, p)))].join(',');
    const changes = !READ_ONLY_SYSCALLS.has(syscall) || (syscall === 'openat' && args.includes('O_CREAT'));
    steps.push({ tid: Number(tid), syscall, kinds, changes, paths });
  }
  return steps;
}

const stepName = (step: RepairStep): string => `${step.syscall} ${step.kinds}`;

/** The call a `signal=KILL` injection landed on: the one whose result strace shows as `= ?`. */
function killedCall(trace: readonly string[]): string {
  const calls = trace.filter((line) => /^\d+ +\w+\(/.test(line));
  const resumed = trace.map((line) => /^(\d+) +<\.\.\. (\w+) resumed>.*= \?$/.exec(line)).find((m) => m !== null);
  if (resumed != null) {
    const unfinished = calls.filter((line) => line.startsWith(`${resumed[1]} `) && line.includes(`${resumed[2]}(`) && line.endsWith('<unfinished ...>'));
    if (unfinished.length > 0) return unfinished.at(-1) ?? '';
  }
  return calls.find((line) => / = \?$/.test(line)) ?? calls.at(-1) ?? '';
}

/** Starts `rewrite-on-signal.mjs`, attaches strace to it once it is ready, then lets it repair or merge. */
async function tracedRewrite(op: Rewrite, dir: string, strace: (pid: number) => string[], allThreads = true): Promise<{ result: ChildResult; trace: string[]; pid: number }> {
  const child = startChild('rewrite-on-signal.mjs', [op, dir, 's', String(A7_NOW)]);
  const pid = Number((await child.line(/^ready \d+$/)).split(' ')[1]);
  const traceFile = path.join(path.dirname(dir), `${path.basename(dir)}.strace`);
  // Attached after `ready`: the child's start-up is not traced, only what follows the signal.
  // Without -f only the main thread is traced (and counted for `when=N`).
  const tracer = spawn('strace', [...(allThreads ? ['-f'] : []), '-y', '-p', String(pid), '-o', traceFile, ...strace(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  tracer.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const tracerDone = new Promise((resolve) => tracer.on('close', resolve));
  await waitFor('strace to attach', () => /attached/.test(stderr) || tracer.exitCode !== null, { timeoutMs: 30_000 }).catch(() => undefined);
  if (!/attached/.test(stderr)) {
    child.process.kill('SIGKILL'); // it would wait for its signal forever
    tracer.kill('SIGKILL');
    await child.done;
  }
  expect(stderr, 'strace attached').toMatch(/attached/);
  child.process.kill('SIGUSR2');
  const result = await child.done;
  await tracerDone;
  // strace prefixes each call with its thread only with -f; without it every call is the main thread's.
  const trace = fs
    .readFileSync(traceFile, 'utf8')
    .split('\n')
    .map((line) => (allThreads || line === '' ? line : `${pid} ${line}`));
  fs.rmSync(traceFile);
  return { result, trace, pid };
}

/** The fixed clock of the rewriting child: its recovery file's name is known. */
const A7_NOW = Date.UTC(2026, 0, 1);

/** The two whole-file rewrites of a session. */
type Rewrite = 'repair' | 'merge';

/** The Syncthing conflict copy the merge sweep folds in. */
const COPY = 's.sync-conflict-20260101-000000-BBBBBBB.jsonl';

/**
 * What the merge sweep merges: the damaged session, and a conflict copy holding its first half and
 * entries of its own (as another machine would have appended offline), with a torn fragment.
 */
function sessionWithCopy(dir: string, entries: number): string[] {
  const ids = damagedSession(dir, entries);
  const header = `${JSON.stringify({ type: 'session', version: 1, id: 's', createdAt: '2026-01-01T00:00:00.000Z' })}\n`;
  let text = header;
  for (let n = 0; n < entries / 2; n++) text += `${JSON.stringify({ type: 'message', id: `r${n}`, ts: '2026-01-01T00:00:01.000Z', role: 'user', content: `r${n} ${'y'.repeat(200)}` })}\n`;
  const own: string[] = [];
  for (let n = 0; n < Math.max(3, entries / 4); n++) {
    own.push(`c${n}`);
    text += `${JSON.stringify({ type: 'message', id: `c${n}`, ts: '2026-01-01T00:00:02.000Z', role: 'assistant', content: `c${n} ${'z'.repeat(200)}` })}\n`;
  }
  fs.writeFileSync(path.join(dir, COPY), `${text}{"torn-in-copy":`, { mode: 0o600 });
  return [...ids, ...own];
}

/** A session with bad lines in the middle and a torn tail; big enough at full scale for several batches. */
function damagedSession(dir: string, entries: number): string[] {
  fs.mkdirSync(dir);
  const ids: string[] = [];
  let text = `${JSON.stringify({ type: 'session', version: 1, id: 's', createdAt: '2026-01-01T00:00:00.000Z' })}\n`;
  for (let n = 0; n < entries; n++) {
    ids.push(`r${n}`);
    text += `${JSON.stringify({ type: 'message', id: `r${n}`, ts: '2026-01-01T00:00:01.000Z', role: 'user', content: `r${n} ${'y'.repeat(200)}` })}\n`;
    if (n % Math.ceil(entries / 3) === 1) text += `{"bad": ${n},\n`;
  }
  fs.writeFileSync(path.join(dir, 's.jsonl'), `${text}{"torn":`, { mode: 0o600 });
  return ids;
}

// Every syscall that changes a file or the folder, at CI scale; reads, writes, closes and metadata at full scale.
const SWEPT_SYSCALLS = FULL
  ? ['openat', 'write', 'pwrite64', 'read', 'pread64', 'fsync', 'fdatasync', 'close', 'rename', 'link', 'unlink', 'mkdir', 'rmdir', 'chmod', 'fchmod', 'utimensat']
  : ['openat', 'fsync', 'fdatasync', 'rename', 'link', 'unlink', 'mkdir', 'rmdir'];

describe.skipIf(!straceWorks())('A7 a crash at every I/O step of a repair (strace attached after the child is ready)', () => {
  it(`leaves the old or the new session, recovery files with only removed bytes, and nothing the next open and repair do not clear (${SWEPT_SYSCALLS.join(', ')})`, async () => {
    await sweepRewrite('repair', scale(50, 12_000));
  });
});

describe.skipIf(!straceWorks())('G9 a crash at every I/O step of a merge of conflict copies (strace attached after the child is ready)', () => {
  it(`leaves the old or the merged session, the copy beside it or in the trash whole, and nothing the next open and merge do not clear (${SWEPT_SYSCALLS.join(', ')})`, async () => {
    await sweepRewrite('merge', scale(40, 8_000));
  });
});

/**
 * Kills a repair or a merge at every I/O step (each syscall of SWEPT_SYSCALLS, at every count
 * until the rewrite finishes first) and checks what a crash there leaves.
 */
async function sweepRewrite(op: Rewrite, entries: number): Promise<void> {
  const syscalls = SWEPT_SYSCALLS;
  const setUp = op === 'repair' ? damagedSession : sessionWithCopy;
  const root = tempDir();
  // The reference run: what the session and its recovery file look like after the rewrite, and every step it takes.
  const refDir = path.join(root, 'reference');
  const ids = setUp(refDir, entries);
  const oldBytes = fs.readFileSync(path.join(refDir, 's.jsonl'));
  const copyBytes = op === 'merge' ? fs.readFileSync(path.join(refDir, COPY)) : undefined;
  const reference = await tracedRewrite(op, refDir, () => ['-e', `trace=${syscalls.join(',')}`]);
  expect(reference.result.stdout).toMatch(/^done [1-9]\d*$/m);
  const newBytes = fs.readFileSync(path.join(refDir, 's.jsonl'));
  const recoveryName = fs.readdirSync(refDir).find((n) => n.startsWith('s.jsonl.recovered-')) ?? '';
  const recoveryBytes = fs.readFileSync(path.join(refDir, recoveryName));
  const referenceSteps = repairSteps(refDir, reference.trace);
  // Every step in the main thread, and every step that changes the disk in any thread.
  const expectedSteps = new Set(referenceSteps.filter((step) => step.tid === reference.pid || step.changes).map(stepName));

  // strace counts `when=N` per thread, and the main thread's count includes libuv's wake-ups
  // (eventfd writes) whose number varies from run to run. So calls on a file whose name is known
  // once the pid is (all but the owner file, named at random) are also swept with -P on that path:
  // at CI scale those from libuv's pool (async fs), which the main thread's N-th call would
  // always beat; at full scale all of them.
  type Sweep = { name: string; args: (dir: string, pid: number, n: number) => string[]; allThreads?: boolean };
  const sweeps: Sweep[] = syscalls.map((syscall) => ({
    name: syscall,
    args: (_dir, _pid, n) => ['-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=KILL:when=${n}`],
  }));
  // A call in the pool that comes first shadows the main thread's calls of the same count (a merge
  // unlinks the copy in the pool, then the lock's randomly named owner file in the main thread):
  // those syscalls are also swept in the main thread alone.
  const threadsOf = (syscall: string) => new Set(referenceSteps.filter((step) => step.syscall === syscall).map((step) => step.tid === reference.pid));
  for (const syscall of syscalls.filter((name) => threadsOf(name).size === 2)) {
    sweeps.push({ name: `${syscall} main thread`, allThreads: false, args: (_dir, _pid, n) => ['-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=KILL:when=${n}`] });
  }
  const byPath = new Map<string, { syscall: string; file: string }>();
  for (const step of referenceSteps) {
    const file = step.paths.find((p) => !(repairPathKind(refDir, p) ?? '').includes('owner'));
    if (file !== undefined && (FULL || (step.tid !== reference.pid && step.changes))) byPath.set(`${step.syscall} ${file}`, { syscall: step.syscall, file });
  }
  for (const step of byPath.values()) {
    const relative = path.relative(refDir, step.file).replaceAll(String(reference.pid), '<pid>');
    sweeps.push({
      name: `${step.syscall} -P ${relative || '.'}`,
      args: (dir, pid, n) => ['-P', path.join(dir, relative.replaceAll('<pid>', String(pid))), '-e', `trace=${step.syscall}`, '-e', `inject=${step.syscall}:signal=KILL:when=${n}`],
    });
  }

  const hitSteps = new Set<string>();
  let points = 0;
  let recovered = 0;
  let storePoints = 0;
  let oldAfter = 0;
  let newAfter = 0;
  let lost = 0;
  let copiesBeside = 0;
  for (const sweep of sweeps) {
    for (let n = 1; ; n++) {
      const dir = path.join(root, `${sweep.name.replace(/\W+/g, '_')}-${n}`);
      setUp(dir, entries);
      const { result, trace } = await tracedRewrite(op, dir, (pid) => sweep.args(dir, pid, n), sweep.allThreads);
      if (result.stdout.includes('done')) {
        fs.rmSync(dir, { recursive: true });
        break; // the n-th call came after the repair, or never: every point of this sweep is covered
      }
      const where = `${sweep.name} #${n}`;
      expect(result.signal, `${where}: ${result.stdout} ${result.stderr}`).toBe('SIGKILL');
      points++;
      const killedAt = repairSteps(dir, [killedCall(trace)]);
      for (const step of killedAt) hitSteps.add(stepName(step));
      if (killedAt.length > 0) storePoints++;

      // The session is the old file or the new one, byte for byte: every entry once.
      const file = path.join(dir, 's.jsonl');
      const now = fs.readFileSync(file);
      const isOld = now.equals(oldBytes);
      const isNew = now.equals(newBytes);
      expect(isOld || isNew, `${where}: the session is neither the old nor the new file`).toBe(true);
      if (isOld) oldAfter++;
      else newAfter++;
      // Recovery files hold only removed bytes (a prefix of them when the kill came mid-write);
      // once the session is new, one holds all of them.
      const recoveries = fs.readdirSync(dir).filter((name) => name.startsWith('s.jsonl.recovered-'));
      for (const name of recoveries) {
        const bytes = fs.readFileSync(path.join(dir, name));
        expect(recoveryBytes.subarray(0, bytes.length).equals(bytes), `${where}: ${name} holds bytes that were not removed`).toBe(true);
      }
      if (isNew) {
        const complete = recoveries.some((name) => fs.readFileSync(path.join(dir, name)).equals(recoveryBytes));
        if (!complete) lost++;
        expect(complete, `${where}: the new session's removed bytes are in a recovery file`).toBe(true);
      }
      if (copyBytes !== undefined) {
        // The copy is never lost or cut: beside the session (always, while the session is old), in the trash, or both (linked).
        const beside = path.join(dir, COPY);
        const trashed = path.join(dir, '.trash', COPY);
        const places = [beside, trashed].filter((p) => fs.existsSync(p));
        expect(places.length, `${where}: the copy is gone`).toBeGreaterThan(0);
        for (const p of places) expect(fs.readFileSync(p).equals(copyBytes), `${where}: ${p} is not the copy`).toBe(true);
        if (isOld) expect(fs.existsSync(beside), `${where}: the copy left before the merge was in place`).toBe(true);
        if (isOld) copiesBeside++;
      }

      // The next open sweeps the dead process's temp file.
      const store = await openStore({ dir });
      await waitFor(`${where}: the temp sweep`, () => fs.readdirSync(dir).every((name) => !/^\.s\.jsonl\.\d+\.\d+\.tmp$/.test(name)));
      // A lock the dead process held is stale once 20 s have passed: age it rather than wait.
      const lockDir = path.join(dir, '.s.jsonl.lock');
      const old = new Date(Date.now() - 60_000);
      if (fs.existsSync(lockDir)) for (const name of fs.readdirSync(lockDir)) fs.utimesSync(path.join(lockDir, name), old, old);
      // The next repair or merge takes over, clears the lock's leftovers and ends with the new file.
      if (op === 'repair') expect((await store.repair('s')).repaired, where).toBe(isOld);
      else {
        await store.mergeConflicts('s');
        expect(fs.existsSync(path.join(dir, COPY)), `${where}: the copy is still beside the session after the next merge`).toBe(false);
        expect(fs.readFileSync(path.join(dir, '.trash', COPY)).equals(copyBytes as Buffer), `${where}: the copy in the trash`).toBe(true);
      }
      expect(fs.readFileSync(file).equals(newBytes), `${where}: the session after the next repair`).toBe(true);
      expect((await store.read('s')).entries.map((e) => e.id).sort(), where).toEqual([...ids].sort());
      await store.close();
      expect(fs.readdirSync(dir).filter((name) => name.startsWith('.s.jsonl.')), `${where}: leftovers after the next repair`).toEqual([]);
      recovered++;
      fs.rmSync(dir, { recursive: true });
    }
  }
  // Every step of the reference repair on the store's files was a crash point.
  const missed = [...expectedSteps].filter((step) => !hitSteps.has(step));
  expect(missed, `steps of the ${op} never crashed at`).toEqual([]);
  if (op === 'repair') {
    figure('A7 sweep', `crash at every I/O step of repair (${syscalls.join(', ')}; all ${expectedSteps.size} distinct steps on the session, temp, recovery and lock files hit): points ${recovered}/${points} recovered (${storePoints} on the store's files), old file ${oldAfter}, new file ${newAfter}, sessions lost 0, removed bytes lost ${lost}`);
  } else {
    figure('G9 sweep', `crash at every I/O step of a merge of a conflict copy (${syscalls.join(', ')}; all ${expectedSteps.size} distinct steps on the session, copy, trash, temp, recovery and lock files hit): points ${recovered}/${points} recovered (${storePoints} on the store's files), old file ${oldAfter} (copy beside it ${copiesBeside}), merged file ${newAfter}, copies lost or cut 0, sessions lost 0, bytes kept aside lost ${lost}`);
  }
}
