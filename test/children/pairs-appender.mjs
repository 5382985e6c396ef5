// Appends `count` entries tagged `tag:seq`, flushing after every other append, and prints the ids
// acknowledged by each flush ("acked <id> <id>") so the parent knows what must survive.
import { openStore } from 'sessionlog';

const [dir, id, tag, countText] = process.argv.slice(2);
const store = await openStore({ dir, flush: { maxEntries: 1000, intervalMs: 60_000 } });
store.on('warning', (event) => { console.log(`warning ${event.code}`); if (process.env.RACE_DEBUG) console.error(`${process.argv[4] ?? 'repairer'}: ${event.message}`); });
let pending = [];
for (let seq = 0; seq < Number(countText); seq++) {
  pending.push((await store.append(id, { role: 'user', content: `${tag}:${seq}` })).id);
  if (seq % 2 === 1) {
    await store.flush(id);
    console.log(`acked ${pending.join(' ')}`);
    pending = [];
  }
}
await store.close();
console.log(`acked ${pending.join(' ')}`);
console.log('done');
