/**
 * A transcript for the terminal: roles told apart, tool calls and results summarised with their
 * size, long texts folded. Presentation only: entries come from the store as they are.
 */
import type { Problem, SessionInfo } from '../index.js';
import type { Colors } from './context.js';
import { clean, firstString, formatBytes, formatCount, formatDateTime, formatDay, formatTime, truncate } from './format.js';

/** How much of a long text is shown unless `--full`. */
const FOLD = {
  /** Messages: fold past this many lines, showing the first {@link FOLD.messageShown}. */
  messageLines: 40,
  messageShown: 30,
  /** Tool results: fold past this many lines, showing the first {@link FOLD.toolShown}. */
  toolLines: 12,
  toolShown: 8,
  /** Any one line is cut at this many characters. */
  lineChars: 400,
  /** Tool-call arguments are summarised in this many characters. */
  argsChars: 100,
} as const;

/** Options of the renderer. */
export interface TranscriptOptions {
  readonly c: Colors;
  /** Show every line of every entry. */
  readonly full: boolean;
  /** The session id, for the repair hint on problem lines. */
  readonly id: string;
}

type Entry = Readonly<Record<string, unknown>>;

function byteLength(text: string): number {
  return Buffer.byteLength(text);
}

function compactJson(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function indent(lines: readonly string[], prefix: string): string[] {
  return lines.map((line) => (line === '' ? prefix.trimEnd() : prefix + line));
}

/** A body of text: cleaned, each line cut, folded past `limit` lines (unless full). */
function body(text: string, kind: 'message' | 'tool', options: TranscriptOptions): string[] {
  const lines = clean(text).replace(/\n+$/, '').split('\n');
  const limit = kind === 'tool' ? FOLD.toolLines : FOLD.messageLines;
  const shown = options.full || lines.length <= limit ? lines : lines.slice(0, kind === 'tool' ? FOLD.toolShown : FOLD.messageShown);
  const out = options.full ? shown : shown.map((line) => truncate(line, FOLD.lineChars));
  if (shown.length < lines.length) {
    const rest = lines.slice(shown.length).join('\n');
    out.push(options.c.dim(`… ${lines.length - shown.length} more lines (${formatBytes(byteLength(rest))}) folded; --full shows them`));
  }
  return out;
}

function toolCallLine(name: unknown, args: unknown, c: Colors): string {
  const json = compactJson(args);
  const summary = truncate(clean(json).replace(/\n/g, ' '), FOLD.argsChars);
  return `${c.yellow('→')} ${c.bold(clean(String(name)))}(${summary})  ${c.dim(formatBytes(byteLength(json)))}`;
}

/** Text and tool calls of a message's content. */
function contentLines(entry: Entry, options: TranscriptOptions, kind: 'message' | 'tool'): string[] {
  const { c } = options;
  const content = entry['content'];
  const out: string[] = [];
  if (typeof content === 'string') {
    if (content !== '') out.push(...body(content, kind, options));
  } else if (Array.isArray(content)) {
    for (const part of content as unknown[]) {
      const p = (typeof part === 'object' && part !== null ? part : { type: typeof part }) as Record<string, unknown>;
      if (p['type'] === 'text' && typeof p['text'] === 'string') out.push(...body(p['text'], kind, options));
      else if (p['type'] === 'tool_call') out.push(toolCallLine(p['name'], p['arguments'], c));
      else if (p['type'] === 'image') out.push(c.dim(`[image ${clean(firstString(p['path'], p['url']))}]`.replace(' ]', ']')));
      else out.push(c.dim(`[${clean(String(p['type']))} part, ${formatBytes(byteLength(compactJson(p)))}]`));
    }
  }
  const calls = entry['toolCalls'];
  if (Array.isArray(calls)) {
    for (const call of calls as Record<string, unknown>[]) out.push(toolCallLine(call['name'], call['arguments'], c));
  }
  return out;
}

function contentText(entry: Entry): string {
  const content = entry['content'];
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Record<string, unknown>[]).map((p) => (typeof p['text'] === 'string' ? p['text'] : '')).join('\n');
}

function usageNote(entry: Entry, c: Colors): string {
  const usage = entry['usage'] as Record<string, unknown> | undefined;
  if (typeof usage !== 'object' || usage === null) return '';
  const n = (key: string): number => (typeof usage[key] === 'number' ? (usage[key]) : 0);
  const parts = [`${formatCount(n('input'))} in`, `${formatCount(n('output'))} out`];
  const cached = n('cacheRead') + n('cacheWrite');
  if (cached > 0) parts.push(`${formatCount(cached)} cached`);
  return c.dim(` · ${parts.join(' · ')}`);
}

