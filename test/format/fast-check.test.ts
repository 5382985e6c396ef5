/**
 * The fast message check may only say "valid" where the built-in zod schema does; it must also
 * take the common shape (else it is only overhead).
 */
import { expect, test } from 'vitest';
import { isPlainMessage } from '../../src/format/fast-check.js';
import { MessageSchema, parseBuiltinEntry } from '../../src/format/schema.js';
import { generateTranscript, rng } from '../helpers/transcripts.js';

function stamp(entry: Record<string, unknown>, i: number): Record<string, unknown> {
  return { type: 'message', id: `e-${i}`, ts: '2026-11-02T09:00:00.000Z', ...entry };
}

const ODD: unknown[] = [undefined, null, Number.NaN, Number.POSITIVE_INFINITY, -1, -0, 0, 1.5, '', 'x', 'user', true, false, [], [1], {}, { type: 'text' }, { type: 'text', text: 1 }, { type: 'text', text: 'ok' }, [{ type: 'text', text: 'ok' }], [{ type: 'image', url: 'u' }], [{ type: 'text', text: 'a' }, 'b'], [{ id: 'c', name: 'n' }], [{ id: 1, name: 'n' }], { input: 1 }, { input: -1 }, { input: '1' }, { other: 'kept' }];
const FIELDS = ['type', 'id', 'ts', 'role', 'content', 'toolCalls', 'toolCallId', 'toolName', 'isError', 'usage', 'parentId', 'metadata', 'extra'];

test('generated messages take the fast path, and zod agrees on every one', () => {
  let fast = 0;
  let messages = 0;
  for (const seed of [1, 2, 3]) {
    generateTranscript({ seed, messages: 400, compactionAt: 200 }).forEach((entry, i) => {
      const value = entry['type'] === undefined ? stamp(entry, i) : { id: `c-${i}`, ts: 't', ...entry };
      if (value['type'] !== 'message') return;
      messages++;
      if (isPlainMessage(value)) {
        fast++;
        expect(parseBuiltinEntry(value).success).toBe(true);
      }
    });
  }
  expect(fast).toBe(messages);
});

test('never valid where zod says invalid: every field set to odd values, removed, or inherited', () => {
  const base = generateTranscript({ seed: 9, messages: 8 }).map((entry, i) => stamp(entry, i));
  const random = rng(11);
  let checked = 0;
  for (const message of base) {
    for (const field of FIELDS) {
      const variants: Record<string, unknown>[] = ODD.map((odd) => ({ ...message, [field]: odd }));
      const removed = { ...message };
      delete removed[field];
      variants.push(removed);
      const inherited = Object.create({ [field]: 'inherited' }) as Record<string, unknown>;
      Object.assign(inherited, removed);
      variants.push(inherited);
      for (const variant of variants) {
        checked++;
        if (isPlainMessage(variant)) expect(MessageSchema.safeParse(variant).success, `${field}: ${JSON.stringify(variant[field])}`).toBe(true);
      }
    }
    // Random combinations of two odd fields.
    for (let k = 0; k < 200; k++) {
      const a = FIELDS[Math.floor(random() * FIELDS.length)] as string;
      const b = FIELDS[Math.floor(random() * FIELDS.length)] as string;
      const variant = { ...message, [a]: ODD[Math.floor(random() * ODD.length)], [b]: ODD[Math.floor(random() * ODD.length)] };
      checked++;
      if (isPlainMessage(variant)) expect(MessageSchema.safeParse(variant).success).toBe(true);
    }
  }
  expect(checked).toBeGreaterThan(3000);
});
