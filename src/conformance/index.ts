/**
 * `sessionlog/conformance`: the tests every {@link SessionStore} must pass, whatever holds its
 * sessions. The project runs them against the file and the PostgreSQL backends; run them against
 * your own with:
 *
 * ```ts
 * // my-store.test.ts (vitest)
 * import { describeSessionStore } from 'sessionlog/conformance';
 * describeSessionStore('my store', async () => openMyStore(freshPlace()), {
 *   reopen: (store) => openMyStore(store.location),           // a second instance on the same data
 *   childOptions: (store) => ({ dir: store.location }),         // openStore() options for child processes
 * });
 * ```
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionStore } from '../core/contract.js';
import type { StoreOptions } from '../core/options.js';
import type { ChangeEvent } from '../core/types.js';
import { describeArtifacts } from './artifacts.js';
import { describeEmbeddings } from './embeddings.js';
import { describeFigures } from './figures.js';
import { describeListing } from './listing.js';
import { describeReading } from './reading.js';

/** Options of {@link describeSessionStore}. */
export interface ConformanceOptions {
  /** A second store on the same data as `store` (another instance, as another process would have); enables the multi-instance tests. */
  readonly reopen?: (store: SessionStore) => Promise<SessionStore>;
  /** `openStore()` options that open the same data as `store` in a child process; enables the cross-process and SIGKILL tests. */
  readonly childOptions?: (store: SessionStore) => StoreOptions;
}

/** Opens stores for a test and closes them after it. */
export interface Opener {
  (): Promise<SessionStore>;
  reopen: ((store: SessionStore) => Promise<SessionStore>) | undefined;
}

/** A child script: beside this module when built; from the build when this module runs from source (the project's own tests). */
const HERE = fileURLToPath(import.meta.url);
const childScript = (name: string): string => fileURLToPath(HERE.endsWith('.ts') ? new URL(`../../dist/conformance/${name}.js`, import.meta.url) : new URL(`./${name}.js`, import.meta.url));

/**
 * Runs a conformance child (`child`: appends, flushing every `every`; `embed-child`: upserts
 * vectors of dimension `every`); resolves with its stdout lines, or kills it with SIGKILL after
 * `killAfterAcks` acknowledgements.
 */
export function runChild(options: StoreOptions, id: string, tag: string, count: number, every: number, killAfterAcks?: number, script: 'child' | 'embed-child' = 'child'): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript(script), JSON.stringify(options), id, tag, String(count), String(every)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (killAfterAcks !== undefined && out.split('\n').filter((line) => line.startsWith('acked ')).length >= killAfterAcks) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`conformance child exited ${code}: ${err}`));
      else resolve({ lines: out.split('\n').filter(Boolean), signal });
    });
  });
}

/** The ids a child's `acked` lines name, in order. */
export function ackedIds(lines: readonly string[]): string[] {
  return lines.filter((line) => line.startsWith('acked ')).flatMap((line) => line.split(' ').slice(1).filter(Boolean));
}

/** What `promise` rejects with (its `code`), or 'resolved'. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}

/**
 * Registers the conformance tests of a {@link SessionStore} with vitest. `open` returns a fresh,
 * empty store each call; the suite closes every store it opened.
 */
export function describeSessionStore(name: string, open: () => Promise<SessionStore>, options: ConformanceOptions = {}): void {
  describe(`SessionStore conformance: ${name}`, () => {
    const opened: SessionStore[] = [];
    const fresh = (async () => {
      const store = await open();
      opened.push(store);
      return store;
    }) as Opener;
    fresh.reopen = options.reopen === undefined ? undefined : async (store) => {
      const other = await (options.reopen as (s: SessionStore) => Promise<SessionStore>)(store);
      opened.push(other);
      return other;
    };
    afterEach(async () => {
      await Promise.allSettled(opened.splice(0).map((store) => store.close()));
    });

    describeSessions(fresh);
    describeReading(fresh);
    describeListing(fresh);
    describeFigures(fresh);
    describeArtifacts(fresh);
    describeEmbeddings(fresh, options);
    describeEvents(fresh);
    describeProcesses(fresh, options);
  });
}