/** Renders one entry: a heading line, then its body indented. `previousDay` puts a date line at day changes. */
export function renderEntry(entry: Entry, options: TranscriptOptions, previousDay?: string): string {
  const { c } = options;
  const time = formatTime(entry['ts']) ?? '--:--:--';
  const day = formatDay(entry['ts']);
  const lines: string[] = [];
  if (day !== undefined && day !== previousDay) lines.push(c.dim(`── ${day} ──`));
  const type = typeof entry['type'] === 'string' ? entry['type'] : 'message';
  const stamp = c.dim(time);
  if (type === 'message') {
    const role = String(entry['role']);
    if (role === 'tool') {
      const text = contentText(entry);
      const failed = entry['isError'] === true;
      const name = typeof entry['toolName'] === 'string' ? ` ${clean(entry['toolName'])}` : '';
      const status = failed ? c.red(' error') : '';
      lines.push(`${stamp} ${c.yellow(c.bold('tool'))}${c.yellow(name)}${status} ${c.dim(`← ${formatBytes(byteLength(text))}`)}`);
      lines.push(...indent(contentLines(entry, options, 'tool'), `  ${c.dim('│')} `));
    } else {
      const label = role === 'user' ? c.cyan(c.bold('user')) : role === 'assistant' ? c.green(c.bold('assistant')) : role === 'system' ? c.magenta(c.bold('system')) : c.bold(clean(role));
      lines.push(`${stamp} ${label}${usageNote(entry, c)}`);
      lines.push(...indent(contentLines(entry, options, 'message'), '  '));
    }
  } else if (type === 'compaction') {
    const before = typeof entry['tokensBefore'] === 'number' ? c.dim(` · summarises ${formatCount(entry['tokensBefore'])} tokens`) : '';
    lines.push(`${stamp} ${c.blue(c.bold('compaction'))}${before}`);
    lines.push(...indent(body(firstString(entry['summary']), 'message', options), `  ${c.blue('┃')} `));
  } else {
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry)) if (key !== 'type' && key !== 'id' && key !== 'ts') rest[key] = value;
    const json = compactJson(rest);
    lines.push(`${stamp} ${c.bold(clean(type))} ${c.dim(formatBytes(byteLength(json)))}`);
    lines.push(...indent(options.full ? body(JSON.stringify(rest, null, 2), 'message', options) : [truncate(clean(json), 200)], '  '));
  }
  return `${lines.join('\n')}\n\n`;
}

/** A problem line, flagged where it is in the transcript. */
export function renderProblem(problem: Problem, options: TranscriptOptions): string {
  const where = problem.line === undefined ? `at byte ${problem.offset}` : `line ${problem.line}`;
  return `${options.c.red(options.c.bold('!'))} ${options.c.red(`${where} skipped: ${problem.kind}`)} ${options.c.dim(`(${problem.message}) — sessionlog repair ${options.id}`)}\n\n`;
}

/** The block above a transcript: title, id and what the session holds. */
export function renderSessionHeader(info: SessionInfo, c: Colors): string {
  const tokens = info.usage.total > 0 ? info.usage.total : info.usage.input + info.usage.output;
  const facts = [
    `${info.entryCount} entries`,
    `${formatCount(tokens)} tokens`,
    formatBytes(info.bytes),
    ...(info.problems > 0 ? [c.red(`${info.problems} problem line${info.problems === 1 ? '' : 's'}`)] : []),
  ];
  const lines = [
    c.bold(clean(info.title ?? '(untitled)')),
    `${c.dim('id')}      ${info.id}`,
    ...(info.model === undefined ? [] : [`${c.dim('model')}   ${clean(info.model)}`]),
    ...(info.cwd === undefined ? [] : [`${c.dim('cwd')}     ${clean(info.cwd)}`]),
    `${c.dim('created')} ${formatDateTime(info.createdAt)}  ${c.dim('updated')} ${formatDateTime(info.updatedAt)}`,
    ...(info.parent === undefined ? [] : [`${c.dim('fork of')} ${info.parent.id}${info.parent.entryId === undefined ? '' : ` at ${info.parent.entryId}`}`]),
    facts.join(c.dim(' · ')),
  ];
  return `${lines.join('\n')}\n\n`;
}
