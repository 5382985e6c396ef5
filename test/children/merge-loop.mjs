// Puts a sync-conflict copy back beside a session and merges it, over and over, printing a line per
// merge, so the parent can SIGKILL it in the middle of the rewrite or of moving the copy aside.
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id, copySource, copyName] = process.argv.slice(2);
const store = await openStore({ dir });
for (let n = 0; ; n++) {
  // Placed whole (copied beside its source, then renamed in), as a sync tool does: a kill in the
  // middle of this harness's own copy must not pass for a copy the store damaged.
  fs.copyFileSync(copySource, `${copySource}.placing`);
  fs.renameSync(`${copySource}.placing`, `${dir}/${copyName}`);
  await store.mergeConflicts(id);
  console.log(`merged ${n}`);
}
