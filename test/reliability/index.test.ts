/**
 * The index rows of the reliability matrix: A6/F6 (a crash at every I/O step of an index write),
 * C8 (EIO reading one session while listing), C9 (ENOSPC and a short write while writing the
 * index) and F1–F9 (a corrupt, stale, deleted, newer, raced or planted index, lost watcher events,
 * safe-write storms). Children run the built package: `npm run build` first.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSessions } from '../../bench/lib/sessions.mjs';
import { type ChangeEvent, openStore, type SessionInfo } from '../../src/index.js';
import { type ChildResult, runChild, startChild } from '../helpers/children.js';
import { EDITORS } from '../helpers/editors.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { collectWarnings, INDEX, listAll, populated, truth } from '../catalog/fixtures.js';
import { figure, scale, straceWorks } from './matrix.js';

/** Index temps of this version: `.sessionlog-index.json.<pid>.<n>.tmp`. */
const INDEX_TEMP = /^\.sessionlog-index\.json\.\d+\.\d+\.tmp$/;

interface Report {
  listed: string[];
  warnings: { code: string; id?: string; message?: string }[];
  unhandled: string[];
}

function report(result: ChildResult): Report {
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no report (exit ${result.code ?? result.signal}): ${result.stderr}`);
  return JSON.parse(line) as Report;
}

function indexTemps(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => INDEX_TEMP.test(name));
}

/** A whole index document (what a reader that parses the file gets), not part of one. */
function wholeIndex(bytes: Buffer): boolean {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { format?: unknown; sessions?: unknown };
    return doc.format === 'sessionlog-index' && Array.isArray(doc.sessions);
  } catch {
    return false;
  }
}

/** Sessions whose listed info differs from the truth, plus those missing or extra. */
function staleEntries(listed: readonly SessionInfo[], expected: readonly SessionInfo[]): number {
  const want = new Map(expected.map((s) => [s.id, JSON.stringify(s)]));
  const got = new Map(listed.map((s) => [s.id, JSON.stringify(s)]));
  let stale = 0;
  for (const [id, info] of want) if (got.get(id) !== info) stale++;
  for (const id of got.keys()) if (!want.has(id)) stale++;
  return stale;
}

/**
 * Runs index-writes.mjs and attaches strace once it has loaded the index (it stops itself for
 * that), so only the index writes that follow are traced. Index temps are named by the writer's
 * pid, so their paths for `-P` are known once the child runs.
 */
async function traceIndexWrites(dir: string, mode: 'write' | 'fail', straceArgs: readonly string[]): Promise<ChildResult> {
  const child = startChild('index-writes.mjs', [dir, mode], { env: { STOP_FOR_TRACER: '1' } });
  try {
    const pid = Number((await child.line(/^ready \d+$/)).split(' ')[1]);
    await waitFor('the child to stop for the tracer', () => /^State:\s+T/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')));
    const names = [INDEX, ...Array.from({ length: 8 }, (_, n) => `.sessionlog-index.json.${pid}.${n + 1}.tmp`)];
    const tracer = spawn('strace', ['-f', '-p', String(pid), ...names.flatMap((name) => ['-P', path.join(dir, name)]), ...straceArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    tracer.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      said += chunk;
    });
    const detached = new Promise((resolve) => tracer.on('close', resolve));
    await waitFor('strace to attach', () => /attached/.test(said));
    process.kill(pid, 'SIGCONT');
    const result = await child.done;
    await detached;
    return result;
  } finally {
    child.process.kill('SIGKILL');
  }
}

describe.skipIf(!straceWorks())('A6/F6 a crash at every I/O step of an index write', () => {
  const sessions = scale(20, 500);

  it(`leaves the old index or the new one, and its temp is swept at the next open (${sessions} sessions)`, async () => {
    // Which calls an index write makes, on which paths and threads: one traced run.
    const root = tempDir();
    const traceFile = path.join(root, 'trace.txt');
    const discovery = await populated(sessions);
    expect((await traceIndexWrites(discovery.dir, 'write', ['-y', '-o', traceFile])).code).toBe(0);
    const calls = fs
      .readFileSync(traceFile, 'utf8')
      .split('\n')
      .flatMap((line) => {
        const match = /^(\d+)\s+(\w+)\(/.exec(line);
        return match === null ? [] : [{ tid: match[1], name: match[2] as string }];
      });
    // strace counts calls per thread: the writes must all be on one thread for `when=N` to reach each.
    expect(new Set(calls.map((c) => c.tid)).size).toBe(1);
    const syscalls = [...new Set(calls.map((c) => c.name))];
    expect(syscalls).toEqual(expect.arrayContaining(['openat', 'write', 'close', 'rename']));

    let points = 0;
    let partial = 0;
    let tempsLeftByKills = 0;
    let leftoverAfterOpen = 0;
    let listedWrongly = 0;
    let othersRemoved = 0;
    for (const syscall of syscalls) {
      for (let n = 1; ; n++) {
        const { dir } = await populated(sessions);
        const old = fs.readFileSync(path.join(dir, INDEX));
        // Names the sweep must leave alone: a live writer's temp (the test runner's pid) and look-alikes.
        const keep = [`.sessionlog-index.json.${process.ppid}.7.tmp`, '.sessionlog-index.json.bak', 'x.sessionlog-index.json.1.1.tmp'];
        for (const name of keep) fs.writeFileSync(path.join(dir, name), '{"half');
        const result = await traceIndexWrites(dir, 'write', ['-o', '/dev/null', '-e', `trace=${syscall}`, '-e', `inject=${syscall}:signal=KILL:when=${n}`]);
        if (result.code === 0) break; // the n-th call never came: every point of this syscall is covered
        const where = `${syscall} #${n}`;
        expect(result.signal, `${where}: ${result.stderr}`).toBe('SIGKILL');
        points++;
        const now = fs.readFileSync(path.join(dir, INDEX));
        if (!now.equals(old) && !wholeIndex(now)) partial++;
        tempsLeftByKills += indexTemps(dir).filter((name) => !keep.includes(name)).length;

        const expected = await truth(dir);
        const store = await openStore({ dir });
        const listed = await listAll(store);
        if (JSON.stringify(listed) !== JSON.stringify(expected)) listedWrongly++;
        expect(listed, where).toEqual(expected);
        // The sweep runs in the background of the open; a deadline, not a sleep.
        await waitFor(`the temp sweep (${where})`, () => indexTemps(dir).every((name) => keep.includes(name)));
        leftoverAfterOpen += indexTemps(dir).filter((name) => !keep.includes(name)).length;
        othersRemoved += keep.filter((name) => !fs.existsSync(path.join(dir, name))).length;
        await store.close();
      }
    }
    expect(points).toBe(calls.length);
    expect([partial, leftoverAfterOpen, listedWrongly, othersRemoved]).toEqual([0, 0, 0, 0]);
    expect(tempsLeftByKills).toBeGreaterThan(0);
    figure(
      'A6',
      `crash at every I/O step of an index write (${syscalls.join(', ')} on the index and its temps): points ${points}/${calls.length} traced calls, partial index reads ${partial}, listings wrong after restart ${listedWrongly}`,
    );
    figure(
      'F6',
      `temps left by the ${points} killed index writes: ${tempsLeftByKills}; left after the next open ${leftoverAfterOpen} (their pid is dead); parsed as sessions 0; a live writer's temp and look-alike names removed ${othersRemoved}`,
    );
  });
});

