/** search through the built CLI: hits, JSON lines, regex, case, scope, exit codes. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { appendRaw, seedStore } from './fixtures.js';
import { runCli } from './run.js';

interface Hit {
  session: string;
  title: string;
  line: number;
  entryId?: string;
  role?: string;
  type?: string;
  snippet: string;
  match: [number, number];
  problem?: string;
}

function hits(stdout: string): Hit[] {
  return stdout
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Hit);
}

describe('search', () => {
  it('prints session, title, line number and a snippet; --json streams one hit per line', async () => {
    const dir = await seedStore(tempDir());
    const human = await runCli(['search', 'ERR_REQUIRE_ESM'], { dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('alpha-one  Fix the build\n     2  user      The build fails with ERR_REQUIRE_ESM on Node 20.\n');
    const json = await runCli(['search', 'npm ERR! code E4', '--json'], { dir });
    const found = hits(json.stdout);
    // E4, E40 … E49 are all in one line: one hit per line, like grep.
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ session: 'alpha-one', title: 'Fix the build', line: 4, entryId: 'a3', role: 'tool', type: 'message' });
    const hit = found[0] as Hit;
    expect(hit.snippet.slice(hit.match[0], hit.match[1])).toBe('npm ERR! code E4');
  });

  it('searches text, not keys or roles; finds non-Latin text and text with quotes', async () => {
    const dir = await seedStore(tempDir());
    expect((await runCli(['search', 'assistant'], { dir })).code).toBe(1);
    expect((await runCli(['search', 'toolCallId'], { dir })).code).toBe(1);
    expect(hits((await runCli(['search', '内存泄漏', '--json'], { dir })).stdout).map((h) => [h.session, h.line])).toEqual([
      ['beta', 2],
      ['beta', 3],
    ]);
    appendRaw(dir, 'beta', `${JSON.stringify({ id: 'c4', role: 'user', content: 'he said "stop" \\ then left' })}\n`);
    expect(hits((await runCli(['search', 'said "stop" \\ then', '--json'], { dir })).stdout)).toMatchObject([{ entryId: 'c4', line: 4 }]);
    // Tool-call arguments are text too.
    expect(hits((await runCli(['search', 'src/config.ts', '--json'], { dir })).stdout)).toMatchObject([{ entryId: 'a2' }]);
  });

  it('supports --regex, --ignore-case, --session and --limit; exits 1 when nothing matches', async () => {
    const dir = await seedStore(tempDir());
    expect(hits((await runCli(['search', '-e', 'Retrying in \\d+ms', '--json'], { dir })).stdout)).toMatchObject([{ session: 'alpha-two', line: 3 }]);
    expect(hits((await runCli(['search', 'err_require_esm', '-i', '--json'], { dir })).stdout)).toMatchObject([{ session: 'alpha-one' }]);
    expect(hits((await runCli(['search', 'the build', '-i', '-e', '--json'], { dir })).stdout).map((h) => h.entryId)).toEqual(['a1', 'a4']);
    expect(hits((await runCli(['search', 'the', '-s', 'alpha-t', '--json'], { dir })).stdout).every((h) => h.session === 'alpha-two')).toBe(true);
    expect(hits((await runCli(['search', 'log line', '--limit', '1', '--json'], { dir })).stdout)).toHaveLength(1);
    // -l: each matching session once, even when it has several hits ("the" is in many lines of each).
    const sessionsWithHits = new Set(hits((await runCli(['search', 'the', '--json'], { dir })).stdout).map((h) => h.session));
    expect(sessionsWithHits.size).toBeGreaterThan(1);
    const listed = hits((await runCli(['search', 'the', '-l', '--json'], { dir })).stdout);
    expect(listed.map((h) => h.session).sort()).toEqual([...sessionsWithHits].sort());
    expect(listed[0]).toEqual({ session: listed[0]?.session, title: listed[0]?.title });
    expect((await runCli(['search', 'ERR_REQUIRE_ESM', '-l'], { dir })).stdout).toBe('alpha-one  Fix the build\n');
    const none = await runCli(['search', 'no such words'], { dir });
    expect(none).toMatchObject({ code: 1, stdout: '', stderr: '' });
    const badRegex = await runCli(['search', '-e', '(unclosed'], { dir });
    expect(badRegex.code).toBe(2);
    expect(badRegex.stderr).toMatch(/^sessionlog: ERR_INVALID_OPTION: Invalid regular expression/);
  });

  it('finds text in a damaged line and flags it', async () => {
    const dir = await seedStore(tempDir());
    appendRaw(dir, 'alpha-two', '{"role":"user","content":"needle in a broken line"\n');
    const found = hits((await runCli(['search', 'needle', '--json'], { dir })).stdout);
    expect(found).toMatchObject([{ session: 'alpha-two', line: 4, problem: 'invalid-json' }]);
    const human = await runCli(['search', 'needle'], { dir });
    expect(human.stdout).toContain('     4  [invalid-json]');
  });

  it('highlights the hit only when colour is on', async () => {
    const dir = await seedStore(tempDir());
    const colour = await runCli(['search', 'backoff'], { dir, env: { FORCE_COLOR: '1' } });
    expect(colour.stdout).toContain('\u001b[1m\u001b[31mbackoff\u001b[39m\u001b[22m');
    const plain = await runCli(['search', 'backoff'], { dir, env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(plain.stdout).not.toContain('\u001b');
    expect(plain.stdout).toContain('Add a retry with exponential backoff.');
  });
});
