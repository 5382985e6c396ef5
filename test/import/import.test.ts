// Importing Claude Code and Codex transcripts: every trap of the formats, incremental runs, sources
// byte-identical, nothing created in their folders, and the read commands refusing their folders.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTranscripts } from '../../src/import/importer.js';
import { openStore } from '../../src/index.js';
import { runCli, startCli } from '../cli/run.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/tmp.js';
import { CLAUDE_SESSION, CLAUDE_USAGE, claudeLines, CODEX_SESSION, CODEX_USAGE, JPEG, PNG, SIGNATURE, writeClaude, writeCodex } from './fixtures.js';

/** Every file under `dir` with its sha256: the sources must not change, nor gain files. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return out;
}

const hasZstd = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('import claude', () => {
  it('one session per transcript with the source id, header fields, subagents under their parent, and every line kept', async () => {
    const src = tempDir();
    const { projects } = writeClaude(src);
    const before = snapshot(src);
    const store = await openStore({ dir: tempDir() });
    const report = await importTranscripts(store, 'claude', { paths: [projects] });
    expect(report).toMatchObject({ files: 2, sessions: 2, created: 2, skipped: [] });
    const info = await store.get(CLAUDE_SESSION);
    expect(info).toMatchObject({ title: 'ESM build fix', model: 'claude-sonnet-4-5', cwd: '/home/dev/acme-api', metadata: { gitBranch: 'main', source: { tool: 'claude-code', version: '2.0.31' } } });
    expect(info?.createdAt).toBe('2026-11-02T10:00:00.000Z');
    const sub = await store.get(`${CLAUDE_SESSION}.agent-a1b2c3`);
    expect(sub?.parent).toEqual({ id: CLAUDE_SESSION });
    const { entries, problems } = await store.read(CLAUDE_SESSION);
    expect(problems).toEqual([]);
    // Every source line but the repeated one is an entry (the tool_result line is one entry).
    expect(entries).toHaveLength(claudeLines().length - 1);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    const types = entries.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['claude.summary', 'claude.file-history-snapshot', 'claude.queue-operation', 'claude.system', 'claude.custom-title', 'claude.some-future-type', 'compaction']));
    // The tool result follows its call, with the call's id.
    const callAt = entries.findIndex((e) => (e['toolCalls'] as { id: string }[] | undefined)?.[0]?.id === 'toolu_1');
    const result = entries.findIndex((e) => e['role'] === 'tool');
    expect(result).toBeGreaterThan(callAt);
    expect(entries[result]).toMatchObject({ toolCallId: 'toolu_1', content: '{ "type": "module" }' });
    // Thinking kept byte for byte, signature included.
    const thinking = (entries.find((e) => e.id === 'u2')?.['content'] as { signature?: string }[])[0];
    expect(thinking).toEqual({ type: 'thinking', thinking: 'Check package.json first.', signature: SIGNATURE });
    // Usage counted once per API response, not once per line.
    expect(info?.usage).toMatchObject(CLAUDE_USAGE);
    // Resume from the compaction: its summary, then what follows.
    const resumed = (await store.read(CLAUDE_SESSION, { fromCompaction: true })).entries;
    expect(resumed[0]).toMatchObject({ type: 'compaction', summary: 'Summary: the ESM build was fixed by correcting exports.' });
    expect(resumed.map((e) => e.id)).toContain('u10');
    expect(snapshot(src)).toEqual(before);
    await store.close();
  });

  it('is incremental: a second run imports nothing; appended lines come in once; a torn last line waits until it is complete', async () => {
    const src = tempDir();
    const { projects, file } = writeClaude(src, { torn: true });
    const store = await openStore({ dir: tempDir() });
    const first = await importTranscripts(store, 'claude', { paths: [projects] });
    expect(first.entries).toBe(claudeLines().length - 1 + 2);
    expect((await importTranscripts(store, 'claude', { paths: [projects] })).entries).toBe(0);
    // The tool finishes the torn line and appends another.
    fs.appendFileSync(file, 'er","content":"continue"},"sessionId":"x","timestamp":"2026-11-02T10:04:00.000Z"}\n');
    fs.appendFileSync(file, `${JSON.stringify({ type: 'assistant', uuid: 'u12', timestamp: '2026-11-02T10:05:00.000Z', requestId: 'r', message: { id: 'msg_3', role: 'assistant', content: [{ type: 'text', text: 'more' }], usage: { input_tokens: 10, output_tokens: 5 } } })}\n`);
    const third = await importTranscripts(store, 'claude', { paths: [projects] });
    expect(third.entries).toBe(2);
    const ids = (await store.read(CLAUDE_SESSION)).entries.map((e) => e.id);
    expect(ids.slice(-2)).toEqual(['u11', 'u12']);
    // msg_3's usage was counted in an earlier run: not again.
    expect((await store.get(CLAUDE_SESSION))?.usage).toMatchObject(CLAUDE_USAGE);
    expect((await importTranscripts(store, 'claude', { paths: [projects] })).entries).toBe(0);
    await store.close();
  });
});

describe('import codex', () => {
  it('maps every line type; cumulative token counts are not added up; repeated messages are not imported twice', async () => {
    const src = tempDir();
    const { sessions } = writeCodex(src, { zst: hasZstd });
    const before = snapshot(src);
    const store = await openStore({ dir: tempDir() });
    const report = await importTranscripts(store, 'codex', { paths: [sessions] });
    expect(report.sessions).toBe(hasZstd ? 2 : 1);
    const info = await store.get(CODEX_SESSION);
    expect(info).toMatchObject({ model: 'gpt-5-codex', cwd: '/home/dev/web', metadata: { gitBranch: 'feature/login', source: { tool: 'codex', version: '0.63.0' } } });
    expect(info?.usage).toMatchObject(CODEX_USAGE);
    const { entries } = await store.read(CODEX_SESSION);
    const call = entries.find((e) => Array.isArray(e['toolCalls']) && (e['toolCalls'] as { id: string }[])[0]?.id === 'call_1');
    expect((call?.['toolCalls'] as { arguments: unknown }[])[0]?.arguments).toEqual({ command: ['ls', 'src'] });
    expect(entries.find((e) => e['role'] === 'tool' && e['toolCallId'] === 'call_1')).toBeDefined();
    let hits = 0;
    for await (const hit of store.search('The login form is ready')) if (hit.session === CODEX_SESSION) hits++;
    expect(hits).toBe(1);
    expect((await store.read(CODEX_SESSION, { fromCompaction: true })).entries[0]).toMatchObject({ type: 'compaction', summary: 'Summary: a login form was added.' });
    expect(entries).toHaveLength(16);
    expect(snapshot(src)).toEqual(before);
    await store.close();
  });
});

describe('inline images', () => {
  it('move to artifacts on import (Claude and Codex): the entry keeps a ref, the transcript no base64, the artifact the bytes', async () => {
    const src = tempDir();
    const { projects } = writeClaude(src);
    const { sessions } = writeCodex(src);
    const dir = tempDir();
    const store = await openStore({ dir });
    await importTranscripts(store, 'claude', { paths: [projects] });
    await importTranscripts(store, 'codex', { paths: [sessions] });
    for (const [id, base64, mediaType] of [[CLAUDE_SESSION, PNG, 'image/png'], [CODEX_SESSION, JPEG, 'image/jpeg']] as const) {
      const parts = (await store.read(id)).entries.flatMap((e) => (Array.isArray(e['content']) ? (e['content'] as Record<string, unknown>[]) : []));
      const image = parts.find((p) => p['type'] === 'image');
      expect(image, id).toMatchObject({ ref: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), mediaType });
      expect((await store.artifacts.get(image?.['ref'] as string))?.equals(Buffer.from(base64, 'base64'))).toBe(true);
      expect(await store.artifacts.list(id)).toEqual([{ ref: image?.['ref'], size: Buffer.from(base64, 'base64').length, mediaType, name: undefined }]);
      expect(fs.readFileSync(path.join(dir, `${id}.jsonl`), 'utf8')).not.toContain(base64);
    }
    // A second run finds the entries there: nothing imported, no artifact put twice.
    expect((await importTranscripts(store, 'claude', { paths: [projects] })).entries).toBe(0);
    expect(await store.artifacts.list(CLAUDE_SESSION)).toHaveLength(1);
    await store.close();
  });
});

describe('the CLI', () => {
  it('import with --json and --dry-run; the read commands recognise a Claude or Codex folder and write nothing there', async () => {
    const src = tempDir();
    const { projects } = writeClaude(src);
    const codex = writeCodex(tempDir());
    const store = tempDir();
    const dry = await runCli(['import', 'claude', projects, '--dry-run', '--json'], { dir: store });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, sessions: 2, entries: claudeLines().length - 1 + 2 });
    // No session written (the listing cache may be).
    expect(fs.readdirSync(store).filter((name) => name.endsWith('.jsonl'))).toEqual([]);
    const real = await runCli(['import', 'claude', projects], { dir: store });
    expect(real.stdout).toMatch(/imported \d+ entries into 2 sessions \(2 new\)/);
    const shown = await runCli(['show', CLAUDE_SESSION], { dir: store });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('The exports map is wrong.');
    const before = snapshot(src);
    const projectDir = path.join(projects, '-home-dev-acme-api');
    for (const [dir, tool] of [[projectDir, 'claude'], [codex.sessions, 'codex']] as const) {
      for (const command of [['list'], ['doctor']]) {
        const out = await runCli(command, { dir });
        expect(out.code).toBe(1);
        expect(out.stderr).toContain(`sessionlog import ${tool}`);
        expect(out.stderr).not.toMatch(/repair/);
      }
    }
    expect(snapshot(src)).toEqual(before);
    expect(fs.existsSync(path.join(projectDir, '.sessionlog-index.json'))).toBe(false);
  });
});

describe('import --watch', () => {
  it('brings a line the tool appends into the store within a second, and stops on SIGINT', async () => {
    const src = tempDir();
    const { projects, file } = writeClaude(src);
    const dir = tempDir();
    const watcher = startCli(['import', 'claude', projects, '--watch', '--json'], { dir });
    await waitFor('the first import', () => watcher.stdout().includes('"created":2'), { timeoutMs: 20_000 });
    const store = await openStore({ dir });
    const appendedAt = Date.now();
    fs.appendFileSync(file, `${JSON.stringify({ type: 'user', uuid: 'w1', timestamp: '2026-11-02T11:00:00.000Z', sessionId: CLAUDE_SESSION, message: { role: 'user', content: 'watched line' } })}\n`);
    await waitFor('the appended line in the store', async () => (await store.read(CLAUDE_SESSION, { tail: 1 })).entries[0]?.id === 'w1', { timeoutMs: 10_000, intervalMs: 20 });
    const latency = Date.now() - appendedAt;
    console.log(`import --watch: a source append reached the store in ${latency} ms`);
    watcher.child.kill('SIGINT');
    expect((await watcher.done).code).toBe(0);
    await store.close();
  });
});
