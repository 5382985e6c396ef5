/**
 * `sessionlog/claude-agent-sdk`: sessionlog as the Claude Agent SDK's `SessionStore` (the SDK's
 * transcript mirror and resume source). One session per key; every SDK entry is one sessionlog
 * entry `{ type: 'claude.<its type>', line: <the entry as given> }`, so `load`
 * returns it deep-equal and `sessionlog show` renders it as a Claude Code line (docs/adapters.md).
 */
import { foldSessionSummary, type SessionKey, type SessionStore as ClaudeStore, type SessionStoreEntry, type SessionSummaryEntry } from '@anthropic-ai/claude-agent-sdk';
import type { SessionStore } from '../../core/contract.js';
import { unlessNotFound } from '../../core/errors.js';
import type { SessionInfo } from '../../core/info.js';
import { Backing, eachSession, ensureSession, KeyedQueue, type StoreSource } from '../shared/backing.js';
import { sessionIdFor } from '../shared/key-id.js';

export type { StoreSource } from '../shared/backing.js';

/** Metadata keys of a session written by this adapter: the exact SDK key, and the SDK's summary. */
export const CLAUDE_META = {
  projectKey: 'claude.projectKey',
  sessionId: 'claude.sessionId',
  subpath: 'claude.subpath',
  summary: 'claude.summary',
} as const;

/** The entry type prefix: `claude.user`, `claude.assistant`, … (the same as the importer's). */
const TYPE_PREFIX = 'claude.';

/** The sessionlog session id of an SDK key: readable, safe, distinct per exact key (see key-id.ts). */
export function claudeSessionId(key: SessionKey): string {
  // The project key is left out of the readable part (it is a long sanitized path, and the
  // session's cwd and metadata show it); the hash still tells two projects apart.
  return sessionIdFor('claude-agent-sdk', [key.sessionId, key.subpath ?? ''], [key.projectKey]);
}

/** What the adapter knows of one session in this process. */
interface Known {
  /** The SDK uuids already in the session: the SDK's `uuid` is an idempotency key. */
  readonly ids: Set<string>;
  summary: SessionSummaryEntry | undefined;
}

/**
 * The Claude Agent SDK's `SessionStore` on a sessionlog store: pass it as `sessionStore` to
 * `query()`, `listSessions()`, `getSessionMessages()` or `importSessionToStore()`.
 *
 * @example
 * ```ts
 * import { query } from '@anthropic-ai/claude-agent-sdk';
 * import { ClaudeSessionStore } from 'sessionlog/claude-agent-sdk';
 * const sessionStore = new ClaudeSessionStore({ dir: './sessions' });
 * for await (const message of query({ prompt: 'Hello', options: { sessionStore } })) console.log(message);
 * await sessionStore.close();
 * ```
 */
export class ClaudeSessionStore implements Required<ClaudeStore> {
  readonly #backing: Backing;
  readonly #queue = new KeyedQueue();
  readonly #known = new Map<string, Known>();

  /** @param source `{ dir }`, `{ url }` (any `openStore` options) or an open sessionlog store. */
  constructor(source: StoreSource) {
    this.#backing = new Backing(source);
  }

  /** The sessionlog store underneath (opened on first use). */
  store(): Promise<SessionStore> {
    return this.#backing.store();
  }

