/**
 * The benchmark suite: every figure of issue 5's target table as a ratio to a floor measured in
 * the same run, cases interleaved over several rounds, each write case in a fresh process.
 * Prints a Markdown table and writes it into docs/performance.md (between the bench markers).
 *
 *   npm run bench                          full sizes, 5 rounds (about 5 minutes on 2 cores)
 *   npm run bench -- --quick --no-write    tiny sizes, one round: checks that every row runs
 *
 * Options: --quick, --rounds N, --messages N, --out FILE, --no-write, --dir DIR (temp root), --keep,
 * --only a,b (run only these jobs, e.g. `--only floor,store,read`; implies --no-write).
 * Run with tsx (`node --import tsx`): the transcripts come from test/helpers/transcripts.ts, the
 * generator the tests use. The cases themselves run on the built package (dist/) in plain node.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from 'sessionlog';
import { generateTranscript } from '../test/helpers/transcripts.ts';
import { describeMachine, load } from './lib/machine.mjs';
import { renderReport, writeReport } from './lib/report.mjs';
import { writeSessions } from './lib/sessions.mjs';
import { median } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const PEERS = path.join(HERE, 'peers');

const FULL = {
  rounds: 5,
  messages: 20_000,
  /** About 100 MB of transcript, with a compaction 100 entries before the end (a multiple of 4: see below). */
  bigMessages: 35_000,
  compactionFromEnd: 100,
  tail: 50,
  /** The rewrite-per-flush peers are O(n²): capped so a round finishes. */
  rewriteMessages: 2_000,
  sessions: 1_000,
  readIterations: 2,
  tailWarmup: 30,
  tailIterations: 200,
  flushWarmup: 20,
  flushIterations: 200,
  flushSmall: 100,
  listSessions: 10_000,
  /** The CLI search row: its own folder (generated once, kept in the temp folder) and rounds. */
  searchMb: 1024,
  searchRounds: 5,
};
const QUICK = {
  rounds: 1,
  messages: 300,
  bigMessages: 600,
  compactionFromEnd: 32,
  tail: 10,
  rewriteMessages: 60,
  sessions: 10,
  readIterations: 1,
  tailWarmup: 1,
  tailIterations: 3,
  flushWarmup: 1,
  flushIterations: 3,
  flushSmall: 20,
  listSessions: 120,
  searchMb: 5,
  searchRounds: 1,
};

/**
 * Writes back what earlier cases left dirty (57 MB each for the write cases, then removed) before
 * the next case starts, so that no case pays for its neighbour's writeback, journal commits or
 * discards. Without it, the 1,000 file creates of row 11's floor took 1,102–1,122 ms right after
 * another write case, and 887–906 ms after a `sync`: the ratio depended on which case ran before.
 */
function quiesce() {
  try {
    execFileSync('sync');
  } catch {
    // No sync(1) (Windows): the rounds' rotation is all there is.
  }
}

function parseArgs(argv) {
  const out = { quick: false, write: true, keep: false, out: path.join(ROOT, 'docs/performance.md') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') out.quick = true;
    else if (arg === '--no-write') out.write = false;
    else if (arg === '--keep') out.keep = true;
    else if (arg === '--rounds') out.rounds = Number(value());
    else if (arg === '--messages') out.messages = Number(value());
    else if (arg === '--out') out.out = path.resolve(value());
    else if (arg === '--dir') out.dir = path.resolve(value());
    else if (arg === '--only') {
      out.only = new Set(value().split(','));
      out.write = false;
    }
    else throw new Error(`unknown option ${arg}`);
  }
  return out;
}

const cli = parseArgs(process.argv.slice(2));
const sizes = { ...(cli.quick ? QUICK : FULL) };
if (cli.rounds !== undefined) sizes.rounds = cli.rounds;
if (cli.messages !== undefined) sizes.messages = cli.messages;

function log(message) {
  process.stderr.write(`${message}\n`);
}

