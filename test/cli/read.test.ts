/** The reading commands of the built CLI: list, show, tail, export, stats; prefixes and @. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { appendRaw, LONG_OUTPUT, seedStore } from './fixtures.js';
import { runCli, runInTerminal, runJson } from './run.js';

interface Info {
  id: string;
  title?: string;
  entryCount: number;
  usage: { input: number; output: number };
}

describe('list', () => {
  it('at 80 columns: ids cut to the shortest unique prefix, titles get the room, every line fits', async () => {
    const dir = tempDir();
    const { openStore } = await import('../../src/index.js');
    const store = await openStore({ dir });
    const titles = ['Fix the flaky login test in CI and the retry logic', 'Migrate the config loader to zod schemas', 'Why does the build take nine minutes now?'];
    const ids: string[] = [];
    for (const title of titles) ids.push((await store.create({ title })).id); // UUIDv7: same first 8 characters
    await store.close();
    const { stdout } = await runCli(['list'], { dir, env: { COLUMNS: '80' } });
    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    const shown = lines.slice(1).map((l) => l.split(/\s+/)[0] as string);
    shown.forEach((prefix, i) => {
      expect(prefix.length).toBeGreaterThanOrEqual(7);
      expect(prefix.length).toBeLessThan(36);
      expect(ids.filter((id) => id.startsWith(prefix))).toEqual([ids[ids.length - 1 - i]]);
    });
    expect(lines[1]).toContain('Why does the build take nine'); // 30 columns of title at least
    expect((await runCli(['show', shown[0] as string, '--json'], { dir })).code).toBe(0);
    // Narrower: the optional columns go before the title is cut to nothing.
    for (const line of (await runCli(['list'], { dir, env: { COLUMNS: '50' } })).stdout.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(50);
    // Piped without COLUMNS: whole ids.
    expect((await runCli(['list'], { dir })).stdout).toContain(ids[0]);
  });

  it('prints a table newest first, and { sessions, nextCursor } with --json', async () => {
    const dir = await seedStore(tempDir());
    const table = await runCli(['list'], { dir });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+title\s+updated\s+entries\s+tokens\s+size$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['beta', 'alpha-two', 'alpha-one']);
    expect(lines[3]).toMatch(/alpha-one\s+Fix the build\s+2026-11-02 10:00\s+6\s+2\.4k\s+\d/);

    const page = await runJson<{ sessions: Info[]; nextCursor: string | null }>(['list'], { dir });
    expect(page.sessions.map((s) => s.id)).toEqual(['beta', 'alpha-two', 'alpha-one']);
    expect(page.nextCursor).toBeNull();
    expect(page.sessions[2]).toMatchObject({ id: 'alpha-one', title: 'Fix the build', entryCount: 6, usage: { input: 2000, output: 400 } });
  });

  it('pages with --limit and --cursor, or --all', async () => {
    const dir = await seedStore(tempDir());
    const first = await runJson<{ sessions: Info[]; nextCursor: string | null }>(['list', '--limit', '2'], { dir });
    expect(first.sessions.map((s) => s.id)).toEqual(['beta', 'alpha-two']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await runJson<{ sessions: Info[]; nextCursor: string | null }>(['list', '--limit', '2', '--cursor', first.nextCursor as string], { dir });
    expect(second).toMatchObject({ sessions: [{ id: 'alpha-one' }], nextCursor: null });
    const human = await runCli(['list', '--limit', '1'], { dir });
    expect(human.stderr).toMatch(/more: sessionlog list --cursor \S+/);
    const all = await runJson<{ sessions: Info[] }>(['list', '--limit', '1', '--all'], { dir });
    expect(all.sessions).toHaveLength(3);
  });

  it('filters like the library: --model, --cwd, --title, --since; --sort created', async () => {
    const dir = await seedStore(tempDir());
    const ids = async (...args: string[]): Promise<string[]> => (await runJson<{ sessions: Info[] }>(['list', ...args], { dir })).sessions.map((s) => s.id);
    expect(await ids('--model', 'gpt-5')).toEqual(['beta', 'alpha-one']);
    expect(await ids('--cwd', '/work/web')).toEqual(['alpha-two']);
    expect(await ids('--title', 'LEAK')).toEqual(['beta']);
    expect(await ids('--since', '2026-11-02T10:00:55Z')).toEqual(['beta', 'alpha-two']);
    expect(await ids('--since', '1d')).toEqual([]);
    expect(await ids('--sort', 'created', '--order', 'asc')).toEqual(['alpha-one', 'alpha-two', 'beta']);
    const bad = await runCli(['list', '--since', 'yesterday'], { dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sessionlog: ERR_USAGE: .*--since/);
  });
});

describe('naming a session', () => {
  it('accepts a full id, a unique prefix or @ (the latest)', async () => {
    const dir = await seedStore(tempDir());
    expect((await runJson<{ session: Info }>(['show', 'alpha-one'], { dir })).session.id).toBe('alpha-one');
    expect((await runJson<{ session: Info }>(['show', 'alpha-t'], { dir })).session.id).toBe('alpha-two');
    expect((await runJson<{ session: Info }>(['show', 'b'], { dir })).session.id).toBe('beta');
    expect((await runJson<{ session: Info }>(['show', '@'], { dir })).session.id).toBe('beta');
  });

  it('lists the candidates of an ambiguous prefix (exit 2) and reports a missing one (exit 1)', async () => {
    const dir = await seedStore(tempDir());
    const ambiguous = await runCli(['show', 'alpha'], { dir });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stdout).toBe('');
    expect(ambiguous.stderr).toBe('sessionlog: ERR_AMBIGUOUS_ID: "alpha" matches 2 sessions: alpha-one, alpha-two; give more of the id.\n');
    const missing = await runCli(['show', 'gamma'], { dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^sessionlog: ERR_SESSION_NOT_FOUND: No session in .* has an id starting with "gamma"; list them with `sessionlog list`\.\n$/);
    const invalid = await runCli(['show', '../etc/passwd'], { dir });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^sessionlog: ERR_INVALID_ID: /);
  });
});

describe('show', () => {
  it('tells roles apart, summarises tool calls and results with their size, folds long output', async () => {
    const dir = await seedStore(tempDir());
    const { code, stdout } = await runCli(['show', 'alpha-one'], { dir });
    expect(code).toBe(0);
    expect(stdout).toContain('Fix the build\nid      alpha-one\nmodel   gpt-5\ncwd     /work/api\n');
    expect(stdout).toContain('6 entries · 2.4k tokens');
    expect(stdout).toMatch(/10:00:10 user\n {2}The build fails with ERR_REQUIRE_ESM on Node 20\.\n/);
    expect(stdout).toMatch(/10:00:15 assistant · 1\.2k in · 300 out · 500 cached\n {2}Let me read the config\.\n {2}→ read_file\(\{"path":"src\/config\.ts"\}\) {2}24 B\n/);
    expect(stdout).toContain(`10:00:20 tool read_file ← ${(Buffer.byteLength(LONG_OUTPUT) / 1000).toFixed(1)} kB`);
    expect(stdout).toContain('  │ log line 8: npm ERR! code E7\n  │ … 42 more lines');
    expect(stdout).not.toContain('log line 9:');
    expect(stdout).toMatch(/10:00:30 compaction · summarises 4\.0k tokens\n {2}┃ The user fixed an ESM import/);
  });

  it('--full unfolds; --tail and --from-compaction show the end', async () => {
    const dir = await seedStore(tempDir());
    const full = await runCli(['show', 'alpha-one', '--full'], { dir });
    expect(full.stdout).toContain('log line 50: npm ERR! code E49');
    expect(full.stdout).not.toContain('folded');
    const tail = await runCli(['show', 'alpha-one', '--tail', '2'], { dir });
    expect(tail.stdout).toContain('… 4 earlier entries not shown');
    expect(tail.stdout).toContain('Now add a test for it.');
    expect(tail.stdout).not.toContain('compaction');
    const fromCompaction = await runJson<{ entries: { id: string }[] }>(['show', 'alpha-one', '--from-compaction'], { dir });
    expect(fromCompaction.entries.map((e) => e.id)).toEqual(['a4', 'a5', 'a6']);
  });

  it('flags problem lines in place, by line number, without their content', async () => {
    const dir = await seedStore(tempDir());
    appendRaw(dir, 'alpha-two', '{"role":"user","content":"SECRET-TOKEN half a line\n');
    appendRaw(dir, 'alpha-two', '{"id":"b3","role":"user","content":"after the bad line"}\n');
    const { stdout } = await runCli(['show', 'alpha-two'], { dir });
    const flag = stdout.indexOf('! line 4 skipped: invalid-json');
    expect(flag).toBeGreaterThan(stdout.indexOf('Retrying in 200ms'));
    expect(flag).toBeLessThan(stdout.indexOf('after the bad line'));
    expect(stdout).toContain('sessionlog repair alpha-two');
    expect(stdout).not.toContain('SECRET-TOKEN');
    const json = await runJson<{ session: Info; entries: unknown[]; problems: unknown[] }>(['show', 'alpha-two'], { dir });
    expect(json.entries).toHaveLength(3);
    expect(json.problems).toEqual([{ line: 4, offset: expect.any(Number), kind: 'invalid-json', message: 'line is not valid JSON' }]);
    expect(Object.keys(json)).toEqual(['session', 'entries', 'problems']);
  });

  it('removes terminal escape sequences that a tool printed', async () => {
    const dir = await seedStore(tempDir());
    appendRaw(dir, 'beta', `${JSON.stringify({ id: 'c3', role: 'tool', content: 'red \u001b[31mALERT\u001b[0m \u001b]0;pwned\u0007 bell\u0007' })}\n`);
    const { stdout } = await runCli(['show', 'beta'], { dir });
    expect(stdout).toContain('red ALERT  bell');
    expect(stdout).not.toContain('\u001b');
    expect(stdout).not.toContain('\u0007');
  });
});

describe('tail', () => {
  it('prints the last entries, as a transcript or as JSON lines', async () => {
    const dir = await seedStore(tempDir());
    const human = await runCli(['tail', 'alpha-one', '-n', '1'], { dir });
    expect(human.stdout).toMatch(/^Fix the build alpha-one · 6 entries\n── 2026-11-02 ──\n10:00:50 assistant/);
    const jsonl = await runCli(['tail', 'alpha-one', '-n', '3', '--json'], { dir });
    expect(jsonl.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['a4', 'a5', 'a6']);
  });
});

describe('export', () => {
  it('writes Markdown, clean JSON and JSON lines; -o creates a private file', async () => {
    const dir = await seedStore(tempDir());
    const md = await runCli(['export', 'alpha-one', '--format', 'md'], { dir });
    expect(md.stdout).toMatch(/^# Fix the build\n\n- \*\*Session:\*\* `alpha-one`\n/);
    expect(md.stdout).toContain('### User · 2026-11-02 10:00:10Z\n\nThe build fails');
    expect(md.stdout).toContain('**Tool call** `read_file`\n\n```json\n{\n  "path": "src/config.ts"\n}\n```');
    expect(md.stdout).toContain('<details><summary>Tool result `read_file` · ');
    expect(md.stdout).toContain('log line 50');
    const json = await runJson<{ session: Info; entries: { id: string }[]; problems: unknown[] }>(['export', 'alpha-one', '--format', 'json'], { dir });
    expect(json.session.id).toBe('alpha-one');
    expect(json.entries.map((e) => e.id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    const out = path.join(tempDir(), 'alpha.jsonl');
    const file = await runCli(['export', 'alpha-one', '--format', 'jsonl', '-o', out], { dir });
    expect(file.code).toBe(0);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(6);
    // Without --format: Markdown, the shareable default.
    const plain = await runCli(['export', 'alpha-one'], { dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(md.stdout);
  });
});

describe('the pager', () => {
  it('pages show, search, export and stats on a terminal through $PAGER; never when piped or with --no-pager', async () => {
    const dir = await seedStore(tempDir());
    const env = { PAGER: 'sed s/^/PAGED:/', NO_COLOR: '1' };
    for (const args of [['show', 'alpha-one'], ['search', 'build'], ['export', 'alpha-one'], ['stats', 'alpha-one']]) {
      const paged = await runInTerminal(args, { dir, env });
      expect(paged.code, args.join(' ')).toBe(0);
      const lines = paged.stdout.trimEnd().split('\n').filter(Boolean);
      expect(lines.length, args.join(' ')).toBeGreaterThan(1);
      for (const line of lines) expect(line, args.join(' ')).toMatch(/^PAGED:/);
      const direct = await runInTerminal([...args, '--no-pager'], { dir, env });
      expect(direct.stdout, args.join(' ')).not.toContain('PAGED:');
      expect((await runCli(args, { dir, env })).stdout, args.join(' ')).not.toContain('PAGED:');
    }
    // list is short by design and is not paged; nor is SESSIONLOG_PAGER=cat.
    expect((await runInTerminal(['list'], { dir, env })).stdout).not.toContain('PAGED:');
    expect((await runInTerminal(['show', 'alpha-one'], { dir, env: { ...env, SESSIONLOG_PAGER: 'cat' } })).stdout).not.toContain('PAGED:');
  });
});

/** A store with one session. */
async function seedOne(): Promise<string> {
  const dir = tempDir();
  const { openStore } = await import('../../src/index.js');
  const store = await openStore({ dir });
  await store.create({ id: 'only' });
  await store.close();
  return dir;
}

