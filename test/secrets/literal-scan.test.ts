// The redaction trigger's WebAssembly scan: the same answer as the regex of the same literals on
// every kind of text (random mixes of literals, near misses and non-Latin-1 characters, literals
// at every offset of a 16-byte step, across the 1 MiB pieces of a long text, after a longer text
// left its bytes in memory), the regex fallback without WebAssembly, and the committed module
// being the one its source compiles to.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFingerprint } from '../../scripts/build-wasm.mjs';
import { FINGERPRINT_WASM } from '../../src/secrets/fingerprint-wasm.js';
import { type LiteralGroup, LiteralScan, literalsRegex } from '../../src/secrets/literal-scan.js';
import { STRING_TRIGGER_GROUPS, TRIGGER_GROUPS } from '../../src/secrets/rules.js';

const scan = new LiteralScan(TRIGGER_GROUPS);
const reference = literalsRegex(TRIGGER_GROUPS);

/** A deterministic generator (mulberry32): failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every literal, parts of them, and characters whose low byte is an ASCII letter of one. */
function vocabulary(): string[] {
  const literals = TRIGGER_GROUPS.flatMap((g) => g.literals);
  const parts = literals.flatMap((l) => [l.slice(0, -1), l.slice(1), l.slice(1, -1)]).filter((p) => p.length > 0);
  // U+016B and U+0165 keep the low bytes of `k` and `e`; U+2028 keeps `(`, U+3000 a NUL.
  const lookalikes = ['\u016bey', 'k\u0165y', 'sk\u012d', '\u00a0', '\u2028', '\u3000', '\ufeff', '—', '😀', 'é'];
  const glue = ['=', ':', ' ', '"', "'", '\\"', '\\n', '\\t', '\\u000b', 's', 'S', '_', '-', 'x', '9', '\n', ','];
  return [...literals, ...parts, ...lookalikes, ...glue, 'the quick brown fox', 'const [key, value]'];
}

describe('LiteralScan over the trigger groups', () => {
  it.each([
    ['an entry', TRIGGER_GROUPS],
    ['a string (any `key`)', STRING_TRIGGER_GROUPS],
  ])('answers as the regex of the same literals on 20,000 random mixes: the groups for %s', (_, groups) => {
    const words = vocabulary();
    const next = random(17);
    const groupScan = new LiteralScan(groups);
    const regex = literalsRegex(groups);
    let found = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const count = 1 + Math.floor(next() * 12);
      for (let k = 0; k < count; k++) text += words[Math.floor(next() * words.length)] as string;
      const expected = regex.test(text);
      if (expected) found++;
      expect(groupScan.test(text), JSON.stringify(text)).toBe(expected);
    }
    // Both answers are common, so the comparison means something either way.
    expect(found).toBeGreaterThan(2_000);
    expect(found).toBeLessThan(18_000);
  });

  it('finds every literal at every offset of a 16-byte step, and at the very end of the text', () => {
    for (const literal of TRIGGER_GROUPS.flatMap((g) => (g.confirm === undefined ? g.literals : g.literals.map((l) => `${l}=`)))) {
      for (let before = 0; before < 40; before++) {
        const text = `${'.'.repeat(before)}${literal}`;
        expect(scan.test(text), text).toBe(true);
        expect(scan.test(`${text}..`), text).toBe(true);
        // One character short of the literal is not it.
        expect(scan.test(text.slice(0, -1)), text).toBe(reference.test(text.slice(0, -1)));
      }
    }
  });

  it('counts any `key` in the groups for single strings', () => {
    expect(new LiteralScan(STRING_TRIGGER_GROUPS).test('const [key, value]')).toBe(true);
    expect(literalsRegex(STRING_TRIGGER_GROUPS).test('const [key, value]')).toBe(true);
  });

  it('counts `key` only when it is given a value', () => {
    for (const text of ['"apiKey": "x"', 'API_KEY=x', 'keys = 1', "key\\u000b\\t='x'", 'Key\u00a0:']) expect(scan.test(text), text).toBe(true);
    for (const text of ['const [key, value]', '${key}', 'monkey business', 'keyboard: 1', 'key']) expect(scan.test(text), text).toBe(false);
  });

  it('ignores the bytes a longer text left behind in memory', () => {
    // "token" at index 10 of the long text; the short one ends just before where its fingerprint was.
    expect(scan.test(`${'.'.repeat(10)}token${'.'.repeat(100)}`)).toBe(true);
    expect(scan.test('.'.repeat(10))).toBe(false);
    expect(scan.test(`${'.'.repeat(10)}to`)).toBe(false);
  });

  it('finds a literal across the 1 MiB pieces of a long text, and nothing in a long clean one', () => {
    const piece = 1 << 20;
    const clean = 'the quick brown fox jumps; '.repeat(Math.ceil((2.5 * piece) / 27)).slice(0, 2.5 * piece);
    expect(scan.test(clean)).toBe(false);
    for (const at of [piece - 5, piece - 2, piece - 1, piece, 2 * piece - 3, clean.length - 6]) {
      const text = `${clean.slice(0, at)}secret${clean.slice(at + 6)}`;
      expect(scan.test(text), `secret at ${at}`).toBe(true);
    }
  });

  it('takes custom groups, and refuses what it cannot scan', () => {
    const groups: LiteralGroup[] = [{ literals: ['ACME-'] }, { literals: ['xyzzy'], at: 2 }];
    const custom = new LiteralScan(groups);
    expect(custom.test('an ACME-1 key')).toBe(true);
    expect(custom.test('a xyzzy here')).toBe(true);
    expect(custom.test('acme- zzy')).toBe(false);
    expect(() => new LiteralScan([{ literals: ['ab'] }])).toThrow(RangeError);
    expect(() => new LiteralScan([{ literals: ['abcd'], at: 2 }])).toThrow(RangeError);
    expect(() => new LiteralScan([{ literals: ['clé!'] }])).toThrow(RangeError);
    expect(() => new LiteralScan(Array.from({ length: 17 }, () => ({ literals: ['abc'] })))).toThrow(RangeError);
  });
});

describe('the module', () => {
  it('is the one fingerprint.wat compiles to (run node scripts/build-wasm.mjs after editing it)', async () => {
    expect(await compileFingerprint()).toBe(FINGERPRINT_WASM);
  });

  it('falls back to the regex where WebAssembly is off (node --jitless), with the same answers', () => {
    const dist = path.resolve('dist/secrets');
    expect(fs.existsSync(path.join(dist, 'literal-scan.js')), 'npm test builds dist first').toBe(true);
    const script = `
      import { LiteralScan } from ${JSON.stringify(path.join(dist, 'literal-scan.js'))};
      import { TRIGGER_GROUPS } from ${JSON.stringify(path.join(dist, 'rules.js'))};
      const scan = new LiteralScan(TRIGGER_GROUPS);
      console.log(JSON.stringify([typeof WebAssembly, scan.test('API_KEY=x'), scan.test('x ghp_y'), scan.test('const [key, v]')]));`;
    const out = execFileSync(process.execPath, ['--jitless', '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(JSON.parse(out)).toEqual(['undefined', true, true, false]);
  });
});
