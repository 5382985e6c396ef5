/** The header line a writer keeps for a session file, read once when the writer is set up. */
import { SessionStoreError } from '../../core/errors.js';
import { decodeLine, encodeLine } from '../../format/codec.js';
import { readHeader } from '../../format/migrate.js';
import { FORMAT_VERSION, type Header } from '../../format/schema.js';
import { readFirstLine } from './scan.js';

/** The header line is read with this cap; a header is a few hundred bytes. */
const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * The file's header as a line (migrated to the current version), or `fallback()`'s when line 1 is
 * damaged: a damaged header does not stop appends (the file name is the identity), and if the
 * file is ever emptied, this header is written back in front of the new entries.
 * @throws ERR_UNSUPPORTED_VERSION for a file of a newer format (read, never written),
 *   ERR_SESSION_NOT_FOUND, ERR_UNSAFE_FILE
 */
export async function writableHeaderLine(file: string, fallback: () => Header): Promise<string> {
  const first = await readFirstLine(file, MAX_HEADER_BYTES);
  const decoded = first === undefined || first.torn ? undefined : decodeLine(first.bytes, true);
  const result = decoded?.ok === true ? readHeader(decoded.value) : undefined;
  if (result?.ok !== true) return encodeLine(fallback());
  if (result.newer) {
    throw new SessionStoreError(
      'ERR_UNSUPPORTED_VERSION',
      `${file} was written by a newer sessionlog (format ${result.header.version}, this one writes ${FORMAT_VERSION}); it can be read, not written. Upgrade sessionlog.`,
      { path: file },
    );
  }
  return encodeLine(result.header);
}
