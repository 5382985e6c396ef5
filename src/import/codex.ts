/**
 * Codex CLI rollouts (`sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl[.zst]`) as sessionlog
 * entries. Every line is `{ timestamp, type, payload }`; ids are `codex-<line number>` within the
 * session (a rollout only grows, so a line keeps its number):
 *
 * - `response_item`: `message` → a message (`input_text` / `output_text` as text parts; the
 *   `developer` role as `system`); `function_call` / `custom_tool_call` → an assistant entry with
 *   `toolCalls` (a JSON-string `arguments` parsed when it parses); `function_call_output` /
 *   `custom_tool_call_output` → a `role: 'tool'` entry with `toolCallId`; `reasoning`,
 *   `ghost_snapshot` and later kinds → `codex.<kind>` entries holding the payload.
 * - `event_msg`: `token_count` → a `codex.token_count` entry whose `usage` is this turn's share
 *   (the difference of the cumulative `total_token_usage`: adding the totals up would count every
 *   turn again); `user_message` / `agent_message` / `agent_reasoning` repeat response items →
 *   `codex.event_msg` entries with the kind and without the repeated text; others as they are.
 * - `compacted` → a `compaction` entry (its `message` is the summary).
 * - `session_meta`, `turn_context` → the header (id, cwd, cli version, git branch, model, fork
 *   parent) and `codex.<type>` entries holding the payload.
 */
import type { LineMapper, MappedEntry, SourceMeta } from './source.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const REPEATS = new Set(['user_message', 'agent_message', 'agent_reasoning', 'agent_reasoning_raw_content']);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** State carried across the lines of one rollout. */
export class CodexMapper implements LineMapper {
  readonly meta: SourceMeta = { tool: 'codex' };
  /** The cumulative token usage last seen. */
  #total: Json | undefined;

  map(line: Json, n: number): MappedEntry[] {
    const type = str(line['type']) ?? 'unknown';
    const payload = isObject(line['payload']) ? line['payload'] : {};
    const base = { id: `codex-${n}`, ...(str(line['timestamp']) === undefined ? {} : { ts: str(line['timestamp']) }) };
    const meta = this.meta as { -readonly [K in keyof SourceMeta]: SourceMeta[K] };
    meta.createdAt ??= str(line['timestamp']);
    if (type === 'session_meta') {
      meta.sessionId ??= str(payload['id']);
      meta.cwd ??= str(payload['cwd']);
      meta.version ??= str(payload['cli_version']);
      meta.gitBranch ??= isObject(payload['git']) ? str(payload['git']['branch']) : undefined;
      meta.parentId ??= str(payload['forked_from_id']);
      meta.createdAt = str(payload['timestamp']) ?? meta.createdAt;
    }
    if (type === 'turn_context') meta.model ??= str(payload['model']);
    if (type === 'response_item') return [this.#responseItem(payload, base)];
    if (type === 'event_msg') return [this.#event(payload, base)];
    if (type === 'compacted') return [{ type: 'compaction', ...base, summary: str(payload['message']) ?? '', codex: rest(payload, ['message']) }];
    return [{ type: `codex.${type}`, ...base, payload }];
  }

  #responseItem(item: Json, base: { id: string; ts?: string | undefined }): MappedEntry {
    const kind = str(item['type']) ?? 'unknown';
    if (kind === 'message') {
      const role = str(item['role']) ?? 'user';
      const content = Array.isArray(item['content']) ? item['content'].map(part) : [{ type: 'text', text: str(item['content']) ?? '' }];
      return { type: 'message', ...base, role: ROLES.has(role) ? role : 'system', content, codex: { ...rest(item, ['type', 'role', 'content']), ...(ROLES.has(role) ? {} : { role }) } };
    }
    if (kind === 'function_call' || kind === 'custom_tool_call') {
      const raw = kind === 'function_call' ? item['arguments'] : item['input'];
      return {
        type: 'message',
        ...base,
        role: 'assistant',
        content: [],
        toolCalls: [{ id: str(item['call_id']) ?? '', name: str(item['name']) ?? '', arguments: parseArguments(raw) }],
        codex: rest(item, ['arguments', 'input', 'call_id', 'name']),
      };
    }
    if (kind === 'function_call_output' || kind === 'custom_tool_call_output') {
      const output = item['output'];
      return {
        type: 'message',
        ...base,
        role: 'tool',
        toolCallId: str(item['call_id']) ?? '',
        content: typeof output === 'string' ? output : JSON.stringify(output ?? ''),
        codex: rest(item, ['output', 'call_id']),
      };
    }
    return { type: `codex.${kind}`, ...base, payload: item };
  }

  #event(event: Json, base: { id: string; ts?: string | undefined }): MappedEntry {
    const kind = str(event['type']) ?? 'unknown';
    if (kind === 'token_count') {
      const info = isObject(event['info']) ? event['info'] : {};
      const total = isObject(info['total_token_usage']) ? info['total_token_usage'] : undefined;
      const usage = total === undefined ? undefined : delta(total, this.#total);
      if (total !== undefined) this.#total = total;
      return { type: 'codex.token_count', ...base, ...(usage === undefined ? {} : { usage }), payload: event };
    }
    // The text of these is in the response items; the event is kept as a marker of its kind.
    if (REPEATS.has(kind)) return { type: 'codex.event_msg', ...base, kind, repeats: 'response_item' };
    return { type: 'codex.event_msg', ...base, kind, payload: event };
  }
}

/** Content parts: `input_text` / `output_text` as text; anything else as it is. */
function part(value: unknown): Json {
  if (!isObject(value)) return { type: 'codex.unknown', value };
  const kind = value['type'];
  if ((kind === 'input_text' || kind === 'output_text') && typeof value['text'] === 'string') return { type: 'text', text: value['text'] };
  if (kind === 'input_image') return { type: 'image', url: str(value['image_url']), codex: value };
  return value;
}

/** A function call's `arguments` (a JSON string) parsed; the string itself when it does not parse. */
function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** This turn's usage: the cumulative totals minus the previous ones. */
function delta(total: Json, previous: Json | undefined): Json {
  const get = (usage: Json | undefined, key: string): number => (usage !== undefined && typeof usage[key] === 'number' ? usage[key] : 0);
  const d = (key: string): number => Math.max(0, get(total, key) - get(previous, key));
  const cached = d('cached_input_tokens');
  const input = Math.max(0, d('input_tokens') - cached);
  const output = d('output_tokens');
  return { input, output, cacheRead: cached, total: d('total_tokens') };
}

function rest(value: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) if (!keys.includes(key)) out[key] = v;
  return out;
}
