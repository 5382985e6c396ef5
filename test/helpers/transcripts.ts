/**
 * A seeded generator of realistic coding-assistant transcripts, shared by tests, benchmarks and
 * the sample sessions: user prompts, assistant text with tool calls, tool results with code and
 * logs of 0.5–20 KB, token usage, and non-Latin-1 text in about half the messages.
 */

import { rng } from './rng.mjs';

export { rng };

const PROMPTS = [
  'The build fails on Node 20 with ERR_REQUIRE_ESM. Can you find out why?',
  'Add a retry with exponential backoff to the HTTP client.',
  'Why does the test suite hang on CI but not locally?',
  'Refactor the config loader so it validates with zod.',
  'Write a migration that adds an index on sessions(updated_at).',
  'The parser chokes on CRLF input; fix it and add a test.',
];
const NON_LATIN = [
  'Пожалуйста, объясни, почему тест падает на CI.',
  '请检查一下这个函数为什么会内存泄漏。',
  'ビルドが失敗する理由を調べてください。🔧',
  'Ελέγξτε τα αρχεία καταγραφής για σφάλματα.',
  'यह परीक्षण क्यों विफल हो रहा है? 🤔',
  'Überprüfe bitte die Größe der Puffer — «schnell» genügt nicht.',
];
const TOOLS = ['read_file', 'run_command', 'search_code', 'edit_file'];
const CODE_LINES = [
  "import { readFile } from 'node:fs/promises';",
  'export async function load(path: string) {',
  "  const text = await readFile(path, 'utf8');",
  '  return JSON.parse(text) as Config;',
  '}',
  'for (const [key, value] of Object.entries(env)) {',
  '  if (value === undefined) continue;',
  "  console.log(`${key}=${value}`); // 日志输出",
  '}',
];
const LOG_LINES = [
  '[info] starting worker pid=4242',
  '[warn] retrying request in 200ms (attempt 2/5)',
  'npm ERR! code ERR_REQUIRE_ESM',
  '    at Module._load (node:internal/modules/cjs/loader:1023:12)',
  '✓ test/parser.test.ts (12 tests) 48ms',
  '✗ test/client.test.ts > retries > gives up after 5 attempts',
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function blob(random: () => number, lines: readonly string[], minBytes: number, maxBytes: number): string {
  const target = minBytes + Math.floor(random() * (maxBytes - minBytes));
  const out: string[] = [];
  let size = 0;
  while (size < target) {
    const line = pick(random, lines);
    out.push(line);
    size += line.length + 1;
  }
  return out.join('\n');
}

/** Options of {@link generateTranscript}. */
export interface TranscriptOptions {
  readonly seed: number;
  /** Number of entries to produce. */
  readonly messages: number;
  /** Insert a compaction entry at this index. */
  readonly compactionAt?: number;
}

/** A transcript as the entries an agent would append (no ids or timestamps: the store adds them). */
export function generateTranscript({ seed, messages, compactionAt }: TranscriptOptions): Record<string, unknown>[] {
  const random = rng(seed);
  const out: Record<string, unknown>[] = [];
  let call = 0;
  while (out.length < messages) {
    if (compactionAt !== undefined && out.length === compactionAt) {
      out.push({ type: 'compaction', summary: 'The user is fixing a failing build; the cause was an ESM-only dependency. Tests pass locally.', tokensBefore: 48_000 });
      continue;
    }
    const latin = random() < 0.5;
    out.push({ role: 'user', content: latin ? pick(random, PROMPTS) : `${pick(random, NON_LATIN)} ${pick(random, PROMPTS)}` });
    if (out.length >= messages) break;
    const id = `call_${seed}_${++call}`;
    const tool = pick(random, TOOLS);
    out.push({
      role: 'assistant',
      content: [{ type: 'text', text: latin ? 'Let me look at the relevant files first.' : `${pick(random, NON_LATIN)} Let me check.` }],
      toolCalls: [{ id, name: tool, arguments: { path: 'src/config.ts', pattern: 'loadConfig' } }],
      usage: { input: 1000 + Math.floor(random() * 20_000), output: 50 + Math.floor(random() * 800), cacheRead: Math.floor(random() * 10_000), cacheWrite: 0 },
    });
    if (out.length >= messages) break;
    const isCode = random() < 0.5;
    out.push({
      role: 'tool',
      toolCallId: id,
      toolName: tool,
      isError: random() < 0.1,
      content: blob(random, isCode ? CODE_LINES : LOG_LINES, 500, 20_000),
    });
    if (out.length >= messages) break;
    out.push({
      role: 'assistant',
      content: latin ? 'The failure comes from an ESM-only dependency; I switched the import to a dynamic import().' : `${pick(random, NON_LATIN)} 已修复。`,
      usage: { input: 2000 + Math.floor(random() * 20_000), output: 100 + Math.floor(random() * 1500), cacheRead: Math.floor(random() * 10_000), cacheWrite: Math.floor(random() * 2000) },
    });
  }
  return out.slice(0, messages);
}
