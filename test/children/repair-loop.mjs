// Damages a session by hand and repairs it, over and over, printing a line per repair, so the
// parent can SIGKILL it in the middle of a rewrite.
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id] = process.argv.slice(2);
const store = await openStore({ dir });
const file = `${dir}/${id}.jsonl`;
for (let n = 0; ; n++) {
  fs.appendFileSync(file, `{"bad": ${n},\n`);
  await store.repair(id);
  console.log(`repaired ${n}`);
}
