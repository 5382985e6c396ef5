/**
 * Sessions rendered for a model's context: one short block per entry, tool results and long texts
 * cut with a marker saying how much was left out, and a budget per answer (characters and
 * entries) after which the answer stops and says how to ask for the rest. Pure: no I/O.
 */
import { shownEntries } from '../import/shown.js';
import type { Redactor } from '../secrets/redact.js';

/** The budgets of one answer (docs/mcp.md). */
export const BUDGET = {
  /** Characters of one answer, at most. */
  chars: 40_000,
  /** Entries of one `read_session` answer, at most. */
  entries: 200,
  /** Characters kept of one tool result. */
  toolResult: 1_500,
  /** Characters kept of one message's text. */
  message: 6_000,
  /** Characters of tool-call arguments shown. */
  args: 300,
} as const;

type Entry = Readonly<Record<string, unknown>>;

/** `text` cut to `max` characters with a marker of what was left out. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)} … [${(text.length - max).toLocaleString('en')} more characters left out]`;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined ? '' : JSON.stringify(content);
  return (content as Entry[])
    .map((part) => {
      if (part['type'] === 'text' && typeof part['text'] === 'string') return part['text'];
      if (part['type'] === 'thinking') return '[thinking]';
      if (part['type'] === 'image') return `[image${typeof part['ref'] === 'string' ? ` ${part['ref']}` : ''}]`;
      if (part['type'] === 'tool_call') return `→ ${String(part['name'])}(${cut(JSON.stringify(part['arguments'] ?? {}), BUDGET.args)})`;
      return `[${String(part['type'])}]`;
    })
    .join('\n');
}

/** One shown entry as a compact block: `[time] role: text`, tool calls and results on their own lines. */
function block(entry: Entry): string {
  const ts = typeof entry['ts'] === 'string' ? entry['ts'].replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '';
  const id = typeof entry['id'] === 'string' ? entry['id'] : '';
  const type = typeof entry['type'] === 'string' ? entry['type'] : 'message';
  if (type === 'compaction') return `[${ts}] (${id}) compaction summary: ${cut(typeof entry['summary'] === 'string' ? entry['summary'] : '', BUDGET.message)}`;
  if (type !== 'message') {
    const { type: _t, id: _i, ts: _s, ...rest } = entry;
    return `[${ts}] (${id}) ${type}: ${cut(JSON.stringify(rest), BUDGET.args)}`;
  }
  const role = String(entry['role']);
  if (role === 'tool') return `[${ts}] (${id}) tool result${entry['isError'] === true ? ' (error)' : ''}: ${cut(textOf(entry['content']), BUDGET.toolResult)}`;
  const calls = Array.isArray(entry['toolCalls']) ? (entry['toolCalls'] as Entry[]).map((c) => `\n  → ${String(c['name'])}(${cut(JSON.stringify(c['arguments'] ?? {}), BUDGET.args)})`).join('') : '';
  return `[${ts}] (${id}) ${role}: ${cut(textOf(entry['content']), BUDGET.message)}${calls}`;
}

/** Entries as compact text within the budget; `rest` counts the entries not shown. */
export function renderCompact(entries: readonly Entry[], redactor: Redactor | undefined, budget: number = BUDGET.chars): { text: string; shown: number; lastId: string | undefined } {
  const out: string[] = [];
  let used = 0;
  let shown = 0;
  let lastId: string | undefined;
  for (const stored of entries) {
    const text = shownEntries(stored).map(block).join('\n');
    const safe = redactor?.mayContain(text) === true ? redactor.text(text) : text;
    if (shown > 0 && used + safe.length > budget) break;
    out.push(safe);
    used += safe.length + 1;
    shown++;
    lastId = String(stored['id']);
  }
  return { text: out.join('\n'), shown, lastId };
}
