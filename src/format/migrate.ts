/**
 * Reads a header line of any known format version and returns it as the current version.
 * Migration happens on read only: the file on disk is never rewritten to migrate it.
 */
import { FORMAT_VERSION, type Header, HEADER_TYPE, HeaderSchema } from './schema.js';
import { describeIssues } from './codec.js';

/** The outcome of reading a header. */
export type HeaderResult =
  | {
      readonly ok: true;
      readonly header: Header;
      /** The version found on disk, when it was not the current one. */
      readonly migratedFrom?: number;
      /** Written by a newer sessionlog: readable, but the store will not append to it. */
      readonly newer: boolean;
    }
  | { readonly ok: false; readonly message: string };

/**
 * Version 0 is the header of the FileSessionStore sessionlog was designed from
 * (`{ session_id, created_at_ms, agent_loop_version, message_count }`): its files are read as sessions.
 */
function fromVersion0(raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const id = raw['session_id'];
  const created = raw['created_at_ms'];
  if (typeof id !== 'string' || typeof created !== 'number') return undefined;
  const metadata: Record<string, unknown> = {};
  if (typeof raw['agent_loop_version'] === 'string') metadata['agentLoopVersion'] = raw['agent_loop_version'];
  return {
    type: HEADER_TYPE,
    version: FORMAT_VERSION,
    id,
    createdAt: new Date(created).toISOString(),
    metadata,
  };
}

/** Validates and migrates a decoded header object. */
export function readHeader(raw: Record<string, unknown>): HeaderResult {
  let candidate = raw;
  let migratedFrom: number | undefined;
  if (raw['type'] !== HEADER_TYPE && raw['version'] === undefined) {
    const migrated = fromVersion0(raw);
    if (migrated === undefined) return { ok: false, message: 'line 1 is not a session header' };
    candidate = migrated;
    migratedFrom = 0;
  }
  const parsed = HeaderSchema.safeParse(candidate);
  if (!parsed.success) {
    return { ok: false, message: `invalid session header (${describeIssues(parsed.error.issues)})` };
  }
  const newer = parsed.data.version > FORMAT_VERSION;
  return migratedFrom === undefined
    ? { ok: true, header: parsed.data, newer }
    : { ok: true, header: parsed.data, migratedFrom, newer };
}
