/**
 * The corpora of docs/secrets.md. Planted: each kind in the contexts it shows up in (shell output,
 * config files, JSON tool results, prose). Clean: what transcripts are full of and must never be
 * taken for a secret. Deterministic (seeded), so the measured figures are reproducible.
 */
import { createHash } from 'node:crypto';
import { rng } from '../helpers/rng.mjs';

const random = rng(7);
const pick = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
const AZ09 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const az09 = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const b64 = `${az09}+/`;
const url = `${az09}_-`;

/** One planted secret: its kind, the text holding it, and the secret itself (which must not survive). */
export interface Planted {
  readonly kind: string;
  readonly text: string;
  readonly secret: string;
}

function variants(kind: string, make: () => string, contexts: readonly ((s: string) => string)[]): Planted[] {
  return contexts.flatMap((context) => Array.from({ length: 5 }, () => {
    const secret = make();
    return { kind, text: context(secret), secret };
  }));
}

const prose = (s: string) => `Here is the value you asked for: ${s} — keep it safe.`;
const json = (s: string) => JSON.stringify({ stdout: `token: ${s}\n`, exitCode: 0 });

/** Every kind of the built-in rules, 10–15 times each. */
export function plantedCorpus(): Planted[] {
  return [
    ...variants('aws-access-key-id', () => `AKIA${pick(AZ09, 16)}`, [(s) => `export AWS_ACCESS_KEY_ID=${s}`, prose, json]),
    ...variants('aws-secret-access-key', () => pick(b64, 40), [(s) => `aws_secret_access_key = ${s}`, (s) => `AWS_SECRET_ACCESS_KEY="${s}"`, (s) => `{"SecretAccessKey": "${s}"}`]),
    ...variants('github-token', () => `ghp_${pick(az09, 36)}`, [(s) => `GITHUB_TOKEN=${s}`, prose, (s) => `git clone https://x-access-token:${s}@github.com/o/r`]),
    ...variants('github-token', () => `github_pat_${pick(az09, 22)}_${pick(az09, 59)}`, [prose, json]),
    ...variants('openai-key', () => `sk-proj-${pick(url, 48)}1`, [(s) => `OPENAI_API_KEY=${s}`, prose, json]),
    ...variants('anthropic-key', () => `sk-ant-api03-${pick(url, 93)}AA`, [(s) => `ANTHROPIC_API_KEY=${s}`, prose, json]),
    ...variants('slack-token', () => `xoxb-${pick('0123456789', 12)}-${pick(az09, 24)}`, [prose, json]),
    ...variants('stripe-live-key', () => `sk_live_${pick(az09, 24)}`, [(s) => `STRIPE_KEY=${s}`, prose]),
    ...variants('google-api-key', () => `AIza${pick(url, 35)}`, [prose, json]),
    ...variants('npm-token', () => `npm_${pick(az09, 36)}`, [(s) => `//registry.npmjs.org/:_authToken=${s}`, prose]),
    ...variants('private-key', () => `-----BEGIN OPENSSH PRIVATE KEY-----\n${pick(b64, 64)}\n${pick(b64, 64)}\n-----END OPENSSH PRIVATE KEY-----`, [(s) => `$ cat ~/.ssh/id_ed25519\n${s}\n`, prose]),
    ...variants('jwt', () => `eyJ${pick(url, 20)}.eyJ${pick(url, 40)}.${pick(url, 43)}`, [(s) => `Authorization: Bearer ${s}`, json]),
    ...variants('url-password', () => `${pick(az09, 14)}9`, [(s) => `DATABASE_URL=postgres://app:${s}@db.internal:5432/app`, (s) => `redis://default:${s}@cache:6379`]),
    ...variants('secret-assignment', () => `${pick(az09, 20)}7q`, [(s) => `DB_PASSWORD=${s}`, (s) => `client_secret: "${s}"`, (s) => `export SENTRY_AUTH_TOKEN=${s}`]),
  ];
}

/** Text transcripts are full of, which must not be redacted: ids, hashes, encodings, code, prose. */
export function cleanCorpus(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 200; i++) {
    const sha = createHash('sha1').update(String(i)).digest('hex');
    const sha256 = createHash('sha256').update(String(i)).digest('hex');
    out.push(
      `commit ${sha}\nAuthor: Dev <dev@example.com>\n\n    Fix the exports map (${sha.slice(0, 7)})`,
      `uuid ${crypto.randomUUID()} and request id req_${pick(az09, 24)}`,
      `"integrity": "sha512-${pick(b64, 86)}=="`,
      `sha256:${sha256}`,
      `data:image/png;base64,${pick(b64, 400)}`,
      JSON.stringify({ type: 'thinking', thinking: 'Let me check.', signature: `Eq${pick(b64, 300)}` }),
      `const ${pick('abcdefghijklmnopqrstuvwxyz', 12)}WithAVeryLongIdentifierName${i} = createTokenizer({ maxTokens: 4096 });`,
      'This strategy is risk-free, uses a task-based skeleton, and asks for a password reset link.',
      `The key insight: set tokenBudget = ${i * 100} and passwordPolicy = "strict"; see docs/api-keys.md.`,
      `token_count=${i * 37} api_key_id=${i} secret_name=prod-db-password`,
      'const password = process.env.DB_PASSWORD; const token = await getToken();',
      `export GITHUB_TOKEN=\${{ secrets.GITHUB_TOKEN }} OPENAI_API_KEY=<your-key-here> password=changeme`,
      `https://github.com/${pick('abcdefghij', 8)}/repo/blob/${sha}/src/index.ts#L${i}`,
      `file:///home/dev/project/node_modules/.pnpm/pkg@1.0.${i}/node_modules/pkg/index.js`,
      `sk-${i} and skip-list, task-${pick('0123456789', 6)}, disk-free space`,
      `base64 blob: ${pick(b64, 120)}`,
    );
  }
  return out;
}
