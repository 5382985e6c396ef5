/**
 * Connecting to PostgreSQL: the URL checked and shown without its password, a pool, and the
 * server's errors mapped to the store's codes with the next step. The password never reaches a
 * message, a log or `--json`: messages name the server as `user@host:port/database`.
 */
import pg from 'pg';
import { SessionStoreError } from '../core/errors.js';

/** Where a store lives, fit for messages: `postgres://user@host:port/database` (no password). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Checks the URL's form before anything connects. @throws ERR_INVALID_OPTION */
export function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw new SessionStoreError('ERR_INVALID_OPTION', `Expected \`url\` to be a postgres:// URL, got ${typeof url}.`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SessionStoreError('ERR_INVALID_OPTION', 'Expected `url` to be a URL like postgres://user@host:5432/database; it could not be parsed.');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new SessionStoreError('ERR_INVALID_OPTION', `Expected \`url\` to start with postgres:// (got ${parsed.protocol}//); a folder is given as \`dir\`.`);
  }
  if (parsed.pathname.length <= 1) {
    throw new SessionStoreError('ERR_INVALID_OPTION', `The URL ${redactUrl(url)} names no database; add it as the path, e.g. postgres://host/sessions.`);
  }
  return url;
}

/** SQLSTATE classes and codes the store maps (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const AUTH_CODES = new Set(['28P01', '28000', '42501']);
const NO_DATABASE = '3D000';
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);
/** admin_shutdown, crash_shutdown, cannot_connect_now: the server is going away or not up yet. */
const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);

/** Whether an error means the server was not reachable (so nothing was committed by that call). */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_ERRNOS.has(code) || SHUTDOWN_CODES.has(code))) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * The store's error for a failure of a call to the server at `where` (a redacted URL).
 * Messages come from the server or the driver and never contain the password.
 */
export function serverError(err: unknown, where: string, action: string): SessionStoreError {
  if (err instanceof SessionStoreError) return err;
  const code = (err as { code?: unknown }).code;
  const detail = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && AUTH_CODES.has(code)) {
    return new SessionStoreError('ERR_AUTH', `The server at ${where} refused the credentials (${detail}); check the user and password (in the URL, PGPASSWORD or ~/.pgpass) and the role's rights.`, { cause: err });
  }
  if (code === NO_DATABASE) {
    return new SessionStoreError('ERR_UNAVAILABLE', `The database of ${where} does not exist; create it (createdb) or name another one in the URL.`, { cause: err });
  }
  if (isUnavailable(err)) {
    return new SessionStoreError('ERR_UNAVAILABLE', `Could not ${action} on ${where} (${typeof code === 'string' ? code : detail}): is the server running and reachable? Buffered entries are kept; call flush() to retry.`, { cause: err });
  }
  return new SessionStoreError('ERR_IO', `Could not ${action} on ${where}: ${detail}.`, { cause: err });
}

/** A pool of connections to `url`, at most `max` at once. */
export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 10_000 });
  // A client losing its connection (a server restart) emits 'error'; unheard, that event would end
  // the process. The query in flight rejects with it anyway (and is reported); the pool then
  // drops the client and the next query connects anew.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * Runs a call to the server, mapping its failures to the store's codes. A call that found its
 * pooled connection dead (the server restarted since) is tried once more on a new one: every
 * call a store makes this way is a read or a single statement whose effect a retry does not double.
 */
export async function callServer<T>(where: string, action: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (first) {
    if (!isUnavailable(first)) throw serverError(first, where, action);
    try {
      return await task();
    } catch (err) {
      throw serverError(err, where, action);
    }
  }
}
