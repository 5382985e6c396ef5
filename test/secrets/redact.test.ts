// Redaction before the write: every planted kind caught (recall per kind), nothing else touched
// (the sample sessions and a realistic clean corpus), markers stable within a store, the text
// around a secret kept; `redact: false` and custom rules; the scan and the rewrite of old sessions.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { DEFAULT_RULES } from '../../src/secrets/rules.js';
import { type Finding, Redactor } from '../../src/secrets/redact.js';
import { runCli } from '../cli/run.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { generateTranscript } from '../helpers/transcripts.js';
import { cleanCorpus, plantedCorpus } from './corpus.js';

const redactor = new Redactor(Buffer.alloc(32, 7));

describe('the built-in rules', () => {
  it('catch every planted secret of every kind, keeping the text around it', () => {
    const planted = plantedCorpus();
    const kinds = new Set(DEFAULT_RULES.map((rule) => rule.kind));
    expect(new Set(planted.map((p) => p.kind))).toEqual(kinds);
    const missed: string[] = [];
    for (const { kind, text, secret } of planted) {
      const found: Finding[] = [];
      const out = redactor.text(text, found);
      if (out.includes(secret) || !found.some((f) => f.kind === kind)) missed.push(`${kind}: ${text.slice(0, 40)}`);
      // Only the secret is replaced: what was before it is still there.
      expect(out.slice(0, text.indexOf(secret))).toBe(text.slice(0, text.indexOf(secret)));
    }
    expect(missed).toEqual([]);
  });

  it('have gates that every match passes: with or without them, the same output', () => {
    const ungated = new Redactor(Buffer.alloc(32, 7), undefined, DEFAULT_RULES.map(({ gate: _gate, ...rule }) => rule));
    expect(DEFAULT_RULES.every((rule) => rule.gate !== undefined)).toBe(true);
    const texts = [
      ...plantedCorpus().map((p) => p.text),
      ...cleanCorpus(),
      ...generateTranscript({ seed: 5, messages: 400 }).map((m) => JSON.stringify(m)),
      // Near misses the gates must still let through: the match starts well before the gate's text.
      'mysql://app_user:Zq8vN3kLp2Wr@db.internal/app',
      'MyServiceApiKeys = "k3J9x2LmQ8vR7tYp"',
    ];
    for (const rule of DEFAULT_RULES) {
      for (const text of texts) {
        for (const match of text.matchAll(rule.pattern)) expect(rule.gate?.test(match[0]), `${rule.kind}: ${match[0]}`).toBe(true);
      }
    }
    for (const text of texts) expect(redactor.text(text)).toBe(ungated.text(text));
  });

  it('rule out by the JSON of a whole entry only entries with nothing to redact', () => {
    // mayContain sees an entry's JSON, where a quote is \" and a newline \n; the walk sees the strings.
    const handMade = [
      'db_password:\n\t"Zq8vN3kLp2Wr9xT4"',
      "client_secret =\r\n 'Zq8vN3kLp2Wr9xT4'",
      'API_KEY\u000b=\f"Zq8vN3kLp2Wr9xT4"',
      // Only `key` names these: no other word of the trigger is there.
      'MyServiceApiKeys = "Zq8vN3kLp2Wr9xT4"',
      'private_key:\n  "Zq8vN3kLp2Wr9xT4"',
      '{"apiKey": "Zq8vN3kLp2Wr9xT4"}',
    ];
    const entriesOf = (text: string) => [
      { type: 'message', role: 'user', content: text },
      { type: 'tool', result: { stdout: `${text}\n`, lines: [text] } },
    ];
    for (const entry of handMade.flatMap(entriesOf)) {
      expect(JSON.stringify(redactor.value(entry))).not.toContain('Zq8vN3kLp2Wr9xT4');
      expect(redactor.mayContain(JSON.stringify(entry)), JSON.stringify(entry)).toBe(true);
    }
    let redacted = 0;
    for (const entry of [...plantedCorpus().map((p) => p.text), ...cleanCorpus()].flatMap(entriesOf)) {
      if (redactor.value(entry) === entry) continue;
      redacted++;
      expect(redactor.mayContain(JSON.stringify(entry)), JSON.stringify(entry).slice(0, 80)).toBe(true);
    }
    expect(redacted).toBe(2 * plantedCorpus().length);
    // Prose and code that only name a key (the common case behind the trigger) are ruled out at once.
    for (const content of ['Press the key twice; the token list is in keys.ts.', 'const key = map.get(id);', 'Object.keys(obj).map((key) => key)']) {
      expect(redactor.mayContain(JSON.stringify({ content }))).toBe(false);
    }
  });

  it('touch nothing in a clean corpus of ids, hashes, encodings, code and prose (0 false positives)', () => {
    const flagged = cleanCorpus().filter((text) => redactor.text(text) !== text);
    expect(flagged).toEqual([]);
  });

  it('touch nothing in the sample sessions', () => {
    const dir = path.resolve(import.meta.dirname, '../../sample-sessions');
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
      for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          continue;
        }
        expect(redactor.value(value)).toBe(value);
      }
    }
  });

  it('give one marker per secret and key: the same secret, the same marker; another key, another', () => {
    const a = redactor.text('GITHUB_TOKEN=ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1 and again ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
    const markers = a.match(/\[REDACTED:github-token:[0-9a-f]{8}\]/g);
    expect(markers).toHaveLength(2);
    expect(markers?.[0]).toBe(markers?.[1]);
    expect(new Redactor(Buffer.alloc(32, 8)).text('ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1')).not.toBe(markers?.[0]);
    // A marker is not redacted again.
    expect(redactor.text(a)).toBe(a);
  });
});

