/**
 * What a reader shows for an entry. Claude Code lines kept verbatim (as the Claude Agent SDK
 * adapter stores every entry) are shown as the messages the Claude importer makes of them, so the
 * CLI, the viewer and the HTML export read them as they read imported sessions. Pure: no fs.
 */
import { ClaudeMapper } from './claude.js';

type Entry = Readonly<Record<string, unknown>>;

/**
 * The entries to show for `entry`: a Claude Code line kept verbatim (`{ type: 'claude.<type>', line }`,
 * as the Claude Agent SDK adapter writes every entry) as the messages the importer would make of it,
 * at the line's own time; any other entry as it is.
 */
export function shownEntries(entry: Entry): Entry[] {
  const line = entry['line'];
  if (typeof entry['type'] !== 'string' || !entry['type'].startsWith('claude.') || typeof line !== 'object' || line === null) return [entry];
  const mapped = new ClaudeMapper().map({ ...(line as Record<string, unknown>), type: entry['type'].slice('claude.'.length) }, 0);
  if (mapped.every((m) => m.type.startsWith('claude.'))) return [entry];
  return mapped.map((m) => ({ ...m, ts: m['ts'] ?? entry['ts'] }));
}
