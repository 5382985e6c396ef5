/** merge: a session's sync-conflict copy folded back in, from the command line. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli, runJson } from './run.js';

const COPY = 'chat.sync-conflict-20261102-100000-ABCDEFG.jsonl';

/** A session `chat` with 2 shared entries, 2 more only in the session file and 3 only in a Syncthing copy (one line of it bad). */
async function conflictStore(): Promise<string> {
  const dir = tempDir();
  const store = await openStore({ dir });
  await store.create({ id: 'chat', title: 'Chat' });
  await store.append('chat', [{ role: 'user', content: 'one' }, { role: 'assistant', content: 'two' }]);
  await store.flush('chat');
  const copy = path.join(dir, COPY);
  fs.copyFileSync(path.join(dir, 'chat.jsonl'), copy);
  await store.append('chat', [{ role: 'user', content: 'here 1' }, { role: 'assistant', content: 'here 2' }]);
  await store.close();
  fs.appendFileSync(copy, '{"id":"t1","role":"user","content":"there 1"}\nSECRET bad line\n{"id":"t2","role":"user","content":"there 2"}\n');
  return dir;
}

interface Report {
  merged: boolean;
  entries: number;
  added: number;
  copies: { file: string; movedTo: string }[];
  problems: { file: string; line: number; kind: string; message: string }[];
  recoveryFile?: string;
}

describe('merge', () => {
  it('merges the copy, reports it, moves it to the trash; doctor no longer warns; a second run touches nothing', async () => {
    const dir = await conflictStore();
    const doctor = await runJson<{ findings: { kind: string }[] }>(['doctor', '--strict'], { dir }, 1);
    expect(doctor.findings.map((f) => f.kind)).toContain('conflict-copy');

    const result = await runCli(['merge', 'ch'], { dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ merged 1 conflict copy into chat: 6 entries, 2 from the copies, 2 duplicate lines written once.');
    expect(result.stdout).toContain(`${COPY}  +2 of 4  → `);
    expect(result.stdout).toMatch(/chat\.sync-conflict-20261102-100000-ABCDEFG\.jsonl line 5 {2}invalid-json {2}line is not valid JSON/);
    expect(result.stdout + result.stderr).not.toContain('SECRET');
    expect(fs.existsSync(path.join(dir, '.trash', COPY))).toBe(true);
    // Only the conflict is asserted gone: the exit code also reflects other checks (lock and temp files).
    const after = JSON.parse((await runCli(['doctor', '--json'], { dir })).stdout) as { findings: { kind: string }[] };
    expect(after.findings.map((f) => f.kind)).not.toContain('conflict-copy');

    const again = await runJson<Report>(['merge', 'chat'], { dir });
    expect(again).toMatchObject({ merged: false, entries: 6, copies: [] });
    expect((await runCli(['merge', 'chat'], { dir })).stdout).toBe('✔ chat: no conflict copies to merge; the file was not touched.\n');
  });

  it('prints the MergeReport with --json and merges copies named with --copy', async () => {
    const dir = await conflictStore();
    const dropbox = "chat (Bob's conflicted copy 2026-11-02).jsonl";
    fs.renameSync(path.join(dir, COPY), path.join(dir, dropbox));
    const report = await runJson<Report>(['merge', 'chat', '--copy', dropbox], { dir });
    expect(report).toMatchObject({ merged: true, entries: 6, added: 2, copies: [{ file: path.join(dir, dropbox), movedTo: path.join(dir, '.trash', dropbox) }] });
    expect(report.problems).toEqual([{ file: path.join(dir, dropbox), line: 5, offset: expect.any(Number), length: 15, kind: 'invalid-json', message: 'line is not valid JSON' }]);
    expect(fs.readFileSync(report.recoveryFile as string, 'utf8')).toBe('SECRET bad line\n');
  });

  it('exits 1 for an unknown session and 2 for a --copy that is not a file name of the folder', async () => {
    const dir = await conflictStore();
    const missing = await runCli(['merge', 'nope'], { dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^sessionlog: ERR_SESSION_NOT_FOUND: /);
    const outside = await runCli(['merge', 'chat', '--copy', '../chat.jsonl'], { dir });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/^sessionlog: ERR_INVALID_OPTION: [^\n]+\n$/);
    expect(fs.existsSync(path.join(dir, COPY))).toBe(true);
  });
});
