/**
 * Turning arbitrary file text into terminal-safe output: columns as a terminal draws them (tabs,
 * wide and zero-width characters) and visible stand-ins for characters that would corrupt the
 * output (control codes, terminal escapes, bidi overrides).
 */

import { eastAsianWidth } from 'get-east-asian-width';

export const TAB_WIDTH = 4;

/** Never scan more than this many characters per requested column (guards floods of zero-width marks). */
const CHARS_PER_COLUMN_CAP = 8;

// combining marks and format characters (ZWJ, variation selectors, BOM) take no column
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Columns a printable code point occupies: Unicode East Asian Width, zero for combining marks. */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(String.fromCodePoint(cp))) return 0;
  return eastAsianWidth(cp) === 2 ? 2 : 1;
}

/** Bidi controls can make printed code read differently from what Postgres parses ("Trojan Source"). */
function isBidiControl(cp: number): boolean {
  return (
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

/** The text printed for one code point (at display column `col`, for tab stops) and its width. */
function glyph(cp: number, col: number): [string, number] {
  if (cp === 9) {
    const n = TAB_WIDTH - (col % TAB_WIDTH);
    return [' '.repeat(n), n];
  }
  // C0 controls become their Control Pictures (ESC → ␛), so no escape sequence reaches the terminal
  if (cp < 0x20) return [String.fromCharCode(0x2400 + cp), 1];
  if (cp === 0x7f) return ['\u2421', 1];
  // C1 controls (0x9b is a one-byte CSI), lone surrogates, and line/paragraph separators
  if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0x2028 || cp === 0x2029) {
    return ['\ufffd', 1];
  }
  if (isBidiControl(cp)) {
    const name = `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
    return [name, name.length];
  }
  return [String.fromCodePoint(cp), codePointWidth(cp)];
}

export interface Rendered {
  /** printable text: no control characters, tabs expanded */
  text: string;
  /** columns `text` occupies */
  width: number;
  /** offset just after the last character rendered; `< to` when the width ran out */
  end: number;
  /** for each probe offset, its display column within `text` (probes past `end` get `width`) */
  cols: number[];
}

/**
 * Renders `s[from, to)` into at most `maxWidth` columns. Work is bounded by `maxWidth`, not by
 * `to - from`, so a 100 kB line costs no more than a short one.
 */
export function renderRange(
  s: string,
  from: number,
  to: number,
  maxWidth: number,
  probes: number[] = [],
): Rendered {
  const cols = probes.map(() => -1);
  const limit = from + Math.max(maxWidth, 1) * CHARS_PER_COLUMN_CAP;
  let out = '';
  let col = 0;
  let i = from;
  // printable ASCII is copied in runs: building the line a glyph at a time dominated pretty output
  let run = i;
  while (i < to && i < limit) {
    for (let p = 0; p < probes.length; p++) if (cols[p] === -1 && probes[p]! <= i) cols[p] = col;
    let cp = s.charCodeAt(i);
    if (cp >= 0x20 && cp < 0x7f) {
      if (col + 1 > maxWidth) break;
      col++;
      i++;
      continue;
    }
    out += s.slice(run, i);
    let units = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        units = 2;
      }
    }
    const [text, w] = glyph(cp, col);
    run = i;
    if (col + w > maxWidth) break;
    out += text;
    col += w;
    i += units;
    run = i;
  }
  out += s.slice(run, i);
  for (let p = 0; p < probes.length; p++) if (cols[p] === -1) cols[p] = col;
  return { text: out, width: col, end: i, cols };
}

/** Renders a short, single-line string and cuts it with `…` if it is wider than `maxWidth`. */
export function truncate(s: string, maxWidth: number): string {
  const r = renderRange(s, 0, s.length, maxWidth - 1);
  if (r.end >= s.length) return r.text;
  // the reserved column was only for the ellipsis: try the whole string in the full width first
  const full = renderRange(s, 0, s.length, maxWidth);
  return full.end >= s.length ? full.text : r.text + '…';
}

/** Any character `sanitizeInline` may replace: controls but `\n`, C1, surrogates, line separators, bidi controls. */
const NEEDS_SANITIZING =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Makes prose (messages, help, paths, titles) safe to print; keeps `\n` for the caller to split.
 * Tabs become one space because prose is not aligned to columns.
 */
export function sanitizeInline(s: string): string {
  // almost all prose needs no change: one native scan instead of a loop over every character
  if (!NEEDS_SANITIZING.test(s)) return s;
  let out = '';
  let kept = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    } else if (
      !(
        c < 0x20 ||
        (c >= 0x7f && c <= 0x9f) ||
        (c >= 0xdc00 && c <= 0xdfff) ||
        c === 0x2028 ||
        c === 0x2029 ||
        isBidiControl(c)
      ) ||
      c === 10
    ) {
      continue;
    }
    out += s.slice(kept, i) + (c === 9 ? ' ' : glyph(c, 0)[0]);
    kept = i + 1;
  }
  return kept === 0 ? s : out + s.slice(kept);
}

/** A value printed inside one line (a path, a rule id, a mode): controls made visible, line breaks as ␊. */
export function inlineValue(s: string): string {
  return sanitizeInline(String(s)).replace(/\n/g, '␊');
}

/** Lines of prose, with CRLF/CR line ends accepted. */
export function proseLines(s: string): string[] {
  return sanitizeInline(s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s).split('\n');
}

/** Moves `offset` off the low half of a surrogate pair so slices never split a character. */
export function snapToChar(s: string, offset: number, min: number): number {
  if (offset <= min) return min;
  const c = s.charCodeAt(offset);
  const prev = s.charCodeAt(offset - 1);
  return c >= 0xdc00 && c <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff ? offset - 1 : offset;
}
