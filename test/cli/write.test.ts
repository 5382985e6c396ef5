/** new, append, fork and rm through the built CLI. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { seedStore } from './fixtures.js';
import { runCli, runInTerminal, runJson } from './run.js';

describe('new and append', () => {
  it('creates a session (printing its id) in a folder it creates, and appends JSON lines from stdin', async () => {
    const dir = path.join(tempDir(), 'store');
    const created = await runCli(['new', '--title', 'From a script', '--model', 'gpt-5', '--metadata', '{"ticket":"OPS-12"}'], { dir });
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const input = '{"role":"user","content":"hello"}\n\n{"role":"assistant","content":"hi","usage":{"input":5,"output":2}}\n';
    const appended = await runCli(['append', id.slice(0, 13)], { dir, input });
    expect(appended).toMatchObject({ code: 0, stdout: `appended 2 entries to ${id}\n` });
    const shown = await runJson<{ session: { title: string; metadata: unknown; entryCount: number }; entries: { role: string }[] }>(['show', id], { dir });
    expect(shown.session).toMatchObject({ title: 'From a script', metadata: { ticket: 'OPS-12' }, entryCount: 2 });
    expect(shown.entries.map((e) => e.role)).toEqual(['user', 'assistant']);
    const json = await runJson<{ appended: number; ids: string[] }>(['append', id, '--sync'], { dir, input: '{"role":"user","content":"again"}\n' });
    expect(json).toMatchObject({ appended: 1, ids: [expect.any(String)] });
  });

  it('appends nothing when one line is bad, and never echoes the line', async () => {
    const dir = await seedStore(tempDir());
    const before = fs.readFileSync(path.join(dir, 'beta.jsonl'));
    const notJson = await runCli(['append', 'beta'], { dir, input: '{"role":"user","content":"fine"}\n{"role":"user","content":"SECRET-42"\n' });
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toBe('sessionlog: ERR_INVALID_ENTRY: stdin line 2 is not valid JSON; nothing was appended.\n');
    const invalid = await runCli(['append', 'beta'], { dir, input: '{"role":"user","content":"fine"}\n{"role":"robot","content":"SECRET-42"}\n' });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^sessionlog: ERR_INVALID_ENTRY: .*\n$/);
    expect(invalid.stderr).not.toContain('SECRET-42');
    expect(fs.readFileSync(path.join(dir, 'beta.jsonl'))).toEqual(before);
    const exists = await runCli(['new', '--id', 'beta'], { dir });
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/^sessionlog: ERR_SESSION_EXISTS: /);
  });
});

describe('fork', () => {
  it('copies a session up to an entry and prints the new id', async () => {
    const dir = await seedStore(tempDir());
    const forked = await runCli(['fork', 'alpha-o', '--at', 'a2', '--title', 'Other fix', '--id', 'alpha-fork'], { dir });
    expect(forked).toMatchObject({ code: 0, stdout: 'alpha-fork\n' });
    const shown = await runJson<{ session: { title: string; parent: unknown }; entries: { id: string }[] }>(['show', 'alpha-fork'], { dir });
    expect(shown.session).toMatchObject({ title: 'Other fix', parent: { id: 'alpha-one', entryId: 'a2' } });
    expect(shown.entries.map((e) => e.id)).toEqual(['a1', 'a2']);
    const unknown = await runCli(['fork', 'beta', '--at', 'nope'], { dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^sessionlog: ERR_INVALID_OPTION: --at "nope": session \S+ has no entry with that id/);
  });
});

describe('rm', () => {
  it('moves sessions to the trash, where they are no longer listed; --purge deletes', async () => {
    const dir = await seedStore(tempDir());
    const moved = await runCli(['rm', 'beta'], { dir });
    expect(moved.code).toBe(0);
    expect(moved.stdout).toBe(`moved beta to ${path.join(dir, '.trash', 'beta.jsonl')}\n`);
    expect(fs.statSync(path.join(dir, '.trash', 'beta.jsonl')).size).toBeGreaterThan(0);
    expect(fs.statSync(path.join(dir, '.trash')).mode & 0o777).toBe(0o700);
    const list = await runJson<{ sessions: { id: string }[] }>(['list'], { dir });
    expect(list.sessions.map((s) => s.id)).toEqual(['alpha-two', 'alpha-one']);
    // A second session of the same id goes to the trash under another name.
    await runCli(['new', '--id', 'beta'], { dir });
    await runCli(['rm', 'beta'], { dir });
    expect(fs.readdirSync(path.join(dir, '.trash')).sort()).toEqual(['beta.jsonl', expect.stringMatching(/^beta\.\d{8}T\d{6}Z\.jsonl$/)].sort());
    // --purge asks on a terminal, and without one wants --yes.
    const unasked = await runCli(['rm', 'alpha-one', '--purge'], { dir });
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain('add --yes to confirm');
    const declined = await runInTerminal(['rm', '@', '--purge'], { dir, input: 'n\n' });
    expect(declined.code).toBe(1);
    expect(fs.existsSync(path.join(dir, 'alpha-two.jsonl'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'alpha-one.jsonl'))).toBe(true);
    const purged = await runJson<{ removed: { id: string; trash: null }[] }>(['rm', 'alpha-one', '--purge', '--yes'], { dir });
    expect(purged.removed).toEqual([{ id: 'alpha-one', trash: null }]);
    expect(fs.existsSync(path.join(dir, 'alpha-one.jsonl'))).toBe(false);
    const missing = await runCli(['rm', 'alpha-two', 'gamma'], { dir });
    expect(missing.code).toBe(1);
    // One bad name removes nothing.
    expect(fs.existsSync(path.join(dir, 'alpha-two.jsonl'))).toBe(true);
    const accepted = await runInTerminal(['rm', 'alpha-two', '--purge'], { dir, input: 'y\n' });
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('Delete this session for good? [y/N]');
    expect(fs.existsSync(path.join(dir, 'alpha-two.jsonl'))).toBe(false);
  });
});

describe('fork --at', () => {
  it('answers an unknown entry id in the command line’s words', async () => {
    const dir = await seedStore(tempDir());
    const result = await runCli(['fork', 'alpha-one', '--at', 'nosuch'], { dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("session alpha-one has no entry with that id; `sessionlog show alpha-one --json | jq -r '.entries[].id'` lists them");
    expect(result.stderr).not.toContain('read()');
  });
});

describe('edit', () => {
  it('opens the file in $EDITOR, says a live session is safe to edit, and checks what the edit left', async () => {
    const dir = await seedStore(tempDir());
    // An "editor" that changes a title in place, as sed -i does (write a temp, rename over).
    const good = await runCli(['edit', 'alpha-one'], { dir, env: { EDITOR: 'sed -i s/Fix/Fixed/' } });
    expect(good.code).toBe(0);
    expect(good.stderr).toMatch(/alpha-one: \d+ entries, every line readable/);
    expect(fs.readFileSync(path.join(dir, 'alpha-one.jsonl'), 'utf8')).toContain('Fixed the build');
    const bad = await runCli(['edit', 'beta'], { dir, env: { EDITOR: "sh -c 'echo \"{broken\" >> \"$0\"'" } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/1 line the reader skips after the edit .*sessionlog repair beta/);
    // A session written just now is flagged as possibly live.
    await runCli(['append', 'alpha-two', '--json'], { dir, input: '{"role":"user","content":"now"}\n' });
    expect((await runCli(['edit', 'alpha-two'], { dir, env: { EDITOR: 'true' } })).stderr).toContain('may be live');
    const failed = await runCli(['edit', 'alpha-two'], { dir, env: { EDITOR: 'false' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('ERR_EDITOR');
  });
});
