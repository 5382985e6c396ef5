#!/usr/bin/env node
// Secrets figures for docs/secrets.md: redaction's cost per appended realistic message, as a
// share of the append (the same entries appended with redact on and off, each in a fresh folder,
// median of 5), and the scan's throughput (`sessionlog secrets` over every session) against
// `grep -E -c` of the built-in patterns over the same files. Part of `npm run bench`.
//
//   npm run build && node --import tsx bench/secrets.mjs [megabytes=256]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from 'sessionlog';
import { generateTranscript } from '../test/helpers/transcripts.ts';

const megabytes = Number(process.argv[2] ?? 256);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-secrets-bench-'));
const messages = generateTranscript({ seed: 11, messages: 20_000 });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function appendAll(redact) {
  const store = await openStore({ dir: fs.mkdtempSync(path.join(root, 'a-')), redact, flushOnExit: false });
  const { id } = await store.create();
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += 10) await store.append(id, messages.slice(i, i + 10));
  await store.flush();
  const ms = performance.now() - t0;
  await store.close();
  return ms;
}
const on = [];
const off = [];
for (let round = 0; round < 5; round++) {
  off.push(await appendAll(false));
  on.push(await appendAll(true));
}
const perOn = (median(on) * 1000) / messages.length;
const perOff = (median(off) * 1000) / messages.length;

// The scan: sessions of realistic messages, a few with planted secrets.
const scanDir = path.join(root, 'scan');
const writer = await openStore({ dir: scanDir, redact: false });
const sessionBytes = 4 * 1024 * 1024;
let bytes = 0;
for (let n = 0; bytes < megabytes * 1024 * 1024; n++) {
  const { id } = await writer.create({ id: `s${String(n).padStart(4, '0')}` });
  const entries = generateTranscript({ seed: n, messages: 3000 });
  if (n % 10 === 0) entries.push({ role: 'tool', toolCallId: 'x', content: `export GITHUB_TOKEN=ghp_${'a1B2c3D4e5'.repeat(4)}` });
  await writer.append(id, entries);
  await writer.flush(id);
  bytes += fs.statSync(path.join(scanDir, `${id}.jsonl`)).size;
  if (fs.statSync(path.join(scanDir, `${id}.jsonl`)).size < sessionBytes / 8) continue;
}
await writer.close();
const files = fs.readdirSync(scanDir).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(scanDir, f));
const pattern = 'AKIA[A-Z0-9]{16}|gh[posur]_[A-Za-z0-9]{36}|github_pat_|sk-[A-Za-z0-9_-]{20,}|xox[abposr]-|(sk|rk)_live_|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|PRIVATE KEY-----|eyJ[A-Za-z0-9_-]{8,}\\.eyJ|://[^ :@/]+:[^ @/]+@|(secret|token|password|api_?key)["\']?[ ]*[:=]';
const timeIt = (fn) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
const grepMs = [];
const scanMs = [];
for (let round = 0; round < 3; round++) {
  grepMs.push(timeIt(() => {
    try {
      execFileSync('grep', ['-E', '-i', '-c', pattern, ...files], { maxBuffer: 1 << 26 });
    } catch {
      // grep exits 1 on files with no match
    }
  }));
  scanMs.push(timeIt(() => {
    try {
      execFileSync(process.execPath, [path.resolve('dist/cli/main.js'), '--dir', scanDir, 'secrets', '--json'], { maxBuffer: 1 << 26 });
    } catch {
      // exit 1: secrets found, as planted
    }
  }));
}
const mb = bytes / 1e6;
console.log(`# secrets: ${messages.length} messages appended; scan of ${mb.toFixed(0)} MB in ${files.length} sessions; node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`);
console.log('| figure | value |');
console.log('|---|---:|');
console.log(`| append, redaction off (batches of 10, flushed) | ${perOff.toFixed(2)} µs per message |`);
console.log(`| append, redaction on | ${perOn.toFixed(2)} µs per message |`);
console.log(`| redaction's share of the append | ${(((perOn - perOff) / perOn) * 100).toFixed(1)} % |`);
console.log(`| \`sessionlog secrets\` over ${mb.toFixed(0)} MB | ${(median(scanMs) / 1000).toFixed(2)} s (${(mb / (median(scanMs) / 1000)).toFixed(0)} MB/s) |`);
console.log(`| \`grep -E -i -c\` of the patterns, same files | ${(median(grepMs) / 1000).toFixed(2)} s (${(mb / (median(grepMs) / 1000)).toFixed(0)} MB/s) |`);
fs.rmSync(root, { recursive: true, force: true });
