/** What every command shares: store folder rule, exit codes, one-line errors, help, colour, tail -f. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { seedStore } from './fixtures.js';
import { BIN, runCli, startCli } from './run.js';

const COMMANDS = ['list', 'show', 'tail', 'search', 'stats', 'doctor', 'repair', 'merge', 'reindex', 'export', 'rm', 'fork', 'new', 'append'];

describe('the store folder', () => {
  it('is --dir, else SESSIONLOG_DIR, else $XDG_DATA_HOME/sessionlog, else ~/.local/share/sessionlog', async () => {
    const home = tempDir();
    const viaEnv = await seedStore(tempDir());
    const viaFlag = tempDir();
    const env = { HOME: home, XDG_DATA_HOME: undefined, SESSIONLOG_DIR: viaEnv };
    expect((await runCli(['list'], { env })).stdout).toContain('alpha-one');
    expect((await runCli(['list'], { env, dir: viaFlag })).stderr).toBe(`no sessions in ${viaFlag}\n`);
    const made = await runCli(['new', '--id', 'x1'], { env: { ...env, SESSIONLOG_DIR: undefined } });
    expect(made.code).toBe(0);
    expect(fs.existsSync(path.join(home, '.local', 'share', 'sessionlog', 'x1.jsonl'))).toBe(true);
    const xdg = path.join(home, 'xdg');
    await runCli(['new', '--id', 'x2'], { env: { ...env, SESSIONLOG_DIR: '', XDG_DATA_HOME: xdg } });
    expect(fs.existsSync(path.join(xdg, 'sessionlog', 'x2.jsonl'))).toBe(true);
  });

  it('is not created by commands that only read', async () => {
    const dir = path.join(tempDir(), 'typo');
    const result = await runCli(['list'], { dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`sessionlog: ERR_NO_STORE: No store folder at ${dir}: check --dir, or create a session there with \`sessionlog new\`.\n`);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('exit codes and errors', () => {
  it('uses 2 for usage errors, with one line on stderr', async () => {
    const dir = await seedStore(tempDir());
    for (const args of [['frobnicate'], ['list', '--bogus'], ['list', '--limit', 'ten'], ['show'], ['show', 'a', 'b'], ['list', '--sort', 'size'], []]) {
      const result = await runCli(args, { dir });
      expect(result.code, args.join(' ')).toBe(2);
      if (args.length > 0) expect(result.stderr, args.join(' ')).toMatch(/^sessionlog: ERR_USAGE: [^\n]+\n$/);
      expect(result.stdout).toBe('');
    }
  });

  it('prints --help with examples for every command, and the version', async () => {
    for (const command of COMMANDS) {
      const result = await runCli([command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`^Usage: sessionlog ${command}(\\|\\w+)? `));
      expect(result.stdout.split('Examples:\n')[1], command).toContain(`sessionlog ${command}`);
      expect(result.stdout, command).toContain('--dir <folder>');
    }
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await runCli(['--version'])).stdout).toBe(`${pkg.version}\n`);
  });
});

describe('colour', () => {
  it('is off when piped, on with FORCE_COLOR, and off with NO_COLOR, --no-color or --json', async () => {
    const dir = await seedStore(tempDir());
    const esc = '\u001b[';
    expect((await runCli(['show', 'beta'], { dir })).stdout).not.toContain(esc);
    expect((await runCli(['show', 'beta'], { dir, env: { FORCE_COLOR: '1' } })).stdout).toContain(esc);
    expect((await runCli(['show', 'beta'], { dir, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toContain(esc);
    expect((await runCli(['show', 'beta', '--no-color'], { dir, env: { FORCE_COLOR: '1' } })).stdout).not.toContain(esc);
    expect((await runCli(['--no-color', 'list'], { dir, env: { FORCE_COLOR: '1' } })).stdout).not.toContain(esc);
    const json = await runCli(['list', '--json'], { dir, env: { FORCE_COLOR: '1' } });
    expect(json.stdout).not.toContain(esc);
    expect(json.stderr).toBe('');
  });
});

describe('tail -f', () => {
  it('prints the last entries, then entries another process appends, until SIGINT (exit 0)', async () => {
    const dir = await seedStore(tempDir());
    const follower = startCli(['tail', '-f', 'alpha-two', '-n', '1', '--json'], { dir });
    await waitFor('the last entry', () => follower.stdout().includes('"id":"b2"'));
    // Another process: the CLI itself, appending.
    const appended = await runCli(['append', 'alpha-two'], { dir, input: '{"id":"b3","role":"user","content":"from another process"}\n' });
    expect(appended.code).toBe(0);
    await waitFor('the appended entry', () => follower.stdout().includes('"id":"b3"'));
    // And a library writer in this process, flushed by its timer.
    const store = await openStore({ dir, flush: { intervalMs: 10 } });
    await store.append('alpha-two', [{ id: 'b4', role: 'assistant', content: 'live' }]);
    await store.close();
    await waitFor('the second entry', () => follower.stdout().includes('"id":"b4"'));
    follower.child.kill('SIGINT');
    const result = await follower.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const ids = result.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(['b2', 'b3', 'b4']);
  });

  it('keeps following across a repair of the session', async () => {
    const dir = await seedStore(tempDir());
    fs.appendFileSync(path.join(dir, 'beta.jsonl'), 'torn');
    const follower = startCli(['tail', '-f', 'beta', '-n', '1'], { dir });
    await waitFor('the last entry', () => follower.stdout().includes('内存泄漏 found'));
    expect((await runCli(['repair', 'beta'], { dir })).code).toBe(0);
    await runCli(['append', 'beta'], { dir, input: '{"id":"c5","role":"user","content":"after the repair"}\n' });
    await waitFor('the entry after the repair', () => follower.stdout().includes('after the repair'));
    follower.child.kill('SIGTERM');
    expect((await follower.done).code).toBe(0);
    expect(follower.stdout().match(/内存泄漏 found/g)).toHaveLength(1);
  });
});

describe('completion', () => {
  it('bash: completes commands, a command’s options, and session ids (from SESSIONLOG_DIR); zsh and fish scripts name every command', async () => {
    const dir = await seedStore(tempDir());
    const script = (await runCli(['completion', 'bash'])).stdout;
    const bin = tempDir();
    fs.writeFileSync(path.join(bin, 'sessionlog'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
    const complete = (...words: string[]): string[] => {
      const code = `${script}\nCOMP_WORDS=(sessionlog ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _sessionlog; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', code], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, SESSIONLOG_DIR: dir } }).split('\n').filter(Boolean).sort();
    };
    expect(complete('sh')).toEqual(['show']);
    expect(complete('doctor', '--st')).toEqual(['--strict']);
    expect(complete('show', 'al')).toEqual(['alpha-one', 'alpha-two']);
    expect(complete('--dir', 'x', 'rm', 'be')).toEqual(['beta']);
    for (const shell of ['zsh', 'fish']) {
      const out = (await runCli(['completion', shell])).stdout;
      for (const command of COMMANDS) expect(out, `${shell} ${command}`).toContain(command);
    }
    const bad = await runCli(['completion', 'powershell']);
    expect(bad.code).toBe(2);
  });
});
