/**
 * Who may ask the viewer anything: a request must name an expected host (DNS rebinding: a page of
 * another site whose name resolves to 127.0.0.1 sends its own name) and carry the access token
 * (in the link's query once, then a cookie). Every response carries headers that keep the page's
 * scripts to the viewer's own file and stop other sites from framing or reading it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';

/** The cookie that carries the token after the first page. */
export const COOKIE = 'sessionlog_token';

/** A new random access token: 32 bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The Host header values the viewer answers: loopback names, and the host it was told to listen on. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', host]);
  // Listening on every interface: each of this machine's addresses is a name it is reached by.
  if (host === '0.0.0.0' || host === '::') for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(a.address);
  for (const name of [...names]) if (name.includes(':') && !name.startsWith('[')) names.add(`[${name}]`);
  return new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
}

/** Whether `given` equals `token`, in constant time. */
export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request carries: in its query (the printed link) or its cookie. */
export function tokenOf(req: IncomingMessage, url: URL): { token: string | undefined; fromQuery: boolean } {
  const query = url.searchParams.get('token');
  if (query !== null) return { token: query, fromQuery: true };
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === COOKIE) return { token: value.join('='), fromQuery: false };
  }
  return { token: undefined, fromQuery: false };
}

/** No script but the viewer's own file, no style but its own, images only from itself or inline data. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers of every response. */
export function secureHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}
