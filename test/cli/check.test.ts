/** doctor on a damaged folder, then repair, then doctor clean; leftovers and permissions. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockPathFor, withRewriteLock } from '../../src/file/fs/lock.js';
import { tempDir } from '../helpers/tmp.js';
import { appendRaw, seedStore } from './fixtures.js';
import { runCli, runJson } from './run.js';

interface Finding {
  severity: string;
  kind: string;
  file: string;
  id?: string;
  lines?: number[];
  fix?: string;
}
interface Report {
  sessions: number;
  ok: boolean;
  findings: Finding[];
}
interface Repair {
  repaired: boolean;
  removed: { line: number; kind: string }[];
  removedBytes: number;
  recoveryFile?: string;
  entries: number;
}

/** Damages two sessions as a crash and a bad hand edit would. Returns the bytes that must be removed. */
function damage(dir: string): { torn: string; bad: string; dupe: string } {
  const torn = '{"id":"c9","role":"assistant","content":"cut off by a cra';
  appendRaw(dir, 'beta', torn);
  const bad = '{"role":"user","content":"SECRET hand edit, missing brace"';
  const dupe = '{"id":"b1","role":"user","content":"a copied line"}';
  appendRaw(dir, 'alpha-two', `${bad}\n${dupe}\n{"id":"b3","role":"user","content":"kept"}\n`);
  return { torn, bad, dupe };
}

