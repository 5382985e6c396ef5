// Tries to create session `id` as soon as the start file appears; prints the outcome.
import fs from 'node:fs';
import { openStore } from 'sessionlog';

const [dir, id, startFile] = process.argv.slice(2);
const store = await openStore({ dir });
while (!fs.existsSync(startFile)) await new Promise((resolve) => setImmediate(resolve));
try {
  await store.create({ id });
  console.log('created');
} catch (err) {
  console.log(err.code);
}
await store.close();