function describeSessions(open: Opener): void {
  describe('sessions', () => {
    it('create: the info of a new session; its id generated when not given, sortable by creation', async () => {
      const store = await open();
      const metadata = { k: 1, nested: { n: 1 } };
      const info = await store.create({ title: 'T', model: 'm', cwd: '/w', metadata });
      expect(info).toMatchObject({ title: 'T', model: 'm', cwd: '/w', metadata: { k: 1, nested: { n: 1 } }, entryCount: 0, parent: undefined });
      expect(Date.parse(info.createdAt)).not.toBeNaN();
      // The info is a copy: the caller's object changing later changes neither it nor the session.
      metadata.nested.n = 2;
      expect(info.metadata).toEqual({ k: 1, nested: { n: 1 } });
      const second = await store.create();
      expect(second.id > info.id).toBe(true);
      // What create returns is what get reads back.
      expect(await store.get(info.id)).toEqual(info);
    });

    it('create of an existing id fails with ERR_SESSION_EXISTS, also from another instance', async () => {
      const store = await open();
      await store.create({ id: 'dup' });
      expect(await codeOf(store.create({ id: 'dup' }))).toBe('ERR_SESSION_EXISTS');
      if (open.reopen !== undefined) expect(await codeOf((await open.reopen(store)).create({ id: 'dup' }))).toBe('ERR_SESSION_EXISTS');
    });

    it('refuses ids outside the allowlist with ERR_INVALID_ID before touching anything', async () => {
      const store = await open();
      for (const bad of ['', '../x', 'a/b', 'x.', '.hidden', 'a b', 'é', 'x'.repeat(129), 'nul']) {
        expect(await codeOf(store.create({ id: bad })), JSON.stringify(bad)).toBe('ERR_INVALID_ID');
        expect(await codeOf(store.append(bad, { role: 'user', content: 'x' })), JSON.stringify(bad)).toBe('ERR_INVALID_ID');
        expect(await codeOf(store.read(bad)), JSON.stringify(bad)).toBe('ERR_INVALID_ID');
      }
      expect((await store.list()).sessions).toEqual([]);
    });

    it('get of an unknown id is undefined; read and append of one fail with ERR_SESSION_NOT_FOUND', async () => {
      const store = await open();
      expect(await store.get('nosuch')).toBeUndefined();
      expect(await codeOf(store.read('nosuch'))).toBe('ERR_SESSION_NOT_FOUND');
      const appended = store.append('nosuch', { role: 'user', content: 'x' }).then(() => store.flush('nosuch'));
      expect(await codeOf(appended)).toBe('ERR_SESSION_NOT_FOUND');
    });

    it('update: title, model, cwd replace (null clears), metadata merges (a null value removes the key); entries unchanged', async () => {
      const store = await open();
      const { id } = await store.create({ title: 'a', model: 'm1', metadata: { keep: 1, drop: 2 } });
      await store.append(id, { role: 'user', content: 'hi' });
      const info = await store.update(id, { title: 'b', model: null, metadata: { drop: null, added: 'x' } });
      expect(info).toMatchObject({ title: 'b', model: undefined, metadata: { keep: 1, added: 'x' }, entryCount: 1 });
      expect(info.metadata).not.toHaveProperty('drop');
      expect((await store.read(id)).entries.map((e) => e['content'])).toEqual(['hi']);
      expect(await codeOf(store.update('nosuch', { title: 'x' }))).toBe('ERR_SESSION_NOT_FOUND');
    });

    it('delete: gone from get, read and list; deleting an unknown id is not an error', async () => {
      const store = await open();
      const { id } = await store.create();
      await store.append(id, { role: 'user', content: 'x' });
      await store.delete(id);
      expect(await store.get(id)).toBeUndefined();
      expect(await codeOf(store.read(id))).toBe('ERR_SESSION_NOT_FOUND');
      expect((await store.list()).sessions).toEqual([]);
      await store.delete(id);
      await store.delete('never-was');
    });

    it('fork: the entries up to `at` (default all), a header naming the parent; unknown `at` and a taken id refused', async () => {
      const store = await open();
      const { id } = await store.create({ title: 'p', model: 'm' });
      const [a, b] = await store.append(id, [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]);
      const fork = await store.fork(id, { at: a!.id, title: 'f' });
      expect(fork).toMatchObject({ title: 'f', model: 'm', entryCount: 1, parent: { id, entryId: a!.id } });
      expect((await store.read(fork.id)).entries).toEqual([a]);
      const all = await store.fork(id);
      expect((await store.read(all.id)).entries).toEqual([a, b]);
      expect(all.parent).toEqual({ id, entryId: b!.id });
      expect(await codeOf(store.fork(id, { at: 'nosuch' }))).toBe('ERR_INVALID_OPTION');
      expect(await codeOf(store.fork(id, { id: fork.id }))).toBe('ERR_SESSION_EXISTS');
    });

    it('trash: the session leaves the store, and the call says where it went', async () => {
      const store = await open();
      const { id } = await store.create();
      expect(typeof (await store.trash(id))).toBe('string');
      expect(await store.get(id)).toBeUndefined();
      expect(await codeOf(store.trash(id))).toBe('ERR_SESSION_NOT_FOUND');
    });

    it('resolveId: an exact id, a unique prefix; an ambiguous or unknown prefix refused', async () => {
      const store = await open();
      await store.create({ id: 'abc-1' });
      await store.create({ id: 'abc-2' });
      await store.create({ id: 'abd' });
      expect(await store.resolveId('abc-1')).toBe('abc-1');
      expect(await store.resolveId('abd')).toBe('abd');
      expect(await codeOf(store.resolveId('abc'))).toBe('ERR_AMBIGUOUS_ID');
      expect(await codeOf(store.resolveId('zzz'))).toBe('ERR_SESSION_NOT_FOUND');
      expect((await store.ids()).sort()).toEqual(['abc-1', 'abc-2', 'abd']);
    });

    it('close: flushes, returns the same promise twice, and later calls fail with ERR_CLOSED', async () => {
      const store = await open();
      const { id } = await store.create();
      await store.append(id, { role: 'user', content: 'buffered' });
      const closing = store.close();
      expect(store.close()).toBe(closing);
      await closing;
      expect(await codeOf(store.get(id))).toBe('ERR_CLOSED');
      expect(await codeOf(store.append(id, { role: 'user', content: 'x' }))).toBe('ERR_CLOSED');
      // Its parts too: nothing is written into a folder or pool the caller has let go.
      expect(await codeOf(store.artifacts.put(id, Buffer.from('late')))).toBe('ERR_CLOSED');
      expect(await codeOf(store.embeddings.upsert({ sessionId: id, vector: [1, 0] }))).toBe('ERR_CLOSED');
      expect(await codeOf(store.embeddings.search([1, 0]))).toBe('ERR_CLOSED');
      if (open.reopen !== undefined) expect((await (await open.reopen(store)).read(id)).entries).toHaveLength(1);
    });

    it('close: a delete that began before it still removes the session\'s artifacts and vectors', async () => {
      const store = await open();
      const { id } = await store.create();
      await store.artifacts.put(id, Buffer.from('only this session uses it'));
      await store.embeddings.upsert({ sessionId: id, vector: [0.6, 0.8] });
      const deleting = store.delete(id);
      await store.close();
      await deleting;
      if (open.reopen === undefined) return;
      const again = await open.reopen(store);
      expect(await again.artifacts.list(id)).toEqual([]);
      expect(await again.embeddings.count()).toBe(0);
      expect(await again.get(id)).toBeUndefined();
    });
  });
}

