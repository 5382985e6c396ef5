/**
 * One session as one self-contained HTML file: the viewer's rendering and stylesheet, no script
 * at all (collapsing is `<details>`), and a policy that forbids any: a transcript's hostile text
 * stays text wherever the file is opened.
 */
import fs from 'node:fs';
import type { SessionInfo } from '../core/info.js';
import type { Problem } from '../format/codec.js';
import { escape, renderEntries, renderProblems, type ToolNames } from './render.js';

const STYLE = new URL('../../assets/viewer/app.css', import.meta.url);
const POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** The file's head and the session's facts; entries follow with {@link exportEntries}, then {@link exportEnd}. */
export function exportStart(info: SessionInfo): string {
  const facts = [info.model, info.cwd, `${info.entryCount} entries`, `created ${info.createdAt}`, `updated ${info.updatedAt}`].filter((f) => f !== undefined);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${escape(info.title ?? info.id)}</title><style>${fs.readFileSync(STYLE, 'utf8')}</style></head>
<body><main><section class="session-head"><h1>${escape(info.title ?? '(untitled)')}</h1>
<p class="dim"><code>${escape(info.id)}</code> · ${facts.map((f) => escape(f)).join(' · ')}</p>
${info.parent === undefined ? '' : `<p class="dim">Forked from <code>${escape(info.parent.id)}</code></p>`}</section>
<div class="entries">
`;
}

/** A run of entries (tool names carried across runs, so a result names its call). */
export function exportEntries(entries: readonly Record<string, unknown>[], names: ToolNames): string {
  return `${renderEntries(entries, names)}\n`;
}

/** The end of the file, with the problem lines that were skipped (where and what kind). */
export function exportEnd(problems: readonly Problem[]): string {
  return `${renderProblems(problems)}</div><p class="note">Exported by sessionlog.</p></main></body></html>\n`;
}
