/**
 * Flushes every open store when the process ends, without changing how it ends. One set of
 * process listeners serves all stores in the process.
 *
 * Why not signal-exit (v4): it also listens for SIGXFSZ, SIGALRM, SIGUSR2 and more, and re-raises
 * them. Node ignores SIGXFSZ, so a write past `ulimit -f` fails with EFBIG and the process lives
 * on; with signal-exit loaded the same write killed the process (row C3 of docs/reliability.md,
 * test/reliability/faults.test.ts, measured in this project). Only the three signals below end a
 * process by default in a way a store must flush for.
 *
 * - `exit` covers a natural end, `process.exit()` and an uncaught exception: only synchronous
 *   work runs there, so stores flush with synchronous writes.
 * - SIGINT / SIGTERM / SIGHUP: Node's default is to die without `exit`. Our listener goes first
 *   (prepended), flushes, and steps aside. If no other listener wants the signal, it re-raises it
 *   so the process dies of it as it would have. If others listen, they decide — and signal-exit
 *   (which an application may load through proper-lockfile, write-file-atomic and the like; the
 *   store itself no longer depends on either) re-raises by itself once it is the only listener
 *   left, which it sees because ours is already gone when it runs in the same emit.
 */
type Flusher = () => void;

const flushers = new Set<Flusher>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function flushAll(): void {
  for (const flush of flushers) {
    try {
      flush();
    } catch (err) {
      // Exiting: nothing can be retried. Say so on stderr rather than die with the rest unflushed.
      process.stderr.write(`sessionlog: could not flush on exit: ${(err as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  flushAll();
  process.off(signal, onSignal);
  if (process.listenerCount(signal) === 0) {
    uninstall();
    process.kill(process.pid, signal);
    return;
  }
  // Another listener keeps the process alive: listen again for the next signal.
  setImmediate(() => {
    if (installed && process.listeners(signal).every((listener) => listener !== onSignal)) process.prependListener(signal, onSignal);
  });
}

function install(): void {
  installed = true;
  process.on('exit', flushAll);
  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
}

function uninstall(): void {
  installed = false;
  process.off('exit', flushAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Registers a synchronous flush to run at exit; returns the function that unregisters it. */
export function onProcessExit(flush: Flusher): () => void {
  flushers.add(flush);
  if (!installed) install();
  return () => {
    flushers.delete(flush);
    if (flushers.size === 0 && installed) uninstall();
  };
}
