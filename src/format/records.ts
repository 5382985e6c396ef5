/**
 * Turns decoded lines into what they mean to a session: the header, a bookkeeping update, an
 * entry, or a problem. Pure: the validator is passed in, the bytes come from elsewhere.
 */
import { type Decoded, describeIssues, type ProblemKind } from './codec.js';
import { readHeader } from './migrate.js';
import { type Header, RESERVED_TYPES, UPDATE_TYPE, type UpdateRecord, UpdateSchema } from './schema.js';

/** Validates one entry object; returns the value to hand to the caller or why it is invalid. */
export type EntryValidator<T> = (
  value: Record<string, unknown>,
) => { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** What one line of a session file is. */
export type Classified<T> =
  | { readonly kind: 'header'; readonly header: Header; readonly newer: boolean; readonly migratedFrom?: number }
  | { readonly kind: 'update'; readonly update: UpdateRecord }
  | { readonly kind: 'entry'; readonly entry: T; readonly id: string | undefined }
  | { readonly kind: 'blank' }
  | { readonly kind: 'problem'; readonly problem: ProblemKind; readonly message: string };

const BLANK = { kind: 'blank' } as const;

/** Classifies a decoded line. `first` is true for line 1, which must be the header. */
export function classifyLine<T>(decoded: Decoded, first: boolean, validate: EntryValidator<T>): Classified<T> {
  if (!decoded.ok) {
    if (decoded.blank) return BLANK;
    return first
      ? { kind: 'problem', problem: 'bad-header', message: `line 1 is not a session header (${decoded.message})` }
      : { kind: 'problem', problem: decoded.kind, message: decoded.message };
  }
  const value = decoded.value;
  if (first) {
    const result = readHeader(value);
    if (!result.ok) return { kind: 'problem', problem: 'bad-header', message: result.message };
    return result.migratedFrom === undefined
      ? { kind: 'header', header: result.header, newer: result.newer }
      : { kind: 'header', header: result.header, newer: result.newer, migratedFrom: result.migratedFrom };
  }
  const type = value['type'];
  if (type === UPDATE_TYPE) {
    const parsed = UpdateSchema.safeParse(value);
    return parsed.success
      ? { kind: 'update', update: parsed.data }
      : { kind: 'problem', problem: 'schema', message: `invalid session update (${describeIssues(parsed.error.issues)})` };
  }
  if (typeof type === 'string' && RESERVED_TYPES.has(type)) {
    return { kind: 'problem', problem: 'schema', message: `a second "${type}" line; only line 1 may be the header` };
  }
  // Entries written without a type (older tools, hand edits) are messages, as on append.
  const candidate = type === undefined ? { type: 'message', ...value } : value;
  const result = validate(candidate);
  if (!result.ok) return { kind: 'problem', problem: 'schema', message: result.message };
  const id = candidate['id'];
  return { kind: 'entry', entry: result.value, id: typeof id === 'string' ? id : undefined };
}
