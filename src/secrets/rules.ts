/**
 * The credential formats redacted by default, each a kind and a pattern. A rule with `group`
 * replaces only that capture group (the secret after its name or inside a URL), keeping the text
 * around it. Patterns are anchored on the formats' own prefixes or on context, never on "long
 * random-looking text" alone: UUIDs, hashes, commit ids, base64 images and thinking signatures
 * are what transcripts are full of, and must not match (docs/secrets.md has the measurements).
 */
import type { LiteralGroup } from './literal-scan.js';

/** One rule. */
export interface SecretRule {
  /** Short, stable, shown in markers and reports: `github-token`, `aws-access-key-id`, … */
  readonly kind: string;
  /** A global regex. */
  readonly pattern: RegExp;
  /** The capture group holding the secret; 0 (the whole match) when absent. */
  readonly group?: number;
  /** A last check of the secret (a value that looks random, not a placeholder). */
  readonly accept?: (secret: string) => boolean;
  /**
   * A cheap test that every match of `pattern` passes (a literal the pattern needs, or the part of
   * it after its slow prefix): a string that fails it is not searched with `pattern` at all.
   * Optional; a gate that could reject a real match would hide a secret, so keep it a necessary
   * condition (test/secrets/redact.test.ts checks every built-in rule's gate against its corpus).
   */
  readonly gate?: RegExp;
  /**
   * The gate as it reads in the JSON text of a whole entry, where a quote is `\"` and a newline
   * `\n`: the store tests an entry's JSON against every rule's at once before it walks the entry's
   * strings. Needed only when `gate` spells a character JSON escapes; `gate` is used otherwise.
   */
  readonly jsonGate?: RegExp;
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Placeholders people write where a secret goes. */
const PLACEHOLDER = /^(?:x+|\*+|\.+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_]+%|your[-_].*|changeme|password|secret|token|example.*|dummy.*|test.*|redacted.*|null|none|true|false|undefined)$/i;

/** A value that looks like a generated secret: long enough, varied, mixing letters and digits, not a placeholder or marker. */
export function looksRandom(value: string): boolean {
  if (value.length < 12 || PLACEHOLDER.test(value) || value.startsWith('[REDACTED')) return false;
  if (!/[A-Za-z]/.test(value) || !/[0-9]/.test(value)) return false;
  // A path or a sentence is not a key.
  if (/[/\\]/.test(value) && !/^[A-Za-z0-9+/=]+$/.test(value)) return false;
  return entropy(value) >= 3.2;
}

/** The word that makes a name a secret's: `…_TOKEN`, `db_password`, `apiKey`, … */
const SECRET_WORD = String.raw`(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?key|client[_-]?secret|credential)s?`;
/** What follows such a name in an assignment: `=` or `:`, maybe quotes, and a value of 12 or more characters (group 1). */
const ASSIGNED_VALUE = String.raw`\b["']?\s*(?:=|:)\s*["']?([^\s"'\`,;]{12,})`;
/**
 * The same in JSON text: a quote may be escaped (`\"`), and whitespace JSON escapes (tab, newline,
 * carriage return, form feed, vertical tab) is spelled `\t`, `\n`, `\r`, `\f`, `\u000b`. A value's
 * characters stay in the value's class when escaped (`\\`, `\u0001`), so its run is no shorter.
 */
const JSON_SPACE = String.raw`(?:\s|\\[tnrf]|\\u000b)`;
const JSON_QUOTE = String.raw`(?:\\?["'])?`;
const ASSIGNED_VALUE_IN_JSON = String.raw`\b${JSON_QUOTE}${JSON_SPACE}*(?:=|:)${JSON_SPACE}*${JSON_QUOTE}[^\s"'\`,;]{12,}`;
/** Names of assignments whose value is a secret: `GITHUB_TOKEN=…`, `db_password: …`, `apiKey = …`. */
const SECRET_NAME = String.raw`(?:[A-Za-z_][A-Za-z0-9_.-]*?)?${SECRET_WORD}`;
/** A URL's `user:password@`, after its scheme (group 1: the password). */
const URL_USERINFO = String.raw`:\/\/[^\s:@/]+:([^\s@/]+)@`;

