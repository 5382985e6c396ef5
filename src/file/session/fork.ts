/**
 * Writes a fork: a new session file with a header naming its parent and a verbatim copy of the
 * parent's entry lines up to an entry. Built in a temp file and linked into place, so the fork
 * appears whole or not at all, and never over an existing session.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeLine } from '../../format/codec.js';
import type { Header } from '../../format/schema.js';
import { errnoOf, ioError, SessionStoreError } from '../../core/errors.js';
import { FILE_MODE, fsyncDir, writeAllSync } from '../fs/files.js';
import { tempPathFor } from '../fs/temps.js';
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

/** Copied lines are written in batches of about this size. */
const BATCH_BYTES = 1024 * 1024;

/** Creates the fork. @throws ERR_INVALID_OPTION when `at` is not an entry of the source; ERR_SESSION_EXISTS */
export async function forkSession(plan: ForkPlan): Promise<void> {
  const lastId = plan.at ?? (await readTail(plan.source, plan.reader, 1)).entries[0]?.id;
  const temp = tempPathFor(plan.target);
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, FILE_MODE);
  try {
    fs.fchmodSync(fd, FILE_MODE);
    const pieces: Buffer[] = [Buffer.from(encodeLine(plan.header(lastId)))];
    let size = pieces[0]?.length ?? 0;
    let found = plan.at === undefined;
    for await (const item of readLines(plan.source, plan.reader)) {
      if (item.kind !== 'entry') continue;
      // Copied byte for byte (with its newline): fields a schema does not know survive the fork.
      pieces.push(Buffer.from(item.raw), NEWLINE);
      size += item.raw.length + 1;
      if (size >= BATCH_BYTES) {
        writeAllSync(fd, Buffer.concat(pieces, size));
        pieces.length = 0;
        size = 0;
      }
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
    writeAllSync(fd, Buffer.concat(pieces, size));
    if (plan.durable) fs.fsyncSync(fd);
    try {
      // link() fails with EEXIST instead of replacing: the fork never overwrites a session.
      fs.linkSync(temp, plan.target);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') {
        throw new SessionStoreError('ERR_SESSION_EXISTS', `A session already exists at ${plan.target}; fork with another id.`, {
          path: plan.target,
          cause: err,
        });
      }
      throw ioError('create', plan.target, err);
    }
  } catch (err) {
    throw err instanceof SessionStoreError ? err : ioError('write the fork', plan.target, err);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
  }
  if (plan.durable) await fsyncDir(path.dirname(plan.target));
}

const NEWLINE = Buffer.from('\n');
