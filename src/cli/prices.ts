/**
 * An estimate of what a session's tokens cost, from a price table kept here (no network): list
 * prices in USD per million tokens, matched by model-name prefix, longest first. `--prices
 * file.json` (or SESSIONLOG_PRICES) replaces or adds entries: `{ "my-model": { "input": 1,
 * "output": 4, "cacheRead": 0.1, "cacheWrite": 1.25 } }`. Prices change: treat the figure as an
 * estimate and keep your own table for billing.
 */
import fs from 'node:fs';
import type { UsageTotals } from '../core/info.js';
import { usage } from './context.js';

/** USD per million tokens. */
export interface Price {
  readonly input: number;
  readonly output: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
}

/** Published list prices (USD / 1M tokens) as of late 2026, by model-name prefix. */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  'claude-opus-4': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
  'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
  'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
  'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
  o3: { input: 2, output: 8, cacheRead: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
  'gemini-2.5-pro': { input: 1.25, output: 10, cacheRead: 0.31 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheRead: 0.075 },
};

/** The table: the defaults with `file`'s entries (or $SESSIONLOG_PRICES's) over them. */
export function priceTable(file: string | undefined = process.env['SESSIONLOG_PRICES']): Record<string, Price> {
  if (file === undefined || file === '') return { ...DEFAULT_PRICES };
  let extra: unknown;
  try {
    extra = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw usage(`--prices: could not read ${file} as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof extra !== 'object' || extra === null) throw usage(`--prices: ${file} must hold an object of { input, output, cacheRead?, cacheWrite? } per model`);
  for (const [model, price] of Object.entries(extra)) {
    const p = price as Partial<Price>;
    if (typeof p.input !== 'number' || typeof p.output !== 'number') throw usage(`--prices: ${model} in ${file} needs numbers "input" and "output" (USD per million tokens)`);
  }
  return { ...DEFAULT_PRICES, ...(extra as Record<string, Price>) };
}

/** The estimated cost of `tokens` of `model` in USD, or undefined when no entry of the table matches. */
export function costOf(model: string, tokens: UsageTotals, table: Readonly<Record<string, Price>>): number | undefined {
  const key = Object.keys(table).filter((prefix) => model.startsWith(prefix)).sort((a, b) => b.length - a.length)[0];
  const price = key === undefined ? undefined : table[key];
  if (price === undefined) return undefined;
  const m = 1_000_000;
  return (tokens.input * price.input + tokens.output * price.output + tokens.cacheRead * (price.cacheRead ?? price.input) + tokens.cacheWrite * (price.cacheWrite ?? price.input)) / m;
}