describe('stats', () => {
  it('prints per-session and total entries, tokens, size and problem lines', async () => {
    const dir = await seedStore(tempDir());
    appendRaw(dir, 'beta', 'torn');
    const table = await runCli(['stats'], { dir });
    expect(table.stdout).toMatch(/^session\s+entries\s+input\s+output\s+cache r\/w\s+size\s+problems\n/);
    expect(table.stdout).toMatch(/total \(3 sessions\)\s+10\s+2\.6k\s+470\s+500\/0\s+\S+ \S+\s+1\n/);
    // Tokens and estimated cost per model and per UTC day, from the entries.
    expect(table.stdout).toMatch(/\nmodel\s+tokens\s+est\. cost\n/);
    expect(table.stdout).toMatch(/\nday\s+tokens\s+est\. cost\n2026-11-02\s+\S+\s+(~\$\d+\.\d\d|no price)\n/);
    const json = await runJson<{ sessions: unknown[]; total: { sessions: number; entries: number; problems: number; usage: { input: number; cacheRead: number } } }>(['stats'], { dir });
    expect(json.total).toMatchObject({ sessions: 3, entries: 10, problems: 1, usage: { input: 2600, cacheRead: 500 } });
    expect(json.sessions).toHaveLength(3);
    const costs = await runJson<{ byModel: Record<string, { tokens: number }>; byDay: Record<string, { tokens: number }> }>(['stats'], { dir });
    expect(Object.keys(costs.byDay)).toEqual(['2026-11-02']);
    expect(Object.values(costs.byModel).reduce((n, g) => n + g.tokens, 0)).toBe(costs.byDay['2026-11-02']?.tokens);
    // usage.total is never 0 beside non-zero counts.
    for (const info of (await runJson<{ sessions: { usage: { input: number; output: number; total: number } }[] }>(['list'], { dir })).sessions) {
      if (info.usage.input + info.usage.output > 0) expect(info.usage.total).toBeGreaterThan(0);
    }
    const single = await runCli(['stats'], { dir: await seedOne() });
    expect(single.stdout).toContain('total (1 session)');
    const one = await runJson<{ entries: Record<string, number>; toolCalls: number }>(['stats', 'alpha-one'], { dir });
    expect(one).toMatchObject({ entries: { user: 2, assistant: 2, tool: 1, compaction: 1 }, toolCalls: 1 });
  });
});
