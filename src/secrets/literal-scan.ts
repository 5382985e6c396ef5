/**
 * Whether a text holds any of many literals, found at once: the redaction trigger, which every
 * entry's JSON goes through before it is written. A regex alternation of the trigger's literals
 * tries each one at every character: ~2 ns a byte, a fifth of a concurrent append's time
 * (docs/performance.md). Here a WebAssembly SIMD loop (fingerprint.wat) looks at 16 positions a
 * step for a three-character fingerprint of each literal, and only the few positions it lets
 * through are checked in JavaScript: ~0.3 ns a byte, copy included.
 *
 * The text is copied into the module's memory as Latin-1: each UTF-16 unit becomes one byte at
 * the same index (units above 0xFF keep their low byte, which can only add candidates, never
 * hide an ASCII literal), so a candidate is checked on the string itself at that index.
 */
import { FINGERPRINT_WASM } from './fingerprint-wasm.js';

/** Literals that share a bucket of the scan. */
export interface LiteralGroup {
  /** ASCII literals, each at least `at` + 3 characters long. */
  readonly literals: readonly string[];
  /**
   * Where each literal's three-character fingerprint starts: a rare part of it (`pm_` of `npm_`)
   * makes fewer candidates to check than a common one (`npm`). 0 when absent.
   */
  readonly at?: number;
  /**
   * A sticky regex that must match where a literal starts for the group to count (`key` only
   * when given a value). Its source must begin with the group's literals, and it takes no flags
   * but `g` and `y`: the fallback regex uses its source alone.
   */
  readonly confirm?: RegExp;
}

/** Bytes 0-191: the nibble tables; 224: the bucket bits of the last candidate; text from 256. */
const TABLES = 192;
const MASK_AT = 224;
const TEXT_AT = 256;
/** Room the scan may read past the text's end (its three 16-byte loads). */
const SLACK = 32;
/** The longest piece of a text copied at once: memory grows to this, never to a whole 100 MB line. */
const CHUNK = 1 << 20;
const PAGE = 65_536;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly or its SIMD is unavailable (`--jitless`). */
function fingerprintModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(FINGERPRINT_WASM, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A regex that matches where any of `groups` does: the scan's fallback, and its reference in tests. */
export function literalsRegex(groups: readonly LiteralGroup[]): RegExp {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  const parts = groups.flatMap((g) => (g.confirm !== undefined ? [`(?:${g.confirm.source})`] : g.literals.map(escape)));
  return new RegExp(parts.join('|'));
}

/** Tests texts for any of up to 16 groups of literals. */
export class LiteralScan {
  readonly #groups: readonly LiteralGroup[];
  /** Literals' fingerprints are checked by bucket; without WebAssembly, this regex does it all. */
  readonly #fallback: RegExp | undefined;
  #scan: ((from: number, end: number) => number) | undefined;
  #memory: WebAssembly.Memory | undefined;
  #bytes: Buffer | undefined;

  constructor(groups: readonly LiteralGroup[]) {
    if (groups.length > 16) throw new RangeError('a LiteralScan takes at most 16 groups');
    for (const group of groups) {
      const at = group.at ?? 0;
      for (const literal of group.literals) {
        if (!/^[\x20-\x7e]+$/.test(literal) || literal.length < at + 3) throw new RangeError(`literal ${JSON.stringify(literal)} must be printable ASCII of at least ${at + 3} characters`);
      }
    }
    this.#groups = groups.map((g) => (g.confirm === undefined ? g : { ...g, confirm: new RegExp(g.confirm.source, `${g.confirm.flags.replace(/[gy]/g, '')}y`) }));
    const module = fingerprintModule();
    if (module === null) {
      this.#fallback = literalsRegex(groups);
      return;
    }
    const instance = new WebAssembly.Instance(module);
    this.#memory = instance.exports['memory'] as WebAssembly.Memory;
    this.#scan = instance.exports['scan'] as (from: number, end: number) => number;
    this.#bytes = Buffer.from(this.#memory.buffer);
    this.#bytes.set(nibbleTables(this.#groups), 0);
  }

  /** True when `text` holds a literal of some group (and, for a group with `confirm`, that matches there). */
  test(text: string): boolean {
    if (this.#fallback !== undefined) return this.#fallback.test(text);
    for (let start = 0; start < text.length; start += CHUNK) {
      if (this.#testChunk(text, start, Math.min(start + CHUNK, text.length))) return true;
    }
    return false;
  }

  /** Candidates whose fingerprint starts in [start, end) of `text`. */
  #testChunk(text: string, start: number, end: number): boolean {
    // Two characters past the end, so that fingerprints starting at its last positions are whole.
    const piece = start === 0 && end === text.length ? text : text.slice(start, end + 2);
    const bytes = this.#room(piece.length);
    bytes.write(piece, TEXT_AT, 'latin1');
    const scan = this.#scan as (from: number, end: number) => number;
    const stop = TEXT_AT + (end - start);
    for (let from = TEXT_AT; ; ) {
      const found = scan(from, stop);
      if (found < 0 || found >= stop) return false;
      if (this.#confirm(text, start + found - TEXT_AT, bytes.readUInt16LE(MASK_AT))) return true;
      from = found + 1;
    }
  }

  /** Whether a literal of a bucket in `buckets` starts its fingerprint at `index`. */
  #confirm(text: string, index: number, buckets: number): boolean {
    for (let bits = buckets; bits !== 0; bits &= bits - 1) {
      const group = this.#groups[31 - Math.clz32(bits & -bits)] as LiteralGroup;
      const start = index - (group.at ?? 0);
      if (start < 0) continue;
      if (group.confirm !== undefined) {
        // It begins with the group's literals: one sticky test says all.
        group.confirm.lastIndex = start;
        if (group.confirm.test(text)) return true;
        continue;
      }
      for (const literal of group.literals) if (text.startsWith(literal, start)) return true;
    }
    return false;
  }

  /** The module's memory as bytes, grown to hold `length` bytes of text. */
  #room(length: number): Buffer {
    const memory = this.#memory as WebAssembly.Memory;
    const need = TEXT_AT + length + SLACK;
    if (need > memory.buffer.byteLength) {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      // Growing detaches the old buffer: the view must be made anew.
      this.#bytes = Buffer.from(memory.buffer);
    }
    return this.#bytes as Buffer;
  }
}

/** The scan's tables: bit b of entry n says a literal of group b allows nibble n at that byte. */
function nibbleTables(groups: readonly LiteralGroup[]): Uint8Array {
  const tables = new Uint8Array(TABLES);
  groups.forEach((group, b) => {
    const set = b < 8 ? 0 : 96;
    const bit = 1 << b % 8;
    for (const literal of group.literals) {
      for (let k = 0; k < 3; k++) {
        const c = literal.charCodeAt((group.at ?? 0) + k);
        // Byte k's low-nibble table, then its high-nibble table.
        for (const index of [set + k * 32 + (c & 15), set + k * 32 + 16 + (c >> 4)]) tables[index] = (tables[index] as number) | bit;
      }
    }
  });
  return tables;
}
