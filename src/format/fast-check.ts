/**
 * A hand-written check for the common shape of a `message` entry, run before the compiled zod
 * parser. It only ever says "valid" for values MessageSchema accepts (a plain subset: known fields
 * of the plain types, text parts); anything else, valid or not, goes to zod, whose verdict and
 * messages stand. Zod's compiled parser also builds an output copy that the store throws away:
 * this check costs a fraction of it on every append and every line read (docs/performance.md).
 * test/format/fast-check.test.ts holds it to zod's verdict.
 */

const ROLES: ReadonlySet<unknown> = new Set(['system', 'user', 'assistant', 'tool']);
const USAGE_KEYS: ReadonlySet<string> = new Set(['input', 'output', 'cacheRead', 'cacheWrite', 'total']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isTextParts(content: unknown[]): boolean {
  for (const part of content) {
    if (!isObject(part) || part['type'] !== 'text' || typeof part['text'] !== 'string') return false;
  }
  return true;
}

function isToolCalls(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const call of value) {
    if (!isObject(call) || typeof call['id'] !== 'string' || typeof call['name'] !== 'string') return false;
  }
  return true;
}

function isUsage(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const key in value) {
    if (USAGE_KEYS.has(key) && !isCount(value[key])) return false;
  }
  return true;
}

/** True only when `value` is a message entry MessageSchema accepts; false means "ask zod". */
export function isPlainMessage(value: Record<string, unknown>): boolean {
  if (value['type'] !== 'message' || !ROLES.has(value['role'])) return false;
  const content = value['content'];
  if (typeof content !== 'string' && !(Array.isArray(content) && isTextParts(content))) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    const field = value[key];
    switch (key) {
      case 'id':
      case 'ts':
        if (typeof field !== 'string' || field.length === 0) return false;
        break;
      case 'toolCallId':
      case 'toolName':
      case 'parentId':
        if (typeof field !== 'string') return false;
        break;
      case 'isError':
        if (typeof field !== 'boolean') return false;
        break;
      case 'toolCalls':
        if (!isToolCalls(field)) return false;
        break;
      case 'usage':
        if (!isUsage(field)) return false;
        break;
      case 'metadata':
        // A record: left to zod, which knows exactly what it accepts.
        return false;
      default:
      // type, role, content (checked above) and unknown fields, which the loose schema keeps.
    }
  }
  return true;
}
