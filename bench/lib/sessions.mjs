/**
 * Many small sessions for the listing rows, in the shape bench/listing.mjs measures (20 entries,
 * about 4.5 KB each, ids `s-000000`…, times spread over a year): its `--phase` mode expects them.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Writes `count` sessions into `dir`; returns the bytes written. */
export function writeSessions(dir, count) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let total = 0;
  const start = Date.parse('2025-01-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const id = `s-${String(i).padStart(6, '0')}`;
    const t = start + i * 3_000_000;
    const lines = [
      JSON.stringify({ type: 'session', version: 1, id, createdAt: new Date(t).toISOString(), title: `Session ${i}: fix the thing`, cwd: `/home/me/project-${i % 20}`, model: i % 3 ? 'model-a' : 'model-b', metadata: { n: i } }),
    ];
    for (let e = 0; e < 20; e++) {
      lines.push(
        JSON.stringify({
          type: 'message',
          id: `${id}-m${String(e).padStart(3, '0')}`,
          ts: new Date(t + e * 1000).toISOString(),
          role: e % 2 ? 'assistant' : 'user',
          content: `message ${e} of session ${i} `.repeat(6),
          usage: { input: 100 + e, output: 50 + e },
        }),
      );
    }
    const body = `${lines.join('\n')}\n`;
    fs.writeFileSync(path.join(dir, `${id}.jsonl`), body, { mode: 0o600 });
    total += body.length;
  }
  return total;
}
