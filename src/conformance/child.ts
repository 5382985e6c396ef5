/**
 * The conformance suite's child process: opens the store given as JSON options on argv, appends
 * `count` entries tagged `tag:seq` to a session, flushing after every `every` appends and printing
 * the ids each flush acknowledged (`acked …`), then closes and prints `done`. The parent checks
 * order, loss and duplicates, or SIGKILLs it in the middle.
 */
import { openStore } from '../open.js';
import type { StoreOptions } from '../core/options.js';
import type { EntrySchema } from '../format/schema.js';

const [optionsJson, id, tag, countText, everyText] = process.argv.slice(2);
const store = await openStore(JSON.parse(optionsJson ?? '{}') as StoreOptions<typeof EntrySchema>);
const count = Number(countText);
const every = Number(everyText ?? '1');
console.log('ready');
let pending: string[] = [];
for (let seq = 0; seq < count; seq++) {
  pending.push((await store.append(id ?? 's', { role: 'user', content: `${tag}:${seq}` })).id);
  if ((seq + 1) % every === 0) {
    await store.flush(id);
    console.log(`acked ${pending.join(' ')}`);
    pending = [];
  }
}
await store.close();
if (pending.length > 0) console.log(`acked ${pending.join(' ')}`);
console.log('done');
