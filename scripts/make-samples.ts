/**
 * Regenerates sample-sessions/: a dozen realistic coding-assistant sessions, one with a
 * compaction, one fork, one with a hand-edited bad line and one with a torn last line, so a new
 * user sees what the tolerant reader does. Run: npx tsx scripts/make-samples.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/index.js';
import { generateTranscript } from '../test/helpers/transcripts.js';

const dir = path.resolve('sample-sessions');
fs.rmSync(dir, { recursive: true, force: true });
let clock = Date.parse('2026-11-02T09:00:00.000Z');
const store = await openStore({ dir, now: () => clock });

const projects = [
  ['Fix ERR_REQUIRE_ESM in the build', '/home/dev/acme-api', 'claude-sonnet-4-5'],
  ['Add retry with backoff to the HTTP client', '/home/dev/acme-api', 'gpt-5-codex'],
  ['Why does CI hang?', '/home/dev/acme-web', 'claude-sonnet-4-5'],
  ['Validate config with zod', '/home/dev/acme-api', 'claude-opus-4-1'],
  ['Migration: index on sessions(updated_at)', '/home/dev/acme-db', 'gpt-5'],
  ['Parser fails on CRLF input', '/home/dev/tokenizer', 'claude-sonnet-4-5'],
  ['Объяснить падение тестов', '/home/dev/acme-web', 'claude-sonnet-4-5', 'explain-test-failures'],
  ['内存泄漏排查', '/home/dev/worker', 'gpt-5-codex', 'memory-leak-hunt'],
  ['Speed up the test suite', '/home/dev/acme-web', 'claude-haiku-4-5'],
  ['Upgrade to Node 22', '/home/dev/acme-api', 'gpt-5'],
  ['Long debugging session (compacted)', '/home/dev/worker', 'claude-sonnet-4-5'],
  ['Hand-edited transcript', '/home/dev/notes', 'claude-sonnet-4-5'],
  ['Interrupted session (torn last line)', '/home/dev/acme-web', 'gpt-5-codex'],
] as readonly (readonly string[])[];

const ids: string[] = [];
for (const [index, [title = '', cwd = '', model = '', slug]] of projects.entries()) {
  clock += 3_600_000 * (1 + index);
  const id = `2026-11-02-${String(index + 1).padStart(2, '0')}-${slug ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48)}`;
  await store.create({ id, title, cwd, model, metadata: { agent: 'sample', project: path.basename(cwd) } });
  const long = title.startsWith('Long');
  const entries = generateTranscript({ seed: index + 1, messages: long ? 40 : 6 + (index % 5) * 2, ...(long ? { compactionAt: 24 } : {}) });
  for (const entry of entries) {
    clock += 20_000;
    await store.append(id, entry as never);
  }
  await store.flush(id);
  ids.push(id);
}
clock += 60_000;
await store.update(ids[3] as string, { title: 'Validate config with zod (done)', metadata: { status: 'done' } });
const source = ids[0] as string;
const { entries } = await store.read(source, { limit: 4 });
await store.fork(source, { id: '2026-11-02-14-fork-of-esm-fix', at: entries[3]?.id as string, title: 'Fork: try a CJS build instead' });
await store.close();

// The damage a user or a crash leaves behind, done the way they do it: by hand, outside the store.
const edited = path.join(dir, `${ids[11]}.jsonl`);
const lines = fs.readFileSync(edited, 'utf8').split('\n');
lines[3] = '{"type":"message","role":"user","content":"I edited this line by hand and broke the JSON",';
fs.writeFileSync(edited, lines.join('\n'));
const torn = path.join(dir, `${ids[12]}.jsonl`);
fs.appendFileSync(torn, '{"type":"message","id":"torn","role":"assistant","content":"I was writing this when the pow');
console.log(`wrote ${ids.length + 1} sessions to ${dir}`);
