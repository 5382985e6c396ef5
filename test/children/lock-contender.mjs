// One of many processes racing for a session's rewrite lock (row H4). It waits for SIGUSR2, then
// tries the lock once; inside, it runs a small critical section shaped like a repair (read, write
// a temp, fdatasync, rename) and logs `enter`/`exit` with O_APPEND lines, so the parent can see
// whether two sections ever overlapped. One trial per SIGUSR2; prints `done <trial> <outcome>`.
import fs from 'node:fs';
import path from 'node:path';
import { withRewriteLock } from '../../dist/file/fs/lock.js';

const [file, logDir, counterFile] = process.argv.slice(2);
// Losers are refused at once (no backoff): the race is in the first attempt, and trials stay fast.
const timing = { retries: 0 };

async function criticalSection(log, assertHeld) {
  assertHeld();
  log('enter');
  const n = Number(await fs.promises.readFile(counterFile, 'utf8'));
  const temp = `${counterFile}.${process.pid}.tmp`;
  const fd = await fs.promises.open(temp, 'w');
  await fd.write(String(n + 1));
  await fd.datasync();
  await fd.close();
  assertHeld();
  await fs.promises.rename(temp, counterFile);
  log('exit');
}

async function trial(n) {
  const fd = fs.openSync(path.join(logDir, `trial-${n}.log`), 'a');
  let seq = 0;
  const log = (what) => fs.writeSync(fd, `${process.pid} ${++seq} ${what} ${process.hrtime.bigint()}\n`);
  try {
    await withRewriteLock(file, (assertHeld) => criticalSection(log, assertHeld), timing);
    return 'entered';
  } catch (err) {
    return err?.code === 'ERR_LOCKED' ? 'locked' : `error:${err?.code ?? err?.message}`;
  } finally {
    fs.closeSync(fd);
  }
}

// Warm up (module load, first-use costs) on a file of our own, so that all contenders start even.
await withRewriteLock(`${file}.warmup-${process.pid}`, async () => undefined, timing);
let trials = 0;
let running = Promise.resolve();
process.on('SIGUSR2', () => {
  const n = ++trials;
  running = running.then(async () => console.log(`done ${n} ${await trial(n)}`));
});
setInterval(() => {}, 1 << 30); // stay alive between trials
console.log('ready');
