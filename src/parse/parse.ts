import type { Node } from '@pgsql/types';
import { type Comment, lex, type Piece } from './lexer.js';
import { ByteMap, LineIndex, type Position } from './positions.js';
import { loadModule, parseSync } from './wasm.js';

export interface EmbeddedIn {
  kind: 'do' | 'function';
  /** the char range of the DO statement or CREATE FUNCTION statement */
  start: number;
  end: number;
  /** the function's name, for `function` */
  name?: string;
  /** for `function`: char offset of the statement that calls it (where its body is linted) */
  calledAt?: number;
  /** the statement runs only under a condition: inside IF, CASE, a loop or an exception handler */
  conditional?: boolean;
  /** names of the body's variables (DECLARE, FOR loop variables, parameters): values, not columns */
  variables?: ReadonlySet<string>;
}

/** One parsed SQL statement, with its place in the file. */
export interface Statement {
  /** 0-based ordinal among the file's statements (parse errors included) */
  index: number;
  /** the statement node, e.g. `{ AlterTableStmt: {...} }` */
  node: Node;
  /** the node's type name, e.g. `AlterTableStmt` */
  kind: string;
  /** char offsets into the file; `end` excludes the terminating `;` */
  start: number;
  end: number;
  text: string;
  /** file byte offset that the AST's `location` fields are relative to */
  byteBase: number;
  /** a statement of a DO block or function body (see plpgsql.ts); `index` is then the statement that runs it */
  embeddedIn?: EmbeddedIn;
}

/** A statement the Postgres parser rejected; the rest of the file is still parsed. */
export interface ParseError {
  index: number;
  message: string;
  /** the statement's char range */
  start: number;
  end: number;
  /** char offset the parser pointed at */
  at: number;
}

export type ParsedItem = ({ type: 'statement' } & Statement) | ({ type: 'error' } & ParseError);

/** A lexed file whose statements are parsed lazily, chunk by chunk, so that ASTs of a huge file never coexist. */
export interface SourceFile {
  /** the original text */
  source: string;
  /** text handed to the parser: psql meta-commands and COPY data blanked, same offsets */
  sql: string;
  comments: Comment[];
  metaCommands: Piece[];
  /** statements the lexer found (parse errors included): known before parsing, for runner models */
  statementCount: number;
  lines: LineIndex;
  bytes: ByteMap;
  /** statements and parse errors in file order */
  items(): Generator<ParsedItem>;
  /** an AST `location` of `stmt` as a char offset in the file */
  offsetOf(stmt: Statement, location: number): number;
  position(offset: number): Position;
}

let loaded: Promise<void> | undefined;
/** Loads the wasm parser once; every other function here is synchronous after it resolves. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/**
 * Target size of one parser call: big enough to amortise the call, small enough that each tree dies
 * young (measured: 4 KB parsed a 5 MB file ~10% faster than 16 KB or 64 KB, see `npm run bench`).
 */
const CHUNK_CHARS = 4 * 1024;

export function openSource(source: string): SourceFile {
  const { sql, pieces, comments, metaCommands } = lex(source);
  const bytes = new ByteMap(sql);
  const lines = new LineIndex(source);
  const file: SourceFile = {
    source,
    sql,
    comments,
    metaCommands,
    statementCount: pieces.length,
    lines,
    bytes,
    items: () => parsePieces(sql, pieces, bytes),
    offsetOf: (stmt, location) => bytes.byteToChar(stmt.byteBase + location),
    position: (offset) => lines.position(offset),
  };
  return file;
}

/** Parses a whole text at once (convenience for small inputs and tests). */
export function parseSql(source: string): {
  file: SourceFile;
  statements: Statement[];
  errors: ParseError[];
} {
  const file = openSource(source);
  const statements: Statement[] = [];
  const errors: ParseError[] = [];
  for (const item of file.items()) {
    if (item.type === 'statement') statements.push(item);
    else errors.push(item);
  }
  return { file, statements, errors };
}

interface RawStmt {
  stmt?: Node;
  stmt_location?: number;
  stmt_len?: number;
}

function* parsePieces(sql: string, pieces: Piece[], bytes: ByteMap): Generator<ParsedItem> {
  let index = 0;
  let p = 0;
  while (p < pieces.length) {
    // gather consecutive pieces into one chunk
    const first = p;
    let size = 0;
    do {
      size += pieces[p]!.end - pieces[p]!.start;
      p++;
    } while (p < pieces.length && size < CHUNK_CHARS);
    const chunkStart = pieces[first]!.start;
    const chunkEnd = pieces[p - 1]!.end;
    const result = tryParse(sql.slice(chunkStart, chunkEnd));
    if (result.ok) {
      const items = toStatements(sql, result.stmts, chunkStart, chunkEnd, bytes, index);
      index += items.length;
      yield* items;
      continue;
    }
    // a statement in the chunk is invalid: parse piece by piece so that only it is lost
    for (let q = first; q < p; q++) {
      const piece = pieces[q]!;
      const r = first + 1 === p ? result : tryParse(sql.slice(piece.start, piece.end));
      if (r.ok) {
        const items = toStatements(sql, r.stmts, piece.start, piece.end, bytes, index);
        index += items.length;
        yield* items;
      } else {
        const base = bytes.charToByte(piece.start);
        const at = Math.min(piece.end, bytes.byteToChar(base + r.cursor));
        yield { type: 'error', index: index++, message: r.message, start: piece.start, end: piece.end, at };
      }
    }
  }
}

type ParseOutcome = { ok: true; stmts: RawStmt[] } | { ok: false; message: string; cursor: number };

function tryParse(text: string): ParseOutcome {
  try {
    const tree = parseSync(text) as { stmts?: RawStmt[] };
    return { ok: true, stmts: tree.stmts ?? [] };
  } catch (e) {
    const err = e as { message?: string; sqlDetails?: { cursorPosition?: number } };
    return { ok: false, message: err.message ?? String(e), cursor: err.sqlDetails?.cursorPosition ?? 0 };
  }
}

/** The chunk's statements, numbered from `index` (an array, not a generator: one fewer object per statement). */
function toStatements(
  sql: string,
  stmts: RawStmt[],
  chunkStart: number,
  chunkEnd: number,
  bytes: ByteMap,
  index: number,
): ParsedItem[] {
  const out: ParsedItem[] = [];
  const byteBase = bytes.charToByte(chunkStart);
  for (const raw of stmts) {
    if (!raw.stmt) continue;
    const loc = raw.stmt_location ?? 0;
    let start = bytes.byteToChar(byteBase + loc);
    let end = raw.stmt_len ? bytes.byteToChar(byteBase + loc + raw.stmt_len) : chunkEnd;
    start = skipTrivia(sql, start, end);
    while (end > start && isSpace(sql.charCodeAt(end - 1))) end--;
    let kind = 'Unknown';
    for (const k in raw.stmt) {
      kind = k;
      break;
    }
    out.push({
      type: 'statement',
      node: raw.stmt,
      kind,
      start,
      end,
      text: sql.slice(start, end),
      byteBase,
      index: index + out.length,
    });
  }
  return out;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Skips whitespace and comments: the parser's statement start includes what follows the previous `;`. */
function skipTrivia(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) i++;
    else if (c === 45 && s.charCodeAt(i + 1) === 45) {
      const nl = s.indexOf('\n', i);
      i = nl < 0 ? end : nl + 1;
    } else if (c === 47 && s.charCodeAt(i + 1) === 42) {
      let depth = 0;
      while (i < end) {
        if (s.charCodeAt(i) === 47 && s.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (s.charCodeAt(i) === 42 && s.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
    } else break;
  }
  return i;
}
