/**
 * Runs tasks one at a time per key: a call while one runs waits for it, and calls arriving while
 * one already waits share that one (the newest state is read once, not once per caller).
 */
export class PerKeySerial {
  readonly #running = new Map<string, Promise<void>>();
  readonly #queued = new Map<string, Promise<void>>();

  /** Runs `task` for `key` after the one running, or joins the one already waiting. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const running = this.#running.get(key);
    if (running !== undefined) {
      let queued = this.#queued.get(key);
      if (queued === undefined) {
        queued = running
          .catch(() => undefined)
          .then(() => {
            this.#queued.delete(key);
            return this.run(key, task);
          });
        this.#queued.set(key, queued);
      }
      return queued;
    }
    const run = task().finally(() => this.#running.delete(key));
    this.#running.set(key, run);
    return run;
  }

  /** Every task running or waiting now. */
  pending(): Promise<void>[] {
    return [...this.#running.values(), ...this.#queued.values()];
  }
}
