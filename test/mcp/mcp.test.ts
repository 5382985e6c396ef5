// sessionlog mcp, driven by the MCP SDK's own Client over stdio, the server a child process:
// tools listed (read-only by default), each tool's answers, paging, the budget on a 100 MB
// session, bad input answered as an error while the server keeps serving, and a session appended
// by another process found by the next search.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { BIN } from '../cli/run.js';

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

async function connect(dir: string, extra: string[] = []): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, '--dir', dir, 'mcp', ...extra], stderr: 'pipe' }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

const eid = (n: number): string => `0${String(n).padStart(9, '0')}`;

describe('sessionlog mcp', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-mcp-'));
  let client: Client;

  beforeAll(async () => {
    const store = await openStore({ dir, redact: false });
    for (let i = 0; i < 25; i++) {
      await store.create({ id: `s${String(i).padStart(2, '0')}`, title: `Session ${i}`, cwd: i % 2 === 0 ? '/repo/a' : '/repo/b', createdAt: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString() });
    }
    await store.append('s03', [
      { role: 'user', content: 'What did we decide about the retry policy?' },
      { role: 'assistant', content: 'Exponential backoff, 5 tries.', toolCalls: [{ id: 'c1', name: 'grep', arguments: { pattern: 'retry' } }] },
      { role: 'tool', toolCallId: 'c1', content: `src/http.ts: retry(${'x'.repeat(5000)})` },
      { role: 'user', content: 'the key is AKIAABCDEFGHIJKLMNOP' },
    ]);
    await store.close();
    // A 100 MB session, written directly.
    const fd = fs.openSync(path.join(dir, 'big.jsonl'), 'w', 0o600);
    fs.writeSync(fd, `${JSON.stringify({ type: 'session', version: 1, id: 'big', createdAt: '2026-10-01T00:00:00.000Z', title: 'Huge' })}\n`);
    const text = 'A long tool output line that goes on. '.repeat(25);
    for (let n = 0, written = 0; written < 100 * 1024 * 1024; ) {
      const lines: string[] = [];
      for (let i = 0; i < 1000; i++, n++) lines.push(JSON.stringify({ type: 'message', id: eid(n), ts: '2026-10-01T00:00:00.000Z', role: n % 2 ? 'tool' : 'assistant', toolCallId: 'c', content: `${n} ${text}` }));
      const chunk = `${lines.join('\n')}\n`;
      fs.writeSync(fd, chunk);
      written += chunk.length;
    }
    fs.closeSync(fd);
    client = await connect(dir);
  }, 60_000);
  afterAll(async () => {
    await client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists its tools, read-only by default', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['list_sessions', 'read_session', 'search_sessions', 'session_stats']);
    const writer = await connect(dir, ['--allow-write']);
    expect((await writer.listTools()).tools.map((t) => t.name)).toContain('append_note');
    const note = await call(writer, 'append_note', { id: 's01', text: 'remember this' });
    expect(note.content[0]?.text).toMatch(/^appended note \S+ to s01$/);
    await writer.close();
  });

  it('list_sessions pages with the store cursor and filters', async () => {
    const first = JSON.parse((await call(client, 'list_sessions', { limit: 10, cwd: '/repo/a' })).content[0]!.text) as { sessions: { id: string; cwd: string }[]; nextCursor?: string };
    expect(first.sessions).toHaveLength(10);
    expect(first.sessions.every((s) => s.cwd === '/repo/a')).toBe(true);
    const second = JSON.parse((await call(client, 'list_sessions', { limit: 10, cwd: '/repo/a', cursor: first.nextCursor })).content[0]!.text) as { sessions: { id: string }[] };
    expect(second.sessions.length).toBe(3);
    expect(new Set([...first.sessions, ...second.sessions].map((s) => s.id)).size).toBe(13);
  });

  it('search_sessions and read_session: hits with snippets, a compact transcript, tool results cut, secrets hidden', async () => {
    const found = JSON.parse((await call(client, 'search_sessions', { query: 'retry policy' })).content[0]!.text) as { hits: { session: string; snippet: string }[] };
    expect(found.hits[0]?.session).toBe('s03');
    expect(found.hits[0]?.snippet).toContain('retry policy');
    const read = (await call(client, 'read_session', { id: 's0' + '3' })).content[0]!.text;
    expect(read).toContain('user: What did we decide about the retry policy?');
    expect(read).toContain('→ grep({"pattern":"retry"})');
    expect(read).toMatch(/tool result: src\/http\.ts: retry\(x+ … \[3,5\d\d more characters left out\]/);
    expect(read).toContain('[REDACTED:aws-access-key-id:');
    expect(read).not.toContain('AKIAABCDEFGHIJKLMNOP');
    const stats = JSON.parse((await call(client, 'session_stats', { id: 's03' })).content[0]!.text) as { kinds: Record<string, number>; toolCalls: Record<string, number> };
    expect(stats.kinds).toEqual({ user: 2, assistant: 1, tool: 1 });
    expect(stats.toolCalls).toEqual({ grep: 1 });
  });

  it('never answers a whole 100 MB session: a budgeted page, then the way to the next', async () => {
    const tail = (await call(client, 'read_session', { id: 'big', tail: 200 })).content[0]!.text;
    expect(tail.length).toBeLessThan(45_000);
    expect(tail).toMatch(/^Session big "Huge": \d+ entries in all; \d+ shown\./);
    const forward = (await call(client, 'read_session', { id: 'big', after: eid(10) })).content[0]!.text;
    expect(forward.length).toBeLessThan(45_000);
    expect(forward).toContain(`(${eid(11)})`);
    expect(forward).toMatch(/\[more: call read_session with id=big after=0\d{9}\]$/);
  });

  it('answers bad input with an error result, and keeps serving', async () => {
    const missing = await call(client, 'read_session', { id: 'nosuch' });
    expect(missing.isError).toBe(true);
    expect(missing.content[0]?.text).toMatch(/^ERR_SESSION_NOT_FOUND: /);
    const traversal = await call(client, 'read_session', { id: '../etc/passwd' });
    expect(traversal.isError).toBe(true);
    expect(traversal.content[0]?.text).toMatch(/^ERR_INVALID_ID: /);
    const invalid = await client.callTool({ name: 'list_sessions', arguments: { limit: 'ten' } }).catch((err: Error) => ({ isError: true, content: [{ type: 'text', text: err.message }] }));
    expect((invalid as ToolResult).isError).toBe(true);
    expect((await call(client, 'list_sessions', { limit: 1 })).isError).toBeFalsy();
  });

  it('finds a session another process appended, at the next search', async () => {
    const other = await openStore({ dir });
    await other.create({ id: 'fresh' });
    await other.append('fresh', { role: 'user', content: 'circuit breaker thresholds' });
    await other.close();
    const found = JSON.parse((await call(client, 'search_sessions', { query: 'circuit breaker' })).content[0]!.text) as { hits: { session: string }[] };
    expect(found.hits.map((h) => h.session)).toEqual(['fresh']);
    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toContain('sessionlog://session/fresh');
    const resource = await client.readResource({ uri: 'sessionlog://session/fresh' });
    expect(JSON.stringify(resource.contents)).toContain('circuit breaker thresholds');
  });
});
