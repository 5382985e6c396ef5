/**
 * Claude Code and Codex transcripts written from the formats (research/clients.md), holding every
 * trap the importers must handle. Each writer returns what the test checks against.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const CLAUDE_SESSION = '5b0c2a4e-1f6d-4c1e-9a7b-3d2e1f0a9b8c';
/** The bytes of the images pasted into the transcripts, base64 (an image's first bytes are enough). */
export const PNG = 'iVBORw0KGgo=';
export const JPEG = '/9j/4AAQSkZJRgABAQ==';
export const CODEX_SESSION = '0199a3b2-7c4d-7e5f-8a6b-9c0d1e2f3a4b';
/** A thinking block's signature: must come back byte for byte. */
export const SIGNATURE = 'EqQBCkYIBRgCKkBv+z/9Xk3==sig\\u0000ok';

const line = (value: object): string => `${JSON.stringify(value)}\n`;
const base = (uuid: string, parentUuid: string | null, timestamp: string) => ({
  parentUuid, isSidechain: false, userType: 'external', cwd: '/home/dev/acme-api', sessionId: CLAUDE_SESSION, version: '2.0.31', gitBranch: 'main', uuid, timestamp,
});
const usage = { input_tokens: 1200, cache_creation_input_tokens: 300, cache_read_input_tokens: 5000, output_tokens: 80, service_tier: 'standard' };