function describeEvents(open: Opener): void {
  describe('events', () => {
    it('change: created, changed and deleted by this store, as local', async () => {
      const store = await open();
      const events: ChangeEvent[] = [];
      store.on('change', (event) => events.push(event));
      const { id } = await store.create({ id: 'ev' });
      await store.append(id, { role: 'user', content: 'x' });
      await store.flush(id);
      await store.delete(id);
      expect(events.filter((e) => e.id === 'ev').map((e) => `${e.kind}/${e.source}`)).toEqual(['created/local', 'changed/local', 'deleted/local']);
    });

    it('change: another instance’s writes arrive as external', async () => {
      if (open.reopen === undefined) return;
      const store = await open();
      const other = await open.reopen(store);
      const seen = new Promise<ChangeEvent>((resolve) => store.on('change', (event) => event.source === 'external' && resolve(event)));
      // A listing starts the file backend's watcher-free index; a server listens from the start.
      await store.list();
      const { id } = await other.create();
      await other.append(id, { role: 'user', content: 'x' });
      await other.flush(id);
      await store.list();
      expect(await seen).toMatchObject({ id, source: 'external' });
    });
  });
}

function describeProcesses(open: Opener, options: ConformanceOptions): void {
  describe('processes', () => {
    it('two processes appending to one session: nothing lost, nothing twice, each one’s order kept', async () => {
      if (options.childOptions === undefined) return;
      const store = await open();
      await store.create({ id: 'shared' });
      const childOptions = options.childOptions(store);
      const [a, b] = await Promise.all([runChild(childOptions, 'shared', 'A', 200, 3), runChild(childOptions, 'shared', 'B', 200, 3)]);
      const contents = (await store.read('shared')).entries.map((e) => String(e['content']));
      expect(contents).toHaveLength(400);
      for (const tag of ['A', 'B']) {
        expect(contents.filter((c) => c.startsWith(`${tag}:`))).toEqual(Array.from({ length: 200 }, (_, i) => `${tag}:${i}`));
      }
      expect(ackedIds([...a.lines, ...b.lines])).toHaveLength(400);
    });

    it('a writer SIGKILLed in the middle loses no entry its flush acknowledged', async () => {
      if (options.childOptions === undefined) return;
      const store = await open();
      await store.create({ id: 'killed' });
      const { lines, signal } = await runChild(options.childOptions(store), 'killed', 'K', 100_000, 5, 20);
      expect(signal).toBe('SIGKILL');
      const acked = ackedIds(lines);
      expect(acked.length).toBeGreaterThanOrEqual(100);
      const stored = new Set((await store.read('killed')).entries.map((e) => e.id));
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    });
  });
}
