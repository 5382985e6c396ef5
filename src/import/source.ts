/** What an importer's mapper produces: entries in sessionlog's format, and the session's header fields. */

/** An entry ready for `append` (it has its own `id` and, mostly, `ts`). */
export type MappedEntry = Record<string, unknown> & { readonly type: string; readonly id: string };

/** What a source transcript says of its session, learnt as its lines are read. */
export interface SourceMeta {
  readonly tool: 'claude-code' | 'codex';
  readonly sessionId?: string | undefined;
  readonly cwd?: string | undefined;
  readonly model?: string | undefined;
  readonly version?: string | undefined;
  readonly gitBranch?: string | undefined;
  readonly title?: string | undefined;
  readonly createdAt?: string | undefined;
  /** The session this one continues or was forked from (its id in the same tool). */
  readonly parentId?: string | undefined;
}

/** Maps a transcript's parsed lines, in order, keeping what it learns in `meta`. */
export interface LineMapper {
  readonly meta: SourceMeta;
  map(line: Record<string, unknown>, n: number): MappedEntry[];
}