/** The built-in rules, most specific first (a match is not matched again by a later rule). */
export const DEFAULT_RULES: readonly SecretRule[] = [
  { kind: 'private-key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----/g, gate: /-----BEGIN / },
  { kind: 'anthropic-key', pattern: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}/g, gate: /sk-ant-/ },
  { kind: 'openai-key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, accept: (s) => !s.startsWith('sk-ant-') && /\d/.test(s), gate: /sk-/ },
  { kind: 'github-token', pattern: /\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g, gate: /gh[posur]_|github_pat_/ },
  { kind: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g, gate: /A[KS]IA|ABIA|ACCA/ },
  {
    kind: 'aws-secret-access-key',
    pattern: /\b(?:aws_?secret_?access_?key|secret_?access_?key|SecretAccessKey)\b["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi,
    group: 1,
    gate: /access_?key/i,
  },
  { kind: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, gate: /xox[abposr]-/ },
  { kind: 'stripe-live-key', pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}\b/g, gate: /_live_/ },
  { kind: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, gate: /AIza/ },
  { kind: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g, gate: /npm_/ },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, gate: /\.eyJ/ },
  {
    kind: 'url-password',
    pattern: new RegExp(String.raw`\b[a-z][a-z0-9+.-]*${URL_USERINFO}`, 'gi'),
    group: 1,
    accept: (s) => !PLACEHOLDER.test(s) && !s.startsWith('[REDACTED'),
    // The scheme before `://` is the slow part (tried at every word); the rest is what must be there.
    gate: new RegExp(URL_USERINFO),
  },
  {
    kind: 'secret-assignment',
    pattern: new RegExp(String.raw`\b${SECRET_NAME}${ASSIGNED_VALUE}`, 'gi'),
    group: 1,
    accept: looksRandom,
    // The pattern without the lazy prefix of the name, which makes it slow (tried at every word).
    gate: new RegExp(`${SECRET_WORD}${ASSIGNED_VALUE}`, 'i'),
    jsonGate: new RegExp(`${SECRET_WORD}${ASSIGNED_VALUE_IN_JSON}`, 'i'),
  },
];

/** Words in the three cases they are written in (a case-sensitive test is twice as fast). */
const inThreeCases = (words: readonly string[]): string[] => words.flatMap((w) => [w, w[0]?.toUpperCase() + w.slice(1), w.toUpperCase()]);

/** `key` in the cases the trigger knows it in. */
const KEY_CASES = inThreeCases(['key']);

/**
 * `key` ending a name that is given a value, as it reads in JSON text: what every rule needing
 * the word `key` and none of the trigger's other literals needs (`API_KEY=…`, `"apiKey": …`).
 */
export const KEY_ASSIGNED = new RegExp(String.raw`(?:${KEY_CASES.join('|')})[sS]?\b${JSON_QUOTE}${JSON_SPACE}*(?:=|:)`);

/**
 * What some rule needs, in groups for {@link LiteralScan}: a string (or a whole entry's JSON)
 * with none of them is passed over at once. Case-sensitive, with the case variants spelled out
 * (measured 9 µs against 17 µs with the `i` flag on a 2.8 kB entry, docs/secrets.md). `at` puts
 * a group's fingerprint on its rarest three characters: `pm_` for `npm_`, which coding
 * transcripts say all the time. `key`, which code and prose are full of (every one of the 2,523
 * bench messages a bare `key` let through held nothing else), counts only as {@link KEY_ASSIGNED}.
 */
export const TRIGGER_GROUPS: readonly LiteralGroup[] = [
  { literals: KEY_CASES, confirm: KEY_ASSIGNED },
  { literals: inThreeCases(['secret']) },
  { literals: inThreeCases(['token']) },
  { literals: inThreeCases(['passw']), at: 2 },
  { literals: inThreeCases(['pwd']) },
  { literals: inThreeCases(['credential']), at: 2 },
  { literals: ['://'] },
  { literals: ['BEGIN '] },
  { literals: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AIza'] },
  { literals: ['sk-'] },
  { literals: ['npm_'], at: 1 },
  { literals: ['_live_'], at: 3 },
  { literals: ['ghp_', 'gho_', 'ghs_', 'ghu_', 'ghr_'], at: 1 },
  { literals: ['github_pat_'], at: 5 },
  { literals: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxr-', 'xoxs-'] },
  { literals: ['eyJ'] },
];

/**
 * {@link TRIGGER_GROUPS} with `key` counting whatever follows it: what a single string of an
 * entry is tested against, once the entry's JSON has passed (a rule's gate then decides).
 */
export const STRING_TRIGGER_GROUPS: readonly LiteralGroup[] = TRIGGER_GROUPS.map(({ literals, at }) => (at === undefined ? { literals } : { literals, at }));

/**
 * Every rule's gate in the JSON text of an entry, as one case-sensitive and one case-insensitive
 * regex; undefined when a rule has no gate (nothing then rules an entry out but {@link STRING_TRIGGER_GROUPS}).
 * Run only on an entry {@link TRIGGER_GROUPS} let through: over the
 * 2,523 bench messages (26.8 MB) that the trigger alone let through for a `key`, these took 128 ms
 * against 168 ms for the walk, and KEY_ASSIGNED 14.5 ms (docs/performance.md).
 */
export function entryGates(rules: readonly SecretRule[]): RegExp[] | undefined {
  const gates = rules.map((rule) => rule.jsonGate ?? rule.gate);
  if (gates.some((gate) => gate === undefined)) return undefined;
  const union = (ignoreCase: boolean): RegExp[] => {
    const sources = (gates as RegExp[]).filter((gate) => gate.ignoreCase === ignoreCase).map((gate) => `(?:${gate.source})`);
    return sources.length === 0 ? [] : [new RegExp(sources.join('|'), ignoreCase ? 'i' : '')];
  };
  return [...union(false), ...union(true)];
}
