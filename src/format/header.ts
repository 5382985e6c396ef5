/**
 * Builds the store's own lines from what a caller passes: the header of a new session and the
 * `session_update` record of `update()`. Validates field types; names fields, never values.
 */
import { SessionStoreError } from '../core/errors.js';
import { FORMAT_VERSION, HEADER_TYPE, type Header, UPDATE_TYPE } from './schema.js';
import type { CreateInit, SessionPatch } from '../core/types.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidField(name: string, expected: string, value: unknown): SessionStoreError {
  return new SessionStoreError('ERR_INVALID_OPTION', `Expected \`${name}\` to be ${expected}, got ${typeof value}.`);
}

/** The header line of session `id`. @throws ERR_INVALID_OPTION */
export function buildHeader(id: string, init: CreateInit, createdAt: string): Header {
  const header: Record<string, unknown> = { type: HEADER_TYPE, version: FORMAT_VERSION, id, createdAt };
  for (const key of ['title', 'model', 'cwd'] as const) {
    const value = init[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw invalidField(key, 'a string', value);
    header[key] = value;
  }
  if (init.metadata !== undefined) {
    if (!isRecord(init.metadata)) throw invalidField('metadata', 'a plain object', init.metadata);
    header['metadata'] = init.metadata;
  }
  if (init.createdAt !== undefined) {
    if (typeof init.createdAt !== 'string' || Number.isNaN(Date.parse(init.createdAt))) throw invalidField('createdAt', 'an ISO timestamp', init.createdAt);
    header['createdAt'] = init.createdAt;
  }
  if (init.parent !== undefined) {
    const parent: unknown = init.parent;
    if (!isRecord(parent) || typeof parent['id'] !== 'string' || (parent['entryId'] !== undefined && typeof parent['entryId'] !== 'string')) {
      throw invalidField('parent', 'an object { id, entryId? } of strings', parent);
    }
    header['parent'] = parent['entryId'] === undefined ? { id: parent['id'] } : { id: parent['id'], entryId: parent['entryId'] };
  }
  return header as Header;
}

/** The `session_update` record of a patch. @throws ERR_INVALID_OPTION */
export function buildUpdate(patch: SessionPatch, id: string, ts: string): Record<string, unknown> {
  if (!isRecord(patch)) throw invalidField('patch', 'a plain object', patch);
  const record: Record<string, unknown> = { type: UPDATE_TYPE, id, ts };
  for (const key of Object.keys(patch)) {
    const value = (patch)[key];
    if (key === 'title' || key === 'model' || key === 'cwd') {
      if (value !== null && typeof value !== 'string') throw invalidField(key, 'a string or null', value);
    } else if (key === 'metadata') {
      if (!isRecord(value)) throw invalidField(key, 'a plain object', value);
    } else {
      throw invalidField(key, 'one of title, model, cwd, metadata', value);
    }
    record[key] = value;
  }
  return record;
}
