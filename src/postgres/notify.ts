/**
 * `change` events across processes: one dedicated connection LISTENs on the store's channel (one
 * per schema holding the tables, see {@link channelOf});
 * stores NOTIFY in the transaction that makes the change, so an event is never heard before the
 * change is visible. A lost connection (a server restart) is reopened, with a backoff.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ChangeEvent } from '../core/types.js';

/** A change announced by a store: the session, the kind, and which store made it. */
export interface Notice {
  readonly id: string;
  readonly kind: ChangeEvent['kind'];
  readonly origin: string;
}

const RECONNECT_MS = [100, 500, 2000, 5000] as const;

/** The listening connection of one store. */
export class ChangeListener {
  readonly #url: string;
  readonly #channel: string;
  readonly #onNotice: (notice: Notice) => void;
  #client: pg.Client | undefined;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(url: string, channel: string, onNotice: (notice: Notice) => void) {
    this.#url = url;
    this.#channel = channel;
    this.#onNotice = onNotice;
  }

  /** Connects and listens. @throws the connection's error (the caller maps it) */
  static async start(url: string, channel: string, onNotice: (notice: Notice) => void): Promise<ChangeListener> {
    const listener = new ChangeListener(url, channel, onNotice);
    await listener.#connect();
    return listener;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', (message) => {
      if (message.channel !== this.#channel || message.payload === undefined) return;
      try {
        const notice = JSON.parse(message.payload) as Notice;
        if (typeof notice.id === 'string' && typeof notice.origin === 'string') this.#onNotice(notice);
      } catch {
        // Not ours: another program on the same channel.
      }
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(this.#channel)}`);
    this.#client = client;
    this.#attempt = 0;
    // The connection that listens must not keep the process alive.
    (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    this.#retry();
  }

  #retry(): void {
    const delay = RECONNECT_MS[Math.min(this.#attempt++, RECONNECT_MS.length - 1)];
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#connect().catch(() => this.#retry());
    }, delay);
    this.#timer.unref();
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#client?.end().catch(() => undefined);
  }
}

/** The NOTIFY channel of the tables in `schema`: stores in different schemas of one database are different stores. */
export function channelOf(schema: string): string {
  return `sessionlog_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}`;
}
