/**
 * A psql-script lexer: finds statement boundaries, comments and psql meta-commands in one pass.
 * Hand-written because no library lexes psql scripts (backslash commands, COPY data, BEGIN ATOMIC
 * bodies) and the real parser cannot recover from an error mid-file; offsets are UTF-16 indices.
 */

export interface Comment {
  /** char offsets into the source */
  start: number;
  end: number;
  /** text without the comment markers, trimmed */
  text: string;
  kind: 'line' | 'block';
}

export interface Piece {
  /** char range of one statement candidate, excluding the terminating `;` */
  start: number;
  end: number;
}

export interface LexResult {
  /** the source with psql meta-commands and COPY data blanked out (same length, newlines kept) */
  sql: string;
  pieces: Piece[];
  comments: Comment[];
  /** blanked psql meta-commands, for diagnostics that want to mention them */
  metaCommands: Piece[];
}

const SEMI = 59; // ;
const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const DASH = 45; // -
const SLASH = 47; // /
const STAR = 42; // *
const BACKSLASH = 92; // \
const LPAREN = 40;
const RPAREN = 41;

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === DOLLAR;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** psql meta-commands that send the query buffer, i.e. end the current statement like `;` does. */
const SENDING_META = /^\\(g|gx|gset|gexec|gdesc|crosstabview|watch|bind|bind_named|sendpipeline)\b/;

/**
 * Splits a script into statement pieces. Keywords tracked (CREATE FUNCTION/PROCEDURE … BEGIN ATOMIC
 * … END) follow psql's own rule so that SQL-standard bodies are not cut at their inner semicolons.
 */
