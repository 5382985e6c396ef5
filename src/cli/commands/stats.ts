/** `stats`: entries, tokens, size and problem lines, per session and in total. */
import type { Command } from 'commander';
import type { SessionInfo, FileSessionStore, UsageTotals } from '../../index.js';
import { action, type Context, EXIT } from '../context.js';
import { formatBytes, formatCount, table } from '../format.js';
import { Progress } from '../progress.js';
import { named } from './read.js';
import { allSessions, examples } from './shared.js';

interface Totals {
  sessions: number;
  entries: number;
  bytes: number;
  problems: number;
  usage: UsageTotals;
}

function totalsOf(infos: readonly SessionInfo[]): Totals {
  const usage: UsageTotals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 };
  for (const info of infos) for (const key of Object.keys(usage) as (keyof UsageTotals)[]) usage[key] += info.usage[key];
  return {
    sessions: infos.length,
    entries: infos.reduce((n, i) => n + i.entryCount, 0),
    bytes: infos.reduce((n, i) => n + i.bytes, 0),
    problems: infos.reduce((n, i) => n + i.problems, 0),
    usage,
  };
}

/** Counts of one session's entries by kind (role for messages, type otherwise) and its tool calls. */
async function breakdown(store: FileSessionStore, id: string): Promise<{ kinds: Record<string, number>; toolCalls: number; toolResultBytes: number }> {
  const kinds: Record<string, number> = {};
  let toolCalls = 0;
  let toolResultBytes = 0;
  for await (const entry of store.stream(id)) {
    const e = entry as Record<string, unknown>;
    const kind = e['type'] === 'message' ? String(e['role']) : String(e['type']);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    if (Array.isArray(e['toolCalls'])) toolCalls += e['toolCalls'].length;
    if (Array.isArray(e['content'])) toolCalls += (e['content'] as { type?: unknown }[]).filter((p) => p.type === 'tool_call').length;
    if (e['role'] === 'tool') toolResultBytes += Buffer.byteLength(typeof e['content'] === 'string' ? e['content'] : JSON.stringify(e['content']));
  }
  return { kinds, toolCalls, toolResultBytes };
}

async function stats(ctx: Context, name: string | undefined, opts: { json?: boolean }): Promise<number> {
  void opts;
  const store = await ctx.open();
  const { c } = ctx;
  if (name !== undefined) {
    const { id, info } = await named(store, name);
    const detail = await breakdown(store, id);
    if (ctx.json) {
      ctx.printJson({ id, title: info.title, entries: info.entryCount, bytes: info.bytes, problems: info.problems, usage: info.usage, ...detail });
      return EXIT.OK;
    }
    const u = info.usage;
    const rows: [string, string][] = [
      ['entries', `${info.entryCount} (${Object.entries(detail.kinds).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})`],
      ['tool calls', `${detail.toolCalls} (results ${formatBytes(detail.toolResultBytes)})`],
      ['tokens', `${formatCount(u.input)} input · ${formatCount(u.output)} output · ${formatCount(u.cacheRead)} cache read · ${formatCount(u.cacheWrite)} cache write${u.total > 0 ? ` · ${formatCount(u.total)} total` : ''}`],
      ['size', formatBytes(info.bytes)],
      ['problem lines', info.problems > 0 ? c.red(String(info.problems)) : '0'],
    ];
    ctx.out(`${c.bold(info.title ?? '(untitled)')} ${c.dim(id)}\n${rows.map(([k, v]) => `${c.dim(k.padEnd(14))}${v}`).join('\n')}\n`);
    return EXIT.OK;
  }
  const progress = new Progress('reading', { json: ctx.json });
  const infos = await allSessions(store, (done, total) => progress.update(done, total));
  progress.stop();
  const total = totalsOf(infos);
  if (ctx.json) {
    const sessions = infos.map((i) => ({ id: i.id, title: i.title, entries: i.entryCount, bytes: i.bytes, problems: i.problems, usage: i.usage }));
    ctx.printJson({ sessions, total });
    return EXIT.OK;
  }
  type Row = { id: string; title: string; entries: number; usage: UsageTotals; bytes: number; problems: number };
  const rows: Row[] = infos.map((i) => ({ id: i.id, title: i.title ?? '', entries: i.entryCount, usage: i.usage, bytes: i.bytes, problems: i.problems }));
  rows.push({ id: `total (${total.sessions} sessions)`, title: '', entries: total.entries, usage: total.usage, bytes: total.bytes, problems: total.problems });
  const last = rows[rows.length - 1];
  ctx.out(
    table(
      rows,
      [
        { title: 'session', value: (r) => r.id, flexible: true, style: (t, r) => (r === last ? c.bold(t) : t) },
        { title: 'entries', value: (r) => String(r.entries), align: 'right' },
        { title: 'input', value: (r) => formatCount(r.usage.input), align: 'right' },
        { title: 'output', value: (r) => formatCount(r.usage.output), align: 'right' },
        { title: 'cache r/w', value: (r) => `${formatCount(r.usage.cacheRead)}/${formatCount(r.usage.cacheWrite)}`, align: 'right' },
        { title: 'size', value: (r) => formatBytes(r.bytes), align: 'right' },
        { title: 'problems', value: (r) => String(r.problems), align: 'right', style: (t, r) => (r.problems > 0 ? c.red(t) : t) },
      ],
      { width: ctx.width, header: (t) => c.dim(t) },
    ),
  );
  return EXIT.OK;
}

/** Registers `stats`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('entries, tokens (input / output / cache), size and problem lines, per session and in total')
    .argument('[id]', 'one session (id or unique prefix) in detail')
    .option('--json', 'print the figures as JSON')
    .addHelpText('after', examples(['sessionlog stats', 'sessionlog stats 0190a3', 'sessionlog stats --json | jq .total.usage']))
    .action(action(stats));
}
