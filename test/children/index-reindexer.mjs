// Rebuilds the index of a folder `times` times, writing the index file each time (races with the
// other processes doing the same).
import { openStore } from 'sessionlog';

const [dir, timesText] = process.argv.slice(2);
const store = await openStore({ dir });
for (let i = 0; i < Number(timesText); i++) await store.reindex();
await store.close();
console.log('done');
