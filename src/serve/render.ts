/**
 * Entries as HTML, for the viewer and the HTML export. Safe by construction: every transcript
 * string goes through `escape` or through markdown-it with raw HTML off (it escapes `<`, and its
 * link check refuses `javascript:`, `vbscript:`, `file:` and non-image `data:` URLs); code is
 * highlighted by highlight.js, whose output escapes the code. No transcript string reaches an
 * attribute unescaped, and none becomes script.
 */
import hljs from 'highlight.js/lib/common';
import MarkdownIt from 'markdown-it';
import type { Problem } from '../format/codec.js';
import { shownEntries } from '../import/shown.js';

type Entry = Readonly<Record<string, unknown>>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe in HTML text and in quoted attributes. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string);
}

function highlighted(code: string, lang: string): string {
  try {
    if (lang !== '' && hljs.getLanguage(lang) !== undefined) return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  } catch {
    // An odd grammar edge: fall back to plain text below.
  }
  return escape(code);
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, highlight: (code, lang) => `<pre class="code"><code>${highlighted(code, lang)}</code></pre>` });
const defaultLink = md.renderer.rules['link_open'] ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules['link_open'] = (tokens, idx, options, env, self) => {
  // Links leave the viewer in a new tab, telling the target nothing about it.
  tokens[idx]?.attrSet('target', '_blank');
  tokens[idx]?.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLink(tokens, idx, options, env, self);
};

/** Markdown as safe HTML. */
export function markdown(text: string): string {
  return md.render(text);
}

/** Longest text rendered per part: beyond it the rest is cut, with a note saying how much. */
const MAX_PART = 200_000;

function cut(text: string): { text: string; note: string } {
  if (text.length <= MAX_PART) return { text, note: '' };
  return { text: text.slice(0, MAX_PART), note: `<p class="note">… ${(text.length - MAX_PART).toLocaleString('en')} more characters not shown (sessionlog show --full has them)</p>` };
}

function json(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? '');
  const { text: shown, note } = cut(text);
  return `<pre class="code"><code>${highlighted(shown, typeof value === 'string' ? '' : 'json')}</code></pre>${note}`;
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function textBlock(text: string): string {
  const { text: shown, note } = cut(text);
  return `<div class="md">${markdown(shown)}</div>${note}`;
}

/** An image part: data URLs of images inline (the page's policy allows nothing else), other sources as text. */
function image(part: Entry): string {
  const url = typeof part['url'] === 'string' ? part['url'] : undefined;
  const source = part['source'] as Entry | undefined;
  const media = typeof part['mediaType'] === 'string' ? part['mediaType'] : typeof source?.['media_type'] === 'string' ? source['media_type'] : '';
  const data = typeof source?.['data'] === 'string' ? source['data'] : undefined;
  const inline = url?.startsWith('data:image/') === true ? url : data !== undefined && /^image\/(png|jpeg|gif|webp)$/.test(media) ? `data:${media};base64,${data}` : undefined;
  if (inline !== undefined && /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(inline)) return `<img class="image" alt="image" src="${escape(inline)}">`;
  const where = url ?? (typeof part['path'] === 'string' ? part['path'] : typeof part['ref'] === 'string' ? part['ref'] : 'inline');
  return `<p class="note">[image ${escape(String(where))}]</p>`;
}

function toolCall(call: Entry): string {
  const name = escape(str(call['name']) ?? 'tool');
  const args = call['arguments'] ?? call['input'];
  const size = bytes(Buffer.byteLength(JSON.stringify(args) ?? ''));
  return `<details class="tool-call" data-call="${escape(str(call['id']) ?? '')}"><summary><span class="tool-name">→ ${name}</span> <span class="dim">${size}</span></summary>${json(args)}</details>`;
}

