/**
 * Claude Code transcripts (`projects/<cwd with non-alphanumerics as ->/<session uuid>.jsonl`) as
 * sessionlog entries. Every source line becomes one entry (its `uuid` is the entry id, so a resumed
 * session's repeated lines are imported once) or is kept verbatim as an entry of its own type:
 *
 * - `user` with text → a user message; with `tool_result` blocks → one `role: 'tool'` entry per
 *   result (after its call), with `toolCallId`; a compact summary (`isCompactSummary`) → a
 *   `compaction` entry whose summary is its text, so `read(id, { fromCompaction: true })` resumes there.
 * - `assistant` → an assistant message: text and `thinking` parts (signature byte-exact),
 *   `tool_use` blocks as `toolCalls`. One API response is several lines sharing `message.id`,
 *   each repeating the same `usage`: the usage is counted on the first of them only.
 * - everything else (`system`, `summary`, `custom-title`, `ai-title`, `file-history-snapshot`,
 *   `queue-operation`, types of later releases) → an entry of type `claude.<type>` holding the
 *   line's fields as they were.
 *
 * Each mapped entry keeps the line's other fields (`parentUuid`, `requestId`, `gitBranch`, the
 * message's `id`, `model`, `stop_reason`, raw `usage`, `toolUseResult`, …) under `claude`.
 */
import type { LineMapper, MappedEntry, SourceMeta } from './source.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** State carried across the lines of one transcript. */
export class ClaudeMapper implements LineMapper {
  /** `message.id`s whose usage was counted already. */
  readonly #countedUsage = new Set<string>();
  readonly meta: SourceMeta = { tool: 'claude-code' };

  /** The entries of one parsed line (`n` is its line number, for an id when it has no uuid). */
  map(line: Json, n: number): MappedEntry[] {
    const type = str(line['type']) ?? 'unknown';
    this.#learn(line, type);
    const id = str(line['uuid']) ?? `claude-${type}-${n}`;
    const ts = str(line['timestamp']);
    const message = line['message'];
    if ((type === 'user' || type === 'assistant') && isObject(message)) {
      return type === 'user' ? this.#user(line, message, id, ts) : [this.#assistant(line, message, id, ts)];
    }
    return [{ type: `claude.${type}`, id, ...(ts === undefined ? {} : { ts }), line: rest(line, ['uuid', 'timestamp']) }];
  }

  /** Header fields: the first cwd, version, branch and model seen; titles as they come. */
  #learn(line: Json, type: string): void {
    const meta = this.meta as { -readonly [K in keyof SourceMeta]: SourceMeta[K] };
    meta.sessionId ??= str(line['sessionId']);
    meta.cwd ??= str(line['cwd']);
    meta.version ??= str(line['version']);
    meta.gitBranch ??= str(line['gitBranch']);
    meta.createdAt ??= str(line['timestamp']);
    const message = line['message'];
    if (type === 'assistant' && isObject(message)) meta.model ??= str(message['model']);
    if (type === 'custom-title') meta.title = str(line['customTitle']) ?? str(line['title']) ?? meta.title;
    if (type === 'ai-title' && meta.title === undefined) meta.title = str(line['aiTitle']) ?? str(line['title']);
    if (type === 'summary' && meta.title === undefined) meta.title = str(line['summary']);
  }

  #user(line: Json, message: Json, id: string, ts: string | undefined): MappedEntry[] {
    const stamp = ts === undefined ? {} : { ts };
    const claude = rest(line, ['uuid', 'timestamp', 'message', 'type']);
    const content = message['content'];
    if (line['isCompactSummary'] === true) {
      return [{ type: 'compaction', id, ...stamp, summary: textOf(content), claude }];
    }
    if (!Array.isArray(content)) return [{ type: 'message', id, ...stamp, role: 'user', content: str(content) ?? '', claude }];
    const results = content.filter((block): block is Json => isObject(block) && block['type'] === 'tool_result');
    const others = content.filter((block) => !(isObject(block) && block['type'] === 'tool_result'));
    const entries: MappedEntry[] = [];
    if (others.length > 0 || results.length === 0) entries.push({ type: 'message', id, ...stamp, role: 'user', content: others.map(part), claude });
    results.forEach((result, i) => {
      const toolCallId = str(result['tool_use_id']) ?? '';
      const body = result['content'];
      entries.push({
        type: 'message',
        // The line's uuid for its first entry; a second result of the same line gets a derived id.
        id: entries.length === 0 ? id : `${id}:${i}`,
        ...stamp,
        role: 'tool',
        toolCallId,
        content: typeof body === 'string' ? body : Array.isArray(body) ? body.map(part) : '',
        ...(result['is_error'] === true ? { isError: true } : {}),
        claude: entries.length === 0 ? claude : { parentUuid: id },
      });
    });
    return entries;
  }

  #assistant(line: Json, message: Json, id: string, ts: string | undefined): MappedEntry {
    const content = Array.isArray(message['content']) ? message['content'] : [{ type: 'text', text: str(message['content']) ?? '' }];
    const calls = content.filter((block): block is Json => isObject(block) && block['type'] === 'tool_use');
    const parts = content.filter((block) => !(isObject(block) && block['type'] === 'tool_use')).map(part);
    const messageId = str(message['id']);
    const usage = isObject(message['usage']) ? message['usage'] : undefined;
    // Counted once per API response: its lines share message.id and each repeats the usage.
    const counted = usage !== undefined && (messageId === undefined || !this.#countedUsage.has(messageId));
    if (counted && messageId !== undefined) this.#countedUsage.add(messageId);
    return {
      type: 'message',
      id,
      ...(ts === undefined ? {} : { ts }),
      role: 'assistant',
      content: parts,
      ...(calls.length === 0 ? {} : { toolCalls: calls.map((call) => ({ id: str(call['id']) ?? '', name: str(call['name']) ?? '', arguments: call['input'] })) }),
      ...(counted && usage !== undefined ? { usage: usageOf(usage) } : {}),
      claude: { ...rest(line, ['uuid', 'timestamp', 'message', 'type']), message: rest(message, ['content', 'role']) },
    };
  }
}

/** A content block as a content part: text and thinking mapped, anything else kept as it is. */
function part(block: unknown): Json {
  if (typeof block === 'string') return { type: 'text', text: block };
  if (!isObject(block)) return { type: 'claude.unknown', value: block };
  if (block['type'] === 'text') return { type: 'text', text: str(block['text']) ?? '' };
  if (block['type'] === 'image' && isObject(block['source'])) {
    const source = block['source'];
    return { type: 'image', mediaType: str(source['media_type']), source };
  }
  // thinking { thinking, signature }, redacted_thinking, and block types of later releases: as they are.
  return block;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block) => (isObject(block) && typeof block['text'] === 'string' ? block['text'] : '')).join('\n');
}

/** Claude's usage in sessionlog's names (the raw object stays under `claude.message.usage`). */
function usageOf(usage: Json): Json {
  const n = (key: string): number => (typeof usage[key] === 'number' ? usage[key] : 0);
  const input = n('input_tokens');
  const output = n('output_tokens');
  const cacheRead = n('cache_read_input_tokens');
  const cacheWrite = n('cache_creation_input_tokens');
  return { input, output, cacheRead, cacheWrite, total: input + output + cacheRead + cacheWrite };
}

/** `value` without `keys`. */
function rest(value: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) if (!keys.includes(key)) out[key] = v;
  return out;
}
