import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { idProblem, openStore } from '../../src/index.js';
import { runChild } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';
import { figure } from '../reliability/matrix.js';

const BAD_IDS = ['', '.', '..', '../x', '../../etc/passwd', '/etc/passwd', 'a/b', 'a\\b', 'a\0b', 'x'.repeat(129), 'ends.', '.hidden', '-flag', 'con', 'NUL.txt', 'com1', 'é', 'a b', 'a.sync-conflict-1'];

describe('session ids', () => {
  it('accepts the documented alphabet up to 128 characters', () => {
    for (const id of ['a', 'A-1_b.c', '0195f3a2-7b1c-7000-8000-000000000000', 'x'.repeat(128)]) expect(idProblem(id)).toBeUndefined();
  });

  it.each(BAD_IDS.map((id) => [JSON.stringify(id), id]))('refuses %s with ERR_INVALID_ID before touching any file', async (_shown, id) => {
    const root = tempDir();
    const dir = path.join(root, 'store');
    const store = await openStore({ dir });
    const before = fs.readdirSync(root, { recursive: true });
    const calls = [
      store.create({ id }),
      store.get(id),
      store.append(id, { role: 'user', content: 'x' }),
      store.read(id),
      store.update(id, { title: 'x' }),
      store.delete(id),
      store.fork(id),
      store.flush(id),
    ];
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'ERR_INVALID_ID' });
    await expect(store.fork('ok', { id })).rejects.toMatchObject({ code: 'ERR_INVALID_ID' });
    expect(fs.readdirSync(root, { recursive: true })).toEqual(before);
    await store.close();
  });

  it('E1–E7 figure', () => {
    const refused = BAD_IDS.filter((id) => idProblem(id) !== undefined).length;
    expect(refused).toBe(BAD_IDS.length);
    figure('E1–E7', `traversal, empty, reserved, long, non-ASCII, NUL and artifact-like ids: refused ${refused}/${BAD_IDS.length} before any fs call, fs changes 0`);
  });
});

describe('modes and unsafe files', () => {
  it.each(['000', '022', '077'])('creates the folder 0700 and session files 0600 under umask %s', async (umask) => {
    const dir = path.join(tempDir(), 'new-store');
    const result = await runChild('exit-paths.mjs', [dir, 's', 'create', umask]);
    expect(result.code).toBe(0);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 's.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('refuses a symlinked session file for reading and writing and leaves its target alone', async () => {
    const root = tempDir();
    const outside = path.join(root, 'outside.txt');
    fs.writeFileSync(outside, 'precious\n');
    const dir = path.join(root, 'store');
    const store = await openStore({ dir });
    fs.symlinkSync(outside, path.join(dir, 's.jsonl'));
    await expect(store.read('s')).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await expect(store.append('s', { role: 'user', content: 'x' })).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await expect(store.get('s')).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await store.close();
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious\n');
    figure('J3/J5/J6', 'symlink, hard link and FIFO in place of a session file: refused (ERR_UNSAFE_FILE), bytes read or written outside the folder 0, hangs 0');
  });

  it('refuses a hard-linked session file', async () => {
    const root = tempDir();
    const outside = path.join(root, 'outside.jsonl');
    fs.writeFileSync(outside, `${JSON.stringify({ type: 'session', version: 1, id: 's', createdAt: '2026-01-01T00:00:00Z' })}\n`);
    const dir = path.join(root, 'store');
    const store = await openStore({ dir });
    fs.linkSync(outside, path.join(dir, 's.jsonl'));
    await expect(store.append('s', { role: 'user', content: 'x' })).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await expect(store.read('s')).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await store.close();
    expect(fs.readFileSync(outside, 'utf8').split('\n')).toHaveLength(2);
  });

  it('refuses a FIFO without blocking on it', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    execFileSync('mkfifo', [path.join(dir, 'f.jsonl')]);
    await expect(store.read('f')).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await expect(store.append('f', { role: 'user', content: 'x' })).rejects.toMatchObject({ code: 'ERR_UNSAFE_FILE' });
    await store.close();
  });

  it('never puts entry content in error messages', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, maxEntryBytes: 2048 });
    await store.create({ id: 's' });
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const errors = await Promise.all([
      store.append('s', { role: 'nobody' as never, content: secret }).catch((e: Error) => e.message),
      store.append('s', { role: 'user', content: secret.repeat(200) }).catch((e: Error) => e.message),
      store.append('s', { role: 'user', content: 5 as never, note: secret } as never).catch((e: Error) => e.message),
    ]);
    expect(errors.every((message) => typeof message === 'string' && message.length > 0)).toBe(true);
    for (const message of errors) expect(message).not.toContain(secret);
    await store.close();
  });
});