/** A message's content parts and tool calls. */
function content(entry: Entry): string {
  const body = entry['content'];
  const out: string[] = [];
  if (typeof body === 'string') {
    if (body !== '') out.push(textBlock(body));
  } else if (Array.isArray(body)) {
    for (const raw of body as unknown[]) {
      const part = (typeof raw === 'object' && raw !== null ? raw : { type: 'text', text: String(raw) }) as Entry;
      if (part['type'] === 'text' && typeof part['text'] === 'string') out.push(textBlock(part['text']));
      else if (part['type'] === 'thinking' || part['type'] === 'reasoning') {
        const text = str(part['thinking']) ?? str(part['text']) ?? '';
        out.push(`<details class="thinking"><summary>thinking <span class="dim">${bytes(Buffer.byteLength(text))}</span></summary>${textBlock(text)}</details>`);
      } else if (part['type'] === 'tool_call') out.push(toolCall(part));
      else if (part['type'] === 'image') out.push(image(part));
      else out.push(`<details class="other"><summary>${escape(String(part['type']))} part</summary>${json(part)}</details>`);
    }
  }
  if (Array.isArray(entry['toolCalls'])) for (const call of entry['toolCalls'] as Entry[]) out.push(toolCall(call));
  return out.join('');
}

function usage(entry: Entry): string {
  const u = entry['usage'] as Record<string, unknown> | undefined;
  if (typeof u !== 'object' || u === null) return '';
  const n = (key: string): number => (typeof u[key] === 'number' ? u[key] : 0);
  const cached = n('cacheRead') + n('cacheWrite');
  return ` <span class="usage">${n('input').toLocaleString('en')} in · ${n('output').toLocaleString('en')} out${cached > 0 ? ` · ${cached.toLocaleString('en')} cached` : ''}</span>`;
}

function time(ts: unknown): string {
  if (typeof ts !== 'string') return '';
  return `<time datetime="${escape(ts)}">${escape(ts.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''))}</time>`;
}

/** Names of tool calls by id, so a result can say which tool it answers. */
export type ToolNames = Map<string, string>;

/** One shown entry as an `<article>`. `anchor` is the stored entry's id (a link target). */
function article(entry: Entry, anchor: string, names: ToolNames): string {
  const type = typeof entry['type'] === 'string' ? entry['type'] : 'message';
  const id = escape(anchor);
  const head = (label: string, cls: string, extra = '') => `<header><a class="role ${cls}" href="#e-${id}">${label}</a>${extra} ${time(entry['ts'])}</header>`;
  if (type === 'message') {
    const role = String(entry['role']);
    if (Array.isArray(entry['toolCalls'])) for (const call of entry['toolCalls'] as Entry[]) names.set(String(call['id']), String(call['name']));
    if (role === 'tool') {
      const name = names.get(String(entry['toolCallId'])) ?? (typeof entry['toolName'] === 'string' ? entry['toolName'] : 'tool');
      const failed = entry['isError'] === true;
      const text = typeof entry['content'] === 'string' ? entry['content'] : JSON.stringify(entry['content']) ?? '';
      const body = typeof entry['content'] === 'string' ? json(entry['content']) : content(entry);
      return `<article class="entry tool${failed ? ' failed' : ''}" id="e-${id}" tabindex="-1"><details><summary>${head(`← ${escape(name)}${failed ? ' <span class="error">error</span>' : ''}`, 'tool')} <span class="dim">${bytes(Buffer.byteLength(text))}</span></summary>${body}</details></article>`;
    }
    const cls = ['user', 'assistant', 'system'].includes(role) ? role : 'other';
    return `<article class="entry ${cls}" id="e-${id}" tabindex="-1">${head(escape(role), cls, usage(entry))}${content(entry)}</article>`;
  }
  if (type === 'compaction') {
    return `<article class="entry compaction" id="e-${id}" tabindex="-1">${head('compaction', 'compaction')}${textBlock(str(entry['summary']) ?? '')}</article>`;
  }
  const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'type' && key !== 'id' && key !== 'ts'));
  return `<article class="entry other" id="e-${id}" tabindex="-1"><details><summary>${head(escape(type), 'other')}</summary>${json(rest)}</details></article>`;
}

/** Entries as HTML, in order; entries that are Claude Code lines kept verbatim are shown as messages. */
export function renderEntries(entries: readonly Entry[], names: ToolNames = new Map()): string {
  const out: string[] = [];
  for (const stored of entries) for (const shown of shownEntries(stored)) out.push(article(shown, String(stored['id']), names));
  return out.join('\n');
}

/** Problem lines: where and what kind, never their content. */
export function renderProblems(problems: readonly Problem[]): string {
  return problems
    .map((p) => `<article class="entry problem"><header><span class="role problem">problem</span> ${p.line === undefined ? `at byte ${p.offset}` : `line ${p.line}`}: ${escape(p.kind)}</header></article>`)
    .join('\n');
}
