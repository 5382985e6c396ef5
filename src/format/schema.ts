/**
 * The zod schemas of the session file format (see docs/format.md). Every object schema is
 * `looseObject`: a field this version does not know (a hand edit, a newer writer) is kept, never
 * stripped, so nothing read from disk is lost when it is handed back to the caller.
 */
import { z } from 'zod';

/** The format version this build writes. Older headers are migrated on read; newer ones are read-only. */
export const FORMAT_VERSION = 1;

/** `type` of the header line (line 1). */
export const HEADER_TYPE = 'session';
/** `type` of the store's bookkeeping records (title / model / metadata updates); never returned by `read`. */
export const UPDATE_TYPE = 'session_update';
/** Entry types reserved for the store's own lines; `append` refuses them. */
export const RESERVED_TYPES: ReadonlySet<string> = new Set([HEADER_TYPE, UPDATE_TYPE]);

const isoTimestamp = z.string().min(1);
const metadata = z.record(z.string(), z.unknown());

/** The parent of a forked session: the session it was forked from and the last entry it copied. */
export const ParentSchema = z.looseObject({
  id: z.string(),
  entryId: z.string().optional(),
});

/** Line 1 of every session file. */
export const HeaderSchema = z.looseObject({
  type: z.literal(HEADER_TYPE),
  version: z.number().int().min(1),
  id: z.string(),
  createdAt: isoTimestamp,
  title: z.string().optional(),
  model: z.string().optional(),
  cwd: z.string().optional(),
  metadata: metadata.optional(),
  parent: ParentSchema.optional(),
});

/**
 * A bookkeeping record appended by `update()`: folded over the header, newest last.
 * `title` / `model` / `cwd` replace (null clears); `metadata` is merged key by key (a null value removes the key).
 */
export const UpdateSchema = z.looseObject({
  type: z.literal(UPDATE_TYPE),
  id: z.string(),
  ts: isoTimestamp,
  title: z.string().nullable().optional(),
  model: z.string().nullable().optional(),
  cwd: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** Token usage of one model call; totals are summed into the session's info. */
export const UsageSchema = z.looseObject({
  input: z.number().nonnegative().optional(),
  output: z.number().nonnegative().optional(),
  cacheRead: z.number().nonnegative().optional(),
  cacheWrite: z.number().nonnegative().optional(),
  total: z.number().nonnegative().optional(),
});

/** A tool call requested by the assistant. `arguments` is free JSON. */
export const ToolCallSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  arguments: z.unknown().optional(),
});

const KNOWN_PART_TYPES = new Set(['text', 'image', 'tool_call']);

/** Content parts: text, an image reference (never inline bytes: keep blobs out of the transcript), a tool call. */
export const ContentPartSchema = z.union([
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({
    type: z.literal('image'),
    url: z.string().optional(),
    path: z.string().optional(),
    mediaType: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('tool_call'),
    id: z.string(),
    name: z.string(),
    arguments: z.unknown().optional(),
  }),
  // Part types from newer or other writers are preserved as they are.
  z.looseObject({ type: z.string().refine((t) => !KNOWN_PART_TYPES.has(t)) }),
]);

/** The fields the store adds to every entry when they are absent. */
const stamped = {
  id: z.string().min(1).optional(),
  ts: isoTimestamp.optional(),
};

/** An agent message (`type: 'message'`, the default). */
export const MessageSchema = z.looseObject({
  type: z.literal('message'),
  ...stamped,
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(ContentPartSchema)]),
  toolCalls: z.array(ToolCallSchema).optional(),
  /** On `role: 'tool'`: the tool call this result answers. */
  toolCallId: z.string().optional(),
  toolName: z.string().optional(),
  /** On a tool result: the tool failed. */
  isError: z.boolean().optional(),
  usage: UsageSchema.optional(),
  /** The entry this one answers or branches from. */
  parentId: z.string().optional(),
  metadata: metadata.optional(),
});

/** A compaction: a summary of everything before it, where a resumed agent may start reading. */
export const CompactionSchema = z.looseObject({
  type: z.literal('compaction'),
  ...stamped,
  summary: z.string(),
  /** The first entry the summary does not cover, if the agent kept some verbatim. */
  firstKeptEntryId: z.string().optional(),
  tokensBefore: z.number().nonnegative().optional(),
  metadata: metadata.optional(),
});

