#!/usr/bin/env node
// Adapter figures for docs/adapters.md: the cost per appended entry of each SDK adapter, against
// the SDK's own in-memory implementation (no persistence: the floor) and against the plain store
// doing the same writes (append + flush per call), all in this process on a fresh folder.
//
//   npm run build && node --import tsx bench/adapters.mjs [entries=4000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InMemorySessionStore } from '@anthropic-ai/claude-agent-sdk';
import { emptyCheckpoint, MemorySaver, uuid6 } from '@langchain/langgraph-checkpoint';
import { MemorySession } from '@openai/agents-core';
import { openStore } from 'sessionlog';
import { ClaudeSessionStore } from 'sessionlog/claude-agent-sdk';
import { SessionlogSaver } from 'sessionlog/langgraph';
import { SessionlogSession } from 'sessionlog/openai-agents';

const N = Number(process.argv[2] ?? 4000);
const BATCH = 10;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-adapters-bench-'));
const text = 'Let me read the file and check the exports map before changing the build. '.repeat(6);
let dirs = 0;
const freshDir = () => path.join(root, `d${dirs++}`);

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median of three runs of `make()` then `fn(made)`, in µs per entry. */
async function perEntry(make, fn) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const made = await make();
    runs.push((await time(() => fn(made))) * 1000 / N);
    await made.close?.();
  }
  return runs.sort((a, b) => a - b)[1];
}

const claudeEntry = (i) => ({ type: i % 2 ? 'assistant' : 'user', uuid: `u-${i}`, timestamp: new Date().toISOString(), sessionId: 's', message: { role: i % 2 ? 'assistant' : 'user', content: `${i} ${text}` } });
const plainBatches = async (store, make) => {
  const { id } = await store.create();
  for (let i = 0; i < N; i += BATCH) {
    await store.append(id, Array.from({ length: BATCH }, (_, j) => make(i + j)));
    await store.flush(id);
  }
};

const rows = [];
{
  const key = { projectKey: 'p', sessionId: 's' };
  const batches = async (store) => {
    for (let i = 0; i < N; i += BATCH) await store.append(key, Array.from({ length: BATCH }, (_, j) => claudeEntry(i + j)));
  };
  rows.push({
    name: `Claude Agent SDK: append, batches of ${BATCH}`,
    memory: await perEntry(() => new InMemorySessionStore(), batches),
    plain: await perEntry(() => openStore({ dir: freshDir() }), (store) => plainBatches(store, (i) => ({ type: 'claude.user', line: claudeEntry(i) }))),
    ours: await perEntry(() => new ClaudeSessionStore({ dir: freshDir() }), batches),
  });
}
{
  // One checkpoint per step, one channel changed, and one task's writes: what a graph step persists.
  const steps = async (saver) => {
    let config = { configurable: { thread_id: 't', checkpoint_ns: '' } };
    for (let i = 0; i < N / 2; i++) {
      const checkpoint = { ...emptyCheckpoint(), id: uuid6(-1), channel_values: { messages: [`${i} ${text}`] }, channel_versions: { messages: i + 1 } };
      config = await saver.put(config, checkpoint, { source: 'loop', step: i, parents: {} }, { messages: i + 1 });
      await saver.putWrites(config, [['messages', [`${i} ${text}`]]], `task-${i}`);
    }
  };
  rows.push({
    name: 'LangGraph: put + putWrites per step (2 entries)',
    memory: await perEntry(() => new MemorySaver(), steps),
    plain: await perEntry(() => openStore({ dir: freshDir() }), async (store) => {
      const { id } = await store.create();
      for (let i = 0; i < N / 2; i++) {
        await store.append(id, [{ type: 'langgraph.checkpoint', i, text }]);
        await store.flush(id);
        await store.append(id, [{ type: 'langgraph.writes', i, text }]);
        await store.flush(id);
      }
    }),
    ours: await perEntry(() => new SessionlogSaver({ dir: freshDir() }), steps),
  });
}
{
  const item = (i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i} ${text}` });
  const turns = async (session) => {
    for (let i = 0; i < N; i += 2) await session.addItems([item(i), item(i + 1)]);
  };
  rows.push({
    name: 'OpenAI Agents: addItems, 2 items per call',
    memory: await perEntry(() => new MemorySession(), turns),
    plain: await perEntry(() => openStore({ dir: freshDir() }), async (store) => {
      const { id } = await store.create();
      for (let i = 0; i < N; i += 2) {
        await store.append(id, [{ type: 'openai.item', item: item(i) }, { type: 'openai.item', item: item(i + 1) }]);
        await store.flush(id);
      }
    }),
    ours: await perEntry(() => new SessionlogSession({ dir: freshDir(), sessionId: 'bench' }), turns),
  });
}
fs.rmSync(root, { recursive: true, force: true });

console.log(`# ${N} entries per case, median of 3; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`);
console.log('| adapter | SDK in-memory (no persistence) | plain store, same writes | adapter | adapter ÷ plain store |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.memory.toFixed(1)} µs | ${r.plain.toFixed(1)} µs | ${r.ours.toFixed(1)} µs | ${(r.ours / r.plain).toFixed(2)} |`);
}
