/**
 * sessionlog: a local-first session store for AI agents. One JSONL file per session, buffered
 * crash-safe appends, tolerant reads.
 * @packageDocumentation
 */
export { openStore, SessionStore } from './store.js';
export { StoreEvents } from './store-types.js';
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
} from './store-types.js';
export { SessionStoreError, ErrorCodes } from './errors.js';
export type { ErrorCode, SessionStoreErrorOptions } from './errors.js';
export { DEFAULTS, DEFAULT_RECONCILE_MS } from './options.js';
export type { FlushOptions, StoreOptions, WatchOptions } from './options.js';
export type { ListFilter, ListOptions, ListPage } from './list-options.js';
export { DEFAULT_LIMIT, MAX_LIMIT } from './index/query.js';
export type { ReadOptions, ReadResult } from './session/reader.js';
export type { SessionInfo, UsageTotals } from './session/summary.js';
export type { Problem, ProblemKind } from './format/codec.js';
export type { CheckOptions, CheckReport, Finding, FindingKind, Severity } from './doctor.js';
export type { SearchHit, SearchOptions, SearchProgress } from './search.js';
export type { FollowOptions } from './session/follow.js';
export type { RemovedLine, RepairReport } from './session/repair.js';
export type { MergedCopy, MergeProblem, MergeProblemKind, MergeReport } from './session/merge.js';
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
export { MAX_ID_LENGTH, idProblem, uuidv7 } from './ids.js';