describe('doctor and repair', () => {
  it('finds torn tails, bad lines and duplicate ids; repair fixes them; doctor is then clean', async () => {
    const dir = await seedStore(tempDir());
    const clean = await runCli(['doctor'], { dir });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^Checked 3 sessions \(.+\) in .+\n\n✔ no problems found\n$/);

    const { torn, bad, dupe } = damage(dir);
    const sick = await runCli(['doctor'], { dir });
    expect(sick.code).toBe(1);
    expect(sick.stdout).toContain('✖ error   beta.jsonl\n            the last line is incomplete (an interrupted write) (line 4)\n            fix: sessionlog repair beta\n');
    expect(sick.stdout).toContain('3 errors, 0 warnings');
    expect(sick.stdout).not.toContain('SECRET');
    const report = await runJson<Report>(['doctor'], { dir }, 1);
    expect(report.ok).toBe(false);
    expect(report.findings.filter((f) => f.kind !== 'index-drift').map((f) => [f.kind, f.id, f.lines])).toEqual([
      ['bad-lines', 'alpha-two', [4]],
      ['duplicate-entry-ids', 'alpha-two', [5]],
      ['torn-tail', 'beta', [4]],
    ]);

    const before = fs.readFileSync(path.join(dir, 'alpha-two.jsonl'));
    const fixed = await runJson<Repair>(['repair', 'alpha-t'], { dir });
    expect(fixed).toMatchObject({ repaired: true, removed: [{ line: 4, kind: 'invalid-json' }, { line: 5, kind: 'duplicate-id' }], entries: 3 });
    const recovery = fixed.recoveryFile as string;
    expect(path.dirname(recovery)).toBe(dir);
    expect(fs.readFileSync(recovery, 'utf8')).toBe(`${bad}\n${dupe}\n`);
    expect(fs.statSync(recovery).mode & 0o777).toBe(0o600);
    // Every byte is in the new file or the recovery file.
    expect(fs.statSync(path.join(dir, 'alpha-two.jsonl')).size + fixed.removedBytes).toBe(before.length);

    const human = await runCli(['repair', 'beta'], { dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`✔ repaired beta: removed 1 line (${torn.length} B), kept 2 entries.\n  line 4      torn-tail          last ${torn.length} bytes have no newline`);
    expect(human.stdout).toMatch(/The removed bytes are kept, unchanged, in .*beta\.jsonl\.recovered-\d{8}T\d{6}Z \(mode 0600\)\.\n$/);
    const recovered = fs.readdirSync(dir).find((name) => name.startsWith('beta.jsonl.recovered-')) as string;
    expect(fs.readFileSync(path.join(dir, recovered), 'utf8')).toBe(torn);
    expect(fs.statSync(path.join(dir, 'beta.jsonl')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const after = await runJson<Report>(['doctor'], { dir });
    expect(after.ok).toBe(true);
    expect(after.findings.filter((f) => f.kind !== 'index-drift').map((f) => [f.severity, f.kind])).toEqual([
      ['info', 'recovery-file'],
      ['info', 'recovery-file'],
    ]);
    // The sessions read whole again; the recovery files are not listed as sessions.
    const list = await runJson<{ sessions: { id: string; problems: number }[] }>(['list'], { dir });
    expect(list.sessions.map((s) => [s.id, s.problems])).toEqual([
      ['beta', 0],
      ['alpha-two', 0],
      ['alpha-one', 0],
    ]);
  });

  it('repair leaves a healthy session untouched', async () => {
    const dir = await seedStore(tempDir());
    const file = path.join(dir, 'alpha-one.jsonl');
    const st = fs.statSync(file);
    const result = await runCli(['repair', 'alpha-one'], { dir });
    expect(result.stdout).toBe('✔ alpha-one: nothing to repair (6 entries, no problem lines); the file was not touched.\n');
    const now = fs.statSync(file);
    expect([now.ino, now.mtimeMs, now.size]).toEqual([st.ino, st.mtimeMs, st.size]);
    expect(fs.readdirSync(dir).filter((name) => name.includes('recovered'))).toEqual([]);
  });

  it('repair rewrites a header that names another session (a copied file) and keeps the old one', async () => {
    const dir = await seedStore(tempDir());
    fs.copyFileSync(path.join(dir, 'beta.jsonl'), path.join(dir, 'beta-copy.jsonl'));
    const report = await runJson<Report>(['doctor', '--strict'], { dir }, 1);
    expect(report.findings.filter((f) => f.kind !== 'index-drift').map((f) => [f.severity, f.kind, f.file])).toEqual([
      ['error', 'header-id-mismatch', 'beta-copy.jsonl'],
      ['warning', 'duplicate-session', 'beta-copy.jsonl, beta.jsonl'],
    ]);
    const fixed = await runJson<Repair & { headerRewritten: boolean }>(['repair', 'beta-copy'], { dir });
    expect(fixed).toMatchObject({ repaired: true, headerRewritten: true, removed: [{ line: 1, kind: 'header-id-mismatch' }], entries: 2 });
    const header = JSON.parse(fs.readFileSync(path.join(dir, 'beta-copy.jsonl'), 'utf8').split('\n')[0] as string) as { id: string; title: string };
    expect(header).toMatchObject({ id: 'beta-copy', title: 'Memory leak' });
    expect((await runJson<Report>(['doctor'], { dir })).ok).toBe(true);
  });

  it('warns about conflict copies, orphan temp and lock files and loose permissions', async () => {
    const dir = await seedStore(tempDir());
    fs.writeFileSync(path.join(dir, 'beta.sync-conflict-20261102-100000-ABCDEFG.jsonl'), '', { mode: 0o600 });
    // An hour-old temp file. Its pid (1) is alive, so opening the store does not sweep it; its age makes it a leftover.
    const temp = path.join(dir, '.beta.jsonl.1.1.tmp');
    fs.writeFileSync(temp, 'partial', { mode: 0o600 });
    const lock = path.join(dir, 'old.lock');
    fs.mkdirSync(lock);
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(lock, hourAgo, hourAgo);
    fs.utimesSync(temp, hourAgo, hourAgo);
    fs.chmodSync(path.join(dir, 'alpha-one.jsonl'), 0o644);
    const report = await runJson<Report>(['doctor', '--strict'], { dir }, 1);
    expect(report.findings.filter((f) => f.kind !== 'index-drift').map((f) => [f.severity, f.kind, f.file])).toEqual([
      ['warning', 'orphan-temp', '.beta.jsonl.1.1.tmp'],
      ['warning', 'loose-permissions', 'alpha-one.jsonl'],
      ['warning', 'conflict-copy', 'beta.sync-conflict-20261102-100000-ABCDEFG.jsonl'],
      ['warning', 'orphan-lock', 'old.lock'],
    ]);
    expect(report.findings.find((f) => f.kind === 'loose-permissions')?.fix).toBe(`chmod 600 ${JSON.stringify(path.join(dir, 'alpha-one.jsonl'))}`);
  });

  it('judges a rewrite lock by its owner file, the one its holder refreshes, not by the folder', async () => {
    const dir = await seedStore(tempDir());
    const file = path.join(dir, 'beta.jsonl');
    const lockDir = lockPathFor(file);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const lockFindings = async (code: number): Promise<Finding[]> =>
      (await runJson<Report>(['doctor', '--strict'], { dir }, code)).findings.filter((f) => f.kind === 'orphan-lock');
    // A real lock, held by this process while doctor runs in a child.
    await withRewriteLock(file, async () => {
      const owner = fs.readdirSync(lockDir).find((name) => name.startsWith('owner-')) as string;
      expect(owner).toBeDefined();
      // Taken an hour ago and refreshed since: the folder is old, the owner file fresh. Held, not an orphan.
      fs.utimesSync(lockDir, hourAgo, hourAgo);
      expect(await lockFindings(0)).toEqual([]);
      // The holder stopped refreshing an hour ago (our own holder does not renew a lease that ran out).
      fs.utimesSync(path.join(lockDir, owner), hourAgo, hourAgo);
      fs.utimesSync(lockDir, new Date(), new Date());
      const found = await lockFindings(1);
      expect(found).toMatchObject([{ severity: 'warning', file: path.basename(lockDir), message: expect.stringContaining('not refreshed for 60 min') }]);
      expect(found[0]?.fix).toBe(`rm -r ${JSON.stringify(lockDir)} (no process holds it)`);
    });
  });

  it('tells to remove a lock folder a killed contender was preparing with rm -r, and rm -r removes it', async () => {
    const dir = await seedStore(tempDir());
    // What lock.ts leaves when killed between preparing its folder and renaming it into place. A
    // dead pid's folder is removed by the sweep of the store's own open; an hour-old one of a pid
    // that is alive (1, another process by now) is the leftover doctor must name.
    const staging = `${lockPathFor(path.join(dir, 'beta.jsonl'))}.1.1.tmp`;
    fs.mkdirSync(staging, { mode: 0o700 });
    fs.writeFileSync(path.join(staging, 'owner-1-0123456789ab'), '{}\n', { mode: 0o600 });
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(staging, hourAgo, hourAgo);
    const report = await runJson<Report>(['doctor', '--strict'], { dir }, 1);
    const found = report.findings.filter((f) => f.kind === 'orphan-temp');
    expect(found).toMatchObject([{ severity: 'warning', file: path.basename(staging), fix: `rm -r ${JSON.stringify(staging)}` }]);
    // The fix, run as given, does what it says (a plain rm would refuse a folder).
    execFileSync('sh', ['-c', found[0]?.fix as string]);
    expect(fs.existsSync(staging)).toBe(false);
    expect((await runJson<Report>(['doctor'], { dir })).findings.filter((f) => f.kind === 'orphan-temp')).toEqual([]);
  });

  it('compares the index with the folder: a lag is a note, an unusable index a warning', async () => {
    const dir = await seedStore(tempDir());
    expect((await runJson<Report>(['doctor'], { dir })).findings).toEqual([]);
    appendRaw(dir, 'beta', '{"id":"c3","role":"user","content":"more"}\n');
    fs.rmSync(path.join(dir, 'alpha-two.jsonl'));
    const lag = await runJson<Report>(['doctor'], { dir });
    expect(lag.ok).toBe(true);
    expect(lag.findings).toMatchObject([{ severity: 'info', kind: 'index-drift', message: expect.stringContaining('1 session changed, 1 deleted') }]);
    fs.writeFileSync(path.join(dir, '.sessionlog-index.json'), '{"not":"an index"}');
    const broken = await runJson<Report>(['doctor', '--strict'], { dir }, 1);
    expect(broken.findings).toMatchObject([{ severity: 'warning', kind: 'index-drift', fix: expect.stringContaining('sessionlog reindex') }]);
    const reindexed = await runJson<{ sessions: number }>(['reindex'], { dir });
    expect(reindexed.sessions).toBe(2);
    expect((await runJson<Report>(['doctor'], { dir })).findings).toEqual([]);
  });

  it('re-hashes artifact blobs and reads the embeddings file: a changed blob is an error, a torn vector record a warning', async () => {
    const dir = await seedStore(tempDir());
    const { openStore } = await import('../../src/index.js');
    const store = await openStore({ dir });
    const { ref } = await store.artifacts.put('beta', Buffer.from('the real bytes'));
    await store.embeddings.upsertMany([{ id: 'v1', sessionId: 'beta', vector: [1, 0] }, { id: 'v2', sessionId: 'beta', vector: [0, 1] }]);
    await store.close();
    expect((await runJson<Report>(['doctor'], { dir })).findings).toEqual([]);
    const hex = ref.slice('sha256:'.length);
    const blob = path.join(dir, '.artifacts', 'blobs', hex.slice(0, 2), hex);
    fs.chmodSync(blob, 0o600);
    fs.writeFileSync(blob, 'the rEal bytes');
    const vectors = path.join(dir, '.embeddings', 'vectors.bin');
    fs.truncateSync(vectors, fs.statSync(vectors).size - 3);
    const report = await runJson<Report>(['doctor'], { dir }, 1);
    expect(report.findings).toMatchObject([
      { severity: 'error', kind: 'artifact-corrupt', file: path.join('.artifacts', 'blobs', hex.slice(0, 2), hex) },
      { severity: 'warning', kind: 'embeddings-damaged', file: path.join('.embeddings', 'vectors.bin') },
    ]);
    expect(JSON.stringify(report)).not.toContain('rEal');
  });

  it('doctor and repair agree: an empty file gets its header; a header-less file keeps its entries', async () => {
    const dir = await seedStore(tempDir());
    fs.writeFileSync(path.join(dir, 'empty.jsonl'), '', { mode: 0o600 });
    const lines = ['{"type":"message","id":"m1","ts":"2026-11-01T00:00:00Z","role":"user","content":"hi"}', '{"type":"message","id":"m2","ts":"2026-11-01T00:00:01Z","role":"assistant","content":"hello"}'];
    fs.writeFileSync(path.join(dir, 'nohead.jsonl'), `${lines.join('\n')}\n`, { mode: 0o600 });
    const before = await runJson<Report>(['doctor'], { dir }, 1);
    expect(before.findings).toMatchObject([
      { kind: 'bad-header', file: 'empty.jsonl', fix: 'sessionlog repair empty (writes its header)' },
      { kind: 'bad-header', file: 'nohead.jsonl', fix: expect.stringContaining('no line is removed') },
      { kind: 'index-drift', severity: 'info' },
    ]);
    expect((await runCli(['repair', 'empty'], { dir })).stdout).toContain('repaired empty: wrote a header; no line was removed');
    expect((await runCli(['repair', 'nohead'], { dir })).stdout).toContain('wrote a header before its 2 entries');
    expect(fs.readdirSync(dir).filter((n) => n.includes('recovered'))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'nohead.jsonl'), 'utf8').split('\n').slice(1, 3)).toEqual(lines);
    expect((await runJson<{ entries: { id: string }[] }>(['show', 'nohead'], { dir })).entries.map((e) => e.id)).toEqual(['m1', 'm2']);
    expect((await runJson<Report>(['doctor'], { dir })).findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('one finding for files with the same loose mode, one command fixing them all; warnings alone exit 0 unless --strict', async () => {
    const dir = await seedStore(tempDir());
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) fs.chmodSync(path.join(dir, name), 0o644);
    const report = await runJson<Report>(['doctor'], { dir });
    expect(report.ok).toBe(false);
    expect(report.findings).toMatchObject([{ severity: 'warning', kind: 'loose-permissions', file: '3 session files', fix: `chmod 600 ${JSON.stringify(dir)}/*.jsonl` }]);
    expect((report.findings[0] as Finding & { files: string[] }).files).toHaveLength(3);
    const human = await runCli(['doctor'], { dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('nothing unreadable; 1 warning to clean up');
    expect((await runCli(['doctor', '--strict'], { dir })).code).toBe(1);
    execFileSync('sh', ['-c', report.findings[0]?.fix as string]);
    expect((await runJson<Report>(['doctor', '--strict'], { dir })).ok).toBe(true);
  });
});
