/**
 * A shareable Markdown transcript: headings per turn, tool calls as JSON blocks, tool results in
 * collapsible `<details>` blocks (GitHub and most renderers fold them). Nothing is cut.
 */
import type { SessionInfo } from '../index.js';
import { firstString, formatBytes } from './format.js';

type Entry = Readonly<Record<string, unknown>>;

/** A fence longer than any run of backticks in `text`, so the text cannot close it. */
function fence(text: string, lang = ''): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}${lang}\n${text.replace(/\n$/, '')}\n${ticks}`;
}

/** Escapes text for a Markdown heading or list item (one line). */
function inline(text: string): string {
  return text.replace(/[\\`*_[\]<>#|]/g, '\\$&').replace(/\s*\n\s*/g, ' ');
}

function stamp(ts: unknown): string {
  return typeof ts === 'string' ? ` · ${ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : '';
}

function toolCall(name: unknown, args: unknown): string {
  const json = args === undefined ? '' : JSON.stringify(args, null, 2);
  return `**Tool call** \`${String(name).replace(/`/g, '')}\`\n\n${fence(json, 'json')}`;
}

function contentBlocks(entry: Entry): string[] {
  const content = entry['content'];
  const out: string[] = [];
  if (typeof content === 'string') out.push(content);
  else if (Array.isArray(content)) {
    for (const part of content as Record<string, unknown>[]) {
      if (part['type'] === 'text' && typeof part['text'] === 'string') out.push(part['text']);
      else if (part['type'] === 'tool_call') out.push(toolCall(part['name'], part['arguments']));
      else if (part['type'] === 'image') out.push(`![image](${firstString(part['url'], part['path'])})`);
      else out.push(fence(JSON.stringify(part, null, 2), 'json'));
    }
  }
  const calls = entry['toolCalls'];
  if (Array.isArray(calls)) for (const call of calls as Record<string, unknown>[]) out.push(toolCall(call['name'], call['arguments']));
  return out;
}

/** The Markdown of one entry. */
function renderEntry(entry: Entry): string {
  const type = typeof entry['type'] === 'string' ? entry['type'] : 'message';
  if (type === 'compaction') {
    return `### Compaction${stamp(entry['ts'])}\n\n> ${firstString(entry['summary']).replace(/\n/g, '\n> ')}`;
  }
  if (type !== 'message') {
    const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'type'));
    return `### ${inline(type)}${stamp(entry['ts'])}\n\n${fence(JSON.stringify(rest, null, 2), 'json')}`;
  }
  const role = String(entry['role']);
  if (role === 'tool') {
    const text = contentBlocks(entry).join('\n\n');
    const name = typeof entry['toolName'] === 'string' ? ` \`${entry['toolName'].replace(/`/g, '')}\`` : '';
    const failed = entry['isError'] === true ? ' (error)' : '';
    return `<details><summary>Tool result${name}${failed} · ${formatBytes(Buffer.byteLength(text))}</summary>\n\n${fence(text)}\n\n</details>`;
  }
  const heading = role.charAt(0).toUpperCase() + role.slice(1);
  return `### ${inline(heading)}${stamp(entry['ts'])}\n\n${contentBlocks(entry).join('\n\n')}`;
}

/** The document's head: title and facts. */
export function markdownHead(info: SessionInfo): string {
  const facts = [
    `- **Session:** \`${info.id}\``,
    ...(info.model === undefined ? [] : [`- **Model:** ${inline(info.model)}`]),
    ...(info.cwd === undefined ? [] : [`- **Folder:** \`${info.cwd.replace(/`/g, '')}\``]),
    `- **Created:** ${info.createdAt} · **Updated:** ${info.updatedAt}`,
    `- **Entries:** ${info.entryCount} · **Tokens:** ${info.usage.input} in, ${info.usage.output} out, ${info.usage.cacheRead + info.usage.cacheWrite} cached`,
    ...(info.parent === undefined ? [] : [`- **Forked from:** \`${info.parent.id}\``]),
  ];
  return `# ${inline(info.title ?? 'Untitled session')}\n\n${facts.join('\n')}\n\n---\n\n`;
}

/** One entry as a Markdown section, followed by a blank line. */
export function markdownEntry(entry: Entry): string {
  return `${renderEntry(entry)}\n\n`;
}
