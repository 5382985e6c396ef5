/**
 * When the catalog file is written: at most once per delay after a change (changes in between
 * coalesce), one write at a time (a change during a write is followed by one more, never an
 * overlapping one), and a failed write leaves the state dirty so the next chance tries again.
 */
export class DebouncedSave {
  readonly #delayMs: number;
  readonly #write: () => Promise<void>;
  readonly #ready: () => boolean;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> | undefined;
  #dirty = false;
  #stopped = false;

  /** `write` saves the newest state and rejects on failure; nothing is written while `ready()` is false. */
  constructor(delayMs: number, write: () => Promise<void>, ready: () => boolean) {
    this.#delayMs = delayMs;
    this.#write = write;
    this.#ready = ready;
  }

  /** Whether a change is not written yet. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Marks a change to write later, without arming the timer. */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Forgets the pending change (nothing worth writing). */
  markClean(): void {
    this.#dirty = false;
    this.#cancel();
  }

  /** Marks a change and writes it after the delay. */
  schedule(): void {
    this.#dirty = true;
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.now();
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** No more timed writes (an explicit `now()` still writes). */
  stop(): void {
    this.#stopped = true;
    this.#cancel();
  }

  /** Writes now if dirty, after any write in flight. */
  async now(): Promise<void> {
    while (this.#saving !== undefined) await this.#saving;
    if (!this.#dirty || !this.#ready()) return;
    this.#dirty = false;
    this.#saving = this.#write()
      .catch(() => {
        this.#dirty = true;
      })
      .finally(() => {
        this.#saving = undefined;
      });
    await this.#saving;
  }

  #cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
