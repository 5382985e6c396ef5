// sessionlog as the Claude Agent SDK's SessionStore: the contract on both backends, and the SDK's
// own functions (importSessionToStore, getSessionMessages, listSessions) giving over our store what
// they give from Claude Code's local files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type * as Sdk from '@anthropic-ai/claude-agent-sdk';
import { ClaudeSessionStore } from '../../src/adapters/claude-agent-sdk/index.js';
import { openStore } from '../../src/index.js';
import { runCli } from '../cli/run.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { CLAUDE_SESSION, writeClaude } from '../import/fixtures.js';
import { claudeContract } from './claude-contract.js';

/** An adapter closed when the test finishes, before its folder (if any) is removed. */
function track(store: ClaudeSessionStore, dir?: string): ClaudeSessionStore {
  onTestFinished(async () => {
    await store.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });
  return store;
}
const folder = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-test-'));

describe('ClaudeSessionStore on a folder', () => {
  claudeContract(async () => {
    const dir = folder();
    return track(new ClaudeSessionStore({ dir }), dir);
  });

  it('a new instance on the same folder sees the entries, and still skips uuids written before', async () => {
    const dir = folder();
    const first = new ClaudeSessionStore({ dir });
    const key = { projectKey: 'p', sessionId: 's' };
    await first.append(key, [{ type: 'user', uuid: 'u1' }]);
    await first.close();
    const second = track(new ClaudeSessionStore({ dir }), dir);
    await second.append(key, [{ type: 'user', uuid: 'u1' }, { type: 'user', uuid: 'u2' }]);
    expect((await second.load(key))?.map((entry) => entry['uuid'])).toEqual(['u1', 'u2']);
  });

  it('two instances replaying the same uuid at once: load returns it once', async () => {
    const dir = folder();
    const key = { projectKey: 'p', sessionId: 's' };
    const a = track(new ClaudeSessionStore({ dir }), dir);
    const b = track(new ClaudeSessionStore({ dir }));
    await a.append(key, [{ type: 'user', uuid: 'u0' }]);
    await b.append(key, [{ type: 'user', uuid: 'u0' }]);
    // Both now know the session; each appends u1 before seeing the other's.
    await Promise.all([a.append(key, [{ type: 'user', uuid: 'u1' }]), b.append(key, [{ type: 'user', uuid: 'u1' }])]);
    expect((await a.load(key))?.map((entry) => entry['uuid'])).toEqual(['u0', 'u1']);
    const store = await a.store();
    expect((await store.read((await store.ids())[0]!)).entries.length).toBe(3);
  });

  it('is built on an open store, which it leaves open', async () => {
    const store = await openStore({ dir: tempDir() });
    const adapter = new ClaudeSessionStore(store);
    await adapter.append({ projectKey: 'p', sessionId: 's' }, [{ type: 'x' }]);
    await adapter.close();
    expect((await store.list()).sessions).toHaveLength(1);
    await store.close();
  });
});

describe.skipIf(PG_URL === '')('ClaudeSessionStore on PostgreSQL', () => {
  claudeContract(async () => track(new ClaudeSessionStore({ url: await freshPgUrl() })));
});

describe('the Claude Agent SDK over ClaudeSessionStore', () => {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-claude-'));
  let sdk: typeof Sdk;
  const dir = '/home/dev/acme-api';
  beforeAll(async () => {
    writeClaude(configDir);
    process.env['CLAUDE_CONFIG_DIR'] = configDir;
    sdk = await import('@anthropic-ai/claude-agent-sdk');
  });
  afterAll(() => {
    delete process.env['CLAUDE_CONFIG_DIR'];
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  it('importSessionToStore, then getSessionMessages and listSessions return what they return from the local files', async () => {
    // The built package, as a user imports it.
    const { ClaudeSessionStore: Built } = await import('sessionlog/claude-agent-sdk');
    const storeDir = tempDir();
    const sessionStore = new Built({ dir: storeDir });
    await sdk.importSessionToStore(CLAUDE_SESSION, sessionStore, { dir });
    await sdk.importSessionToStore(CLAUDE_SESSION, sessionStore, { dir });
    const local = await sdk.getSessionMessages(CLAUDE_SESSION, { dir });
    expect(local.length).toBeGreaterThan(3);
    expect(await sdk.getSessionMessages(CLAUDE_SESSION, { dir, sessionStore })).toEqual(local);
    const strip = (list: Awaited<ReturnType<typeof sdk.listSessions>>) => list.map(({ lastModified: _m, fileSize: _s, ...rest }) => rest);
    expect(strip(await sdk.listSessions({ dir, sessionStore }))).toEqual(strip(await sdk.listSessions({ dir })));
    const subkeys = await sessionStore.listSubkeys({ projectKey: '-home-dev-acme-api', sessionId: CLAUDE_SESSION });
    expect(subkeys).toEqual(['subagents/agent-a1b2c3']);
    await sessionStore.close();

    // Every transcript is a sessionlog session the CLI lists, shows and searches.
    const list = await runCli(['list', '--json'], { dir: storeDir });
    const sessions = (JSON.parse(list.stdout) as { sessions: { id: string; title: string }[] }).sessions;
    const main = sessions.find((s) => s.title === 'ESM build fix');
    expect(main?.id.startsWith(CLAUDE_SESSION)).toBe(true);
    const show = await runCli(['show', main!.id], { dir: storeDir });
    expect(show.stdout).toContain('The build fails on Node 20.');
    expect(show.stdout).toMatch(/assistant[^\n]*\n\s+The exports map is wrong\./);
    const search = await runCli(['search', 'exports map', '--json'], { dir: storeDir });
    expect(search.stdout).toContain(main!.id);
  });
});
