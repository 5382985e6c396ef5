#!/usr/bin/env node
// `sessionlog search` against `grep -r -F` on the same folder of generated sessions.
//
//   npm run build && node --import tsx bench/search.mjs [--mb 1024] [--rounds 5] [--cases files,rare]
//                                                      [--dir /tmp/sessionlog-bench-search-<mb>mb] [--json FILE]
//
// Generates (once, deterministically) a store of realistic agent transcripts with the generator
// the tests and the other benchmarks use (test/helpers/transcripts.ts): prompts, assistant text
// with tool calls, tool results of 0.5–20 kB of code and logs, about half of the messages with
// non-Latin text. Then runs each query `rounds` times with a warm page cache, alternating the two
// tools, and prints the median wall time of each and the ratio. Output is drained through a pipe
// (GNU grep stops at the first match when stdout is /dev/null, which would flatter it).
// Not part of `npm test`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTranscript, rng } from '../test/helpers/transcripts.ts';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const TARGET_MB = Number(opt('mb', '1024'));
const ROUNDS = Number(opt('rounds', '5'));
const DIR = path.resolve(opt('dir', path.join(os.tmpdir(), `sessionlog-bench-search-${TARGET_MB}mb`)));
const CASES = new Set(opt('cases', 'files,rare,common,icase,regex').split(','));
const JSON_OUT = opt('json', undefined);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/main.js');
const RARE = 'XYZZY-needle-4242';


/**
 * Writes one session file of about `bytes`: the shared transcript generator's messages, stamped
 * as the store stamps them. One session in fifty holds the rare needle, in its first tool result.
 */
function writeSession(n, bytes) {
  const id = `bench-${String(n).padStart(5, '0')}`;
  const t0 = Date.UTC(2026, 0, 1) + n * 3_600_000;
  const lines = [JSON.stringify({ type: 'session', version: 1, id, createdAt: new Date(t0).toISOString(), title: `Bench session ${n}`, model: 'gpt-5' })];
  let size = lines[0].length + 1;
  // Messages average about 2.9 kB: ask for enough, then stop at the size.
  const messages = generateTranscript({ seed: 1000 + n, messages: Math.ceil(bytes / 2000) + 8 });
  let needle = n % 50 === 7;
  for (let i = 0; i < messages.length && size < bytes; i++) {
    const message = messages[i];
    if (needle && message.role === 'tool') {
      message.content = `${message.content}\n${RARE}\n`;
      needle = false;
    }
    const line = JSON.stringify({ type: 'message', id: `${id}-${i}`, ts: new Date(t0 + i * 1000).toISOString(), ...message });
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  fs.writeFileSync(path.join(DIR, `${id}.jsonl`), `${lines.join('\n')}\n`, { mode: 0o600 });
  return size;
}

function generate() {
  // The version names the generator: a folder made by an older one is made again.
  const marker = path.join(DIR, `.generated-v2-${TARGET_MB}mb`);
  if (fs.existsSync(marker)) return;
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { mode: 0o700 });
  const random = rng(42);
  let total = 0;
  for (let n = 0; total < TARGET_MB * 1e6; n++) total += writeSession(n, 200_000 + Math.floor(random() * 1_000_000));
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
  const ratios = a.map((ms, i) => ms / b[i]);
  const range = (xs) => [Math.round(Math.min(...xs)), Math.round(Math.max(...xs))];
  const row = {
    case: name,
    sessionlog_ms: Math.round(median(a)),
    sessionlog_range: range(a),
    grep_ms: Math.round(median(b)),
    grep_range: range(b),
    ratio: +(median(a) / median(b)).toFixed(2),
    ratio_range: [+Math.min(...ratios).toFixed(2), +Math.max(...ratios).toFixed(2)],
    sessionlog_out: outA,
    grep_out: outB,
  };
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
const rows = [];
const run = async (key, ...rest) => {
  if (CASES.has(key)) rows.push({ key, ...(await compare(...rest)) });
};
// The target: which sessions hold a rare string, as `grep -r -F -l` answers it.
await run('files', 'rare text, sessions with hits (`search -l`)', cli(RARE, '-l', '--json'), ['-r', '-F', '-l', RARE, DIR]);
await run('rare', 'rare text, every hit', cli(RARE, '--json'), ['-r', '-F', RARE, DIR]);
await run('common', 'common text (~1 hit per tool result)', cli('ERR_REQUIRE_ESM', '--json'), ['-r', '-F', 'ERR_REQUIRE_ESM', DIR]);
await run('icase', 'case-insensitive', cli(RARE.toLowerCase(), '-i', '--json'), ['-r', '-F', '-i', RARE.toLowerCase(), DIR]);
await run('regex', 'regex', cli('retrying request in [0-9]+ms', '-e', '--json'), ['-r', '-E', 'retrying request in [0-9]+ms', DIR]);
if (JSON_OUT !== undefined) {
  fs.writeFileSync(JSON_OUT, JSON.stringify({ dir: DIR, sessions: files.length, bytes, grep: grepVersion, rounds: ROUNDS, rows }));
}
