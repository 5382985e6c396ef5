/** Rows J1, J2, J8, J9: modes, the store folder's owner and mode, secrets, leftover temp files. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { figure } from './matrix.js';

function modes(dir: string): string[] {
  return fs.readdirSync(dir).map((name) => `${name}:${(fs.statSync(path.join(dir, name)).mode & 0o777).toString(8)}`);
}

describe('J1 modes under every umask', () => {
  it.each(['000', '002', '022', '077'])('umask %s: the folder is 0700, every file the store makes is 0600', async (umask) => {
    const dir = path.join(tempDir(), 'store');
    const result = await runChild('workload.mjs', [dir, path.join(path.dirname(dir), 'acks'), 'fsync'], {
      wrap: (nodeArgs) => ['bash', ['-c', `umask ${umask}; exec "${process.execPath}" "$@"`, 'bash', ...nodeArgs]],
    });
    expect(result.code, result.stderr).toBe(0);
    expect((fs.statSync(dir).mode & 0o777).toString(8)).toBe('700');
    const all = modes(dir);
    expect(all.length).toBeGreaterThanOrEqual(2); // the session and its fork
    expect(all.filter((m) => !m.endsWith(':600'))).toEqual([]);
    figure(`J1 umask ${umask}`, `files checked ${all.length}, mode violations 0`);
  });
});

describe('J2 the store folder', () => {
  it('refuses a folder every user can write to, and says how to fix it', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o777);
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE', message: expect.stringContaining(`chmod o-w ${dir}`) });
    fs.chmodSync(dir, 0o750);
    await (await openStore({ dir })).close();
    figure('J2', 'world-writable store folder refused with the chmod to run; group-readable folder accepted (reported by doctor)');
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a folder owned by another user (as root, who can give one away)', async () => {
    const dir = tempDir();
    fs.chownSync(dir, 4242, 4242);
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
  });
});

describe('J8 secrets never leave the session files', () => {
  it('fake keys in entries appear in no error, warning, stdout, stderr or other file', async () => {
    const secrets = ['sk-ant-api03-FAKEFAKEFAKEFAKE', 'AKIAFAKEFAKEFAKE1234', 'ghp_FAKEfakeFAKEfakeFAKEfake0000'];
    const dir = tempDir();
    const store = await openStore({ dir, maxEntryBytes: 4096 });
    const said: string[] = [];
    store.on('warning', (w: { message: string }) => said.push(w.message));
    await store.create({ id: 's', title: 'debugging' });
    for (const secret of secrets) {
      await store.append('s', { role: 'tool', content: `export KEY=${secret}` });
      for (const bad of [{ role: 'robot', content: secret }, { role: 'user', content: secret.repeat(500) }, { role: 'user', content: 1, token: secret }]) {
        said.push(await store.append('s', bad as never).then(() => 'accepted', (e: Error) => `${e.message} ${JSON.stringify(e)}`));
      }
    }
    await store.flush('s');
    // Damage the file so that reads report problems around the secrets.
    fs.appendFileSync(path.join(dir, 's.jsonl'), `{"role":"user","content":"${secrets[0]}`);
    const { problems } = await store.read('s');
    said.push(JSON.stringify(problems), JSON.stringify(await store.get('s')));
    await store.append('s', { role: 'user', content: 'sealed' });
    await store.close();
    const child = await runChild('exit-paths.mjs', [dir, 's', 'throw']);
    said.push(child.stdout, child.stderr);
    const others = fs.readdirSync(dir).filter((name) => name !== 's.jsonl').map((name) => fs.readFileSync(path.join(dir, name), 'utf8'));
    const leaks = secrets.filter((secret) => [...said, ...others].some((text) => text.includes(secret)));
    expect(problems.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
    figure('J8', `fake secrets in entries, errors, problems, warnings, info, stdout/stderr, other files: occurrences outside session files 0 (${said.length} texts checked)`);
  });
});

describe('J9 temp files left by a killed fork', () => {
  it('are 0600 while they exist and removed by the next store that opens the folder', async () => {
    const dir = tempDir();
    const dead = spawnSync('true').pid; // a process that has exited
    // What a fork killed between creating its temp file and linking it leaves behind.
    const leftover = path.join(dir, `.s.jsonl.${dead}.1.tmp`);
    fs.writeFileSync(leftover, '{"type":"session"}\n', { mode: 0o600 });
    const live = path.join(dir, `.t.jsonl.${process.pid}.1.tmp`); // our own pid: in use, kept
    fs.writeFileSync(live, '', { mode: 0o600 });
    // What a repair or merge killed while it prepared its lock folder leaves behind.
    const staging = path.join(dir, `.s.jsonl.lock.${dead}.1.tmp`);
    fs.mkdirSync(staging, { mode: 0o700 });
    fs.writeFileSync(path.join(staging, `owner-${dead}-abc`), '{}\n', { mode: 0o600 });
    const liveStaging = path.join(dir, `.t.jsonl.lock.${process.pid}.1.tmp`);
    fs.mkdirSync(liveStaging, { mode: 0o700 });
    const store = await openStore({ dir });
    await waitFor('the sweep', () => !fs.existsSync(leftover) && !fs.existsSync(staging));
    expect(fs.existsSync(live)).toBe(true);
    expect(fs.existsSync(liveStaging)).toBe(true);
    await store.close();
    figure('J9', 'temp files of killed forks/repairs and lock staging folders of killed rewrites: removed at the next open (files 0600); those of live processes kept');
  });
});
