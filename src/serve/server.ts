/**
 * `sessionlog serve`: a read-only web viewer of a store, on loopback by default, every request
 * checked (guard.ts), live through server-sent events from the store's `change` events. The page
 * and its two files (assets/viewer/) are served from the package: nothing from a CDN.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionStore } from '../core/contract.js';
import type { ChangeEvent } from '../core/types.js';
import { type Answer, listSessions, readAfter, readSession, searchSessions } from './api.js';
import { allowedHosts, COOKIE, newToken, sameToken, secureHeaders, tokenOf } from './guard.js';

/** Options of {@link startViewer}. */
export interface ViewerOptions {
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  readonly host?: string;
  /** Port (default 0: any free one). */
  readonly port?: number;
  /** The access token (default: a new random one). */
  readonly token?: string;
}

/** A running viewer. */
export interface Viewer {
  /** The link to open, with the token in it. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ASSETS = new URL('../../assets/viewer/', import.meta.url);
const FILES: Record<string, { file: string; type: string }> = {
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, answer: Answer): void {
  send(res, answer.status, 'application/json; charset=utf-8', JSON.stringify(answer.body));
}

/** The page: no inline script or style, so the policy can forbid both. */
function page(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sessionlog</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/app.css"><script type="module" src="/app.js"></script></head>
<body><header class="top"><a class="brand" href="#/">sessionlog</a><form id="search" role="search"><input id="q" type="search" placeholder="Search all sessions  ( / )" autocomplete="off" aria-label="Search all sessions"></form></header>
<main id="main" tabindex="-1"><p class="note">Loading…</p></main></body></html>
`;
}

/** Starts the viewer of `store`. */
export async function startViewer(store: SessionStore, options: ViewerOptions = {}): Promise<Viewer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const streams = new Set<ServerResponse>();
  let hosts = new Set<string>();

  const onChange = (event: ChangeEvent): void => {
    const data = `data: ${JSON.stringify({ id: event.id, kind: event.kind })}\n\n`;
    for (const res of streams) res.write(data);
  };
  store.on('change', onChange);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    secureHeaders(res);
    if (!hosts.has((req.headers.host ?? '').toLowerCase())) return send(res, 421, 'text/plain; charset=utf-8', 'Unknown Host header: open the link sessionlog serve printed.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'The viewer is read-only.\n');
    const url = new URL(req.url ?? '/', 'http://viewer');
    const asset = FILES[url.pathname];
    if (asset !== undefined) return send(res, 200, asset.type, fs.readFileSync(new URL(asset.file, ASSETS)));
    const given = tokenOf(req, url);
    if (!sameToken(given.token, token)) return send(res, 401, 'text/plain; charset=utf-8', 'This viewer needs its access token: open the link sessionlog serve printed.\n');
    if (given.fromQuery) {
      // Trade the token in the link for a cookie, and take it out of the address bar and history.
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      url.searchParams.delete('token');
      res.writeHead(303, { Location: `${url.pathname}${url.search}` });
      return void res.end();
    }
    if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', page());
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (url.pathname === '/api/sessions') return sendJson(res, await listSessions(store, url.searchParams));
    if (url.pathname === '/api/search') return sendJson(res, await searchSessions(store, url.searchParams));
    const session = /^\/api\/session\/([^/]+)(\/after)?$/.exec(url.pathname);
    if (session !== null) {
      const id = decodeURIComponent(session[1] as string);
      return sendJson(res, session[2] === undefined ? await readSession(store, id, url.searchParams) : await readAfter(store, id, url.searchParams));
    }
    send(res, 404, 'text/plain; charset=utf-8', 'Not found.\n');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // The message names the store's files, never transcript content; it goes to this machine's user.
      const message = err instanceof Error ? err.message : String(err);
      const invalid = typeof err === 'object' && err !== null && 'code' in err && ['ERR_INVALID_ID', 'ERR_INVALID_OPTION'].includes(String(err.code));
      if (!res.headersSent) sendJson(res, { status: invalid ? 400 : 500, body: { error: message } });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(host, port);
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    port,
    close: async () => {
      store.off('change', onChange);
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
