#!/usr/bin/env node
// MCP figures for docs/mcp.md: `search_sessions` through `sessionlog mcp` (the SDK's Client over
// stdio) against the CLI's `sessionlog search` on the same folder of sessions (default 1 GB), and
// `read_session` of the end of a 100 MB session. Part of `npm run bench`.
//
//   npm run build && node --import tsx bench/mcp.mjs [megabytes=1024]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { generateTranscript } from '../test/helpers/transcripts.ts';

const megabytes = Number(process.argv[2] ?? 1024);
const BIN = path.resolve('dist/cli/main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-mcp-bench-'));
const header = (id) => `${JSON.stringify({ type: 'session', version: 1, id, createdAt: '2026-11-01T00:00:00.000Z', title: id })}\n`;
let bytes = 0;
const template = generateTranscript({ seed: 3, messages: 4000 });
for (let n = 0; bytes < megabytes * 1024 * 1024; n++) {
  const id = `s${String(n).padStart(5, '0')}`;
  const lines = template.map((e, i) => JSON.stringify({ type: 'message', id: `0${String(i).padStart(9, '0')}`, ts: '2026-11-01T00:00:00.000Z', ...e }));
  if (n === 7) lines.push(JSON.stringify({ type: 'message', id: '0999999999', ts: '2026-11-01T00:00:00.000Z', role: 'user', content: 'needle: the circuit breaker opens after 5 failures' }));
  const data = `${header(id)}${lines.join('\n')}\n`;
  fs.writeFileSync(path.join(root, `${id}.jsonl`), data);
  bytes += data.length;
}
// The 100 MB session.
{
  const fd = fs.openSync(path.join(root, 'big.jsonl'), 'w');
  fs.writeSync(fd, header('big'));
  const text = 'A long tool output line that goes on. '.repeat(25);
  for (let n = 0, written = 0; written < 100 * 1024 * 1024; ) {
    const lines = [];
    for (let i = 0; i < 1000; i++, n++) lines.push(JSON.stringify({ type: 'message', id: `0${String(n).padStart(9, '0')}`, ts: '2026-10-01T00:00:00.000Z', role: 'assistant', content: `${n} ${text}` }));
    const chunk = `${lines.join('\n')}\n`;
    fs.writeSync(fd, chunk);
    written += chunk.length;
  }
  fs.closeSync(fd);
}
execFileSync(process.execPath, [BIN, '--dir', root, 'list', '--limit', '1']); // the index, built once

const client = new Client({ name: 'bench', version: '1' });
await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, '--dir', root, 'mcp'], stderr: 'ignore' }));
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const viaMcp = [];
const viaCli = [];
const read = [];
for (let round = 0; round < 3; round++) {
  viaMcp.push(await time(() => client.callTool({ name: 'search_sessions', arguments: { query: 'circuit breaker opens', limit: 20 } })));
  viaCli.push(await time(() => execFileSync(process.execPath, [BIN, '--dir', root, 'search', '-i', 'circuit breaker opens', '--json'])));
  read.push(await time(() => client.callTool({ name: 'read_session', arguments: { id: 'big', tail: 200 } })));
}
await client.close();
const gb = (bytes + 100 * 1024 * 1024) / 1e9;
console.log(`# mcp: ${gb.toFixed(2)} GB of sessions; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`);
console.log('| figure | median of 3 |');
console.log('|---|---:|');
console.log(`| search_sessions over ${gb.toFixed(2)} GB (MCP, server already running) | ${(median(viaMcp) / 1000).toFixed(2)} s |`);
console.log(`| sessionlog search -i, same folder (a new process each time) | ${(median(viaCli) / 1000).toFixed(2)} s |`);
console.log(`| read_session of the last 200 entries of a 100 MB session | ${median(read).toFixed(0)} ms |`);
fs.rmSync(root, { recursive: true, force: true });
