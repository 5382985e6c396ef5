/**
 * sessionlog: a local-first session store for AI agents. One JSONL file per session, buffered
 * crash-safe appends, tolerant reads.
 * @packageDocumentation
 */
export { openStore } from './open.js';
export type { SessionStore, StoreEventMap } from './core/contract.js';
export { FileSessionStore } from './file/store.js';
export type { FileMaintenance } from './file/maintenance.js';
export type { PostgresSessionStore } from './postgres/store.js';
export { StoreEvents } from './core/types.js';
export type {
  AppendInput,
  ChangeEvent,
  CreateInit,
  ForkOptions,
  MergeOptions,
  SessionPatch,
  StoredEntry,
  StreamOptions,
  WarningEvent,
} from './core/types.js';
export { SessionStoreError, ErrorCodes } from './core/errors.js';
export type { ErrorCode, SessionStoreErrorOptions } from './core/errors.js';
export { DEFAULTS, DEFAULT_RECONCILE_MS } from './core/options.js';
export type { CommonStoreOptions, FileStoreOptions, FlushOptions, PostgresStoreOptions, StoreOptions, WatchOptions } from './core/options.js';
export type { ListFilter, ListOptions, ListPage } from './core/list-options.js';
export { DEFAULT_LIMIT, MAX_LIMIT } from './core/list-query.js';
export type { FollowOptions, ReadOptions, ReadResult, SearchHit, SearchOptions, SearchProgress } from './core/types.js';
export type { SessionInfo, UsageTotals } from './core/info.js';
export type { ArtifactData, ArtifactInfo, ArtifactStore, PutOptions } from './core/artifacts.js';
export type { EmbeddingHit, EmbeddingInput, EmbeddingSearchOptions, EmbeddingStore } from './core/embeddings.js';
export { MAX_DIMENSIONS, MAX_SEARCH_LIMIT } from './core/embeddings.js';
export type { HealthReport, SessionStats, ToolStats } from './core/stats.js';
export type { Problem, ProblemKind } from './format/codec.js';
export type { CheckOptions, CheckReport, Finding, FindingKind, Severity } from './doctor/doctor.js';
export type { RemovedLine, RepairReport } from './file/rewrite/repair.js';
export type { MergedCopy, MergeProblem, MergeProblemKind, MergeReport } from './file/rewrite/merge.js';
export {
  CompactionSchema,
  ContentPartSchema,
  EntrySchema,
  FORMAT_VERSION,
  HeaderSchema,
  MessageSchema,
  ToolCallSchema,
  UpdateSchema,
  UsageSchema,
} from './format/schema.js';
export type { CompactionEntry, Entry, EntryInput, Header, MessageEntry, Usage } from './format/schema.js';
export { MAX_ID_LENGTH, idProblem, uuidv7 } from './core/ids.js';
export { copySessions, syncSessions } from './transfer/transfer.js';
export type { CopyOptions, CopyReport, SessionCopy } from './transfer/transfer.js';
export { defaultSourceDirs, importTranscripts, IMPORT_STATE_FILE } from './import/importer.js';
export type { ImportOptions, ImportReport, SourceTool } from './import/importer.js';
export { pruneSessions } from './core/retention.js';
export type { Pruned, RetentionOptions } from './core/retention.js';
export { DEFAULT_RULES } from './secrets/rules.js';
export type { SecretRule } from './secrets/rules.js';
export type { Finding as SecretFinding, Mark, RedactFunction } from './secrets/redact.js';
export type { RedactReport, SecretLine } from './file/rewrite/redact.js';
