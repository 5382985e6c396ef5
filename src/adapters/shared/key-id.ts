/**
 * Session ids for an SDK's keys. SDK keys (a Claude project key and session id, a LangGraph
 * thread id) may hold any character; a sessionlog id is `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 128.
 * The id is the key made safe and readable, then a hash of the exact key, so two keys that read
 * the same (`a/b` and `a_b`) still get two sessions, and `sessionlog show <sdk id>` finds the
 * session by prefix. The exact key is kept in the session's metadata as well.
 */
import { createHash } from 'node:crypto';
import { MAX_ID_LENGTH } from '../../core/ids.js';

/** Hex digits of the key's hash in the id: 48 bits. */
const HASH_CHARS = 12;

/** `text` with every character outside the id alphabet as `_`, runs collapsed. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * The session id of an SDK key: its readable parts joined by `.`, cut to fit, then `.` and a hash
 * of `namespace`, every part and the `hidden` ones (parts of the key not worth showing in the id).
 */
export function sessionIdFor(namespace: string, parts: readonly string[], hidden: readonly string[] = []): string {
  const hash = createHash('sha256').update(JSON.stringify([namespace, ...parts, ...hidden])).digest('hex').slice(0, HASH_CHARS);
  let readable = slug(parts.filter((part) => part !== '').join('.')).slice(0, MAX_ID_LENGTH - HASH_CHARS - 1);
  if (!/^[A-Za-z0-9]/.test(readable)) readable = `k${readable}`.slice(0, MAX_ID_LENGTH - HASH_CHARS - 1);
  return `${readable.replace(/[._-]+$/, '')}.${hash}`;
}
