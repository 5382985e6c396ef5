/**
 * The store's redaction key (docs/secrets.md): 32 random bytes, hex, in `.sessionlog-key`, mode
 * 0600, made once by whichever process opens the folder first. It is written to a temp file and
 * hard-linked into place, so a reader never sees it half written and two first openers agree on one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errnoOf, ioError } from '../core/errors.js';
import { tempPathFor } from './fs/temps.js';

/** The key file's name in the store folder. */
export const KEY_FILE = '.sessionlog-key';

function read(file: string): Buffer | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw ioError('read the redaction key', file, err);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw ioError('read the redaction key', file, Object.assign(new Error('not 64 hex digits'), { code: 'EINVAL' }));
  }
  return Buffer.from(text, 'hex');
}

/** The folder's key, made now if it has none. */
export function folderKey(dir: string): Buffer {
  const file = path.join(dir, KEY_FILE);
  const existing = read(file);
  if (existing !== undefined) return existing;
  const temp = tempPathFor(file);
  try {
    fs.writeFileSync(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(temp, file);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  } catch (err) {
    throw ioError('create the redaction key', file, err);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  return read(file) as Buffer;
}
