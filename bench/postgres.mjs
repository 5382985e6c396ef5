#!/usr/bin/env node
// Figures of the PostgreSQL backend beside the file backend, in one run, on a throwaway server of
// its own (loopback, fsync off like the test server: both backends measured without a disk flush).
// Not part of `npm test`.
//
//   npm run build && node --import tsx bench/postgres.mjs [rounds=3]
//
// Rows: appending 20,000 messages (and, as the peer, one INSERT of a JSONB row per entry, the
// design of the Claude Agent SDK's reference Postgres adapter); reading a 20,000-entry session;
// open + first page of 10,000 sessions; 8 processes appending to one session; pushing 1,000
// sessions × 100 entries from a folder. Medians of `rounds` runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { copySessions, openStore } from '../dist/index.js';
import { pgBinDir, startPgServer } from '../test/helpers/pg-server.ts';

const rounds = Number(process.argv[2] ?? 3);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = pgBinDir();
if (bin === undefined) {
  console.error('PostgreSQL is not installed (pg_config --bindir): apt-get install -y postgresql');
  process.exit(1);
}
const server = await startPgServer(bin);
let schemas = 0;

/** A URL on a new empty schema of the bench server. */
async function freshUrl() {
  const schema = `b_${process.pid}_${++schemas}`;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-pgbench-'));
const TEXT = 'The build fails on Node 20 because the ESM loader resolves the package exports before the types. '.repeat(12);
const message = (i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `${i} ${TEXT}`, ...(i % 2 === 1 ? { usage: { input: 1200, output: 80 } } : {}) });

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(fn) {
  const runs = [];
  for (let r = 0; r < rounds; r++) runs.push(await fn());
  return median(runs);
}

async function appendMessages(store, n) {
  const { id } = await store.create();
  for (let i = 0; i < n; i++) await store.append(id, message(i));
  await store.close();
}

/** The peer: one INSERT of a JSONB row per entry, each awaited. */
async function insertPerEntry(url, n) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS peer_entries (session text, seq serial, data jsonb, PRIMARY KEY (session, seq))');
  for (let i = 0; i < n; i++) await client.query('INSERT INTO peer_entries (session, data) VALUES ($1, $2)', ['s', JSON.stringify(message(i))]);
  await client.end();
}

async function childAppenders(options, id, writers, each) {
  const child = path.join(root, 'dist/conformance/child.js');
  await Promise.all(
    Array.from({ length: writers }, (_, w) => new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [child, JSON.stringify(options), id, `W${w}`, String(each), '10'], { stdio: 'ignore' });
      proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`appender exited ${code}`))));
    })),
  );
}

const rows = [];
const N = 20_000;

rows.push(['append 20,000 messages, then close', await measure(async () => time(async () => appendMessages(await openStore({ url: await freshUrl() }), N))),
  await measure(async () => time(async () => appendMessages(await openStore({ dir: tmp() }), N))),
  `one INSERT (JSONB) per entry: ${ms(await measure(async () => { const url = await freshUrl(); return time(() => insertPerEntry(url, N)); }))}`]);

{
  const url = await freshUrl();
  const dir = tmp();
  await appendMessages(await openStore({ url }), N);
  await appendMessages(await openStore({ dir }), N);
  const readAll = async (options) => {
    const store = await openStore(options);
    const [info] = (await store.list({ limit: 1 })).sessions;
    const t = await time(() => store.read(info.id));
    await store.close();
    return t;
  };
  rows.push(['read a 20,000-entry session', await measure(() => readAll({ url })), await measure(() => readAll({ dir })), '']);
}

{
  const url = await freshUrl();
  const dir = tmp();
  for (const options of [{ url }, { dir }]) {
    const store = await openStore(options);
    for (let i = 0; i < 10_000; i++) await store.create({ title: `session ${i}`, cwd: `/repo/${i % 20}` });
    await store.list({ limit: 50 });
    await store.close();
  }
  const firstPage = async (options) => time(async () => {
    const store = await openStore(options);
    await store.list({ limit: 50 });
    await store.close();
  });
  rows.push(['open + first page of 10,000 sessions', await measure(() => firstPage({ url })), await measure(() => firstPage({ dir })), '']);
}

{
  const eight = async (options) => {
    const store = await openStore(options);
    await store.create({ id: 'eight' });
    await store.close();
    return time(() => childAppenders(options, 'eight', 8, 500));
  };
  rows.push(['8 processes × 500 entries into one session (flush every 10)', await measure(async () => eight({ url: await freshUrl() })), await measure(() => eight({ dir: tmp() })), '']);
}

{
  const source = tmp();
  const folder = await openStore({ dir: source });
  for (let s = 0; s < 1000; s++) {
    const { id } = await folder.create();
    await folder.append(id, Array.from({ length: 100 }, (_, i) => message(i)));
  }
  await folder.close();
  const push = async (target) => {
    const from = await openStore({ dir: source });
    const to = await openStore(target);
    const t = await time(() => copySessions(from, to));
    await Promise.all([from.close(), to.close()]);
    return t;
  };
  rows.push(['push 1,000 sessions × 100 entries from a folder', await measure(async () => push({ url: await freshUrl() })), await measure(() => push({ dir: tmp() })), 'the file column: into another folder']);
}

server.remove();
console.log(`\n# ${new Date().toISOString().slice(0, 16)} UTC, ${rounds} rounds (median), node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, PostgreSQL on loopback (fsync off)\n`);
console.log('| figure | PostgreSQL | folder | ratio | peer |');
console.log('|---|---|---|---|---|');
for (const [name, pgMs, fileMs, peer] of rows) console.log(`| ${name} | ${ms(pgMs)} | ${ms(fileMs)} | ${(pgMs / fileMs).toFixed(2)}× | ${peer} |`);

function ms(value) {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}
