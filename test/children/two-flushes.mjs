// Appends and flushes one entry ("flushed <id>"), waits until the file `<dir>/go` exists, then
// appends and flushes a second ("flushed <id>"), printing every warning ("warning <code>") first.
// Printing "ready <pid>" first lets the parent find this process (under strace).
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id] = process.argv.slice(2);
const store = await openStore({ dir, flushOnExit: false });
store.on('warning', (event) => console.log(`warning ${event.code}`));
console.log(`ready ${process.pid}`);
for (const content of ['first', 'second']) {
  if (content === 'second') while (!fs.existsSync(`${dir}/go`)) await new Promise((resolve) => setTimeout(resolve, 5));
  const entry = await store.append(id, { role: 'assistant', content });
  await store.flush(id);
  console.log(`flushed ${entry.id}`);
}
await store.close();
