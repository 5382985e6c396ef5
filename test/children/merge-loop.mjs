// Puts a sync-conflict copy back beside a session and merges it, over and over, printing a line per
// merge, so the parent can SIGKILL it in the middle of the rewrite or of moving the copy aside.
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id, copySource, copyName] = process.argv.slice(2);
const store = await openStore({ dir });
for (let n = 0; ; n++) {
  fs.copyFileSync(copySource, `${dir}/${copyName}`);
  await store.mergeConflicts(id);
  console.log(`merged ${n}`);
}
