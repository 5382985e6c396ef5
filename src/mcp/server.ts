/**
 * `sessionlog mcp`: the store's sessions as Model Context Protocol tools and resources, for any
 * agent (Claude Code, Codex, Cursor, …), over stdio. Read-only unless `allowWrite`. Every answer
 * fits a budget (compact.ts) and says how to get the rest; a bad argument is an error result with
 * a message that names the next step, and the server keeps serving.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { SessionStore } from '../core/contract.js';
import { SessionStoreError } from '../core/errors.js';
import { briefOf } from '../core/info.js';
import type { Redactor } from '../secrets/redact.js';
import { BUDGET, cut, renderCompact } from './compact.js';

/** Options of {@link createMcpServer}. */
export interface McpOptions {
  /** Offer `append_note`, which writes to a session. Off by default. */
  readonly allowWrite?: boolean;
  /** Applied to every answer (the store's rules): secrets written before redaction stay hidden. */
  readonly redactor?: Redactor | undefined;
  readonly version?: string;
}

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const failure = (message: string): CallToolResult => ({ content: [{ type: 'text', text: message }], isError: true });

/** Runs a tool; a store error (bad id, bad option, not found) becomes an error result, not a crash. */
async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof SessionStoreError) return failure(`${err.code}: ${err.message}`);
    throw err;
  }
}


