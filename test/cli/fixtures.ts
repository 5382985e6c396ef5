/** A small store with deterministic ids and clock, written through the library. */
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/index.js';

/** 2026-11-02T10:00:00Z, advanced a second per timestamp. */
const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

/** The ISO time `seconds` after 10:00:00. */
function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** Lines of a long tool output. */
export const LONG_OUTPUT = Array.from({ length: 50 }, (_, i) => `log line ${i + 1}: npm ERR! code E${i}`).join('\n');

/**
 * Three sessions: `alpha-one` (build fix, with a tool call, a long tool result and a compaction),
 * `alpha-two` (retry client), `beta` (memory leak, most recent). Returns the folder.
 */
export async function seedStore(dir: string): Promise<string> {
  let t = T0;
  const store = await openStore({ dir, now: () => (t += 1000) });
  await store.create({ id: 'alpha-one', title: 'Fix the build', model: 'gpt-5', cwd: '/work/api' });
  await store.append('alpha-one', [
    { id: 'a1', ts: at(10), role: 'user', content: 'The build fails with ERR_REQUIRE_ESM on Node 20.' },
    {
      id: 'a2',
      ts: at(15),
      role: 'assistant',
      content: [{ type: 'text', text: 'Let me read the config.' }],
      toolCalls: [{ id: 'call-1', name: 'read_file', arguments: { path: 'src/config.ts' } }],
      usage: { input: 1200, output: 300, cacheRead: 500 },
    },
    { id: 'a3', ts: at(20), role: 'tool', toolCallId: 'call-1', toolName: 'read_file', content: LONG_OUTPUT },
    { id: 'a4', ts: at(30), type: 'compaction', summary: 'The user fixed an ESM import in the build.', tokensBefore: 4000 },
    { id: 'a5', ts: at(40), role: 'user', content: 'Now add a test for it.' },
    { id: 'a6', ts: at(50), role: 'assistant', content: 'Added test/build.test.ts.', usage: { input: 800, output: 100 } },
  ]);
  await store.create({ id: 'alpha-two', title: 'Retry client', model: 'claude-sonnet', cwd: '/work/web' });
  await store.append('alpha-two', [
    { id: 'b1', ts: at(60), role: 'user', content: 'Add a retry with exponential backoff.' },
    { id: 'b2', ts: at(70), role: 'assistant', content: 'Retrying in 200ms, then 400ms.', usage: { input: 500, output: 50 } },
  ]);
  await store.create({ id: 'beta', title: 'Memory leak', model: 'gpt-5', cwd: '/work/api' });
  await store.append('beta', [
    { id: 'c1', ts: at(80), role: 'user', content: '请检查一下这个函数为什么会内存泄漏。' },
    { id: 'c2', ts: at(90), role: 'assistant', content: 'The cache never evicts: 内存泄漏 found.', usage: { input: 100, output: 20 } },
  ]);
  // Listing writes the index, as a store in use would have one.
  await store.list();
  await store.close();
  return dir;
}

/** Appends raw bytes to a session file (damage, as a crash or a hand edit would leave it). */
export function appendRaw(dir: string, id: string, text: string): void {
  fs.appendFileSync(path.join(dir, `${id}.jsonl`), text);
}
