/**
 * Writes a fork: a new session file with a header naming its parent and a verbatim copy of the
 * parent's entry lines up to an entry. Built in a temp file and linked into place, so the fork
 * appears whole or not at all, and never over an existing session.
 */
import path from 'node:path';
import { encodeLine } from '../../format/codec.js';
import type { Header } from '../../format/schema.js';
import { SessionStoreError } from '../../core/errors.js';
import { OutputFile } from '../fs/atomic.js';
import { fsyncDir } from '../fs/files.js';
import { readLines, readTail, type ReaderContext } from './reader.js';

/** What a fork needs. */
export interface ForkPlan {
  readonly source: string;
  readonly target: string;
  /** Copy up to and including this entry id; all entries when undefined. */
  readonly at: string | undefined;
  /** The fork's header, given the id of the last entry copied. */
  readonly header: (lastEntryId: string | undefined) => Header;
  readonly reader: ReaderContext<unknown>;
  readonly durable: boolean;
}

/** Creates the fork. @throws ERR_INVALID_OPTION when `at` is not an entry of the source; ERR_SESSION_EXISTS */
export async function forkSession(plan: ForkPlan): Promise<void> {
  const lastId = plan.at ?? (await readTail(plan.source, plan.reader, 1)).entries[0]?.id;
  const out = OutputFile.beside(plan.target);
  try {
    out.add(Buffer.from(encodeLine(plan.header(lastId))));
    let found = plan.at === undefined;
    for await (const item of readLines(plan.source, plan.reader)) {
      if (item.kind !== 'entry') continue;
      // Copied byte for byte (with its newline): fields a schema does not know survive the fork.
      out.add(Buffer.from(item.raw));
      out.add(NEWLINE);
      if (plan.at !== undefined && item.id === plan.at) {
        found = true;
        break;
      }
    }
    if (!found) {
      throw new SessionStoreError('ERR_INVALID_OPTION', `No entry with id ${JSON.stringify(plan.at)} in ${plan.source}; pass an entry id from read().`, {
        path: plan.source,
      });
    }
    if (plan.durable) out.sync();
    out.linkTo(plan.target);
  } finally {
    out.remove();
  }
  if (plan.durable) await fsyncDir(path.dirname(plan.target));
}

const NEWLINE = Buffer.from('\n');
