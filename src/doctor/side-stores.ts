/**
 * Doctor's look at what the store keeps beside the sessions: artifact blobs (re-hashed: a blob
 * whose bytes no longer match its name is reported) and the embeddings file (damaged records the
 * reader skips are reported). Reads only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileArtifacts } from '../file/artifacts.js';
import { EMBEDDINGS_DIR } from '../file/embeddings/file-embeddings.js';
import { decodeHeader, HEADER_BYTES, parseRecords } from '../file/embeddings/log-format.js';
import type { Finding } from './doctor.js';

/** Findings about the artifacts of the store in `dir`. */
export async function artifactFindings(dir: string): Promise<Finding[]> {
  const bad = await new FileArtifacts(dir, false).verify();
  return bad.map(({ ref, file }) => ({
    severity: 'error',
    kind: 'artifact-corrupt',
    file,
    message: `the bytes of artifact ${ref} no longer match their sha256 (a disk error or an edit)`,
    fix: 'restore the file from a backup; `get` returns these bytes as they are until then',
  }));
}

/** Findings about the embeddings file of the store in `dir`. */
export async function embeddingFindings(dir: string): Promise<Finding[]> {
  const file = path.join(dir, EMBEDDINGS_DIR, 'vectors.bin');
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch {
    return [];
  }
  const relative = path.relative(dir, file);
  const header = decodeHeader(bytes);
  if (header === undefined) return [{ severity: 'error', kind: 'embeddings-damaged', file: relative, message: 'not an embeddings file this sessionlog knows (bad header)', fix: `move it away; the store starts a new one at the next upsert` }];
  const parsed = parseRecords(bytes.subarray(HEADER_BYTES), header.dimensions);
  const tail = bytes.length - HEADER_BYTES - parsed.consumed;
  if (parsed.skipped === 0 && tail === 0) return [];
  const what = [parsed.skipped > 0 ? `${parsed.skipped} damaged bytes between records` : '', tail > 0 ? `${tail} bytes of a record cut short at the end` : ''].filter(Boolean).join(' and ');
  return [{ severity: 'warning', kind: 'embeddings-damaged', file: relative, message: `${what} (a write interrupted by a crash); the vectors around them are read`, fix: 'nothing to do: the damaged bytes are dropped when the file is next rewritten' }];
}
