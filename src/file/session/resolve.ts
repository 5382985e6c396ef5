/**
 * Naming a session by its id or a unique prefix of it, as git names commits. Reads the folder's
 * file names only, never a session's content.
 */
import fs from 'node:fs';
import { ioError, SessionStoreError } from '../../core/errors.js';
import { idFromFileName } from '../fs/paths.js';
import { idProblem } from '../../core/ids.js';

/** At most this many candidates are named in an ambiguity error; the rest are counted. */
const MAX_CANDIDATES_SHOWN = 10;

/** The ids of every session file in `dir`, sorted. */
export async function sessionIds(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    throw ioError('list the store folder', dir, err);
  }
  return names.flatMap((name) => idFromFileName(name) ?? []).sort();
}

/**
 * The one id among `ids` equal to `name`, else the one starting with it.
 * @throws ERR_INVALID_ID (not even a prefix of a valid id), ERR_SESSION_NOT_FOUND, ERR_AMBIGUOUS_ID
 */
export function matchPrefix(ids: readonly string[], name: string, dir: string): string {
  // A prefix is valid when it is a valid id itself; "2026-" is, an empty string is not.
  const problem = idProblem(name.endsWith('.') ? `${name}x` : name);
  if (problem !== undefined) {
    const shown = JSON.stringify(name.slice(0, 40));
    throw new SessionStoreError('ERR_INVALID_ID', `Invalid session id ${shown}: ${problem}.`);
  }
  if (ids.includes(name)) return name;
  const matches = ids.filter((id) => id.startsWith(name));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length === 0) {
    throw new SessionStoreError('ERR_SESSION_NOT_FOUND', `No session in ${dir} has an id starting with ${JSON.stringify(name)}; list them with \`sessionlog list\`.`, {
      path: dir,
    });
  }
  const shown = matches.slice(0, MAX_CANDIDATES_SHOWN).join(', ');
  const more = matches.length > MAX_CANDIDATES_SHOWN ? ` and ${matches.length - MAX_CANDIDATES_SHOWN} more` : '';
  throw new SessionStoreError(
    'ERR_AMBIGUOUS_ID',
    `${JSON.stringify(name)} matches ${matches.length} sessions: ${shown}${more}; give more of the id.`,
    { path: dir },
  );
}
