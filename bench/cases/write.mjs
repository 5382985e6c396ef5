/**
 * One write-path case in a fresh process: appends the fixture's messages to one session (or to
 * many) by one method, and reports the wall time from opening to the last byte handed to the OS
 * (or fsynced). Usage: node --expose-gc bench/cases/write.mjs '{"method":"floor",...}'
 *
 * Arguments: method, fixture (JSONL of messages), dir (an empty folder), messages (how many),
 * sessions (for the *-many methods), peers (bench/peers, for better-sqlite3 and sonic-boom).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import writeFileAtomic from 'write-file-atomic';
import { openStore, uuidv7 } from 'sessionlog';
// Internal: the store's own entry validator, for the cost ladder below.
import { makeValidator } from '../../dist/format/validate.js';
import { args, headerLine, loadMessages, profiled, report, settle } from '../lib/child.mjs';

const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND } = fs.constants;
/** The write floor's batch, as the issue defines it: one write per 20 messages. */
const FLOOR_BATCH = 20;
/** The store's default flush threshold (DEFAULTS.maxEntries): the durable floor fsyncs at the same points. */
const STORE_BATCH = 100;
/** The seed's FileSessionStore flushed every 20 messages. */
const SEED_BATCH = 20;

const options = args();
const messages = loadMessages(options.fixture, options.messages);
const dir = options.dir;
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'bench.jsonl');

function openNew(target) {
  return fs.openSync(target, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o600);
}

/**
 * What every entry carries on disk and the API must add: `type`, a UUIDv7 `id` and an ISO `ts`,
 * in a copy of the caller's object (the store never changes it). The floors do the same, so that
 * they write the same bytes the store writes (issue 17: an honest floor).
 */
const stamp = (message) => ({ type: 'message', id: uuidv7(), ts: new Date().toISOString(), ...message });

/**
 * stringify + one writeSync per `batch` messages on an append-mode fd; with `durable`, fdatasync
 * per write. Messages stamped as the store stamps them, unless `raw` (the cost ladder's first rung).
 */
function floor(batch, durable, raw = false) {
  const fd = openNew(file);
  fs.writeSync(fd, headerLine('bench'));
  if (durable) {
    fs.fsyncSync(fd);
    fsyncDir(dir);
  }
  let writes = 0;
  for (let i = 0; i < messages.length; i += batch) {
    let text = '';
    const end = Math.min(i + batch, messages.length);
    for (let j = i; j < end; j++) text += `${JSON.stringify(raw ? messages[j] : stamp(messages[j]))}\n`;
    fs.writeSync(fd, text);
    if (durable) fs.fdatasyncSync(fd);
    writes++;
  }
  fs.closeSync(fd);
  return { writes };
}

function fsyncDir(folder) {
  const fd = fs.openSync(folder, fs.constants.O_RDONLY);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/** The store with default options (built-in schema), one awaited append per message, then close. */
async function store() {
  const s = await openStore({ dir });
  const { id } = await s.create({ title: 'bench' });
  for (const message of messages) await s.append(id, message);
  await s.close();
  return {};
}

/**
 * The same with `durability: 'fsync'`, and `flush()` (an fsync'd flush under that durability)
 * after every 100 messages, the store's default flush threshold: the fsyncs are then the durable
 * floor's, one per 100 messages. Without it a loop that never yields to the event loop would
 * group-commit: the first fsync runs on the thread pool while everything else is buffered.
 */
async function storeDurable() {
  const s = await openStore({ dir, durability: 'fsync' });
  const { id } = await s.create({ title: 'bench' });
  for (let i = 0; i < messages.length; i++) {
    await s.append(id, messages[i]);
    if ((i + 1) % STORE_BATCH === 0) await s.flush(id);
  }
  await s.close();
  return {};
}

/**
 * The cost ladder: the write floor plus, one at a time, what `append` does besides writing —
 * stamps (`type`, a UUIDv7 `id`, an ISO `ts`, copied into a new object), the built-in schema's
 * validation, and an awaited async call per message. Same writes as the floor (one per 20).
 */
function ladder(step) {
  const validate = makeValidator(undefined);
  const line = (message) => {
    const stamped = stamp(message);
    if (!validate(stamped).ok) throw new Error('invalid fixture message');
    return `${JSON.stringify(stamped)}\n`;
  };
  const asyncLine = async (message) => line(message);
  return async () => {
    const fd = openNew(file);
    fs.writeSync(fd, headerLine('bench'));
    for (let i = 0; i < messages.length; i += FLOOR_BATCH) {
      let text = '';
      const end = Math.min(i + FLOOR_BATCH, messages.length);
      for (let j = i; j < end; j++) text += step === 'async' ? await asyncLine(messages[j]) : line(messages[j]);
      fs.writeSync(fd, text);
    }
    fs.closeSync(fd);
    return {};
  };
}

/** pi's `_persist`: appendFileSync per message, stamped as the store stamps (same bytes). */
function appendFileSyncPerMessage() {
  fs.writeFileSync(file, headerLine('bench'), { flag: 'wx', mode: 0o600 });
  for (const message of messages) fs.appendFileSync(file, `${JSON.stringify(stamp(message))}\n`);
  return {};
}

/**
 * The seed's FileSessionStore (motosan): buffer 20 messages, then read the whole file, parse every
 * line, add the new ones, stringify everything and write the whole file again.
 */
function seedRewrite() {
  const flushes = [];
  let pending = [];
  const flush = () => {
    const start = performance.now();
    const before = fs.existsSync(file) ? fs.statSync(file).size : 0;
    const existing = [];
    if (before > 0) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line.trim().length === 0 || i === 0) continue;
        existing.push(JSON.parse(line));
      }
    }
    existing.push(...pending);
    pending = [];
    const out = [JSON.stringify({ session_id: 'bench', created_at_ms: Date.now(), message_count: existing.length })];
    for (const message of existing) out.push(JSON.stringify(message));
    fs.writeFileSync(file, `${out.join('\n')}\n`);
    flushes.push({ bytes: before, ms: performance.now() - start });
  };
  for (const message of messages) {
    pending.push(message);
    if (pending.length >= SEED_BATCH) flush();
  }
  if (pending.length > 0) flush();
  return { flushes };
}

