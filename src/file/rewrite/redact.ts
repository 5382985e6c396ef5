/**
 * `sessionlog redact <id>`: replaces the secrets already in a session file (written before
 * redaction, with `redact: false`, imported, pulled) by their markers. A rewrite like repair (temp
 * file, fsync, rename, fsync of the folder, under the rewrite lock; see rewrite.ts) and by design
 * the one rewrite that does not keep the bytes it removes: keeping them would keep the secrets.
 * Lines the reader skips are kept as they are; a line with no secret is copied byte for byte.
 */
import path from 'node:path';
import { decodeLine, encodeLine } from '../../format/codec.js';
import { LineSplitter, type RawLine } from '../../format/lines.js';
import type { Finding, Redactor } from '../../secrets/redact.js';
import { closeQuietly, openForRead } from '../fs/files.js';
import { readUntilStill, readUpTo, type RewriteBase, type RewriteJob, SessionRewrite } from './rewrite.js';

/** Secrets found on one line: its number and their kinds, never the secrets. */
export interface SecretLine {
  readonly line: number;
  readonly kinds: readonly string[];
}

/** What `redactSecrets()` did. */
export interface RedactReport {
  readonly id: string;
  readonly file: string;
  /** False when the session held no secret: the file was not touched. */
  readonly redacted: boolean;
  readonly lines: readonly SecretLine[];
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

const NEWLINE = Buffer.from('\n');
const REDACT: RewriteJob = { done: 'redacted', retry: 'run redact again' };

/** The secrets of one line (decoded as JSON; a line that is not JSON is scanned as text). */
export function lineSecrets(bytes: Buffer, redactor: Redactor): { kinds: string[]; redacted: Buffer | undefined } {
  const found: Finding[] = [];
  const decoded = decodeLine(bytes, true);
  if (!decoded.ok) {
    redactor.text(bytes.toString('utf8'), found);
    return { kinds: found.map((f) => f.kind), redacted: undefined };
  }
  const value = redactor.value(decoded.value, found);
  return { kinds: found.map((f) => f.kind), redacted: value === decoded.value ? undefined : Buffer.from(encodeLine(value)) };
}

/** Rewrites session `plan.id` with its secrets replaced (with `dryRun`, only finds them). @throws ERR_SESSION_NOT_FOUND, ERR_UNSAFE_FILE, ERR_LOCKED, ERR_IO */
export async function redactSession(plan: RewriteBase, redactor: Redactor, dryRun = false): Promise<RedactReport> {
  const { file, reader } = plan;
  const { fd, stat } = await openForRead(file);
  const rewrite = new SessionRewrite(file, path.dirname(file), plan.now);
  const { temp } = rewrite;
  const lines: SecretLine[] = [];
  const splitter = new LineSplitter(0, reader.maxLineBytes);
  let position = 0;
  let lineNo = 1;

  const handle = (raw: RawLine, torn: boolean): void => {
    const line = lineNo++;
    const found = raw.oversize || torn ? { kinds: [], redacted: undefined } : lineSecrets(Buffer.from(raw.bytes), redactor);
    if (found.kinds.length > 0) lines.push({ line, kinds: found.kinds });
    if (found.redacted !== undefined && !dryRun) {
      if (!temp.opened) {
        temp.open();
        temp.addRange(fd, file, 0, raw.offset);
      }
      temp.add(found.redacted);
      return;
    }
    if (!temp.opened) return;
    if (raw.oversize) temp.addRange(fd, file, raw.offset, raw.length);
    else temp.add(Buffer.from(raw.bytes));
    if (!torn) temp.add(NEWLINE);
  };
  const handleAll = (piece: Buffer): void => {
    for (const raw of splitter.push(piece)) handle(raw, false);
  };

  try {
    position = await readUpTo(fd, file, position, stat.size, handleAll);
    position = readUntilStill(fd, file, stat, position, REDACT, handleAll);
    const tail = splitter.end();
    if (tail !== undefined) handle(tail, true);
    const report = (redacted: boolean, after: number): RedactReport => ({ id: plan.id, file, redacted, lines, bytesBefore: position, bytesAfter: after });
    if (!temp.opened) return report(false, position);
    return report(true, await rewrite.replace(fd, position, () => plan.assertHeld?.()));
  } finally {
    rewrite.discard();
    await closeQuietly(fd);
  }
}

