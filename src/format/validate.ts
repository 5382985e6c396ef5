/** Entry validators: the built-in schema, or a caller's zod schema. */
import type { z } from 'zod';
import { describeIssues } from './codec.js';
import { isPlainMessage } from './fast-check.js';
import type { EntryValidator } from './records.js';
import { parseBuiltinEntry } from './schema.js';

// The built-in schemas are loose and transform nothing, so a valid value is returned as it is:
// no copy per line, and keys zod mishandles survive (it drops an own "__proto__"
// key, and its compiled parser even re-parents the result object).
const builtin: EntryValidator<unknown> = (value) => {
  if (isPlainMessage(value)) return { ok: true, value };
  const result = parseBuiltinEntry(value);
  return result.success ? { ok: true, value } : { ok: false, message: describeIssues(result.error.issues) };
};

/**
 * The validator for `schema`, or for the built-in schema when there is none. A caller's schema
 * may strip keys it does not know; the store's stamps (`type`, `id`, `ts`) are kept regardless.
 */
export function makeValidator<T>(schema: z.ZodType | undefined): EntryValidator<T> {
  if (schema === undefined) return builtin as EntryValidator<T>;
  return (value) => {
    const result = schema.safeParse(value);
    if (!result.success) return { ok: false, message: describeIssues(result.error.issues) };
    const data = result.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return { ok: false, message: 'the schema must produce an object' };
    }
    return { ok: true, value: { type: value['type'], id: value['id'], ts: value['ts'], ...data } as T };
  };
}
