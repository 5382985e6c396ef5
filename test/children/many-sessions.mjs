// Creates N sessions and appends to all of them at once, retrying calls that fail (EMFILE under
// a low `ulimit -n`), then reports how many entries were acknowledged.
import { execFileSync } from 'node:child_process';
import { openStore } from 'sessionlog';

const [dir, countText, nofile] = process.argv.slice(2);
// Lower the descriptor limit after the modules are loaded: Node 20's ESM loader alone opens more
// than 64 files at once while importing zod, which is not what this row measures.
if (nofile !== undefined) execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${nofile}:${nofile}`]);
const count = Number(countText);
const store = await openStore({ dir, flush: { maxEntries: 5, intervalMs: 10 } });
const failed = [];
async function retry(what, fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      failed.push(`${what}:${err.cause?.code ?? err.code}`);
      if (attempt > 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
    }
  }
}
await Promise.all(Array.from({ length: count }, (_, n) => retry('create', () => store.create({ id: `m${n}` }))));
let acked = 0;
await Promise.all(
  Array.from({ length: count }, async (_, n) => {
    const id = `m${n}`;
    await retry('append', () => store.append(id, Array.from({ length: 10 }, (_, i) => ({ id: `m${n}-${i}`, role: 'user', content: `${i}` }))));
    await retry('flush', () => store.flush(id));
    acked += 10;
  }),
);
await store.close();
console.log(JSON.stringify({ acked, failed }));