/** Runs one case in a fresh `node --expose-gc` process and returns the JSON it printed last. */
function runCase(name, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(HERE, 'cases', `${name}.mjs`), JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_PROFILE: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1);
      if (code !== 0 || last === undefined || last === '') {
        reject(new Error(`case ${name} ${JSON.stringify(args.method ?? '')} failed (${code ?? signal}):\n${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(last));
    });
  });
}

/** Runs a phase of bench/listing.mjs (another engineer's script; a fresh process per phase) and returns its JSON. */
function runListingPhase(name, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(HERE, 'listing.mjs'), '--phase', name, dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}: ${stderr.slice(-500)}`);
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
      } catch (err) {
        reject(new Error(`bench/listing.mjs --phase ${name} failed: ${err.message}`));
      }
    });
  });
}

/** Runs a node script to its end (its output goes to our stderr); rejects when it fails. */
function runScript(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(argv.at(-1) ?? '')} exit ${code}: ${stderr.slice(-500)}`))));
  });
}

/** Which optional peers can run here, and why not when they cannot. */
function peerAvailability() {
  const require = createRequire(path.join(PEERS, 'package.json'));
  const out = {};
  for (const name of ['better-sqlite3', 'sonic-boom']) {
    try {
      const loaded = require(name);
      if (name === 'better-sqlite3') new loaded(':memory:').close(); // the native addon must load
      out[name] = { ok: true };
    } catch (err) {
      const missing = err?.code === 'MODULE_NOT_FOUND';
      out[name] = {
        ok: false,
        reason: missing
          ? 'not installed (optional: `npm install --prefix bench/peers` builds it)'
          : `does not load here: ${String(err?.message ?? err).split('\n')[0]}`,
      };
    }
  }
  return out;
}

/** Writes `messages` (one JSON object per line) for the cases to load. */
function writeFixture(file, messages) {
  const fd = fs.openSync(file, 'w');
  for (const message of messages) fs.writeSync(fd, `${JSON.stringify(message)}\n`);
  fs.closeSync(fd);
}

/** Builds a session through the store itself, so its bytes are exactly what the store writes. */
async function buildSession(dir, id, messages) {
  const store = await openStore({ dir, flushOnExit: false });
  await store.create({ id, title: id });
  for (let i = 0; i < messages.length; i += 100) await store.append(id, messages.slice(i, i + 100));
  await store.close();
}

/** Byte offsets of every line of a file. */
function lineOffsets(file) {
  const data = fs.readFileSync(file);
  const offsets = [];
  for (let start = 0; start < data.length; ) {
    offsets.push(start);
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) break;
    start = nl + 1;
  }
  return { data, offsets };
}

function gitDescribe() {
  // A run from an exported snapshot (no .git) names its commit here.
  if (process.env['BENCH_COMMIT'] !== undefined) return process.env['BENCH_COMMIT'];
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head} (src/ with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

const base = cli.dir ?? os.tmpdir();
fs.mkdirSync(base, { recursive: true });
const root = fs.mkdtempSync(path.join(base, 'sessionlog-bench-'));
const started = new Date();
const loadBefore = load();
log(`bench: ${cli.quick ? 'quick' : 'full'} sizes, ${sizes.rounds} round(s), temp ${root}, load ${loadBefore}`);

try {
  // ---- fixtures (not timed) ----
  const fixture = path.join(root, 'messages.jsonl');
  const messages = generateTranscript({ seed: 1, messages: sizes.messages });
  writeFixture(fixture, messages);
  const fixtureBytes = fs.statSync(fixture).size;

  const readDir = path.join(root, 'read');
  await buildSession(readDir, 'main', messages);
  const bigMessages = generateTranscript({ seed: 2, messages: sizes.bigMessages, compactionAt: sizes.bigMessages - sizes.compactionFromEnd });
  await buildSession(readDir, 'big', bigMessages);
  const big = lineOffsets(path.join(readDir, 'big.jsonl'));
  const tailOffset = big.offsets.at(-sizes.tail);
  const compactionIndex = big.offsets.findLastIndex((offset, i) => big.data.toString('utf8', offset, big.offsets[i + 1] ?? big.data.length).includes('"type":"compaction"'));
  // The generator places a compaction only at the start of a user turn (a multiple of 4 entries).
  if (compactionIndex === -1) throw new Error('the big session has no compaction: make bigMessages - compactionFromEnd a multiple of 4');
  const compactionOffset = big.offsets[compactionIndex];
  const bigBytes = big.data.length;
  big.data = undefined;

  const templates = path.join(root, 'templates');
  await buildSession(templates, 'flush-big', messages);
  await buildSession(templates, 'flush-small', messages.slice(0, sizes.flushSmall));
  const mainBytes = fs.statSync(path.join(readDir, 'main.jsonl')).size;
  log(`fixtures: ${messages.length} messages (${(fixtureBytes / 1e6).toFixed(1)} MB), big session ${(bigBytes / 1e6).toFixed(1)} MB`);

  // The listing rows: sessions in bench/listing.mjs's shape, indexed once by its `rebuild` phase.
  const listDir = path.join(root, 'listing');
  let listing = { ok: false, reason: 'bench/listing.mjs is not there: see docs/listing.md' };
  if (fs.existsSync(path.join(HERE, 'listing.mjs'))) {
    writeSessions(listDir, sizes.listSessions);
    try {
      await runListingPhase('rebuild', listDir);
      listing = { ok: true };
    } catch (err) {
      listing = { ok: false, reason: err.message.split('\n')[0] };
      log(`listing rows skipped: ${listing.reason}`);
    }
  }

  const peers = peerAvailability();
  for (const [name, state] of Object.entries(peers)) if (!state.ok) log(`peer ${name} skipped: ${state.reason}`);

  // ---- the cases ----
  const writeMethods = [
    'floor',
    'store',
    'floor-unstamped',
    'floor+validation',
    'floor+async',
    'floor-durable',
    'store-durable',
    'floor-many',
    'store-many',
    'appendFileSync',
    'seed-rewrite',
    'write-file-atomic',
  ];
  if (peers['better-sqlite3'].ok) writeMethods.push('better-sqlite3');
  if (peers['sonic-boom'].ok) writeMethods.push('sonic-boom');
  const capped = new Set(['seed-rewrite', 'write-file-atomic']);

  const results = { write: {}, read: [], tail: [], flush: [], stream: [], list: { floor: [], warm: [], watch: [] } };
  for (const method of writeMethods) results.write[method] = [];

  const jobs = [
    ...writeMethods.map((method) => ({
      label: method,
      run: async (round) => {
        const dir = path.join(root, `w-${method}-${round}`);
        const result = await runCase('write', {
          method,
          fixture,
          dir,
          messages: capped.has(method) ? Math.min(sizes.rewriteMessages, sizes.messages) : sizes.messages,
          sessions: sizes.sessions,
          peers: PEERS,
        });
        fs.rmSync(dir, { recursive: true, force: true });
        results.write[method].push(result);
      },
    })),
    {
      label: 'read',
      run: async () => results.read.push(await runCase('read', { dir: readDir, id: 'main', iterations: sizes.readIterations })),
    },
    {
      label: 'tail',
      run: async () =>
        results.tail.push(
          await runCase('tail', {
            dir: readDir,
            id: 'big',
            tail: sizes.tail,
            tailOffset,
            compactionOffset,
            warmup: sizes.tailWarmup,
            iterations: sizes.tailIterations,
          }),
        ),
    },
    {
      label: 'flush',
      run: async (round) => {
        const dir = path.join(root, `flush-${round}`);
        fs.mkdirSync(dir);
        for (const id of ['flush-big', 'flush-small']) fs.copyFileSync(path.join(templates, `${id}.jsonl`), path.join(dir, `${id}.jsonl`));
        results.flush.push(
          await runCase('flush', {
            dir,
            big: 'flush-big',
            small: 'flush-small',
            fixture,
            batch: 20,
            warmup: sizes.flushWarmup,
            iterations: sizes.flushIterations,
          }),
        );
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
    { label: 'stream', run: async () => results.stream.push(await runCase('stream', { dir: readDir, id: 'big' })) },
  ];
  if (listing.ok) {
    jobs.push(
      { label: 'list-floor', run: async () => results.list.floor.push(await runCase('index-parse', { dir: listDir })) },
      { label: 'list-warm', run: async () => results.list.warm.push(await runListingPhase('warm', listDir)) },
      { label: 'list-watch', run: async () => results.list.watch.push(await runListingPhase('watch', listDir)) },
    );
  }

  // The search row runs bench/search.mjs once, after the rounds: it alternates with grep itself.
  const search = { ok: false, reason: 'not run' };
  const runSearch = async () => {
    const out = path.join(root, 'search.json');
    try {
      await runScript(['--import', 'tsx', path.join(HERE, 'search.mjs'), '--mb', String(sizes.searchMb), '--rounds', String(sizes.searchRounds), '--cases', 'files', '--json', out]);
      Object.assign(search, { ok: true, ...JSON.parse(fs.readFileSync(out, 'utf8')) });
    } catch (err) {
      Object.assign(search, { ok: false, reason: err.message.split('\n')[0] });
      log(`search row skipped: ${search.reason}`);
    }
  };

  if (cli.only !== undefined) {
    const known = new Set([...jobs.map((job) => job.label), 'search']);
    for (const name of cli.only) if (!known.has(name)) throw new Error(`--only: unknown job ${name} (jobs: ${[...known].join(', ')})`);
    jobs.splice(0, jobs.length, ...jobs.filter((job) => cli.only.has(job.label)));
  }
  for (let round = 0; round < sizes.rounds; round++) {
    // Rotate the order every round, so that no case always follows the same neighbour.
    const order = jobs.map((_, i) => jobs[(i + round * 3) % jobs.length]);
    for (const job of order) {
      process.stderr.write(`round ${round + 1}/${sizes.rounds}: ${job.label}…`.padEnd(48));
      quiesce();
      const t = Date.now();
      await job.run(round);
      process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s, load ${load().split(',')[0]}\n`);
    }
  }

  if (cli.only === undefined || cli.only.has('search')) {
    process.stderr.write(`search: ${sizes.searchMb} MB against grep…`.padEnd(48));
    const t = Date.now();
    await runSearch();
    process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s, load ${load().split(',')[0]}\n`);
  }

  if (cli.only !== undefined) {
    // A partial run has no complete table: print each job's medians instead.
    const med = (list) => (list.length === 0 ? undefined : median(list).toFixed(3));
    for (const [method, runs] of Object.entries(results.write)) if (runs.length > 0) log(`${method}: ${med(runs.map((r) => r.ms))} ms`);
    for (const kind of ['read', 'tail', 'flush']) {
      for (const key of Object.keys(results[kind][0]?.times ?? {})) {
        log(`${kind} ${key}: ${med(results[kind].map((r) => median(r.times[key])))} ms (medians per round: ${results[kind].map((r) => median(r.times[key]).toFixed(3)).join(', ')})`);
      }
    }
    for (const r of results.stream) log(`stream: +${(r.growth / 2 ** 20).toFixed(1)} MiB RSS, ${r.ms.toFixed(0)} ms`);
    for (const [phase, runs] of Object.entries(results.list)) for (const r of runs) log(`list ${phase}: ${JSON.stringify(r)}`);
    if (search.ok) for (const row of search.rows) log(`search ${row.key}: ${JSON.stringify(row)}`);
  } else {
    const machine = describeMachine(root);
    const report = renderReport({
      results,
      sizes,
      quick: cli.quick,
      peers,
      machine,
      facts: {
        fixtureBytes,
        mainBytes,
        bigBytes,
        started: started.toISOString(),
        finished: new Date().toISOString(),
        loadBefore,
        loadAfter: load(),
        commit: gitDescribe(),
        listing,
        search,
      },
      fixtureMessages: messages,
    });
    process.stdout.write(`${report.markdown}\n`);
    if (cli.write) {
      writeReport(cli.out, report.markdown);
      log(`written to ${path.relative(process.cwd(), cli.out)}`);
    }
    if (report.missed.length > 0) log(`missed: ${report.missed.join(', ')}`);
  }
} finally {
  if (!cli.keep) fs.rmSync(root, { recursive: true, force: true });
}

