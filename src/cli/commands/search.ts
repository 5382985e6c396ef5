/** `search`: text across all sessions, streamed. */
import type { Command } from 'commander';
import type { SearchHit } from '../../index.js';
import { action, type Context, EXIT } from '../context.js';
import { clean } from '../format.js';
import { Progress } from '../progress.js';
import { examples, positive, resolveName } from './shared.js';

interface SearchCliOptions {
  readonly regex?: boolean;
  readonly ignoreCase?: boolean;
  readonly session?: string[];
  readonly limit?: number;
  readonly filesWithMatches?: boolean;
  readonly json?: boolean;
}

function collectRepeated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function search(ctx: Context, query: string, opts: SearchCliOptions): Promise<number> {
  ctx.usePager();
  const store = await ctx.open();
  const sessions = opts.session === undefined ? undefined : await Promise.all(opts.session.map((name) => resolveName(store, name)));
  const progress = new Progress('searching', { json: ctx.json, bytes: true });
  const { c } = ctx;
  let hits = 0;
  let current: string | undefined;
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  try {
    const found = store.search(query, {
      regex: opts.regex === true,
      ignoreCase: opts.ignoreCase === true,
      ...(sessions === undefined ? {} : { sessions }),
      ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      ...(opts.filesWithMatches === true ? { limitPerSession: 1 } : {}),
      signal: ac.signal,
      onProgress: (p) => progress.update(p.bytesDone, p.bytes, `${p.filesDone}/${p.files} sessions`),
    });
    for await (const hit of found) {
      hits++;
      if (opts.filesWithMatches === true) {
        // As grep -l: which sessions match, one per line (the title helps a person; --json for scripts).
        if (ctx.json) ctx.printJsonLine({ session: hit.session, title: hit.title });
        else progress.write(`${c.magenta(hit.session)}  ${clean(hit.title ?? '')}\n`, ctx);
        continue;
      }
      if (ctx.json) {
        ctx.printJsonLine(hit);
        continue;
      }
      let text = '';
      if (hit.session !== current) {
        current = hit.session;
        text += `${hits > 1 ? '\n' : ''}${c.magenta(c.bold(hit.session))}  ${clean(hit.title ?? '')}\n`;
      }
      text += renderHit(hit, ctx);
      progress.write(text, ctx);
    }
  } finally {
    process.off('SIGINT', stop);
    progress.stop();
  }
  // As grep: 1 when nothing matched.
  return hits > 0 ? EXIT.OK : EXIT.PROBLEMS;
}

function renderHit(hit: SearchHit, ctx: Context): string {
  const { c } = ctx;
  const [start, end] = hit.match;
  const snippet = hit.snippet.slice(0, start) + c.bold(c.red(hit.snippet.slice(start, end))) + hit.snippet.slice(end);
  const who = hit.problem !== undefined ? c.red(`[${hit.problem}]`) : hit.role ?? hit.type ?? '';
  return `${c.green(String(hit.line).padStart(6))}  ${c.dim(who.padEnd(9))} ${snippet}\n`;
}

/** Registers `search`. */
export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search the text of every session (plain text, or a regex); hits stream as they are found')
    .argument('<text>', 'text to look for (a JavaScript regular expression with --regex)')
    .option('-e, --regex', 'treat <text> as a regular expression')
    .option('-i, --ignore-case', 'match regardless of case')
    .option('-s, --session <id>', 'only this session (id or prefix); repeatable', collectRepeated)
    .option('-m, --limit <n>', 'stop after n hits', positive)
    .option('-l, --files-with-matches', 'print only the sessions that match (stops reading each at its first hit)')
    .option('--json', 'print each hit as a JSON line')
    .addHelpText(
      'after',
      `\nSearches message text, tool calls and results, and summaries, not keys, ids or roles.\nExits 0 when something matched and 1 when nothing did, like grep.\n${examples([
        'sessionlog search ERR_REQUIRE_ESM',
        "sessionlog search -e 'retry(ing)? in \\d+ms' -i",
        'sessionlog search migration --session 0190a3',
        'sessionlog search -l timeout',
        'sessionlog search timeout --json | jq -r .snippet',
      ])}`,
    )
    .action(action(search));
}
