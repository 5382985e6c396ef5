// push / pull / sync between folders and a server: several machines sharing a session converge on
// the union, each entry once; a second run changes nothing; an interrupted run resumes; the lines
// are the same on every machine; the password is never printed.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copySessions, openStore, syncSessions } from '../../src/index.js';
import { runCli } from '../cli/run.js';
import { PG_PASSWORD } from '../helpers/pg-server.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

/** The entry lines of a session file (header left out), as bytes on disk. */
function entryLines(dir: string, id: string): string[] {
  return fs.readFileSync(path.join(dir, `${id}.jsonl`), 'utf8').split('\n').slice(1).filter((line) => line !== '' && !line.includes('"session_update"'));
}

describe.skipIf(PG_URL === '')('push / pull / sync', () => {
  it('two machines sharing a session converge on the union, each entry once, and a second run changes nothing', async () => {
    const url = await freshPgUrl();
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = await openStore({ dir: dirA });
    const { id } = await a.create({ id: 'shared', title: 'Shared work', cwd: '/repo' });
    const common = await a.append(id, [{ role: 'user', content: 'start' }, { role: 'assistant', content: 'ok' }]);
    await a.flush();
    fs.cpSync(dirA, dirB, { recursive: true });
    const b = await openStore({ dir: dirB });
    const onA = await a.append(id, [{ role: 'user', content: 'from A' }]);
    const onB = await b.append(id, [{ role: 'user', content: 'from B 1' }, { role: 'user', content: 'from B 2' }]);
    await a.create({ id: 'only-a' });
    const server = await openStore({ url });
    await syncSessions(a, server);
    await syncSessions(b, server);
    await syncSessions(a, server);
    const union = [...common, ...onA, ...onB].map((e) => e.id).sort();
    for (const store of [a, b, server]) {
      const ids = (await store.read(id)).entries.map((e) => e.id);
      expect(ids.sort()).toEqual(union);
      expect((await store.get('only-a'))?.id).toBe('only-a');
    }
    const again = await syncSessions(b, server);
    expect([again.pulled.entries, again.pushed.entries, again.pulled.created, again.pushed.updated]).toEqual([0, 0, 0, 0]);
    // The same lines on every machine: a pulled entry is byte for byte the pushing machine's line.
    const lineOf = (lines: string[], entryId: string) => lines.find((line) => line.includes(`"id":"${entryId}"`));
    expect(lineOf(entryLines(dirB, id), onA[0]!.id)).toBe(lineOf(entryLines(dirA, id), onA[0]!.id));
    expect((await b.get(id))?.createdAt).toBe((await a.get(id))?.createdAt);
    await Promise.all([a.close(), b.close(), server.close()]);
  });

  it('title and metadata changes travel; an interrupted push resumes where it stopped', async () => {
    const url = await freshPgUrl();
    const folder = await openStore({ dir: tempDir() });
    for (let i = 0; i < 5; i++) {
      await folder.create({ id: `s${i}` });
      await folder.append(`s${i}`, Array.from({ length: 30 }, (_, n) => ({ role: 'user' as const, content: `s${i} m${n}` })));
    }
    const server = await openStore({ url });
    const stop = new AbortController();
    const first = await copySessions(folder, server, { signal: stop.signal, onProgress: ({ done }) => done === 2 && stop.abort() });
    expect(first.created).toBe(2);
    const rest = await copySessions(folder, server);
    expect([rest.created, rest.entries]).toEqual([3, 90]);
    await folder.update('s0', { title: 'renamed', metadata: { status: 'done' } });
    const updates = await copySessions(folder, server);
    expect([updates.updated, updates.entries]).toEqual([1, 0]);
    expect(await server.get('s0')).toMatchObject({ title: 'renamed', metadata: { status: 'done' }, entryCount: 30 });
    await Promise.all([folder.close(), server.close()]);
  });

  it('the CLI: push, then pull into a new folder, with --json; the password never printed', async () => {
    const url = await freshPgUrl();
    const dir = tempDir();
    const store = await openStore({ dir });
    await store.create({ id: 'cli-1', title: 'T' });
    await store.append('cli-1', [{ role: 'user', content: 'hi' }]);
    await store.close();
    const pushed = await runCli(['push', url, '--json'], { dir });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ pushed: { created: 1, entries: 1 } });
    const other = tempDir();
    const pulled = await runCli(['pull', '--json'], { dir: other, env: { SESSIONLOG_URL: url } });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ pulled: { created: 1, entries: 1 } });
    const again = await runCli(['sync', url], { dir: other });
    expect(again.stdout).toMatch(/pulled 0 entries/);
    expect(again.stdout).toMatch(/pushed 0 entries/);
    for (const out of [pushed, pulled, again]) expect(out.stdout + out.stderr).not.toContain(PG_PASSWORD);
    const refused = await runCli(['push'], { dir, env: { SESSIONLOG_URL: undefined } });
    expect(refused.code).toBe(2);
  });
});
