/** What a catalog is given: its folder, how to read sessions, and whom to tell. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { WatchOptions } from '../../core/options.js';
import type { ReaderContext } from '../session/reader.js';

/** What the index tells its owner. */
export interface IndexHooks {
  /** A session was created, changed or deleted by someone else (another process, an editor). */
  readonly change: (id: string, kind: 'created' | 'changed' | 'deleted') => void;
  /** Something unusual was handled (index rebuilt, index not written, unsafe file skipped). */
  readonly warn: (code: string, message: string, id?: string) => void;
}

/** Settings of a {@link Catalog}. */
export interface IndexSettings {
  readonly dir: string;
  readonly reader: ReaderContext<unknown>;
  /** Tag of the entry schema (see {@link schemaTag}); an index made with another is rebuilt. */
  readonly schema: string;
  /** Undefined: no watcher; list() re-validates the folder by lstat each time instead. */
  readonly watch: Required<WatchOptions> | undefined;
  readonly hooks: IndexHooks;
}

/** The tag of an entry schema, so an index made with another schema's counts is not reused. */
export function schemaTag(schema: z.ZodType | undefined): string {
  if (schema === undefined) return 'builtin';
  try {
    const json = JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
    return `custom:${createHash('sha1').update(json).digest('base64url').slice(0, 16)}`;
  } catch {
    return 'custom:opaque';
  }
}
