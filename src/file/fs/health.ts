/** The file backend's health check: the folder is there, a folder, and takes a write. */
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../../core/errors.js';
import type { HealthReport } from '../../core/stats.js';
import { tempPathFor } from './temps.js';

/** Writes, fsyncs and removes a probe file in `dir`; never throws. */
export async function folderHealth(dir: string): Promise<HealthReport> {
  const t0 = performance.now();
  const probe = tempPathFor(path.join(dir, '.sessionlog-health'));
  try {
    const handle = await fs.promises.open(probe, 'wx', 0o600);
    try {
      await handle.write('ok\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.unlink(probe);
    return { ok: true, location: dir, ms: performance.now() - t0 };
  } catch (err) {
    await fs.promises.rm(probe, { force: true }).catch(() => undefined);
    const code = errnoOf(err) ?? 'error';
    return { ok: false, location: dir, ms: performance.now() - t0, problem: `${dir} cannot be written (${code}): check that it exists, is a folder you own, has free space and is not read-only.` };
  }
}