export function lex(source: string): LexResult {
  const len = source.length;
  let out: string[] | null = null; // built lazily: most files have nothing to blank
  let lastCopied = 0;
  /** Blanks `[from, to)`; `lead` replaces its first char (`;` for a meta-command that sends the buffer). */
  const blank = (from: number, to: number, lead = '') => {
    if (out === null) out = [];
    out.push(source.slice(lastCopied, from), lead);
    out.push(source.slice(from + lead.length, to).replace(/[^\n\r]/g, ' '));
    lastCopied = to;
  };

  const pieces: Piece[] = [];
  const comments: Comment[] = [];
  const metaCommands: Piece[] = [];

  let pieceStart = -1; // first significant char of the current statement
  let parenDepth = 0;
  let beginDepth = 0;
  // the first identifiers of the statement, lower-cased, to recognise CREATE [OR REPLACE] FUNCTION|PROCEDURE
  const heads: string[] = [];
  let isRoutine = false;

  const endPiece = (end: number) => {
    if (pieceStart >= 0) pieces.push({ start: pieceStart, end: trimEnd(source, pieceStart, end) });
    pieceStart = -1;
    parenDepth = 0;
    beginDepth = 0;
    heads.length = 0;
    isRoutine = false;
  };

  let copyEnds: number[] | undefined;
  let i = 0;
  while (i < len) {
    const c = source.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // comments
    if (c === DASH && source.charCodeAt(i + 1) === DASH) {
      let j = source.indexOf('\n', i);
      if (j < 0) j = len;
      comments.push({ start: i, end: j, text: source.slice(i + 2, j).trim(), kind: 'line' });
      i = j;
      continue;
    }
    if (c === SLASH && source.charCodeAt(i + 1) === STAR) {
      const j = skipBlockComment(source, i);
      comments.push({
        start: i,
        end: j,
        text: source.slice(i + 2, Math.max(i + 2, j - 2)).trim(),
        kind: 'block',
      });
      i = j;
      continue;
    }
    // psql meta-command: backslash outside quotes, runs to the end of the line
    if (c === BACKSLASH) {
      let j = source.indexOf('\n', i);
      if (j < 0) j = len;
      const cmd = source.slice(i, j);
      // `\\` separates two meta-commands on a line; blanking the whole line covers both
      metaCommands.push({ start: i, end: j });
      // The parser gets several pieces in one call (parse.ts), so a meta-command that ends a
      // statement must leave a `;` in the blanked text: spaces alone would join `SELECT 1 \gset`
      // and the next line's `COMMIT` into `SELECT 1 COMMIT` (an alias). Same offset, same length.
      const ends = pieceStart >= 0 && SENDING_META.test(cmd);
      blank(i, j, ends ? ';' : '');
      if (ends) endPiece(i);
      i = j;
      continue;
    }
    if (pieceStart < 0) pieceStart = i;
    if (c === SEMI) {
      if (parenDepth === 0 && beginDepth === 0) {
        const start = pieceStart;
        endPiece(i);
        i++;
        if (isCopyFromStdin(source, start, i)) {
          copyEnds ??= copyTerminators(source);
          const j = skipCopyData(source, i, copyEnds);
          if (j > i) blank(i, j);
          i = j;
        }
        continue;
      }
      i++;
      continue;
    }
    if (c === LPAREN) {
      parenDepth++;
      i++;
      continue;
    }
    if (c === RPAREN) {
      if (parenDepth > 0) parenDepth--;
      i++;
      continue;
    }
    if (c === QUOTE) {
      i = skipQuoted(source, i, QUOTE, isEscapeString(source, i));
      continue;
    }
    if (c === DQUOTE) {
      i = skipQuoted(source, i, DQUOTE, false);
      continue;
    }
    if (c === DOLLAR) {
      const tagEnd = dollarTagEnd(source, i);
      if (tagEnd > 0) {
        const tag = source.slice(i, tagEnd);
        const close = source.indexOf(tag, tagEnd);
        i = close < 0 ? len : close + tag.length;
        continue;
      }
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < len && isIdentChar(source.charCodeAt(j))) j++;
      // E'…' strings are handled when the quote is reached; here only words matter
      if (heads.length < 4 || isRoutine) {
        const word = source.slice(i, j).toLowerCase();
        if (heads.length < 4) {
          heads.push(word);
          isRoutine = isRoutineHead(heads);
        }
        if (isRoutine && parenDepth === 0) {
          if (word === 'begin' || word === 'case') beginDepth++;
          else if (word === 'end' && beginDepth > 0) beginDepth--;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  endPiece(len);

  let sql = source;
  if (out !== null) {
    (out as string[]).push(source.slice(lastCopied));
    sql = (out as string[]).join('');
  }
  return { sql, pieces, comments, metaCommands };
}

function isRoutineHead(h: string[]): boolean {
  if (h[0] !== 'create') return false;
  const k = h[1] === 'or' && h[2] === 'replace' ? h[3] : h[1];
  return k === 'function' || k === 'procedure';
}

function trimEnd(s: string, start: number, end: number): number {
  let e = end;
  while (e > start && isSpace(s.charCodeAt(e - 1))) e--;
  return e;
}

function skipBlockComment(s: string, i: number): number {
  // block comments nest in Postgres
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === SLASH && s.charCodeAt(j + 1) === STAR) {
      depth++;
      j += 2;
    } else if (c === STAR && s.charCodeAt(j + 1) === SLASH) {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return s.length;
}

function isEscapeString(s: string, quoteAt: number): boolean {
  const p = s.charCodeAt(quoteAt - 1);
  if (p !== 69 && p !== 101) return false; // E or e
  const pp = quoteAt >= 2 ? s.charCodeAt(quoteAt - 2) : 32;
  return !isIdentChar(pp);
}

function skipQuoted(s: string, i: number, q: number, backslashEscapes: boolean): number {
  let j = i + 1;
  const len = s.length;
  while (j < len) {
    const c = s.charCodeAt(j);
    if (backslashEscapes && c === BACKSLASH) {
      j += 2;
      continue;
    }
    if (c === q) {
      if (s.charCodeAt(j + 1) === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return len;
}

/** Returns the end of a `$tag$` opener at i, or -1 when `$` does not start a dollar quote. */
function dollarTagEnd(s: string, i: number): number {
  if (i > 0 && isIdentChar(s.charCodeAt(i - 1))) return -1; // part of an identifier like a$b
  let j = i + 1;
  const first = s.charCodeAt(j);
  if (first === DOLLAR) return j + 1;
  if (!isIdentStart(first) || first === DOLLAR) return -1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === DOLLAR) return j + 1;
    if (!isIdentChar(c) || c === DOLLAR) return -1;
    j++;
  }
  return -1;
}

const COPY_FROM_STDIN = /^copy\b[\s\S]*\bfrom\s+stdin\b/i;

function isCopyFromStdin(s: string, start: number, end: number): boolean {
  const c = s.charCodeAt(start);
  if (c !== 67 && c !== 99) return false; // C or c
  return COPY_FROM_STDIN.test(s.slice(start, end));
}

/**
 * COPY … FROM stdin data runs from the next line to a line holding only `\.`. Without that line
 * nothing is treated as data: a linter should rather parse too much than silently skip SQL.
 * `ends` lists the end offsets of all `\.` lines, found once per file.
 */
function skipCopyData(s: string, afterSemi: number, ends: number[]): number {
  const lineEnd = s.indexOf('\n', afterSemi);
  if (lineEnd < 0) return afterSemi;
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]! <= lineEnd) lo = mid + 1;
    else hi = mid;
  }
  return lo < ends.length ? ends[lo]! : afterSemi;
}

function copyTerminators(s: string): number[] {
  const ends: number[] = [];
  let from = 0;
  for (;;) {
    const k = s.indexOf('\n\\.', from);
    if (k < 0) return ends;
    let e = k + 3;
    if (s.charCodeAt(e) === 13) e++;
    if (e >= s.length || s.charCodeAt(e) === 10) ends.push(e);
    from = k + 1;
  }
}
