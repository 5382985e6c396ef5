/** What every case process shares: its arguments, the fixture, a clean heap, and how it reports. */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** The case's arguments, passed by the runner as one JSON argument. */
export function args() {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: node --expose-gc bench/cases/<case>.mjs <json-args>');
  return JSON.parse(raw);
}

/** The messages of a fixture file (one JSON object per line), parsed before any timing starts. */
export function loadMessages(file, count) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = [];
  for (const line of lines) {
    if (out.length >= count) break;
    if (line.length > 0) out.push(JSON.parse(line));
  }
  return out;
}

/** Runs a full collection when the process was started with --expose-gc, so garbage from setup is not billed to a case. */
export function settle() {
  globalThis.gc?.();
}

/** Times `fn` (sync or async) in ms. */
export async function time(fn) {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/**
 * Runs `fn`; with BENCH_PROFILE=<file.cpuprofile> in the environment, records a CPU profile of
 * `fn` alone (not of the setup), for chrome://inspect or a flame-graph viewer.
 */
export async function profiled(fn) {
  const target = process.env['BENCH_PROFILE'];
  if (target === undefined || target === '') return fn();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.writeFileSync(target, JSON.stringify(profile));
    session.disconnect();
  }
}

/** Prints the result as the last stdout line, which the runner parses. */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The header line a floor writes: the same fields the store writes on create. */
export function headerLine(id) {
  return `${JSON.stringify({ type: 'session', version: 1, id, createdAt: new Date().toISOString() })}\n`;
}

