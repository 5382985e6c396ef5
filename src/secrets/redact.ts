/**
 * Redaction: every string of an entry (content, tool arguments and results, metadata, at any
 * depth) with each secret replaced by `[REDACTED:<kind>:<hash>]`, where the hash is the first 8
 * hex digits of an HMAC-SHA256 of the secret under the store's own key: the same secret always
 * gives the same marker in a store (you can tell two mentions are the same key), and the marker
 * tells nothing about the secret (the key never leaves the store). Pure apart from the HMAC.
 */
import { createHmac } from 'node:crypto';
import { LiteralScan } from './literal-scan.js';
import { DEFAULT_RULES, entryGates, type SecretRule, STRING_TRIGGER_GROUPS, TRIGGER_GROUPS } from './rules.js';

/** A marker for `secret` of `kind`. */
export type Mark = (kind: string, secret: string) => string;

/**
 * Your own rules, run after the built-in ones on every string: return the text with what you
 * consider secret replaced, using `mark` to make the marker.
 *
 * @example
 * ```ts
 * const redact: RedactFunction = (text, mark) => text.replace(/\bACME-[0-9A-F]{24}\b/g, (s) => mark('acme-key', s));
 * const store = await openStore({ dir, redact });
 * ```
 */
export type RedactFunction = (text: string, mark: Mark) => string;

/** What a scan found in one string: kinds and where, never the secret. */
export interface Finding {
  readonly kind: string;
  /** Offset of the secret in the string (UTF-16 units). */
  readonly index: number;
}

const MARKER = /\[REDACTED:[a-z0-9-]+:[0-9a-f]{8}\]/;

/** The scans of the trigger, one each for the process, made on first use (each holds a little memory). */
let entryScan: LiteralScan | undefined;
let stringScan: LiteralScan | undefined;
/** Tests an entry's JSON: `key` counts only when given a value. */
const scanOfEntries = (): LiteralScan => (entryScan ??= new LiteralScan(TRIGGER_GROUPS));
/** Tests one string: any `key` counts. */
const scanOfStrings = (): LiteralScan => (stringScan ??= new LiteralScan(STRING_TRIGGER_GROUPS));

/** Finds and replaces secrets with one key and one set of rules. */
export class Redactor {
  #key: Buffer | (() => Buffer);
  readonly #rules: readonly SecretRule[];
  readonly #custom: RedactFunction | undefined;
  readonly #gates: RegExp[] | undefined;

  /** @param key the store's key, or a function that gets it: called on the first secret found (a store with none never makes one). */
  constructor(key: Buffer | (() => Buffer), custom?: RedactFunction, rules: readonly SecretRule[] = DEFAULT_RULES) {
    this.#key = key;
    this.#custom = custom;
    this.#rules = rules;
    this.#gates = entryGates(rules);
  }

  /** The marker of `secret`. */
  readonly mark: Mark = (kind, secret) => {
    if (typeof this.#key === 'function') this.#key = this.#key();
    return `[REDACTED:${kind.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}:${createHmac('sha256', this.#key).update(secret).digest('hex').slice(0, 8)}]`;
  };

  /**
   * False when `text` (or the JSON of a whole entry) holds nothing any rule looks for: the common
   * case, settled by one scan of the text (and a regex test or two) instead of a walk of every
   * string. Rather than the trigger alone, which let 12% of the bench's messages (47% of its bytes)
   * through to the walk for a mere `key`, a `key` counts only when given a value, and then every rule's gate
   * decides: 125 ms per 57 MB against 272 (docs/performance.md). The groups are looked for all at
   * once by {@link LiteralScan}: 37–40 ms per 57 MB against 137–140 for them as regexes
   * (docs/secrets.md). Custom rules are always run.
   */
  mayContain(text: string): boolean {
    if (this.#custom !== undefined) return true;
    if (this.#gates === undefined) return scanOfStrings().test(text);
    if (!scanOfEntries().test(text)) return false;
    return this.#gates.some((gate) => gate.test(text));
  }

  /** `text` with its secrets replaced, and what was replaced. */
  text(text: string, found?: Finding[]): string {
    let out = text;
    if (scanOfStrings().test(text)) {
      for (const rule of this.#rules) out = this.#apply(rule, out, found);
    }
    if (this.#custom !== undefined) {
      const custom = this.#custom(out, this.mark);
      if (typeof custom === 'string' && custom !== out) {
        if (found !== undefined && custom.length !== out.length) found.push({ kind: 'custom', index: 0 });
        out = custom;
      }
    }
    return out;
  }

  /** `value` with every string inside redacted; the same object when nothing changed (no copy). */
  value<T>(value: T, found?: Finding[]): T {
    return this.#walk(value, found, 0) as T;
  }

  #walk(value: unknown, found: Finding[] | undefined, depth: number): unknown {
    if (typeof value === 'string') return this.text(value, found);
    if (typeof value !== 'object' || value === null || depth > 64) return value;
    if (Array.isArray(value)) {
      const items = value as unknown[];
      let copy: unknown[] | undefined;
      items.forEach((item, i) => {
        const next = this.#walk(item, found, depth + 1);
        if (next !== item) (copy ??= [...items])[i] = next;
      });
      return copy ?? items;
    }
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const next = this.#walk(item, found, depth + 1);
      if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
    }
    return copy ?? value;
  }

  #apply(rule: SecretRule, text: string, found: Finding[] | undefined): string {
    // Most strings that pass the trigger hold one rule's word, not every rule's: the gates spare
    // the slow patterns (docs/secrets.md).
    if (rule.gate !== undefined && !rule.gate.test(text)) return text;
    rule.pattern.lastIndex = 0;
    return text.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      const offset = rest.find((r) => typeof r === 'number') as number;
      const secret = rule.group === undefined ? match : (rest[rule.group - 1] as string | undefined);
      if (secret === undefined || secret === '' || MARKER.test(secret)) return match;
      if (rule.accept !== undefined && !rule.accept(secret)) return match;
      const at = rule.group === undefined ? 0 : match.lastIndexOf(secret);
      found?.push({ kind: rule.kind, index: offset + at });
      return `${match.slice(0, at)}${this.mark(rule.kind, secret)}${match.slice(at + secret.length)}`;
    });
  }
}

/** The redactor a store's `redact` option asks for, with the store's key; undefined when off. */
export function redactorFor(setting: boolean | RedactFunction, key: () => Buffer): Redactor | undefined {
  if (setting === false) return undefined;
  return new Redactor(key, typeof setting === 'function' ? setting : undefined);
}