describe.skipIf(!straceWorks())('C8, C9 I/O errors on the index path (strace, ulimit)', () => {
  it('C8 EIO reading one session file while listing: that one is reported, all others listed', async () => {
    const total = scale(50, 1000);
    const dir = tempDir();
    writeSessions(dir, total); // no index: list() reads every file
    const victim = 's-000007';
    const result = await runChild('index-lister.mjs', [dir], {
      wrap: (nodeArgs) => [
        'strace',
        ['-f', '-qq', '-o', '/dev/null', '-P', path.join(dir, `${victim}.jsonl`), '-e', 'trace=read,pread64', '-e', 'inject=read,pread64:error=EIO', process.execPath, ...nodeArgs],
      ],
    });
    expect(result.code, result.stderr).toBe(0);
    const out = report(result);
    const reported = out.warnings.filter((w) => w.code === 'SESSIONLOG_INDEX_READ_FAILED' && w.id === victim).length;
    expect(out.listed).toHaveLength(total - 1);
    expect(out.listed).not.toContain(victim);
    expect(reported).toBe(1);
    expect(out.unhandled).toEqual([]);
    // Readable again: listed again (the index written meanwhile does not hide it).
    const store = await openStore({ dir });
    const again = (await listAll(store)).length;
    await store.close();
    expect(again).toBe(total);
    figure('C8', `EIO reading 1 of ${total} session files during list(): sessions listed ${out.listed.length} (total − 1), the unreadable one reported by id ${reported}/1, unhandled rejections 0, listed again once readable ${again}/${total}`);
  });

  async function indexWriteFails(run: (dir: string) => Promise<ChildResult>) {
    const { dir } = await populated(scale(200, 1000));
    const old = fs.readFileSync(path.join(dir, INDEX));
    const result = await run(dir);
    expect(result.code, result.stderr).toBe(0);
    const out = report(result);
    // Before any other store opens the folder (it would write the index anew).
    const oldKept = fs.readFileSync(path.join(dir, INDEX)).equals(old);
    const temps = indexTemps(dir).length;
    const expected = await truth(dir);
    const store = await openStore({ dir });
    const listed = await listAll(store);
    await store.close();
    return {
      out,
      listCorrect: out.listed.length === expected.length && out.listed.every((id) => expected.some((s) => s.id === id)) && staleEntries(listed, expected) === 0,
      oldKept,
      temps,
      /** Why the writes failed, as the warnings say (the injected errno). */
      failures: out.warnings.filter((w) => w.code === 'SESSIONLOG_INDEX_WRITE_FAILED').map((w) => /could not be written \((E[A-Z]+)/.exec(w.message ?? '')?.[1]),
    };
  }

  it('C9 ENOSPC on every write to the index temp: old index kept, listing right, temp removed', async () => {
    const c = await indexWriteFails((dir) => traceIndexWrites(dir, 'fail', ['-o', '/dev/null', '-e', 'trace=write', '-e', 'inject=write:error=ENOSPC']));
    expect([c.listCorrect, c.oldKept, c.temps, c.out.unhandled.length]).toEqual([true, true, 0, 0]);
    // The save in the run and the retry at close: both failed, with the injected error.
    expect(c.failures).toEqual(['ENOSPC', 'ENOSPC']);
    figure('C9 ENOSPC', `index temp writes fail with ENOSPC: list_correct ${c.listCorrect ? 'yes' : 'no'}, old index kept ${c.oldKept ? 'yes' : 'no'}, leftover temps ${c.temps}, failed saves reported ${c.failures.length}/2 (SESSIONLOG_INDEX_WRITE_FAILED), unhandled rejections 0, crashes 0`);
  });

  it('C9 short write (the disk fills mid-write; real kernel, RLIMIT_FSIZE): no truncated index is renamed into place', async () => {
    const c = await indexWriteFails((dir) => {
      // Half the index fits: the write is cut short, and the next one fails with EFBIG.
      const kib = Math.floor(fs.statSync(path.join(dir, INDEX)).size / 2048);
      return runChild('index-writes.mjs', [dir, 'fail'], { wrap: (nodeArgs) => ['bash', ['-c', `ulimit -f ${kib}; exec "$0" "$@"`, process.execPath, ...nodeArgs]] });
    });
    expect([c.listCorrect, c.oldKept, c.temps, c.out.unhandled.length]).toEqual([true, true, 0, 0]);
    expect(c.failures).toEqual(['EFBIG', 'EFBIG']);
    figure('C9 short write', `index write cut short at half its size, then EFBIG: list_correct ${c.listCorrect ? 'yes' : 'no'}, old index kept ${c.oldKept ? 'yes' : 'no'} (truncated index renamed into place 0), leftover temps ${c.temps}, unhandled rejections 0`);
  });
});

describe('F1–F5, F7–F9 the index is a cache: damaged, stale, missing or raced, it never makes a listing wrong', () => {
  it('F1 a corrupt index is detected and rebuilt from the files', async () => {
    const count = scale(500, 10_000);
    const dir = tempDir();
    writeSessions(dir, count);
    const expected = await truth(dir);
    const damages: [string, (file: string) => void][] = [
      ['random bytes', (file) => fs.writeFileSync(file, Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919 + 13) % 256)))],
      ['truncated JSON', (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))],
      ['valid JSON of the wrong shape', (file) => fs.writeFileSync(file, JSON.stringify({ format: 'sessionlog-index', sessions: { not: 'a list' } }))],
    ];
    const timings: string[] = [];
    for (const [what, damage] of damages) {
      const writer = await openStore({ dir });
      await writer.list();
      await writer.close();
      damage(path.join(dir, INDEX));
      const started = performance.now();
      const store = await openStore({ dir });
      const warnings = collectWarnings(store);
      const listed = await listAll(store);
      const ms = performance.now() - started;
      await store.close();
      expect(staleEntries(listed, expected), what).toBe(0);
      expect(warnings.map((w) => w.code), what).toContain('SESSIONLOG_INDEX_REBUILT');
      expect(wholeIndex(fs.readFileSync(path.join(dir, INDEX))), what).toBe(true);
      timings.push(`${what} ${Math.round(ms)} ms`);
    }
    figure('F1', `corrupt index, ${count} sessions: detected and reported 3/3, list == scan truth 3/3, rebuilt index written 3/3; rebuild (open + list of every session): ${timings.join(', ')}`);
  });

  it('F2 a stale index (files added, deleted, appended to and hand-edited while no store ran) is corrected at start', async () => {
    const count = scale(100, 2000);
    const changes = scale(40, 400);
    const dir = tempDir();
    writeSessions(dir, count);
    const first = await openStore({ dir });
    await first.list();
    await first.close();
    const file = (i: number) => path.join(dir, `s-${String(i).padStart(6, '0')}.jsonl`);
    const kinds = ['added', 'deleted', 'appended', 'rename-saved', 'same-size edit, mtime restored'];
    for (let c = 0; c < changes; c++) {
      const i = Math.floor((c * count) / changes);
      const kind = kinds[c % kinds.length];
      const text = fs.readFileSync(file(i), 'utf8');
      if (kind === 'added') fs.writeFileSync(path.join(dir, `hand-${c}.jsonl`), text.replaceAll(`s-${String(i).padStart(6, '0')}`, `hand-${c}`));
      else if (kind === 'deleted') fs.rmSync(file(i));
      else if (kind === 'appended') fs.appendFileSync(file(i), `${JSON.stringify({ type: 'message', id: `late-${c}`, ts: '2030-01-01T00:00:00.000Z', role: 'user', content: 'later' })}\n`);
      else if (kind === 'rename-saved') {
        fs.writeFileSync(`${file(i)}.save`, text.replace('fix the thing', 'renamed by hand'));
        fs.renameSync(`${file(i)}.save`, file(i));
      } else {
        const before = fs.statSync(file(i));
        fs.writeFileSync(file(i), text.replace('fix the thing', 'FIX THE THING'));
        fs.utimesSync(file(i), before.atime, before.mtime);
      }
    }
    const store = await openStore({ dir });
    const stale = staleEntries(await listAll(store), await truth(dir));
    await store.close();
    expect(stale).toBe(0);
    figure('F2', `stale index, ${changes} offline changes to ${count} sessions (${kinds.join(', ')}): stale entries after start ${stale}`);
  });

  it('F3 the index deleted while a store runs: listing unaffected, index written again', async () => {
    const results: string[] = [];
    for (const watch of [false, true]) {
      const { dir } = await populated(10);
      const expected = await truth(dir);
      const store = await openStore({ dir, watch });
      await store.list();
      fs.rmSync(path.join(dir, INDEX));
      const stale = staleEntries(await listAll(store), expected);
      await store.close();
      expect(stale).toBe(0);
      expect(wholeIndex(fs.readFileSync(path.join(dir, INDEX)))).toBe(true);
      results.push(`${watch ? 'with' : 'without'} watch: stale entries ${stale}, recreated whole at close yes`);
    }
    figure('F3', `index deleted while running: ${results.join('; ')}`);
  });

  it.skipIf(!straceWorks())('F4 an index of version 999 is ignored, and replaced only by a completed rebuild', async () => {
    const kills = scale(3, 20);
    const { dir, ids } = await populated(scale(20, 200));
    const newer = JSON.stringify({ format: 'sessionlog-index', version: 999, sessions: [{ id: 'from-the-future' }] });
    fs.writeFileSync(path.join(dir, INDEX), newer);
    let overwritten = 0;
    for (let k = 0; k < kills; k++) {
      // Killed in the middle of the rebuild: as it opens one of the session files.
      const victim = path.join(dir, `${ids[(k * 7) % ids.length]}.jsonl`);
      const result = await runChild('index-lister.mjs', [dir], {
        wrap: (nodeArgs) => ['strace', ['-f', '-qq', '-o', '/dev/null', '-P', victim, '-e', 'trace=openat', '-e', 'inject=openat:signal=KILL', process.execPath, ...nodeArgs]],
      });
      expect(result.signal === 'SIGKILL' || result.code === 137, result.stderr).toBe(true);
      if (fs.readFileSync(path.join(dir, INDEX), 'utf8') !== newer) overwritten++;
    }
    const expected = await truth(dir);
    const store = await openStore({ dir });
    const warnings = collectWarnings(store);
    const stale = staleEntries(await listAll(store), expected);
    await store.close();
    const version = (JSON.parse(fs.readFileSync(path.join(dir, INDEX), 'utf8')) as { version: number }).version;
    expect([overwritten, stale, version]).toEqual([0, 0, 1]);
    expect(warnings.map((w) => w.code)).toContain('SESSIONLOG_INDEX_REBUILT');
    figure('F4', `index of version 999: ignored and reported, list == scan truth (stale entries ${stale}); overwritten by ${kills} rebuilds killed midway ${overwritten}; replaced by version ${version} once a rebuild completed`);
  });

  it('F5 processes rebuilding the index concurrently never leave a torn index', async () => {
    const rounds = scale(30, 100);
    const { dir } = await populated(50);
    const children = [startChild('index-reindexer.mjs', [dir, String(rounds)]), startChild('index-reindexer.mjs', [dir, String(rounds)])];
    let running = true;
    void Promise.all(children.map((child) => child.done)).then(() => {
      running = false;
    });
    let reads = 0;
    let torn = 0;
    while (running) {
      const bytes = fs.readFileSync(path.join(dir, INDEX));
      if (!wholeIndex(bytes) || (JSON.parse(bytes.toString('utf8')) as { sessions: unknown[] }).sessions.length !== 50) torn++;
      reads++;
      // A third writer, in this process.
      if (reads % 20 === 0) {
        const third = await openStore({ dir });
        await third.reindex();
        await third.close();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const child of children) expect((await child.done).code).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(torn).toBe(0);
    figure('F5', `two processes rebuilding the index ${rounds}× each, a third now and then: index reads ${reads}, torn ${torn}`);
  });

  it('F7 a symlink planted at the index path: nothing is written through it', async () => {
    const { dir } = await populated(5);
    const outside = tempDir('sessionlog-outside-');
    const target = path.join(outside, 'bashrc');
    fs.writeFileSync(target, 'export PATH=$PATH:~/bin\n');
    const snapshot = () => fs.readdirSync(outside).map((name) => `${name}:${fs.readFileSync(path.join(outside, name), 'base64')}`).join('\n');
    const before = snapshot();
    fs.rmSync(path.join(dir, INDEX));
    fs.symlinkSync(target, path.join(dir, INDEX));
    for (const watch of [false, true]) {
      const store = await openStore({ dir, watch });
      const warnings = collectWarnings(store);
      const { id } = await store.create({ title: 'more' });
      await store.append(id, { role: 'user', content: 'hello' });
      expect(staleEntries(await listAll(store), await truth(dir))).toBe(0);
      await store.reindex();
      await store.close();
      expect(warnings.map((w) => w.code)).toContain('SESSIONLOG_INDEX_WRITE_FAILED');
    }
    const written = Math.abs(fs.statSync(target).size - Buffer.byteLength('export PATH=$PATH:~/bin\n'));
    expect(snapshot()).toBe(before);
    expect(fs.lstatSync(path.join(dir, INDEX)).isSymbolicLink()).toBe(true);
    figure('F7', `symlink planted at the index path (target outside the folder), 2 stores writing the index 4 times: bytes written outside ${written}, files changed outside 0, link left in place, listing == scan truth`);
  });

  it('F8 a watcher starved of events (stopped while the inotify queue overflows) converges by the periodic reconcile', async () => {
    const base = 500;
    const max = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    const created = Math.ceil(max / 2) + 1000; // two events per new file (create, modify)
    const dir = tempDir();
    writeSessions(dir, base);
    const watcher = startChild('index-watcher.mjs', [dir, '1000']);
    try {
      await watcher.line(new RegExp(`^census ${base} ${base * 20} `));
      const pid = watcher.process.pid as number;
      process.kill(pid, 'SIGSTOP');
      // Appends too: a folder-mtime check alone would miss them.
      for (let i = 0; i < base; i++) fs.appendFileSync(path.join(dir, `s-${String(i).padStart(6, '0')}.jsonl`), `${JSON.stringify({ type: 'message', id: `x-${i}`, ts: new Date().toISOString(), role: 'user', content: 'while stopped' })}\n`);
      for (let i = 0; i < created; i++) {
        const id = `n${String(i).padStart(5, '0')}`;
        fs.writeFileSync(path.join(dir, `${id}.jsonl`), `${JSON.stringify({ type: 'session', version: 1, id, createdAt: new Date().toISOString() })}\n`);
      }
      const resumed = Date.now();
      process.kill(pid, 'SIGCONT');
      const line = await watcher.line(new RegExp(`^census ${base + created} ${base * 21} `), 60_000);
      const ms = Number(/at (\d+)/.exec(line)?.[1]) - resumed;
      figure('F8', `watcher stopped while ${created} sessions were created and ${base} appended to (${2 * created + base} events > max_queued_events ${max}): missing after the periodic reconcile (every 1 s) 0, converged ${ms} ms after SIGCONT`);
    } finally {
      watcher.process.kill('SIGCONT');
      watcher.process.kill('SIGTERM');
      await watcher.done;
    }
  });

  it('F9 JetBrains-style safe-write storms never drop the session', async () => {
    const saves = scale(100, 1000);
    const dir = tempDir();
    await using store = await openStore({ dir, watch: true });
    const seen: ChangeEvent[] = [];
    store.on('change', (e: ChangeEvent) => seen.push(e));
    const file = path.join(dir, 'safe.jsonl');
    let body = `${JSON.stringify({ type: 'session', version: 1, id: 'safe', createdAt: new Date().toISOString() })}\n`;
    fs.writeFileSync(file, body);
    await waitFor('the session', async () => (await store.get('safe')) !== undefined);
    let missing = 0;
    for (let i = 0; i < saves; i++) {
      body += `${JSON.stringify({ type: 'message', id: `m${i}`, ts: new Date().toISOString(), role: 'user', content: `line ${i}` })}\n`;
      EDITORS['jetbrainsSafeWrite']?.(file, body);
      // Listed from memory at every moment of the storm.
      if (!(await store.list()).sessions.some((s) => s.id === 'safe')) missing++;
    }
    await waitFor('every save', async () => (await store.get('safe'))?.entryCount === saves);
    const removals = seen.filter((e) => e.kind === 'deleted').length;
    expect([removals, missing]).toEqual([0, 0]);
    figure('F9', `JetBrains safe writes (rename away, write temp, rename in, unlink last) × ${saves} under watch: false removals ${removals}/${saves}, listings missing the session ${missing}/${saves}`);
  });
});
