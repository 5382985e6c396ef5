// Opens a store on a folder, lists every session and closes, printing one JSON line: the ids
// listed, the warnings (code and id), and any unhandled rejection. Run under injected faults.
import { openStore } from 'sessionlog';

const [dir] = process.argv.slice(2);
const unhandled = [];
process.on('unhandledRejection', (err) => unhandled.push(String(err?.code ?? err)));
const store = await openStore({ dir });
const warnings = [];
store.on('warning', (w) => warnings.push({ code: w.code, id: w.id }));
const listed = [];
let cursor;
do {
  const page = await store.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
  listed.push(...page.sessions.map((s) => s.id));
  cursor = page.nextCursor;
} while (cursor !== undefined);
await store.close();
console.log(JSON.stringify({ listed, warnings, unhandled }));
