// Loops "append a broken line by hand → repair() → update()" on one session until told to stop
// (a line on stdin, or `rounds` rounds), printing "round <n>" after each.
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id, roundsText] = process.argv.slice(2);
const store = await openStore({ dir });
store.on('warning', (event) => { console.log(`warning ${event.code}`); if (process.env.RACE_DEBUG) console.error(`${process.argv[4] ?? 'repairer'}: ${event.message}`); });
const file = `${dir}/${id}.jsonl`;
for (let n = 0; n < Number(roundsText); n++) {
  fs.appendFileSync(file, `{"broken": ${n},\n`);
  await store.repair(id);
  await store.update(id, { metadata: { round: n } });
  console.log(`round ${n}`);
}
await store.close();
console.log('done');
