// Opens a store on a folder, lists every session and closes, printing one JSON line: the ids
// listed, the warnings (code and id), and any unhandled rejection. Run under injected faults.
import { openStore } from 'sessionlog';
import { listAll } from './list-all.mjs';

const [dir] = process.argv.slice(2);
const unhandled = [];
process.on('unhandledRejection', (err) => unhandled.push(String(err?.code ?? err)));
const store = await openStore({ dir });
const warnings = [];
store.on('warning', (w) => warnings.push({ code: w.code, id: w.id }));
const listed = (await listAll(store)).map((s) => s.id);
await store.close();
console.log(JSON.stringify({ listed, warnings, unhandled }));
