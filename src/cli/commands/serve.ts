/** `serve`: the read-only web viewer of the store, until Ctrl-C. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { action, type Context, EXIT, usage } from '../context.js';
import { examples } from './shared.js';

interface ServeOptions {
  readonly port?: string;
  readonly host?: string;
  readonly open?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Opens `url` in the desktop's browser, if there is one; never fails the command. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

async function serve(ctx: Context, opts: ServeOptions): Promise<number> {
  const port = opts.port === undefined ? 0 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--port: a port number from 0 to 65535, not ${opts.port}`);
  const host = opts.host ?? '127.0.0.1';
  const store = await ctx.open({ watch: true });
  // Loaded only here: markdown-it and highlight.js are the viewer's, not the other commands'.
  const { startViewer } = await import('../../serve/server.js');
  const viewer = await startViewer(store, { host, port });
  if (!LOOPBACK.has(host)) {
    ctx.err(`sessionlog: warning: the viewer listens on ${host}: anyone who can reach this machine there and has the link can read every session. Use the default (127.0.0.1) unless you mean it.\n`);
  }
  ctx.out(`${viewer.url}\n`);
  ctx.flush();
  ctx.err(`Serving ${store.location} read-only; Ctrl-C to stop.\n`);
  if (opts.open === true) openBrowser(viewer.url);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await viewer.close();
  return EXIT.OK;
}

/** Registers `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('browse, search and follow sessions in a web browser (read-only, this machine only)')
    .option('--port <n>', 'port to listen on (default: any free one)')
    .option('--host <address>', 'interface to listen on (default 127.0.0.1; another one is reachable from the network)')
    .option('--open', 'open the link in the browser')
    .addHelpText('after', examples(['sessionlog serve --open', 'sessionlog serve --port 8080']))
    .action(action(serve));
}
