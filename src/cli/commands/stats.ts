/** `stats`: entries, tokens, size and problem lines, per session and in total. */
import type { Command } from 'commander';
import type { FileSessionStore, SessionInfo, UsageTotals } from '../../index.js';
import { action, type Context, EXIT } from '../context.js';
import { formatBytes, formatCount, table } from '../format.js';
import { costOf, priceTable } from '../prices.js';
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

async function stats(ctx: Context, name: string | undefined, opts: { json?: boolean; prices?: string }): Promise<number> {
  ctx.usePager();
  const store = await ctx.open();
  const { c } = ctx;
  if (name !== undefined) {
    const { id, info } = await named(store, name);
    const figures = await store.stats(id);
    const prices = priceTable(opts.prices);
    const costs = Object.fromEntries(Object.entries(figures.tokens).map(([model, tokens]) => [model, costOf(model, tokens, prices)]));
    if (ctx.json) {
      ctx.printJson({ ...figures, title: info.title, bytes: info.bytes, problems: info.problems, usage: info.usage, estimatedCostUsd: costs });
      return EXIT.OK;
    }
    const u = info.usage;
    const usd = (n: number | undefined): string => (n === undefined ? c.dim('no price') : `~$${n.toFixed(n < 1 ? 4 : 2)}`);
    const rows: [string, string][] = [
      ['entries', `${info.entryCount} (${Object.entries(figures.entries).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})`],
      ['tool calls', String(figures.toolCalls)],
      ...Object.entries(figures.tools).map(([tool, t]): [string, string] => [
        `  ${tool}`,
        `${t.calls} calls${t.executions > 0 ? ` · ${t.executions} runs · mean ${t.meanMs} ms · max ${t.maxMs} ms` : ''}${t.errors > 0 ? ` · ${c.red(`${t.errors} failed`)}` : ''}`,
      ]),
      ['tokens', `${formatCount(u.input)} input · ${formatCount(u.output)} output · ${formatCount(u.cacheRead)} cache read · ${formatCount(u.cacheWrite)} cache write`],
      ...Object.entries(figures.tokens).map(([model, t]): [string, string] => [`  ${model}`, `${formatCount(t.input + t.output + t.cacheRead + t.cacheWrite)} tokens · ${usd(costs[model])}`]),
      ['wall time', figures.wallTimeMs > 0 ? `${(figures.wallTimeMs / 60_000).toFixed(1)} min (${figures.startedAt ?? ''} → ${figures.endedAt ?? ''})` : '—'],
      ['size', formatBytes(info.bytes)],
      ['problem lines', info.problems > 0 ? c.red(String(info.problems)) : '0'],
    ];
    const pad = Math.max(14, ...rows.map(([k]) => k.length + 2));
    ctx.out(`${c.bold(info.title ?? '(untitled)')} ${c.dim(id)}\n${rows.map(([k, v]) => `${c.dim(k.padEnd(pad))}${v}`).join('\n')}\n${c.dim('Costs are estimates from list prices (sessionlog stats --prices file.json to use your own).')}\n`);
    return EXIT.OK;
  }
  const progress = new Progress('reading', { json: ctx.json });
  const infos = await allSessions(store, (done, total) => progress.update(done, total));
  const total = totalsOf(infos);
  if (ctx.json) {
    const costs = await costsOf(store, infos, priceTable(opts.prices), progress);
    const sessions = infos.map((i) => ({ id: i.id, title: i.title, entries: i.entryCount, bytes: i.bytes, problems: i.problems, usage: i.usage }));
    ctx.printJson({ sessions, total, byModel: costs.byModel, byDay: costs.byDay });
    return EXIT.OK;
  }
  const costs = await costsOf(store, infos, priceTable(opts.prices), progress);
  type Row = { id: string; title: string; entries: number; usage: UsageTotals; bytes: number; problems: number };
  const rows: Row[] = infos.map((i) => ({ id: i.id, title: i.title ?? '', entries: i.entryCount, usage: i.usage, bytes: i.bytes, problems: i.problems }));
  rows.push({ id: `total (${total.sessions} session${total.sessions === 1 ? '' : 's'})`, title: '', entries: total.entries, usage: total.usage, bytes: total.bytes, problems: total.problems });
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
  const usd = (n: number | undefined): string => (n === undefined ? 'no price' : `~$${n.toFixed(2)}`);
  for (const [title, groups] of [['model', costs.byModel], ['day', costs.byDay]] as const) {
    const lines = Object.entries(groups).sort(([a], [b]) => (title === 'day' ? b.localeCompare(a) : a.localeCompare(b)));
    if (lines.length === 0) continue;
    ctx.out(`\n${table(lines, [
      { title, value: ([key]) => key },
      { title: 'tokens', value: ([, g]) => formatCount(g.tokens), align: 'right' },
      { title: 'est. cost', value: ([, g]) => usd(g.costUsd), align: 'right', style: (t, [, g]) => (g.costUsd === undefined ? c.dim(t) : t) },
    ], { width: ctx.width, header: (t) => c.dim(t) })}`);
  }
  ctx.out(c.dim('Costs are estimates from list prices (--prices file.json to use your own); days are UTC days of the entries.\n'));
  return EXIT.OK;
}

/** Tokens and estimated cost of a group (a model, a day); the cost undefined when a model of it has no price. */
interface CostGroup {
  tokens: number;
  costUsd: number | undefined;
}

/** Every session's figures (read entry by entry) folded into tokens and cost per model and per UTC day. */
async function costsOf(store: FileSessionStore, infos: readonly SessionInfo[], prices: ReturnType<typeof priceTable>, progress: Progress): Promise<{ byModel: Record<string, CostGroup>; byDay: Record<string, CostGroup> }> {
  const byModel: Record<string, CostGroup> = {};
  const byDay: Record<string, CostGroup> = {};
  const add = (group: Record<string, CostGroup>, key: string, model: string, usage: UsageTotals): void => {
    const g = (group[key] ??= { tokens: 0, costUsd: 0 });
    g.tokens += usage.input + usage.output + usage.cacheRead + usage.cacheWrite;
    const cost = costOf(model, usage, prices);
    g.costUsd = g.costUsd === undefined || cost === undefined ? undefined : g.costUsd + cost;
  };
  let done = 0;
  for (const info of infos) {
    const figures = await store.stats(info.id);
    for (const [model, usage] of Object.entries(figures.tokens)) add(byModel, model, model, usage);
    for (const [day, models] of Object.entries(figures.tokensByDay)) for (const [model, usage] of Object.entries(models)) add(byDay, day, model, usage);
    progress.update(++done, infos.length, 'costs');
  }
  progress.stop();
  return { byModel, byDay };
}

/** Registers `stats`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('entries, tokens, size and problem lines per session and in total; for one session also tools (runs, errors, durations), tokens and estimated cost per model, wall time')
    .argument('[id]', 'one session (id or unique prefix) in detail')
    .option('--json', 'print the figures as JSON')
    .option('--prices <file>', 'a JSON price table (USD per million tokens per model) over the built-in one; also $SESSIONLOG_PRICES')
    .addHelpText('after', examples(['sessionlog stats', 'sessionlog stats 0190a3', 'sessionlog stats 0190a3 --prices my-prices.json', 'sessionlog stats --json | jq .total.usage']))
    .action(action(stats));
}
