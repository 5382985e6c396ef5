/**
 * A progress bar on stderr (cli-progress) for work longer than a moment: shown only on a terminal,
 * never with --json, and only once the work has taken {@link DELAY_MS}, so quick runs stay quiet.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from './format.js';

/** Work shorter than this shows no bar. */
const DELAY_MS = 400;

/** A bar that may never appear. */
export class Progress {
  readonly #enabled: boolean;
  readonly #label: string;
  readonly #bytes: boolean;
  readonly #started = Date.now();
  #bar: cliProgress.SingleBar | undefined;
  #value = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(label: string, options: { json: boolean; bytes?: boolean }) {
    this.#label = label;
    this.#bytes = options.bytes === true;
    this.#enabled = !options.json && process.stderr.isTTY === true && process.env['TERM'] !== 'dumb';
  }

  /** Moves the bar to `value` of `total`. */
  update(value: number, total: number, detail = ''): void {
    this.#value = value;
    if (!this.#enabled) return;
    if (this.#bar === undefined) {
      if (Date.now() - this.#started < DELAY_MS) return;
      const fmt = this.#bytes
        ? (v: number): string => formatBytes(v)
        : (v: number): string => String(v);
      this.#bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${this.#label} [{bar}] {percentage}% {done}/{all} {detail}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          fps: 10,
          formatValue: (v, _options, type) => (type === 'value' || type === 'total' ? fmt(v) : String(v)),
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(total, value, { done: fmt(value), all: fmt(total), detail });
      return;
    }
    const fmt = (v: number): string => (this.#bytes ? formatBytes(v) : String(v));
    this.#bar.setTotal(total);
    this.#bar.update(value, { done: fmt(value), all: fmt(total), detail });
  }

  /**
   * For work whose progress is not reported (reindex): after {@link DELAY_MS}, a line with the
   * label, `detail` and the time elapsed, redrawn until `stop()`.
   */
  activity(detail: string): void {
    if (!this.#enabled) return;
    this.#timer = setTimeout(() => {
      this.#bar = new cliProgress.SingleBar({ stream: process.stderr, format: `${this.#label} ${detail} {duration_formatted}`, hideCursor: true, clearOnComplete: true, fps: 5 });
      this.#bar.start(1, 0);
    }, DELAY_MS);
    this.#timer.unref();
  }

  /** Writes through `out` (buffered stdout); while the bar shows, clears its line first and redraws it after. */
  write(text: string, out: { out(text: string): void; flush(): void }): void {
    if (this.#bar === undefined) {
      out.out(text);
      return;
    }
    process.stderr.write('\r\u001b[2K');
    out.out(text);
    out.flush();
    // GenericBar's render takes the force flag that SingleBar's typings leave out.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    (this.#bar as cliProgress.GenericBar).render(true);
  }

  /** Removes the bar. */
  stop(): void {
    clearTimeout(this.#timer);
    if (this.#bar === undefined) return;
    this.#bar.update(this.#value);
    this.#bar.stop();
    this.#bar = undefined;
  }
}