  /**
   * Appends in call order, once the entries are written (a resolved `flush`). An entry whose
   * `uuid` the session holds already is skipped (SDK retries and import replays); entries without
   * one are appended as they come.
   */
  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const id = claudeSessionId(key);
    await this.#queue.run(id, async () => {
      const store = await this.store();
      const known = await this.#know(store, id, key);
      const fresh: { type: string; line: SessionStoreEntry }[] = [];
      for (const entry of entries) {
        const uuid = uuidOf(entry);
        if (uuid !== undefined) {
          if (known.ids.has(uuid)) continue;
          known.ids.add(uuid);
        }
        // The store gives the entry its id (increasing, so its listing cache folds appends
        // incrementally; random uuids as ids would make it read the whole file again each time).
        fresh.push({ type: TYPE_PREFIX + String(entry.type), line: entry });
      }
      if (fresh.length > 0) await store.append(id, fresh);
      await this.#fold(store, id, key, known, entries);
      await store.flush(id);
    });
  }

  /** The entries appended under `key`, deep-equal and in order; null for a key never written. */
  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const store = await this.store();
    const id = claudeSessionId(key);
    const result = await unlessNotFound(store.read(id));
    if (result === undefined) return null;
    // A uuid written twice (two processes replaying at once) is returned once, the first time.
    const seen = new Set<string>();
    return result.entries.flatMap((entry) => {
      if (!isMirrored(entry)) return [];
      const uuid = uuidOf(entry.line);
      if (uuid !== undefined) {
        if (seen.has(uuid)) return [];
        seen.add(uuid);
      }
      return [entry.line];
    });
  }

  /** The main transcripts of `projectKey`, with `mtime` the time of their last write (epoch ms). */
  async listSessions(projectKey: string): Promise<{ sessionId: string; mtime: number }[]> {
    const out: { sessionId: string; mtime: number }[] = [];
    for await (const info of this.#sessions(projectKey)) out.push({ sessionId: keyOf(info).sessionId, mtime: mtimeOf(info) });
    return out;
  }

  /** The SDK's summaries of the main transcripts of `projectKey`, kept by `append` with `foldSessionSummary`. */
  async listSessionSummaries(projectKey: string): Promise<SessionSummaryEntry[]> {
    const out: SessionSummaryEntry[] = [];
    for await (const info of this.#sessions(projectKey)) {
      const data = info.metadata[CLAUDE_META.summary];
      if (isRecord(data)) out.push({ sessionId: keyOf(info).sessionId, mtime: mtimeOf(info), data });
    }
    return out;
  }

  /** Deletes the key's session; deleting a main transcript deletes its subagent transcripts too. */
  async delete(key: SessionKey): Promise<void> {
    const store = await this.store();
    const ids = key.subpath === undefined ? (await this.#family(store, key)).map((info) => info.id) : [claudeSessionId(key)];
    for (const id of ids) {
      await this.#queue.run(id, async () => {
        this.#known.delete(id);
        await store.delete(id);
      });
    }
  }

  /** The subpaths (`subagents/agent-…`) stored under a session, main transcript excluded. */
  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    const store = await this.store();
    return (await this.#family(store, key)).flatMap((info) => {
      const subpath = keyOf(info).subpath;
      return subpath === undefined ? [] : [subpath];
    });
  }

  /** Closes the store if this adapter opened it. */
  close(): Promise<void> {
    return this.#backing.close();
  }

  async #know(store: SessionStore, id: string, key: SessionKey): Promise<Known> {
    let known = this.#known.get(id);
    if (known !== undefined) return known;
    const meta: Record<string, unknown> = { [CLAUDE_META.projectKey]: key.projectKey, [CLAUDE_META.sessionId]: key.sessionId };
    if (key.subpath !== undefined) meta[CLAUDE_META.subpath] = key.subpath;
    const info = await ensureSession(store, id, { metadata: meta });
    const ids = new Set<string>();
    // The ids already written (by an earlier process, or another one): replays must not duplicate them.
    if (info.entryCount > 0) {
      for await (const entry of store.stream(id)) {
        const uuid = isMirrored(entry) ? uuidOf(entry.line) : undefined;
        if (uuid !== undefined) ids.add(uuid);
      }
    }
    const summary = info.metadata[CLAUDE_META.summary];
    known = { ids, summary: isRecord(summary) ? { sessionId: key.sessionId, mtime: mtimeOf(info), data: summary } : undefined };
    this.#known.set(id, known);
    return known;
  }

  /** Folds the batch into the SDK's summary and records it (and a title) when it changed. */
  async #fold(store: SessionStore, id: string, key: SessionKey, known: Known, entries: SessionStoreEntry[]): Promise<void> {
    const next = foldSessionSummary(known.summary, key, entries, { mtime: Date.now() });
    const changed = JSON.stringify(next.data) !== JSON.stringify(known.summary?.data);
    known.summary = next;
    if (!changed) return;
    const title = titleOf(next.data);
    const cwd = typeof next.data['cwd'] === 'string' ? next.data['cwd'] : undefined;
    await store.update(id, { metadata: { [CLAUDE_META.summary]: next.data }, ...(title === undefined ? {} : { title }), ...(cwd === undefined ? {} : { cwd }) });
  }

  #sessions(projectKey: string): AsyncGenerator<SessionInfo> {
    return (async function* (backing: Backing) {
      const store = await backing.store();
      for await (const info of eachSession(store, { metadata: { [CLAUDE_META.projectKey]: projectKey } })) {
        if (keyOf(info).subpath === undefined) yield info;
      }
    })(this.#backing);
  }

  async #family(store: SessionStore, key: { projectKey: string; sessionId: string }): Promise<SessionInfo[]> {
    const out: SessionInfo[] = [];
    const filter = { metadata: { [CLAUDE_META.projectKey]: key.projectKey, [CLAUDE_META.sessionId]: key.sessionId } };
    for await (const info of eachSession(store, filter)) out.push(info);
    return out;
  }
}

function uuidOf(entry: SessionStoreEntry): string | undefined {
  return typeof entry.uuid === 'string' && entry.uuid !== '' ? entry.uuid : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMirrored(entry: { type: string }): entry is { type: string; line: SessionStoreEntry } {
  return entry.type.startsWith(TYPE_PREFIX) && isRecord((entry as { line?: unknown }).line);
}

function keyOf(info: SessionInfo): SessionKey {
  const subpath = info.metadata[CLAUDE_META.subpath];
  return {
    projectKey: String(info.metadata[CLAUDE_META.projectKey]),
    sessionId: String(info.metadata[CLAUDE_META.sessionId]),
    ...(typeof subpath === 'string' ? { subpath } : {}),
  };
}

/** The time of the session's last write, in epoch ms: one clock for `listSessions` and the summaries. */
function mtimeOf(info: SessionInfo): number {
  return Math.floor(Date.parse(info.updatedAt));
}

/** The title the SDK itself would show: the user's, the generated one, else the first prompt. */
function titleOf(data: Record<string, unknown>): string | undefined {
  for (const key of ['customTitle', 'aiTitle', 'summaryHint', 'firstPrompt']) {
    const value = data[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 200);
  }
  return undefined;
}
