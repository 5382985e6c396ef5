#!/usr/bin/env node
// Import figures for docs/import.md: importing generated Claude Code transcripts (default 1 GB)
// into a fresh folder store, against the floor of reading and JSON-parsing every line of the same
// files, each in a fresh child process (time and peak RSS). Not part of `npm test`.
//
//   npm run build && node --import tsx bench/import.mjs [megabytes=1024]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--phase') {
  const [, , , phase, src, dir] = process.argv;
  const t0 = performance.now();
  let lines = 0;
  if (phase === 'floor') {
    for (const entry of fs.readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      for (const line of fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8').split('\n')) if (line !== '') { JSON.parse(line); lines++; }
    }
  } else {
    const { openStore, importTranscripts } = await import('../dist/index.js');
    const store = await openStore({ dir });
    const report = await importTranscripts(store, 'claude', { paths: [src] });
    lines = report.entries;
    await store.close();
  }
  console.log(JSON.stringify({ ms: performance.now() - t0, rssMB: process.resourceUsage().maxRSS / 1024, lines }));
} else {
  const megabytes = Number(process.argv[2] ?? 1024);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-import-bench-'));
  const src = path.join(root, 'projects', '-home-dev-app');
  fs.mkdirSync(src, { recursive: true });
  const text = 'Let me read the file and check the exports map before changing the build. '.repeat(20);
  let bytes = 0;
  let files = 0;
  while (bytes < megabytes * 1024 * 1024) {
    const session = `${String(files).padStart(8, '0')}-aaaa-4bbb-8ccc-${String(files).padStart(12, '0')}`;
    const out = [];
    for (let turn = 0; turn < 400; turn++) {
      const base = { sessionId: session, cwd: '/home/dev/app', version: '2.0.31', gitBranch: 'main', timestamp: new Date(Date.UTC(2026, 10, 1, 0, 0, turn)).toISOString() };
      const usage = { input_tokens: 1200, output_tokens: 80, cache_read_input_tokens: 5000 };
      out.push({ ...base, type: 'user', uuid: `${session}-u${turn}`, message: { role: 'user', content: `${turn} ${text}` } });
      out.push({ ...base, type: 'assistant', uuid: `${session}-a${turn}`, requestId: `r${turn}`, message: { id: `m${turn}`, role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'thinking', thinking: text, signature: 'sig' }], usage } });
      out.push({ ...base, type: 'assistant', uuid: `${session}-b${turn}`, requestId: `r${turn}`, message: { id: `m${turn}`, role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'tool_use', id: `t${turn}`, name: 'Read', input: { file_path: 'package.json' } }], usage } });
      out.push({ ...base, type: 'user', uuid: `${session}-r${turn}`, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${turn}`, content: text }] } });
    }
    const data = `${out.map((line) => JSON.stringify(line)).join('\n')}\n`;
    fs.writeFileSync(path.join(src, `${session}.jsonl`), data);
    bytes += data.length;
    files++;
  }
  console.log(`# ${files} transcripts, ${(bytes / 1e6).toFixed(0)} MB; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`);
  const run = (phase) => JSON.parse(execFileSync(process.execPath, [self, '--phase', phase, src, fs.mkdtempSync(path.join(root, 'store-'))], { encoding: 'utf8' }));
  const floor = run('floor');
  const imported = run('import');
  console.log(`| floor: read + JSON.parse every line | ${(floor.ms / 1000).toFixed(2)} s | ${(bytes / 1e6 / (floor.ms / 1000)).toFixed(0)} MB/s | peak RSS ${floor.rssMB.toFixed(0)} MB |`);
  console.log(`| import into a new store (${imported.lines} entries) | ${(imported.ms / 1000).toFixed(2)} s | ${(bytes / 1e6 / (imported.ms / 1000)).toFixed(0)} MB/s | peak RSS ${imported.rssMB.toFixed(0)} MB | ${(imported.ms / floor.ms).toFixed(2)}× the floor |`);
  fs.rmSync(root, { recursive: true, force: true });
}
