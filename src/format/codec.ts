/**
 * Encodes entries to lines and decodes lines to JSON objects, reporting what is wrong with a bad
 * line by kind and position only. Pure: no fs. A problem's message never quotes the line, because
 * transcripts hold secrets.
 */

/** What can be wrong with a line. */
export type ProblemKind =
  | 'torn-tail'
  | 'invalid-utf8'
  | 'nul-bytes'
  | 'invalid-json'
  | 'not-an-object'
  | 'conflict-marker'
  | 'schema'
  | 'oversize'
  | 'duplicate-id'
  | 'bad-header';

/**
 * A line the store could not use. `line` counts from 1 (the header is line 1); it is absent when
 * the file was read backwards (`tail`, `fromCompaction`), where line numbers are not known.
 */
export interface Problem {
  readonly line?: number;
  /** Byte offset of the line's first byte. */
  readonly offset: number;
  readonly kind: ProblemKind;
  /** What is wrong, without the line's content. */
  readonly message: string;
}

/** The result of decoding one line. */
export type Decoded =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly blank: true }
  | { readonly ok: false; readonly blank: false; readonly kind: ProblemKind; readonly message: string };

const BLANK: Decoded = { ok: false, blank: true };
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });
const CONFLICT_MARKER = /^(<{7}|={7}|>{7}|\|{7})( |\r?$)/;

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) {
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

function fail(kind: ProblemKind, message: string): Decoded {
  return { ok: false, blank: false, kind, message };
}

/**
 * Decodes one line (without its `\n`). Tolerates a UTF-8 BOM when `first` (line 1), a trailing
 * `\r` (CRLF files) and blank lines.
 */
export function decodeLine(bytes: Buffer, first = false): Decoded {
  let body = bytes;
  if (first && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  if (isBlank(body)) return BLANK;
  if (body.indexOf(0) !== -1) return fail('nul-bytes', 'line contains NUL bytes (an interrupted write?)');
  let text = body.toString('utf8');
  // toString() replaces invalid bytes with U+FFFD silently; only then is the strict decoder worth running.
  if (text.includes('\uFFFD')) {
    try {
      text = fatalDecoder.decode(body);
    } catch {
      return fail('invalid-utf8', 'line is not valid UTF-8');
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (CONFLICT_MARKER.test(text)) return fail('conflict-marker', 'git merge-conflict marker');
    return fail('invalid-json', 'line is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not-an-object', 'line is JSON but not an object');
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Serialises one record as a line, with its `\n`. Stringified once: the result is what is written. */
export function encodeLine(record: unknown): string {
  return `${encodeJson(record)}\n`;
}

/**
 * Serialises one record as the text of a line, without its `\n`. The append path adds the `\n`
 * as a byte while encoding into its batch buffer: `json + '\n'` makes a cons string that must be
 * flattened — copied once more — before it can be encoded (a tenth of an append's time).
 * Throws what JSON.stringify throws (deep nesting, cycles, BigInt).
 */
export function encodeJson(record: unknown): string {
  return JSON.stringify(record);
}

/** Describes zod issues by path and code only: zod messages may echo received values. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; code: string }[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(entry)';
    return `${path}: ${issue.code.replaceAll('_', ' ')}`;
  });
  const more = issues.length > 3 ? ` and ${issues.length - 3} more` : '';
  return shown.join('; ') + more;
}
