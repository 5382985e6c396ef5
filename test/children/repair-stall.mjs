// Repairs a session under the rewrite lock with a short stale time (rows H4/H6: the wake-up of a
// stalled holder). `stall`: stops itself with SIGSTOP right before the fencing check, after all
// the work and right before the rename, the worst moment to be taken over. `once`: one repair.
// Prints `repaired`, or `refused <code>`.
import { makeValidator } from '../../dist/format/validate.js';
import { withRewriteLock } from '../../dist/file/fs/lock.js';
import { repairSession } from '../../dist/file/rewrite/repair.js';

const [file, id, staleMs, mode] = process.argv.slice(2);
const header = (createdAt) => ({ type: 'session', version: 1, id, createdAt: createdAt ?? new Date().toISOString() });
try {
  const report = await withRewriteLock(
    file,
    (assertHeld) =>
      repairSession({
        id,
        file,
        reader: { validate: makeValidator(undefined), maxLineBytes: 64 * 1024 * 1024 },
        header,
        now: Date.now(),
        assertHeld: () => {
          if (mode === 'stall') {
            console.log('stalling'); // stdout to a pipe is synchronous: printed before the stop
            process.kill(process.pid, 'SIGSTOP');
            console.log('woke');
          }
          assertHeld();
        },
      }),
    { staleMs: Number(staleMs), retries: 0 },
  );
  console.log(report.repaired ? 'repaired' : 'nothing to repair');
} catch (err) {
  console.log(`refused ${err?.code ?? err?.message}`);
}
