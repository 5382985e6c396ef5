/** `mcp`: the store's sessions over the Model Context Protocol, on stdio (docs/mcp.md). */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { folderKey } from '../../file/secret-key.js';
import { openStore } from '../../open.js';
import { Redactor } from '../../secrets/redact.js';
import { action, type Context, EXIT } from '../context.js';
import { examples } from './shared.js';

async function mcp(ctx: Context, opts: { url?: string; allowWrite?: boolean }): Promise<number> {
  // stdout is the protocol's channel: nothing else is written there.
  const store = opts.url === undefined ? await ctx.open({ watch: true }) : await openStore({ url: opts.url });
  const redactor = opts.url === undefined ? new Redactor(() => folderKey(ctx.dir)) : new Redactor(randomBytes(32));
  // Loaded only here: the MCP SDK is this command's alone.
  const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([import('../../mcp/server.js'), import('@modelcontextprotocol/sdk/server/stdio.js')]);
  const server = createMcpServer(store, { allowWrite: opts.allowWrite === true, redactor });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.connect(transport);
  ctx.err(`sessionlog mcp: serving ${store.location} over stdio${opts.allowWrite === true ? ' (append_note allowed)' : ', read-only'}\n`);
  await closed;
  await server.close();
  if (opts.url !== undefined) await store.close();
  return EXIT.OK;
}

/** Registers `mcp`. */
export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve past sessions to any agent over the Model Context Protocol (stdio; read-only by default)')
    .option('--url <url>', 'a PostgreSQL store instead of the folder')
    .option('--allow-write', 'also offer append_note, which writes to sessions')
    .addHelpText('after', examples(['claude mcp add sessionlog -- sessionlog mcp', 'sessionlog --dir ~/agent-sessions mcp', 'sessionlog mcp --url postgres://me@db/sessions']))
    .action(action(mcp));
}