/** The whole file kept in memory and written with write-file-atomic (default options: fsync, rename) per flush of 20. */
async function atomicRewrite() {
  const flushes = [];
  let text = headerLine('bench');
  for (let i = 0; i < messages.length; i += SEED_BATCH) {
    const start = performance.now();
    const before = Buffer.byteLength(text);
    const end = Math.min(i + SEED_BATCH, messages.length);
    for (let j = i; j < end; j++) text += `${JSON.stringify(messages[j])}\n`;
    await writeFileAtomic(file, text);
    flushes.push({ bytes: before, ms: performance.now() - start });
  }
  return { flushes };
}

function peer(name) {
  return createRequire(path.join(options.peers, 'package.json'))(name);
}

/** better-sqlite3: WAL, synchronous=NORMAL (survives a process crash, like 'buffered'), one transaction per 20. */
function sqlite() {
  const Database = peer('better-sqlite3');
  const db = new Database(path.join(dir, 'bench.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE entries (session TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (session, seq))');
  const insert = db.prepare('INSERT INTO entries (session, seq, body) VALUES (?, ?, ?)');
  const batch = db.transaction((from, to) => {
    for (let j = from; j < to; j++) insert.run('bench', j, JSON.stringify(messages[j]));
  });
  for (let i = 0; i < messages.length; i += FLOOR_BATCH) batch(i, Math.min(i + FLOOR_BATCH, messages.length));
  db.close();
  return {};
}

/** sonic-boom (pino's destination) with its defaults, one write per message, then end. */
async function sonicBoom() {
  const SonicBoom = peer('sonic-boom');
  fs.writeFileSync(file, headerLine('bench'), { flag: 'wx', mode: 0o600 });
  const stream = new SonicBoom({ dest: file, append: true });
  await new Promise((resolve) => stream.once('ready', resolve));
  for (const message of messages) stream.write(`${JSON.stringify(message)}\n`);
  await new Promise((resolve, reject) => {
    stream.once('close', resolve);
    stream.once('error', reject);
    stream.end();
  });
  return {};
}

/** Floor for many sessions (stamped messages): per session, create, write the header and its messages in one write each, close. */
function floorMany() {
  const per = Math.ceil(messages.length / options.sessions);
  for (let s = 0; s < options.sessions; s++) {
    const fd = openNew(path.join(dir, `s${s}.jsonl`));
    fs.writeSync(fd, headerLine(`s${s}`));
    let text = '';
    for (let j = s * per; j < Math.min((s + 1) * per, messages.length); j++) text += `${JSON.stringify(stamp(messages[j]))}\n`;
    fs.writeSync(fd, text);
    fs.closeSync(fd);
  }
  return {};
}

/** The store, many sessions at once: each task creates its session and appends its messages; then close. */
async function storeMany() {
  const per = Math.ceil(messages.length / options.sessions);
  const s = await openStore({ dir });
  const tasks = [];
  for (let k = 0; k < options.sessions; k++) {
    tasks.push(
      (async () => {
        const { id } = await s.create();
        for (let j = k * per; j < Math.min((k + 1) * per, messages.length); j++) await s.append(id, messages[j]);
      })(),
    );
  }
  await Promise.all(tasks);
  await s.close();
  return {};
}

const METHODS = {
  floor: () => floor(FLOOR_BATCH, false),
  'floor-durable': () => floor(STORE_BATCH, true),
  'floor-unstamped': () => floor(FLOOR_BATCH, false, true),
  'floor+validation': ladder('validation'),
  'floor+async': ladder('async'),
  store,
  'store-durable': storeDurable,
  appendFileSync: appendFileSyncPerMessage,
  'seed-rewrite': seedRewrite,
  'write-file-atomic': atomicRewrite,
  'better-sqlite3': sqlite,
  'sonic-boom': sonicBoom,
  'floor-many': floorMany,
  'store-many': storeMany,
};

const method = METHODS[options.method];
if (method === undefined) throw new Error(`unknown method ${options.method}`);
let bytes = 0;
for (const message of messages) bytes += Buffer.byteLength(JSON.stringify(message)) + 1;
settle();
const cpu = process.cpuUsage();
const start = performance.now();
const extra = await profiled(method);
const elapsed = performance.now() - start;
const { user, system } = process.cpuUsage(cpu);
let onDisk = 0;
for (const name of fs.readdirSync(dir)) onDisk += fs.statSync(path.join(dir, name)).size;
report({ method: options.method, ms: elapsed, cpuMs: (user + system) / 1000, messages: messages.length, bytes, onDisk, ...extra });