/** The main transcript's lines (without the torn last line). */
export function claudeLines(): string[] {
  return [
    line({ type: 'summary', summary: 'Fix the ESM build', leafUuid: 'u9' }),
    line({ ...base('u1', null, '2026-11-02T10:00:00.000Z'), type: 'user', message: { role: 'user', content: 'The build fails on Node 20.' } }),
    // One API response as three lines sharing message.id and requestId, each repeating the usage.
    line({ ...base('u2', 'u1', '2026-11-02T10:00:05.000Z'), type: 'assistant', requestId: 'req_1', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'thinking', thinking: 'Check package.json first.', signature: SIGNATURE }], stop_reason: null, usage } }),
    line({ ...base('u3', 'u2', '2026-11-02T10:00:06.000Z'), type: 'assistant', requestId: 'req_1', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Let me look at the config.' }], stop_reason: null, usage } }),
    line({ ...base('u4', 'u3', '2026-11-02T10:00:07.000Z'), type: 'assistant', requestId: 'req_1', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/home/dev/acme-api/package.json' } }], stop_reason: 'tool_use', usage } }),
    line({ ...base('u5', 'u4', '2026-11-02T10:00:08.000Z'), type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{ "type": "module" }' }] }, toolUseResult: { type: 'text', file: { filePath: '/home/dev/acme-api/package.json' } } }),
    line({ type: 'file-history-snapshot', messageId: 'u5', snapshot: { trackedFileBackups: {} }, isSnapshotUpdate: false }),
    line({ type: 'queue-operation', operation: 'enqueue', timestamp: '2026-11-02T10:00:09.000Z', content: 'also run the tests' }),
    // A timestamp out of order, and an image.
    line({ ...base('u6', 'u5', '2026-11-02T09:59:59.000Z'), type: 'user', message: { role: 'user', content: [{ type: 'text', text: 'Here is the screenshot' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] } }),
    line({ ...base('u7', 'u6', '2026-11-02T10:01:00.000Z'), type: 'assistant', requestId: 'req_2', message: { id: 'msg_2', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'The exports map is wrong.' }], stop_reason: 'end_turn', usage: { input_tokens: 100, output_tokens: 20 } } }),
    line({ ...base('u8', 'u7', '2026-11-02T10:02:00.000Z'), type: 'system', subtype: 'compact_boundary', content: 'Conversation compacted', compactMetadata: { trigger: 'auto', preTokens: 155000 }, level: 'info' }),
    line({ ...base('u9', 'u8', '2026-11-02T10:02:01.000Z'), type: 'user', isCompactSummary: true, message: { role: 'user', content: 'Summary: the ESM build was fixed by correcting exports.' } }),
    line({ type: 'custom-title', customTitle: 'ESM build fix', sessionId: CLAUDE_SESSION }),
    line({ ...base('u10', 'u9', '2026-11-02T10:03:00.000Z'), type: 'assistant', requestId: 'req_3', message: { id: 'msg_3', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Done after compaction.' }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 5 } } }),
    // A resumed session repeats an earlier line with the same uuid.
    line({ ...base('u1', null, '2026-11-02T10:00:00.000Z'), type: 'user', message: { role: 'user', content: 'The build fails on Node 20.' } }),
    line({ type: 'some-future-type', uuid: 'f1', data: { x: 1 } }),
  ];
}

/** Writes a Claude Code config folder; returns the projects folder and the main transcript's path. */
export function writeClaude(root: string, options: { torn?: boolean } = {}): { projects: string; file: string; subagent: string } {
  const project = path.join(root, 'projects', '-home-dev-acme-api');
  fs.mkdirSync(path.join(project, CLAUDE_SESSION, 'subagents'), { recursive: true });
  const file = path.join(project, `${CLAUDE_SESSION}.jsonl`);
  fs.writeFileSync(file, claudeLines().join('') + (options.torn === true ? '{"type":"user","uuid":"u11","message":{"role":"us' : ''));
  const subagent = path.join(project, CLAUDE_SESSION, 'subagents', 'agent-a1b2c3.jsonl');
  fs.writeFileSync(subagent, [
    line({ ...base('s1', null, '2026-11-02T10:00:10.000Z'), isSidechain: true, agentId: 'a1b2c3', type: 'user', message: { role: 'user', content: 'Search for exports' } }),
    line({ ...base('s2', 's1', '2026-11-02T10:00:12.000Z'), isSidechain: true, agentId: 'a1b2c3', type: 'assistant', requestId: 'req_s', message: { id: 'msg_s', role: 'assistant', model: 'claude-haiku-4-5', content: [{ type: 'text', text: 'Found it.' }], usage: { input_tokens: 7, output_tokens: 3 } } }),
  ].join(''));
  return { projects: path.join(root, 'projects'), file, subagent };
}

/** Expected token totals of the main Claude transcript: each API response counted once. */
export const CLAUDE_USAGE = { input: 1200 + 100 + 10, output: 80 + 20 + 5, cacheRead: 5000, cacheWrite: 300 };

const ev = (timestamp: string, type: string, payload: object) => line({ timestamp, type, payload });

/** A Codex rollout's lines. */
export function codexLines(): string[] {
  return [
    ev('2026-11-03T08:00:00.000Z', 'session_meta', { id: CODEX_SESSION, timestamp: '2026-11-03T08:00:00.000Z', cwd: '/home/dev/web', originator: 'codex_cli_rs', cli_version: '0.63.0', instructions: null, git: { commit_hash: 'abc123', branch: 'feature/login', repository_url: 'git@example.com:web.git' } }),
    ev('2026-11-03T08:00:01.000Z', 'turn_context', { cwd: '/home/dev/web', approval_policy: 'on-request', sandbox_policy: { mode: 'workspace-write' }, model: 'gpt-5-codex', effort: 'medium', summary: 'auto' }),
    ev('2026-11-03T08:00:02.000Z', 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Add a login form' }] }),
    ev('2026-11-03T08:00:02.100Z', 'event_msg', { type: 'user_message', message: 'Add a login form', kind: 'plain' }),
    ev('2026-11-03T08:00:03.000Z', 'response_item', { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Plan the form' }], content: null, encrypted_content: 'gAAAA' }),
    ev('2026-11-03T08:00:04.000Z', 'response_item', { type: 'function_call', name: 'shell', arguments: '{"command":["ls","src"]}', call_id: 'call_1' }),
    ev('2026-11-03T08:00:05.000Z', 'response_item', { type: 'function_call_output', call_id: 'call_1', output: '{"output":"App.tsx\\n","metadata":{"exit_code":0}}' }),
    ev('2026-11-03T08:00:05.500Z', 'event_msg', { type: 'token_count', info: { total_token_usage: { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 50, reasoning_output_tokens: 10, total_tokens: 1050 }, last_token_usage: { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 50, total_tokens: 1050 } } }),
    ev('2026-11-03T08:00:06.000Z', 'response_item', { type: 'custom_tool_call', status: 'completed', call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' }),
    ev('2026-11-03T08:00:06.500Z', 'response_item', { type: 'custom_tool_call_output', call_id: 'call_2', output: 'Success' }),
    ev('2026-11-03T08:00:07.000Z', 'response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'The login form is ready.' }] }),
    ev('2026-11-03T08:00:07.100Z', 'event_msg', { type: 'agent_message', message: 'The login form is ready.' }),
    ev('2026-11-03T08:00:07.500Z', 'event_msg', { type: 'token_count', info: { total_token_usage: { input_tokens: 2500, cached_input_tokens: 900, output_tokens: 120, total_tokens: 2620 } } }),
    ev('2026-11-03T08:00:08.000Z', 'response_item', { type: 'ghost_snapshot', ghost_commit: { id: 'g1' } }),
    ev('2026-11-03T08:00:09.000Z', 'compacted', { message: 'Summary: a login form was added.', replacement_history: [] }),
    ev('2026-11-03T08:00:10.000Z', 'response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Now style it' }, { type: 'input_image', image_url: `data:image/jpeg;base64,${JPEG}` }] }),
  ];
}

/** Cumulative totals of the rollout's last token_count: what the session's usage must add up to. */
export const CODEX_USAGE = { input: 2500 - 900, output: 120, cacheRead: 900, total: 2620 };

/** Writes a Codex home with the rollout in sessions/YYYY/MM/DD (and, with `zst`, a compressed copy of another). */
export function writeCodex(root: string, options: { zst?: boolean } = {}): { sessions: string; file: string } {
  const day = path.join(root, 'sessions', '2026', '11', '03');
  fs.mkdirSync(day, { recursive: true });
  const file = path.join(day, `rollout-2026-11-03T08-00-00-${CODEX_SESSION}.jsonl`);
  fs.writeFileSync(file, codexLines().join(''));
  if (options.zst === true) {
    const other = '0199a3b2-0000-7000-8000-000000000001';
    const plain = path.join(root, 'rollout-other.jsonl');
    fs.writeFileSync(plain, codexLines().join('').replaceAll(CODEX_SESSION, other));
    execFileSync('zstd', ['-q', '-f', plain, '-o', path.join(day, `rollout-2026-11-03T09-00-00-${other}.jsonl.zst`)]);
    fs.rmSync(plain);
  }
  return { sessions: path.join(root, 'sessions'), file };
}