describe('openStore({ redact })', () => {
  it('redacts content, tool arguments and results, metadata and titles before anything is written', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    const secret = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
    const { id } = await store.create({ title: `deploy with ${secret}`, metadata: { env: { GITHUB_TOKEN: secret } } });
    await store.append(id, [
      { role: 'user', content: `use ${secret}` },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }], toolCalls: [{ id: 'c1', name: 'bash', arguments: { cmd: `curl -H "Authorization: token ${secret}"` } }] },
      { role: 'tool', toolCallId: 'c1', content: `export TOKEN=${secret}` },
    ]);
    await store.update(id, { metadata: { note: secret } });
    await store.close();
    const text = fs.readFileSync(path.join(dir, `${id}.jsonl`), 'utf8');
    expect(text).not.toContain(secret);
    expect(text.match(/\[REDACTED:github-token:[0-9a-f]{8}\]/g)?.length).toBe(6);
    expect(fs.statSync(path.join(dir, '.sessionlog-key')).mode & 0o777).toBe(0o600);
  });

  it('redact: false keeps everything; a function adds rules of your own', async () => {
    const off = await openStore({ dir: tempDir(), redact: false });
    const { id } = await off.create();
    const [kept] = await off.append(id, [{ role: 'user', content: 'AKIAABCDEFGHIJKLMNOP' }]);
    expect(kept?.['content']).toBe('AKIAABCDEFGHIJKLMNOP');
    await off.close();
    const custom = await openStore({ dir: tempDir(), redact: (text, mark) => text.replace(/\bACME-[0-9A-F]{8}\b/g, (s) => mark('acme-key', s)) });
    const session = await custom.create();
    const [entry] = await custom.append(session.id, [{ role: 'user', content: 'ACME-0123ABCD and AKIAABCDEFGHIJKLMNOP' }]);
    expect(entry?.['content']).toMatch(/^\[REDACTED:acme-key:[0-9a-f]{8}\] and \[REDACTED:aws-access-key-id:[0-9a-f]{8}\]$/);
    await custom.close();
  });

  it.skipIf(PG_URL === '')('redacts on PostgreSQL too, with the server\'s key', async () => {
    const url = await freshPgUrl();
    const a = await openStore({ url });
    const b = await openStore({ url });
    const { id } = await a.create();
    const [x] = await a.append(id, [{ role: 'user', content: 'xoxb-1234567890-abcdefghijklmnop' }]);
    const [y] = await b.append(id, [{ role: 'user', content: 'xoxb-1234567890-abcdefghijklmnop' }]);
    expect(x?.['content']).toMatch(/^\[REDACTED:slack-token:[0-9a-f]{8}\]$/);
    expect(y?.['content']).toBe(x?.['content']);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('sessionlog secrets / redact', () => {
  it('finds the secrets already on disk by session, line and kind, never printing them; redact replaces them', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, redact: false });
    await store.create({ id: 'old' });
    await store.append('old', [{ role: 'user', content: 'nothing here' }, { role: 'user', content: 'DB_PASSWORD=Zq8xV3mN5pL2kR7t and sk_live_abcdefghijklmnopqrstuvwx' }]);
    await store.create({ id: 'clean' });
    await store.append('clean', [{ role: 'user', content: 'risk-free' }]);
    await store.close();
    const scan = await runCli(['secrets'], { dir });
    expect(scan.code).toBe(1);
    expect(scan.stdout).toBe('old  line 3  stripe-live-key, secret-assignment\n');
    expect(scan.stdout + scan.stderr).not.toContain('Zq8xV3mN5pL2kR7t');
    const json = JSON.parse((await runCli(['secrets', 'old', '--json'], { dir })).stdout) as { found: unknown[] };
    expect(json.found).toEqual([{ session: 'old', line: 3, kinds: ['stripe-live-key', 'secret-assignment'] }]);
    const before = fs.readFileSync(path.join(dir, 'old.jsonl'), 'utf8').split('\n');
    const redact = await runCli(['redact', 'old'], { dir });
    expect(redact.code).toBe(0);
    expect(redact.stdout).toContain('line 3');
    const after = fs.readFileSync(path.join(dir, 'old.jsonl'), 'utf8').split('\n');
    expect(after[1]).toBe(before[1]);
    expect(after[2]).not.toContain('Zq8xV3mN5pL2kR7t');
    expect(after[2]).toContain('[REDACTED:stripe-live-key:');
    // No recovery file, no copy anywhere in the folder.
    for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
      const file = path.join(dir, name);
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(file, 'utf8')).not.toContain('Zq8xV3mN5pL2kR7t');
    }
    expect((await runCli(['secrets'], { dir })).code).toBe(0);
  });
});
