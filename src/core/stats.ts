/**
 * A session's figures, from its entries alone (so every backend gives the same): messages by role,
 * tool calls and executions per tool with errors and durations, tokens per model, wall time.
 */
import type { UsageTotals } from './info.js';

/** One tool's figures. */
export interface ToolStats {
  /** Calls requested by the assistant (`toolCalls`, `tool_call` parts). */
  calls: number;
  /** `tool_execution` entries. */
  executions: number;
  /** Executions that did not end `ok` (or, without executions, results marked `isError`). */
  errors: number;
  /** Sum, mean and longest of the executions' durations, in ms (those that give one). */
  totalMs: number;
  meanMs: number;
  maxMs: number;
}

/** What `store.stats(id)` returns. */
export interface SessionStats {
  readonly id: string;
  /** Entries, by role for messages (`user`, `assistant`, …) and by type otherwise. */
  readonly entries: Readonly<Record<string, number>>;
  readonly toolCalls: number;
  readonly tools: Readonly<Record<string, ToolStats>>;
  /** Tokens per model: messages' `usage` (their `model`, else the session's) and `usage` records. */
  readonly tokens: Readonly<Record<string, UsageTotals>>;
  /** The same per UTC day of the entries' `ts` (`2026-11-02`, or `unknown`), then per model. */
  readonly tokensByDay: Readonly<Record<string, Readonly<Record<string, UsageTotals>>>>;
  /** The first and last entry times, and the wall time between them. */
  readonly startedAt: string | undefined;
  readonly endedAt: string | undefined;
  readonly wallTimeMs: number;
}

const KEYS = ['input', 'output', 'cacheRead', 'cacheWrite', 'total'] as const;

type Entry = Readonly<Record<string, unknown>>;

const zero = (): UsageTotals => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 });

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Folds entries (in order) into a session's stats. */
export class StatsFold {
  readonly #id: string;
  readonly #defaultModel: string;
  readonly #entries: Record<string, number> = {};
  readonly #tools: Record<string, ToolStats> = {};
  readonly #tokens: Record<string, UsageTotals> = {};
  readonly #byDay: Record<string, Record<string, UsageTotals>> = {};
  readonly #callNames = new Map<string, string>();
  readonly #resultErrors = new Map<string, number>();
  #toolCalls = 0;
  #first: string | undefined;
  #last: string | undefined;

  constructor(id: string, model: string | undefined) {
    this.#id = id;
    this.#defaultModel = model ?? 'unknown';
  }

  add(entry: Entry): void {
    const type = str(entry['type']) ?? 'message';
    const kind = type === 'message' ? (str(entry['role']) ?? 'message') : type;
    this.#entries[kind] = (this.#entries[kind] ?? 0) + 1;
    const ts = str(entry['ts']);
    if (ts !== undefined) {
      if (this.#first === undefined || ts < this.#first) this.#first = ts;
      if (this.#last === undefined || ts > this.#last) this.#last = ts;
    }
    if (type === 'tool_execution') this.#execution(entry);
    const calls = [...(Array.isArray(entry['toolCalls']) ? (entry['toolCalls'] as Entry[]) : []), ...(Array.isArray(entry['content']) ? (entry['content'] as Entry[]).filter((p) => p['type'] === 'tool_call') : [])];
    for (const call of calls) {
      const name = str(call['name']) ?? 'unknown';
      this.#toolCalls++;
      this.#tool(name).calls++;
      const id = str(call['id']);
      if (id !== undefined) this.#callNames.set(id, name);
    }
    if (entry['role'] === 'tool' && entry['isError'] === true) {
      const name = this.#callNames.get(str(entry['toolCallId']) ?? '') ?? str(entry['toolName']) ?? 'unknown';
      this.#resultErrors.set(name, (this.#resultErrors.get(name) ?? 0) + 1);
    }
    const usage = entry['usage'];
    if (typeof usage === 'object' && usage !== null) {
      const model = str(entry['model']) ?? this.#defaultModel;
      const ms = ts === undefined ? Number.NaN : Date.parse(ts);
      const day = Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : 'unknown';
      for (const totals of [(this.#tokens[model] ??= zero()), ((this.#byDay[day] ??= {})[model] ??= zero())]) {
        for (const key of KEYS) {
          const n = (usage as Record<string, unknown>)[key];
          if (typeof n === 'number' && Number.isFinite(n)) totals[key] += n;
        }
      }
    }
  }

  /** The figures so far. */
  result(): SessionStats {
    for (const [name, errors] of this.#resultErrors) {
      const tool = this.#tool(name);
      // Executions say how runs ended; without them, error results do.
      if (tool.executions === 0) tool.errors += errors;
    }
    for (const tool of Object.values(this.#tools)) tool.meanMs = tool.executions === 0 ? 0 : Math.round(tool.totalMs / tool.executions);
    const wall = this.#first !== undefined && this.#last !== undefined ? Date.parse(this.#last) - Date.parse(this.#first) : 0;
    return { id: this.#id, entries: this.#entries, toolCalls: this.#toolCalls, tools: this.#tools, tokens: this.#tokens, tokensByDay: this.#byDay, startedAt: this.#first, endedAt: this.#last, wallTimeMs: Number.isFinite(wall) ? wall : 0 };
  }

  #execution(entry: Entry): void {
    const tool = this.#tool(str(entry['name']) ?? 'unknown');
    tool.executions++;
    const status = str(entry['status']);
    if (status !== 'ok' && status !== 'running') tool.errors++;
    const started = Date.parse(str(entry['startedAt']) ?? '');
    const ended = Date.parse(str(entry['endedAt']) ?? '');
    const ms = typeof entry['durationMs'] === 'number' ? entry['durationMs'] : ended - started;
    if (Number.isFinite(ms) && ms >= 0) {
      tool.totalMs += ms;
      tool.maxMs = Math.max(tool.maxMs, ms);
    }
  }

  #tool(name: string): ToolStats {
    return (this.#tools[name] ??= { calls: 0, executions: 0, errors: 0, totalMs: 0, meanMs: 0, maxMs: 0 });
  }
}

/** What `health()` says: whether the store can be written, and if not, why and what to do. */
export interface HealthReport {
  readonly ok: boolean;
  readonly location: string;
  /** How long the check took. */
  readonly ms: number;
  /** When not ok: what failed, with the next step. */
  readonly problem?: string;
}