/** An MCP server over `store` (connect it to a transport). */
export function createMcpServer(store: SessionStore, options: McpOptions = {}): McpServer {
  const server = new McpServer({ name: 'sessionlog', version: options.version ?? '0.0.0' });
  const redact = (value: string): string => (options.redactor?.mayContain(value) === true ? options.redactor.text(value) : value);

  server.registerTool(
    'list_sessions',
    {
      description: 'List past agent sessions, most recently active first, in pages (pass nextCursor back as cursor). Filters: cwd (exact folder), model, title (substring), since (ISO date).',
      inputSchema: {
        limit: z.number().int().min(1).max(100).optional().describe('sessions per page (default 20, at most 100)'),
        cursor: z.string().optional().describe('nextCursor of the previous page'),
        cwd: z.string().optional(),
        model: z.string().optional(),
        title: z.string().optional(),
        since: z.string().optional().describe('only sessions updated at or after this ISO date'),
      },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      guarded(async () => {
        const page = await store.list({
          limit: args.limit ?? 20,
          cursor: args.cursor,
          filter: { ...(args.cwd === undefined ? {} : { cwd: args.cwd }), ...(args.model === undefined ? {} : { model: args.model }), ...(args.title === undefined ? {} : { title: args.title }), ...(args.since === undefined ? {} : { updatedAfter: args.since }) },
        });
        return text(redact(JSON.stringify({ sessions: page.sessions.map(briefOf), nextCursor: page.nextCursor }, null, 1)));
      }),
  );

  server.registerTool(
    'search_sessions',
    {
      description: 'Full-text search over every session (or one): each hit is a session, an entry id and a short snippet around the match. Use read_session with after=<entry id> to read on from a hit.',
      inputSchema: {
        query: z.string().min(1).describe('text to find (case-insensitive), or a regular expression with regex: true'),
        regex: z.boolean().optional(),
        session: z.string().optional().describe('only this session (id or unique prefix)'),
        limit: z.number().int().min(1).max(50).optional().describe('hits, default 20, at most 50'),
      },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      guarded(async () => {
        const sessions = args.session === undefined ? undefined : [await store.resolveId(args.session)];
        const hits = [];
        for await (const hit of store.search(args.query, { ignoreCase: true, regex: args.regex === true, limit: args.limit ?? 20, limitPerSession: 5, ...(sessions === undefined ? {} : { sessions }) })) {
          hits.push({ session: hit.session, title: hit.title, entryId: hit.entryId, role: hit.role, ts: hit.ts, snippet: hit.snippet });
        }
        return text(redact(JSON.stringify({ hits, note: hits.length === (args.limit ?? 20) ? 'more hits may exist: narrow the query or raise limit' : undefined }, null, 1)));
      }),
  );

  server.registerTool(
    'read_session',
    {
      description: `Read a session compactly: by default its last 50 entries; fromCompaction: the latest compaction summary and what follows; after: the entries after an entry id (paging forward). One answer holds at most ${BUDGET.entries} entries and about ${BUDGET.chars.toLocaleString('en')} characters; tool results are cut to ${BUDGET.toolResult} characters with a marker. The answer ends saying how to get the rest.`,
      inputSchema: {
        id: z.string().min(1).describe('session id or a unique prefix of one'),
        tail: z.number().int().min(1).max(BUDGET.entries).optional().describe('the last N entries (default 50)'),
        fromCompaction: z.boolean().optional(),
        after: z.string().optional().describe('entry id: read the entries that follow it'),
      },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      guarded(async () => {
        const id = await store.resolveId(args.id);
        const info = await store.get(id);
        const { entries } =
          args.after !== undefined ? await store.read(id, { after: args.after, limit: BUDGET.entries }) : args.fromCompaction === true ? await store.read(id, { fromCompaction: true }) : await store.read(id, { tail: args.tail ?? 50 });
        const page = renderCompact(entries.slice(0, BUDGET.entries), options.redactor);
        const more = page.shown < entries.length || (args.after !== undefined && entries.length === BUDGET.entries);
        const head = `Session ${id}${info?.title === undefined ? '' : ` "${cut(info.title, 200)}"`}: ${info?.entryCount ?? '?'} entries in all; ${page.shown} shown.`;
        const next = more && page.lastId !== undefined ? `\n[more: call read_session with id=${id} after=${page.lastId}]` : '';
        return text(`${redact(head)}\n${page.text}${next}`);
      }),
  );

  server.registerTool(
    'session_stats',
    {
      description: 'Figures of one session: entries by role and type, tool calls per tool, tool errors, tokens, size, wall time.',
      inputSchema: { id: z.string().min(1).describe('session id or unique prefix') },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      guarded(async () => {
        const id = await store.resolveId(args.id);
        const [info, stats] = await Promise.all([store.get(id), store.stats(id)]);
        const toolCalls = Object.fromEntries(Object.entries(stats.tools).flatMap(([name, tool]) => (tool.calls > 0 ? [[name, tool.calls]] : [])));
        const toolErrors = Object.values(stats.tools).reduce((n, tool) => n + tool.errors, 0);
        const figures = { kinds: stats.entries, toolCalls, toolErrors, tokensPerModel: stats.tokens, wallTimeSeconds: Math.round(stats.wallTimeMs / 1000) };
        return text(redact(JSON.stringify({ ...(info === undefined ? {} : briefOf(info)), usage: info?.usage, ...figures }, null, 1)));
      }),
  );

  if (options.allowWrite === true) {
    server.registerTool(
      'append_note',
      {
        description: 'Append a note (an entry of type "note") to a session. Only offered when the server runs with --allow-write.',
        inputSchema: { id: z.string().min(1), text: z.string().min(1).max(100_000) },
      },
      (args) =>
        guarded(async () => {
          const id = await store.resolveId(args.id);
          const [entry] = await store.append(id, [{ type: 'note', text: args.text }]);
          await store.flush(id);
          return text(`appended note ${entry?.id ?? ''} to ${id}`);
        }),
    );
  }

  server.registerResource(
    'session',
    new ResourceTemplate('sessionlog://session/{id}', {
      list: async () => ({ resources: (await store.list({ limit: 50 })).sessions.map((s) => ({ uri: `sessionlog://session/${s.id}`, name: s.title ?? s.id, mimeType: 'text/plain' })) }),
    }),
    { description: 'A session, compactly (its last 50 entries, within the answer budget)', mimeType: 'text/plain' },
    async (uri, variables) => {
      const id = await store.resolveId(String(variables['id']));
      const page = renderCompact((await store.read(id, { tail: 50 })).entries, options.redactor);
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: page.text }] };
    },
  );
  return server;
}
