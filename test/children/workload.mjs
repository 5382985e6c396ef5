// A fixed sequence of every kind of write the store makes, each acknowledged in an ack file once
// its promise resolves: the crash-point sweep kills this at every I/O step and checks the acks.
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, ackFile, durability = 'buffered'] = process.argv.slice(2);
const ack = fs.openSync(ackFile, 'a');
const acked = (text) => fs.writeSync(ack, `${text}\n`);
const store = await openStore({ dir, durability, flush: { maxEntries: 1000, intervalMs: 3_600_000 } });
await store.create({ id: 's', title: 'first' });
acked('created');
await store.append('s', [1, 2, 3].map((n) => ({ id: `a${n}`, role: 'user', content: `one ${n}` })));
await store.flush('s');
acked('entry a1\nentry a2\nentry a3');
await store.update('s', { title: 'second' });
acked('updated second');
await store.append('s', [4, 5].map((n) => ({ id: `a${n}`, role: 'assistant', content: `two ${n}` })));
await store.sync('s');
acked('entry a4\nentry a5');
await store.fork('s', { id: 'f', at: 'a4' });
acked('forked');
await store.append('s', { id: 'a6', role: 'user', content: 'three' });
await store.close();
acked('entry a6');
console.log('done');
