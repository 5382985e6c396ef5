/**
 * What search matches: the matcher (raw-byte pre-filter and text match), the text of an entry that
 * is searched, and the snippet shown around a hit. Pure: no fs.
 */
import type { SearchOptions } from '../core/types.js';

/** Characters of context either side of a hit in a snippet. */
const CONTEXT = 60;
/** Longest hit shown in a snippet (a regex can match a lot). */
const MAX_HIT = 200;
/** Entry fields that are structure, not text: a search for "user" must not hit every user message. */
const STRUCTURAL = new Set(['type', 'id', 'ts', 'role', 'toolCallId', 'parentId', 'firstKeptEntryId', 'usage']);
const PART_STRUCTURAL = new Set(['type', 'id', 'mediaType']);
const MAX_DEPTH = 32;

/** Finds a query in text, and optionally pre-filters raw bytes. */
export interface Matcher {
  /**
   * Prepares a raw-byte scan of `buf[start, end)`, returning the function that gives the next
   * candidate position at or after `from` (or -1). Undefined when every line must be decoded.
   */
  readonly scanner: ((buf: Buffer, start: number, end: number) => (from: number) => number) | undefined;
  /** [start, end) of the first hit in `text`, or undefined. */
  find(text: string): readonly [number, number] | undefined;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds the matcher; throws ERR_INVALID_OPTION for an invalid regex or an empty query. */
export function makeMatcher(query: string, options: Pick<SearchOptions, 'regex' | 'ignoreCase'>): Matcher {
  if (options.regex !== true && options.ignoreCase !== true) {
    const needle = Buffer.from(JSON.stringify(query).slice(1, -1));
    return {
      scanner: (buf, _start, end) => (from) => {
        const at = buf.indexOf(needle, from);
        return at === -1 || at + needle.length > end ? -1 : at;
      },
      find: (text) => {
        const at = text.indexOf(query);
        return at === -1 ? undefined : [at, at + query.length];
      },
    };
  }
  const source = options.regex === true ? query : escapeRegex(query);
  const flags = options.ignoreCase === true ? 'iu' : 'u';
  const regex = new RegExp(source, flags);
  // When every match in decoded text is also a match in the raw bytes, the raw bytes can be
  // scanned first: case-insensitive plain ASCII text (looked for as its JSON escape), and
  // regexes that can only match literal ASCII text (see rawSafe).
  const rawFlags = options.ignoreCase === true ? 'gi' : 'g';
  let raw: RegExp | undefined;
  if (options.regex !== true && /^[\x20-\x7e]*$/.test(query)) raw = new RegExp(escapeRegex(JSON.stringify(query).slice(1, -1)), rawFlags);
  else if (options.regex === true && rawSafe(query)) raw = new RegExp(query, rawFlags);
  return {
    scanner:
      raw === undefined
        ? undefined
        : (buf, start, end) => {
            // latin1: one character per byte, so string indexes are byte offsets.
            const text = buf.toString('latin1', start, end);
            return (from) => {
              raw.lastIndex = from - start;
              const hit = raw.exec(text);
              return hit === null ? -1 : start + hit.index;
            };
          },
    find: (text) => {
      const hit = regex.exec(text);
      if (hit === null) return undefined;
      // An empty match (e.g. /x*/) still marks the position.
      return [hit.index, hit.index + hit[0].length];
    },
  };
}

/**
 * Whether a regex can only match text the JSON encoder leaves as it is, so that a match in an
 * entry's decoded text is also a match in the line's raw bytes: printable ASCII, no `"` or `\\`,
 * no `.`, negated or ranged classes, `\\s`-like classes, anchors, word boundaries or lookarounds
 * (those can match or depend on characters JSON escapes, like a newline). Conservative: a regex
 * that fails this is still searched, by decoding every line.
 */
export function rawSafe(source: string): boolean {
  if (!/^[\x20-\x7e]*$/.test(source)) return false;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if ('sSwWdDbBntrfvuxc0pPk\\"'.includes(next) && !(next === 'd' || next === 'w')) return false;
      i++;
      continue;
    }
    if (ch === '"') return false;
    if (inClass) {
      // A range is safe between letters or digits ([a-z], [0-9]); `[ -~]` would take in `"` and `\\`.
      const alnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
      if (ch === '-' && source[i - 1] !== '[' && source[i + 1] !== ']' && !(alnum(source[i - 1]) && alnum(source[i + 1]))) return false;
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      if (source[i + 1] === '^') return false;
      inClass = true;
    } else if (ch === '.' || ch === '^' || ch === '$') {
      return false;
    } else if (ch === '(' && source[i + 1] === '?' && source[i + 2] !== ':') {
      return false;
    }
  }
  return true;
}

function collect(value: unknown, out: string[], depth: number): void {
  if (typeof value === 'string') out.push(value);
  else if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  else if (Array.isArray(value)) for (const item of value) collect(item, out, depth + 1);
  else for (const key of Object.keys(value)) collect((value as Record<string, unknown>)[key], out, depth + 1);
}

/** The text of an entry that search looks at: every string value but the structural fields. */
export function searchableText(entry: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(entry)) {
    if (STRUCTURAL.has(key)) continue;
    const value = entry[key];
    if ((key === 'content' || key === 'toolCalls') && Array.isArray(value)) {
      for (const part of value) {
        if (typeof part !== 'object' || part === null || Array.isArray(part)) collect(part, out, 1);
        else for (const [k, v] of Object.entries(part as Record<string, unknown>)) if (!PART_STRUCTURAL.has(k)) collect(v, out, 2);
      }
    } else {
      collect(value, out, 1);
    }
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

function oneLine(text: string): string {
  return text.replace(CONTROL, ' ').replace(/\s+/g, ' ');
}

/** A one-line snippet of `text` around [start, end), with the hit's place in it. */
export function snippetOf(text: string, start: number, end: number): { snippet: string; match: [number, number] } {
  const before = oneLine(text.slice(Math.max(0, start - CONTEXT * 2), start)).slice(-CONTEXT);
  let hit = oneLine(text.slice(start, end));
  if (hit.length > MAX_HIT) hit = `${hit.slice(0, MAX_HIT)}…`;
  const after = oneLine(text.slice(end, end + CONTEXT * 2)).slice(0, CONTEXT);
  const lead = start - before.length > 0 ? '…' : '';
  const trail = end + after.length < text.length ? '…' : '';
  const snippet = lead + before + hit + after + trail;
  const at = lead.length + before.length;
  return { snippet, match: [at, at + hit.length] };
}

