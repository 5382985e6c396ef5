#!/usr/bin/env node
// `sessionlog search` against `grep -r -F` on the same folder of generated sessions.
//
//   npm run build && node bench/search.mjs [--mb 300] [--rounds 5] [--dir /tmp/sessionlog-bench-search]
//
// Generates (once, deterministically) a store of realistic agent transcripts: prompts, assistant
// text with tool calls, tool results of 0.5–20 kB of code and logs, about half of the messages with
// non-Latin text. Then runs each query `rounds` times with a warm page cache, alternating the two
// tools, and prints the median wall time of each and the ratio. Output is drained through a pipe
// (GNU grep stops at the first match when stdout is /dev/null, which would flatter it).
// Not part of `npm test`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../test/helpers/rng.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const TARGET_MB = Number(opt('mb', '300'));
const ROUNDS = Number(opt('rounds', '5'));
const DIR = path.resolve(opt('dir', path.join(os.tmpdir(), 'sessionlog-bench-search')));
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/main.js');
const RARE = 'XYZZY-needle-4242';


const PROMPTS = [
  'The build fails on Node 20 with ERR_REQUIRE_ESM. Can you find out why?',
  'Add a retry with exponential backoff to the HTTP client.',
  'Why does the test suite hang on CI but not locally?',
  'Refactor the config loader so it validates with zod.',
  'Пожалуйста, объясни, почему тест падает на CI.',
  '请检查一下这个函数为什么会内存泄漏。',
  'ビルドが失敗する理由を調べてください。',
];
const CODE = [
  "import { readFile } from 'node:fs/promises';",
  'export async function load(path: string) {',
  "  const text = await readFile(path, 'utf8');",
  '  return JSON.parse(text) as Config;',
  '}',
  "  console.log(`${key}=${value}`); // 日志输出",
  '[info] starting worker pid=4242',
  '[warn] retrying request in 200ms (attempt 2/5)',
  'npm ERR! code ERR_REQUIRE_ESM',
  '    at Module._load (node:internal/modules/cjs/loader:1023:12)',
  '✓ test/parser.test.ts (12 tests) 48ms',
];

function blob(random, min, max) {
  const target = min + Math.floor(random() * (max - min));
  const out = [];
  let size = 0;
  while (size < target) {
    const line = CODE[Math.floor(random() * CODE.length)];
    out.push(line);
    size += line.length + 1;
  }
  return out.join('\n');
}

/** Writes one session file of about `bytes`; returns its size. */
function writeSession(n, bytes, random) {
  const id = `bench-${String(n).padStart(5, '0')}`;
  const t0 = Date.UTC(2026, 0, 1) + n * 3_600_000;
  const lines = [JSON.stringify({ type: 'session', version: 1, id, createdAt: new Date(t0).toISOString(), title: `Bench session ${n}`, model: 'gpt-5' })];
  let size = lines[0].length + 1;
  for (let i = 0; size < bytes; i++) {
    const ts = new Date(t0 + i * 1000).toISOString();
    const kind = i % 3;
    let entry;
    if (kind === 0) entry = { type: 'message', id: `${id}-${i}`, ts, role: 'user', content: PROMPTS[Math.floor(random() * PROMPTS.length)] };
    else if (kind === 1) {
      entry = {
        type: 'message', id: `${id}-${i}`, ts, role: 'assistant',
        content: [{ type: 'text', text: 'Let me look at the relevant files first.' }],
        toolCalls: [{ id: `call-${i}`, name: 'read_file', arguments: { path: 'src/config.ts' } }],
        usage: { input: 1000 + i, output: 100, cacheRead: 500 },
      };
    } else {
      // The rare needle: in one tool result of one session in fifty.
      const needle = n % 50 === 7 && i === 2 ? `\n${RARE}\n` : '';
      entry = { type: 'message', id: `${id}-${i}`, ts, role: 'tool', toolCallId: `call-${i - 1}`, toolName: 'read_file', content: blob(random, 500, 20000) + needle };
    }
    const line = JSON.stringify(entry);
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  fs.writeFileSync(path.join(DIR, `${id}.jsonl`), `${lines.join('\n')}\n`, { mode: 0o600 });
  return size;
}

function generate() {
  const marker = path.join(DIR, `.generated-${TARGET_MB}mb`);
  if (fs.existsSync(marker)) return;
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { mode: 0o700 });
  const random = rng(42);
  let total = 0;
  for (let n = 0; total < TARGET_MB * 1e6; n++) total += writeSession(n, 200_000 + Math.floor(random() * 1_000_000), random);
  fs.writeFileSync(marker, '');
}

/** Runs a command, draining its stdout; resolves with [ms, bytes of output, exit code]. */
function timed(command, argv) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    let bytes = 0;
    child.stdout.on('data', (chunk) => (bytes += chunk.length));
    child.on('error', reject);
    child.on('close', (code) => resolve([Number(process.hrtime.bigint() - started) / 1e6, bytes, code]));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function compare(name, ours, theirs) {
  const a = [];
  const b = [];
  let outA = 0;
  let outB = 0;
  await timed(process.execPath, ours); // warm-up (page cache, V8 code cache)
  await timed('grep', theirs);
  for (let r = 0; r < ROUNDS; r++) {
    const [ms1, n1] = await timed(process.execPath, ours);
    const [ms2, n2] = await timed('grep', theirs);
    a.push(ms1);
    b.push(ms2);
    outA = n1;
    outB = n2;
  }
  const row = { case: name, sessionlog_ms: Math.round(median(a)), grep_ms: Math.round(median(b)), ratio: +(median(a) / median(b)).toFixed(2), sessionlog_out: outA, grep_out: outB };
  console.log(JSON.stringify(row));
  return row;
}

generate();
const files = fs.readdirSync(DIR).filter((name) => name.endsWith('.jsonl'));
const bytes = files.reduce((sum, name) => sum + fs.statSync(path.join(DIR, name)).size, 0);
const grepVersion = spawnSync('grep', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
console.log(JSON.stringify({ dir: DIR, sessions: files.length, bytes, node: process.version, grep: grepVersion, cpus: os.cpus().length, rounds: ROUNDS }));
// Index the folder first, so the search runs do not include building it.
spawnSync(process.execPath, [BIN, '--dir', DIR, 'list', '--limit', '1'], { stdio: 'ignore' });
const cli = (...rest) => [BIN, '--dir', DIR, 'search', ...rest];
await compare('rare text, every hit', cli(RARE, '--json'), ['-r', '-F', RARE, DIR]);
await compare('rare text, files with hits', cli(RARE, '--json'), ['-r', '-F', '-l', RARE, DIR]);
await compare('common text (~1 hit per tool result)', cli('ERR_REQUIRE_ESM', '--json'), ['-r', '-F', 'ERR_REQUIRE_ESM', DIR]);
await compare('case-insensitive', cli(RARE.toLowerCase(), '-i', '--json'), ['-r', '-F', '-i', RARE.toLowerCase(), DIR]);
await compare('regex', cli('retrying request in [0-9]+ms', '-e', '--json'), ['-r', '-E', 'retrying request in [0-9]+ms', DIR]);