/**
 * One run of a tool: which call it answers, how it ended, when and how long. `store.stats()` sums
 * them per tool (runs, errors, durations).
 */
export const ToolExecutionSchema = z.looseObject({
  type: z.literal('tool_execution'),
  ...stamped,
  toolCallId: z.string().optional(),
  name: z.string().min(1),
  status: z.enum(['ok', 'error', 'cancelled', 'timeout', 'running']),
  startedAt: isoTimestamp.optional(),
  endedAt: isoTimestamp.optional(),
  durationMs: z.number().nonnegative().optional(),
  error: z.string().optional(),
});

/**
 * Tokens of one model call, recorded apart from a message (`updateUsage`, or a runtime that
 * learns usage late): counted in the session's totals like a message's `usage`, and per `model`
 * in `store.stats()`. `entryId` names the message it belongs to, if any.
 */
export const UsageRecordSchema = z.looseObject({
  type: z.literal('usage'),
  ...stamped,
  model: z.string().optional(),
  entryId: z.string().optional(),
  usage: UsageSchema,
});

/** Types with a schema of their own: a custom entry cannot take them. */
const BUILT_IN_TYPES = new Set(['message', 'compaction', 'tool_execution', 'usage']);

/** Any other entry type (an agent's own events): kept and returned as they are. */
export const CustomEntrySchema = z.looseObject({
  type: z
    .string()
    .min(1)
    .refine((t) => !BUILT_IN_TYPES.has(t) && !RESERVED_TYPES.has(t), {
      message: 'this type is reserved for the store',
    }),
  ...stamped,
});

/** The built-in entry schema: messages, compactions, tool executions, usage records, and entries of other types kept as they are. */
export const EntrySchema = z.union([MessageSchema, CompactionSchema, ToolExecutionSchema, UsageRecordSchema, CustomEntrySchema]);

/** Header line of a session file. */
export type Header = z.output<typeof HeaderSchema>;
/** A `session_update` bookkeeping record. */
export type UpdateRecord = z.output<typeof UpdateSchema>;
/** Token usage counts. */
export type Usage = z.output<typeof UsageSchema>;
/** An agent message entry. */
export type MessageEntry = z.output<typeof MessageSchema>;
/** A compaction entry. */
export type CompactionEntry = z.output<typeof CompactionSchema>;
/** A tool execution entry. */
export type ToolExecutionEntry = z.output<typeof ToolExecutionSchema>;
/** A usage record entry. */
export type UsageRecordEntry = z.output<typeof UsageRecordSchema>;
/** `T` without `type`, keeping its known keys beside its index signature (`Omit` would keep only the latter). */
type WithoutType<T> = { [K in keyof T as K extends 'type' ? never : K]: T[K] };

/** An entry as the built-in schema accepts it. */
export type Entry = z.output<typeof EntrySchema>;
/** What `append` takes with the built-in schema: `type` defaults to `'message'`, `id` and `ts` are added. */
export type EntryInput =
  | (WithoutType<z.input<typeof MessageSchema>> & { type?: 'message' })
  | z.input<typeof CompactionSchema>
  | z.input<typeof ToolExecutionSchema>
  | z.input<typeof UsageRecordSchema>
  | z.input<typeof CustomEntrySchema>;

// Compiled once: the generated parsers are about 2× faster per line than the interpreted ones
// (measured when the codec was written; docs/performance.md).
const compiledMessage = z.compile(MessageSchema);
const compiledCompaction = z.compile(CompactionSchema);
const compiledToolExecution = z.compile(ToolExecutionSchema);
const compiledUsageRecord = z.compile(UsageRecordSchema);
const compiledCustom = z.compile(CustomEntrySchema);

/** Validates an entry against the built-in schema, dispatching on `type` so each line runs one parser. */
export function parseBuiltinEntry(value: Record<string, unknown>): z.ZodSafeParseResult<Entry> {
  switch (value['type']) {
    case 'message':
      return compiledMessage.safeParse(value);
    case 'compaction':
      return compiledCompaction.safeParse(value);
    case 'tool_execution':
      return compiledToolExecution.safeParse(value);
    case 'usage':
      return compiledUsageRecord.safeParse(value);
    default:
      return compiledCustom.safeParse(value);
  }
}
