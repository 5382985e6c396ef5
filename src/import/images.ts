/**
 * Inline images of imported transcripts moved to artifacts: a screenshot pasted into Claude Code
 * or Codex sits in the transcript as base64 (often megabytes a line); imported, it is stored once
 * as an artifact and the entry keeps its ref. Forms recognised anywhere in an entry (message
 * content, tool results, kept raw payloads):
 * - Claude: `{ type: 'image', source: { type: 'base64', media_type, data } }`;
 * - Codex: `{ type: 'input_image', image_url: 'data:<type>;base64,<data>' }`, and sessionlog's
 *   mapping of it, `{ type: 'image', url: 'data:…' }`.
 */
import type { ArtifactInfo } from '../core/artifacts.js';

/** Stores bytes as an artifact of the session being imported. */
export type PutImage = (bytes: Buffer, mediaType: string | undefined) => Promise<ArtifactInfo>;

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w-]+=[^;,]*)*;base64,/;
/** Deeper than any transcript nests: a guard against pathological input, not a limit in practice. */
const MAX_DEPTH = 64;

/** `value` with every inline image replaced by its artifact ref; `value` itself when it has none. */
export async function moveInlineImages<T>(value: T, put: PutImage, depth = 0): Promise<T> {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out: unknown[] = [];
    for (const item of value as unknown[]) {
      const moved = await moveInlineImages(item, put, depth + 1);
      changed ||= moved !== item;
      out.push(moved);
    }
    return (changed ? out : value) as T;
  }
  const object = value as Record<string, unknown>;
  const image = await asArtifact(object, put);
  if (image !== undefined) return image as T;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    const moved = await moveInlineImages(item, put, depth + 1);
    changed ||= moved !== item;
    out[key] = moved;
  }
  return (changed ? out : value) as T;
}

/** The part that replaces an inline image, or undefined when `part` is not one. */
async function asArtifact(part: Record<string, unknown>, put: PutImage): Promise<Record<string, unknown> | undefined> {
  const source = part['source'];
  if (part['type'] === 'image' && typeof source === 'object' && source !== null && (source as Record<string, unknown>)['type'] === 'base64') {
    const { data, ...kept } = source as Record<string, unknown>;
    if (typeof data !== 'string') return undefined;
    const mediaType = typeof kept['media_type'] === 'string' ? kept['media_type'] : undefined;
    const info = await put(Buffer.from(data, 'base64'), mediaType);
    return { ...part, ref: info.ref, mediaType, source: { ...kept, type: 'artifact', size: info.size } };
  }
  for (const key of ['url', 'image_url']) {
    const url = part[key];
    if ((part['type'] !== 'image' && part['type'] !== 'input_image') || typeof url !== 'string') continue;
    const match = DATA_URL.exec(url);
    if (match === null) continue;
    const mediaType = match[1];
    const info = await put(Buffer.from(url.slice(match[0].length), 'base64'), mediaType);
    const replaced = { ...part, ref: info.ref, mediaType, [key]: `artifact:${info.ref}` };
    // sessionlog's Codex mapping keeps the raw part too: its copy of the URL goes the same way.
    const raw = part['codex'];
    return typeof raw === 'object' && raw !== null ? { ...replaced, codex: await moveInlineImages(raw, put) } : replaced;
  }
  return undefined;
}
