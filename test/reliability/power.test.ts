/**
 * Rows B2 and B3: power loss, simulated as LevelDB's fault-injection env does: everything after
 * the last successful sync() is dropped (truncated) or garbled (zeros or random bytes, size kept).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { rng } from '../helpers/transcripts.js';
import { tempDir } from '../helpers/tmp.js';
import { figure, scale } from './matrix.js';

interface Synced {
  readonly size: number;
  readonly ids: string[];
}

/** Writes a session with a mix of flushes and syncs; returns what each sync() acknowledged. */
async function writeWithSyncs(dir: string, seed: number): Promise<{ file: string; syncs: Synced[] }> {
  const random = rng(seed);
  const store = await openStore({ dir, flush: { maxEntries: 1_000_000, intervalMs: 3_600_000 } });
  await store.create({ id: 's' });
  const file = path.join(dir, 's.jsonl');
  const syncs: Synced[] = [];
  const acked: string[] = [];
  for (let batch = 0; batch < 40; batch++) {
    const entries = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, n) => ({
      id: `b${batch}-${n}`,
      role: 'user' as const,
      content: `${'ü'.repeat(Math.floor(random() * 300))} ${batch}/${n}`,
    }));
    await store.append('s', entries);
    if (random() < 0.4) {
      await store.sync('s');
      acked.push(...entries.map((e) => e.id));
      syncs.push({ size: fs.statSync(file).size, ids: [...acked] });
    } else {
      await store.flush('s');
      acked.push(...entries.map((e) => e.id)); // flushed: survives a crash, not a power cut
    }
  }
  await store.close();
  return { file, syncs };
}

describe('B2/B3 power loss after the last sync()', () => {
  const trials = scale(100, 1000);

  it(`keeps every sync()-acknowledged entry when unsynced bytes are dropped, zeroed or garbled (${trials} trials)`, async () => {
    const dir = tempDir();
    const { file, syncs } = await writeWithSyncs(dir, 7);
    const original = fs.readFileSync(file);
    const random = rng(99);
    const lastSync = syncs.at(-1);
    expect(lastSync).toBeDefined();
    let a2Lost = 0;
    let a1Lost = 0;
    const modes = { truncate: 0, zeros: 0, garbage: 0 };
    const store = await openStore({ dir });
    for (let trial = 0; trial < trials; trial++) {
      const sync = syncs[Math.floor(random() * syncs.length)] as Synced;
      const keep = sync.size + Math.floor(random() * (original.length - sync.size + 1));
      const mode = (['truncate', 'zeros', 'garbage'] as const)[trial % 3] as keyof typeof modes;
      modes[mode]++;
      let damaged: Buffer;
      if (mode === 'truncate') damaged = original.subarray(0, keep);
      else {
        damaged = Buffer.from(original);
        for (let i = keep; i < damaged.length; i++) damaged[i] = mode === 'zeros' ? 0 : Math.floor(random() * 256);
      }
      // Only what came after the simulated sync point may differ.
      const id = `t${trial}`;
      fs.writeFileSync(path.join(dir, `${id}.jsonl`), damaged);
      const { entries } = await store.read(id);
      const present = new Set(entries.map((e) => e.id));
      const missing = sync.ids.filter((entryId) => !present.has(entryId));
      a2Lost += missing.length;
      a1Lost += (lastSync?.ids.length ?? 0) - present.size > 0 ? 1 : 0;
      expect(missing, `trial ${trial} (${mode} after ${keep})`).toEqual([]);
      // After the "reboot" the next append is sealed and readable whatever the tail holds.
      await store.append(id, { id: 'after-reboot', role: 'user', content: 'back' });
      await store.flush(id);
      expect((await store.read(id)).entries.at(-1)?.id).toBe('after-reboot');
      fs.rmSync(path.join(dir, `${id}.jsonl`));
    }
    await store.close();
    figure('B2/B3', `power loss after sync(): trials ${trials} (truncated ${modes.truncate}, zeroed ${modes.zeros}, garbage ${modes.garbage}), sync-acked lost ${a2Lost}; trials that lost flush()-only entries ${a1Lost} (allowed)`);
  });
});
