// One of several processes creating sessions in one folder, each with `watch`: creates `count`
// sessions named `<tag>-<n>` with two entries each, then waits until it lists `expected` sessions
// in all (its own and the others'), and prints what it sees.
import { openStore } from 'sessionlog';

const [dir, tag, countText, expectedText] = process.argv.slice(2);
const count = Number(countText);
const expected = Number(expectedText);
const store = await openStore({ dir, watch: { reconcileIntervalMs: 1000 } });
for (let n = 0; n < count; n++) {
  const { id } = await store.create({ id: `${tag}-${n}`, title: `${tag} ${n}` });
  await store.append(id, [{ role: 'user', content: `q ${n}` }, { role: 'assistant', content: `a ${n}` }]);
  if (n % 10 === 0) await store.flush();
}
await store.flush();
const started = Date.now();
for (;;) {
  const { sessions } = await store.list({ limit: 1000 });
  const complete = sessions.filter((s) => s.entryCount === 2).length;
  if (sessions.length === expected && complete === expected) {
    console.log(`saw ${sessions.length} complete ${complete} after ${Date.now() - started} ms`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}
await store.close();
