// What only a server backend has: its URL and credentials, its errors, its schema version, many
// processes on one session, and a server that goes away and comes back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackedIds, codeOf, runChild } from '../../src/conformance/index.js';
import { openStore, type SessionStoreError } from '../../src/index.js';
import { freePort, PG_PASSWORD, type PgServer, pgBinDir, startPgServer } from '../helpers/pg-server.js';
import { freshPgUrl, PG_URL } from '../helpers/postgres.js';

async function errorOf(promise: Promise<unknown>): Promise<SessionStoreError> {
  try {
    await promise;
  } catch (err) {
    return err as SessionStoreError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(PG_URL === '')('PostgreSQL backend: connecting', () => {
  it('a malformed URL, another scheme or no database name: ERR_INVALID_OPTION before connecting', async () => {
    for (const url of ['not a url', 'mysql://h/db', 'postgres://h:5432/']) {
      const err = await errorOf(openStore({ url }));
      expect(err.code, url).toBe('ERR_INVALID_OPTION');
    }
    expect((await errorOf(openStore({ url: PG_URL, dir: '/tmp' } as never))).code).toBe('ERR_INVALID_OPTION');
  });

  it('nobody listening: ERR_UNAVAILABLE naming the server, without the password', async () => {
    const port = await freePort();
    const err = await errorOf(openStore({ url: `postgres://postgres:${PG_PASSWORD}@127.0.0.1:${port}/postgres` }));
    expect(err.code).toBe('ERR_UNAVAILABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/is the server running/);
    expect(`${err.message} ${err.stack ?? ''}`).not.toContain(PG_PASSWORD);
  });

  it('a wrong password: ERR_AUTH saying where to fix it, never echoing either password', async () => {
    const url = PG_URL.replace(PG_PASSWORD, 'wrong-pw-77');
    const err = await errorOf(openStore({ url }));
    expect(err.code).toBe('ERR_AUTH');
    expect(err.message).toMatch(/pgpass/);
    expect(err.message).not.toContain('wrong-pw-77');
    expect(err.message).not.toContain(PG_PASSWORD);
  });

  it('a database that does not exist: ERR_UNAVAILABLE telling to create it', async () => {
    const err = await errorOf(openStore({ url: PG_URL.replace(/\/postgres$/, '/no_such_db') }));
    expect(err.code).toBe('ERR_UNAVAILABLE');
    expect(err.message).toMatch(/createdb/);
  });

  it('the location never holds the password; errors of calls name it', async () => {
    const store = await openStore({ url: await freshPgUrl() });
    expect(store.location).not.toContain(PG_PASSWORD);
    const err = await errorOf(store.read('nosuch'));
    expect(err.code).toBe('ERR_SESSION_NOT_FOUND');
    expect(err.message).toContain('127.0.0.1');
    expect(err.message).not.toContain(PG_PASSWORD);
    await store.close();
  });

  it('tables of a newer schema version are refused, and left alone', async () => {
    const url = await freshPgUrl();
    await (await openStore({ url })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("UPDATE sessionlog_meta SET value = '99' WHERE key = 'schema_version'");
    const err = await errorOf(openStore({ url }));
    expect(err.code).toBe('ERR_UNSUPPORTED_VERSION');
    expect((await client.query("SELECT value FROM sessionlog_meta WHERE key = 'schema_version'")).rows[0]).toEqual({ value: '99' });
    await client.end();
  });

  it('many processes opening a new database at once migrate it once', async () => {
    const url = await freshPgUrl();
    const stores = await Promise.all(Array.from({ length: 6 }, () => openStore({ url })));
    await stores[0]!.create({ id: 's' });
    expect(await stores[5]!.get('s')).toBeDefined();
    await Promise.all(stores.map((store) => store.close()));
  });
});

describe.skipIf(PG_URL === '')('PostgreSQL backend: many writers', () => {
  it('8 processes appending to one session: nothing lost or twice, each one’s order kept, no half batch ever visible', async () => {
    const url = await freshPgUrl();
    const store = await openStore({ url });
    await store.create({ id: 'many' });
    // A reader polling meanwhile sees whole batches only: every writer's entries are a prefix of its sequence.
    let reads = 0;
    let torn = 0;
    let done = false;
    const reader = (async () => {
      while (!done) {
        const contents = (await store.read('many')).entries.map((e) => String(e['content']));
        reads++;
        for (let w = 0; w < 8; w++) {
          const mine = contents.filter((c) => c.startsWith(`W${w}:`)).map((c) => Number(c.split(':')[1]));
          if (mine.some((n, i) => n !== i) || mine.length % 5 !== 0) torn++;
        }
      }
    })();
    const results = await Promise.all(Array.from({ length: 8 }, (_, w) => runChild({ url }, 'many', `W${w}`, 100, 5)));
    done = true;
    await reader;
    const contents = (await store.read('many')).entries.map((e) => String(e['content']));
    expect(contents).toHaveLength(800);
    for (let w = 0; w < 8; w++) expect(contents.filter((c) => c.startsWith(`W${w}:`))).toEqual(Array.from({ length: 100 }, (_, i) => `W${w}:${i}`));
    expect(new Set(results.flatMap((r) => ackedIds(r.lines))).size).toBe(800);
    expect(reads).toBeGreaterThan(0);
    expect(torn).toBe(0);
    await store.close();
  });
});

const bin = pgBinDir();
describe.skipIf(bin === undefined)('PostgreSQL backend: the server goes away (a server of its own)', () => {
  let server: PgServer;
  beforeAll(async () => {
    server = await startPgServer(bin as string);
  });
  afterAll(() => server.remove());

  it('a flush while the server is down rejects with ERR_UNAVAILABLE and keeps the entries; once it is back a flush writes each once', async () => {
    const store = await openStore({ url: server.url, flush: { maxEntries: 1000, intervalMs: 60_000 } });
    store.on('writeError', () => undefined);
    await store.create({ id: 's' });
    await store.append('s', [{ role: 'user', content: 'before' }]);
    await store.flush('s');
    await store.append('s', [{ role: 'user', content: 'during 1' }, { role: 'user', content: 'during 2' }]);
    server.stop();
    const err = await errorOf(store.flush('s'));
    expect(err.code).toBe('ERR_UNAVAILABLE');
    expect(err.message).not.toContain(PG_PASSWORD);
    // Sticky: the next append says so too, and nothing is dropped.
    expect(await codeOf(store.append('s', { role: 'user', content: 'x' }))).toBe('ERR_UNAVAILABLE');
    server.start();
    await store.flush('s');
    await store.flush('s');
    expect((await store.read('s')).entries.map((e) => e['content'])).toEqual(['before', 'during 1', 'during 2']);
    await store.close();
  });

  it('a stream read across a restart fails with ERR_UNAVAILABLE, and a new read after it succeeds', async () => {
    const store = await openStore({ url: server.url });
    await store.create({ id: 'big' });
    await store.append('big', Array.from({ length: 2500 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })));
    await store.flush('big');
    let count = 0;
    const err = await errorOf(
      (async () => {
        for await (const entry of store.stream('big')) {
          void entry;
          if (++count === 1000) server.stop();
        }
      })(),
    );
    expect(['ERR_UNAVAILABLE', 'ERR_IO']).toContain(err.code);
    server.start();
    expect((await store.read('big')).entries).toHaveLength(2500);
    await store.close();
  });
});
