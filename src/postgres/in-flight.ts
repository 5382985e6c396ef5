/**
 * The calls to the server a store has in flight, so that `close()` ends the pool only once they
 * are done: a `delete()` begun just before `close()` runs two statements, and the second found
 * the pool ended (ERR_IO) three times in five before this.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Counts running calls and tells when none is left. */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** Runs `task`, counted while it runs. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    this.#count++;
    try {
      return await task();
    } finally {
      if (--this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /**
   * Resolves when no call is running at the end of an event-loop turn. A method's next call
   * starts in a microtask after its previous one settles, before the turn ends, so a method that
   * makes several calls is waited for as a whole.
   */
  async drained(): Promise<void> {
    for (;;) {
      await nextTurn();
      if (this.#count === 0) return;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}
