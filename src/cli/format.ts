/** Small presentation helpers: sizes, counts, times, paths, safe terminal text, tables. */
import path from 'node:path';
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';

/** A path relative to the current folder when it is inside it, else absolute. */
export function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** 1234 → "1.2 kB", in SI units as `ls --si` prints them. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = '';
  for (const next of units) {
    value /= 1000;
    unit = next;
    if (value < 1000) break;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** 12345 → "12.3k". */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** "2026-11-02 10:03" in local time; the input unchanged when it is not a date. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** "10:03:20" in local time, or undefined. */
export function formatTime(iso: unknown): string | undefined {
  if (typeof iso !== 'string') return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "2026-11-02" in local time, or undefined. */
export function formatDay(iso: unknown): string | undefined {
  if (typeof iso !== 'string') return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

// Control characters are what this pattern is for.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from a transcript made safe for a terminal: escape sequences (colours, cursor moves, OSC
 * titles and links) removed, `\r` dropped, other control characters shown as `�`. Tool output
 * is untrusted: it must not be able to drive the user's terminal.
 */
export function clean(text: string): string {
  return stripAnsi(text).replace(/\r/g, '').replace(CONTROLS, '\uFFFD').replace(/\t/g, '  ');
}

/** Width in terminal columns (wide East Asian characters and emoji count 2, combining marks 0). */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** The first of `values` that is a string, else `''`: for fields of entries read from disk, which may hold anything. */
export function firstString(...values: unknown[]): string {
  for (const value of values) if (typeof value === 'string') return value;
  return '';
}

/** Cuts `text` to at most `width` columns, ending with `…` when cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = displayWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

/** A column of a {@link table}. */
export interface Column<R> {
  readonly title: string;
  readonly value: (row: R) => string;
  readonly align?: 'left' | 'right';
  /** This column gives up width when the table is wider than the terminal. */
  readonly flexible?: boolean;
  /** A flexible column keeps this many columns while optional columns can be left out instead. @default 8 */
  readonly keep?: number;
  /** This column is left out when the table does not fit the terminal even so (the last such first). */
  readonly optional?: boolean;
  /** Colour applied after padding (so escape codes do not upset the widths). */
  readonly style?: (text: string, row: R) => string;
}

/**
 * Renders rows as aligned columns with a header line. With a `width`, every line fits it: the
 * flexible column gives up width (down to 8 columns), then optional columns are left out.
 */
export function table<R>(rows: readonly R[], allColumns: readonly Column<R>[], options: { width?: number | undefined; header?: (text: string) => string } = {}): string {
  const gap = 2;
  let columns = [...allColumns];
  let cells = rows.map((row) => columns.map((col) => clean(col.value(row)).replace(/\n/g, ' ')));
  let widths = columns.map((col, i) => Math.max(displayWidth(col.title), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  if (options.width !== undefined) {
    const limit = options.width;
    const total = (): number => widths.reduce((a, b) => a + b, 0) + gap * (columns.length - 1);
    const flex = (): number => columns.findIndex((col) => col.flexible === true);
    const shrink = (floor: (f: number) => number): void => {
      const f = flex();
      if (total() > limit && f !== -1) widths[f] = Math.max(floor(f), (widths[f] ?? 0) - (total() - limit));
    };
    // First the flexible column gives up what it can spare, then optional columns go, then it gives up more.
    const keep = (f: number): number => Math.max(8, Math.min(columns[f]?.keep ?? 8, widths[f] ?? 0));
    shrink(keep);
    for (let drop = columns.map((c) => c.optional === true).lastIndexOf(true); total() > limit && drop !== -1; drop = columns.map((c) => c.optional === true).lastIndexOf(true)) {
      columns = columns.filter((_, i) => i !== drop);
      cells = cells.map((r) => r.filter((_, i) => i !== drop));
      widths = widths.filter((_, i) => i !== drop);
      const f = flex();
      if (f !== -1) widths[f] = Math.max(displayWidth(columns[f]?.title ?? ''), ...cells.map((r) => displayWidth(r[f] ?? '')));
      shrink(keep);
    }
    shrink(() => 8);
  }
  const pad = (text: string, i: number): string => {
    const width = widths[i] ?? 0;
    const cut = truncate(text, width);
    const fill = ' '.repeat(Math.max(0, width - displayWidth(cut)));
    return columns[i]?.align === 'right' ? fill + cut : cut + fill;
  };
  const head = columns.map((col, i) => pad(col.title, i)).join(' '.repeat(gap)).trimEnd();
  const lines = [options.header?.(head) ?? head];
  rows.forEach((row, r) => {
    const line = columns.map((col, i) => {
      const text = pad(cells[r]?.[i] ?? '', i);
      return col.style === undefined ? text : col.style(text, row);
    });
    lines.push(line.join(' '.repeat(gap)).trimEnd());
  });
  return `${lines.join('\n')}\n`;
}
