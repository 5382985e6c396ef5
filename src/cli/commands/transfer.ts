/** `push`, `pull`, `sync`: sessions between the store folder and a PostgreSQL server. */
import type { Command } from 'commander';
import { openStore } from '../../open.js';
import type { SessionStore } from '../../core/contract.js';
import { type CopyReport, copySessions } from '../../transfer/transfer.js';
import { action, type Context, EXIT, usage } from '../context.js';
import { Progress } from '../progress.js';
import { examples } from './shared.js';

type Direction = 'push' | 'pull' | 'sync';

interface TransferOptions {
  readonly url?: string;
}

/** The server's URL and the session ids: a first argument that is a URL is the URL, else `--url` or SESSIONLOG_URL. */
function target(args: readonly string[], options: TransferOptions): { url: string; ids: string[] | undefined } {
  const [first, ...rest] = args;
  if (first !== undefined && /^postgres(ql)?:\/\//.test(first)) return { url: first, ids: rest.length > 0 ? rest : undefined };
  const url = options.url ?? process.env['SESSIONLOG_URL'];
  if (url === undefined || url === '') throw usage('name the server: sessionlog push postgres://user@host/db, or --url, or SESSIONLOG_URL.');
  return { url, ids: args.length > 0 ? [...args] : undefined };
}

async function run(ctx: Context, direction: Direction, args: string[], options: TransferOptions): Promise<number> {
  const { url, ids } = target(args, options);
  const folder = await ctx.open({ create: direction !== 'push' });
  const server = await openStore({ url });
  try {
    const reports: Partial<Record<'pushed' | 'pulled', CopyReport>> = {};
    if (direction !== 'push') reports.pulled = await copyWithProgress(ctx, 'pulling', server, folder, ids);
    if (direction !== 'pull') reports.pushed = await copyWithProgress(ctx, 'pushing', folder, server, ids);
    if (ctx.json) {
      ctx.printJson({ server: server.location, folder: folder.dir, ...reports });
    } else {
      for (const [verb, report] of Object.entries(reports)) {
        ctx.out(`${verb} ${report.entries} entries of ${report.changed.length} sessions (${report.created} new, ${report.updated} updated; ${report.sessions} checked) ${verb === 'pushed' ? 'to' : 'from'} ${server.location}\n`);
      }
    }
    return EXIT.OK;
  } finally {
    await server.close();
  }
}

async function copyWithProgress(ctx: Context, label: string, from: SessionStore, to: SessionStore, ids: string[] | undefined): Promise<CopyReport> {
  const progress = new Progress(label, { json: ctx.json });
  try {
    return await copySessions(from, to, { ...(ids === undefined ? {} : { ids }), onProgress: ({ done, total }) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
}

const HELP = `
Entries are matched by entry id: running it again changes nothing, an interrupted run resumes, and
machines pushing the same session to one server converge on the union, each entry once. Title,
model, cwd and metadata travel when they differ (on sync, the server's win). Deletes do not travel:
remove a session on both sides (sessionlog rm, and on the server with --url in a script using the library).
The URL's password is never printed; it may also come from PGPASSWORD or ~/.pgpass.`;

/** Registers `push`, `pull` and `sync`. */
export function registerTransfer(program: Command): void {
  const describe: Record<Direction, string> = {
    push: 'copy sessions from the store folder to a PostgreSQL server',
    pull: 'copy sessions from a PostgreSQL server into the store folder',
    sync: 'pull, then push: both sides end with the union',
  };
  for (const direction of ['push', 'pull', 'sync'] as const) {
    program
      .command(`${direction} [url-or-ids...]`)
      .description(describe[direction])
      .option('--url <url>', 'the server (default: $SESSIONLOG_URL)')
      .option('--json', 'print what was copied as JSON')
      .addHelpText('after', `${HELP}\n${examples([`sessionlog ${direction} postgres://me@db.example/sessions`, `SESSIONLOG_URL=postgres://me@db/sessions sessionlog ${direction} 01a2b3c4`])}`)
      .action(action((ctx, args: string[], options: TransferOptions) => run(ctx, direction, args, options)));
  }
}
