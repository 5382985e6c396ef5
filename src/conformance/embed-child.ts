/**
 * The conformance suite's embeddings child: opens the store given as JSON options on argv and
 * upserts `count` vectors of dimension `dims` into a session, ids `tag:seq`, printing `acked <id>`
 * after each resolves; then closes and prints `done`. The parent checks that every acknowledged
 * vector is there, also after a SIGKILL in the middle.
 */
import { openStore } from '../open.js';
import type { StoreOptions } from '../core/options.js';
import type { EntrySchema } from '../format/schema.js';

const [optionsJson, sessionId, tag, countText, dimsText] = process.argv.slice(2);
const store = await openStore(JSON.parse(optionsJson ?? '{}') as StoreOptions<typeof EntrySchema>);
const count = Number(countText);
const dims = Number(dimsText);
console.log('ready');
for (let seq = 0; seq < count; seq++) {
  // A vector that names its writer: seq in one axis, the tag's length in another, never all zeros.
  const vector = Array.from({ length: dims }, (_, i) => (i === seq % dims ? 1 : 0) + (i === 0 ? 0.5 : 0) + (tag ?? '').length * 1e-3);
  const id = await store.embeddings.upsert({ id: `${tag}:${seq}`, sessionId: sessionId ?? 's', vector, text: `${tag} ${seq}` });
  console.log(`acked ${id}`);
}
await store.close();
console.log('done');
