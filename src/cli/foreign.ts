/**
 * Recognises another tool's transcript folder given as the store folder, so that read commands
 * say how to import it instead of treating its files as damaged sessions (and prescribing a
 * repair that would rewrite them) or writing an index into it.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Files looked at: enough to tell, cheap on a large folder. */
const SAMPLE = 5;

/** `claude` or `codex` when `dir` holds that tool's transcripts and no sessionlog session, else undefined. */
export function foreignFolder(dir: string): 'claude' | 'codex' | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  // Codex's sessions/ folder: year folders (YYYY/MM/DD), and no session file beside them.
  const years = names.filter((name) => /^\d{4}$/.test(name) && fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.isDirectory() === true);
  if (years.length > 0 && names.every((name) => !name.endsWith('.jsonl'))) return 'codex';
  const files = names.filter((name) => name.endsWith('.jsonl')).slice(0, SAMPLE);
  let verdict: 'claude' | 'codex' | undefined;
  for (const name of files) {
    const first = firstLine(path.join(dir, name));
    if (first === undefined) continue;
    if (first['type'] === 'session' && typeof first['version'] === 'number') return undefined;
    if (first['type'] === 'session_meta' || name.startsWith('rollout-')) verdict = 'codex';
    else if (typeof first['sessionId'] === 'string' || first['type'] === 'summary' || first['type'] === 'file-history-snapshot') verdict ??= 'claude';
  }
  if (verdict === undefined && names.includes('projects') && fs.existsSync(path.join(dir, 'projects'))) return 'claude';
  return verdict;
}

function firstLine(file: string): Record<string, unknown> | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const buffer = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const end = buffer.subarray(0, n).indexOf(0x0a);
    const value: unknown = JSON.parse(buffer.toString('utf8', 0, end === -1 ? n : end));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
