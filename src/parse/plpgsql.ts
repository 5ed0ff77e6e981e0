/**
 * SQL embedded in the migration: the statements of `DO $$ … $$` blocks and of PL/pgSQL or SQL
 * function bodies, as Statements whose offsets point where their text sits in the file, so that
 * they are analyzed and linted like top-level statements.
 *
 * Recovered: plain SQL statements of a PL/pgSQL body (at any nesting: IF, loops, exception
 * blocks), `PERFORM …`, `CALL …`, and `EXECUTE` of one constant string literal; every statement
 * of a `LANGUAGE sql` body. Not recovered: dynamic SQL built at run time (`EXECUTE format(…)`,
 * concatenation), bodies the PL/pgSQL parser rejects (e.g. an undeclared `INTO` target), bodies
 * written as an escaped single-quoted string, and `BEGIN ATOMIC` SQL bodies.
 */

import type { Node } from '@pgsql/types';
import type { EmbeddedIn, SourceFile, Statement } from './parse.js';

export type { EmbeddedIn };

import { parsePlPgSQLSync, parseSync } from './wasm.js';

/** SQL a body runs that cannot be known before it runs (EXECUTE of a string built at run time). */
export interface UnknownSql {
  /** char range in the file */
  start: number;
  end: number;
  /** why, in words: "EXECUTE of a string built at run time" */
  reason: string;
}

/** What one DO block or function body runs, as far as it is statically known. */
export interface EmbeddedBody {
  /** the DO statement, or the function's definition (with `calledAt`) */
  in: EmbeddedIn;
  /** the statements recovered from it, in order */
  statements: Statement[];
  /** what it runs that is not statically known */
  unknown: UnknownSql[];
}

/** What a function definition keeps for linting its body where it is called. */
export interface FunctionBody {
  name: string;
  definition: Statement;
}

// biome-ignore lint/suspicious/noExplicitAny: libpg-query JSON is loosely typed; every read is guarded
type AnyNode = any;

function option(list: unknown, name: string): AnyNode | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const o of list) {
    const d = (o as AnyNode)?.DefElem;
    if (d?.defname === name) return d;
  }
  return undefined;
}

/** The language and body text of a DO or CREATE FUNCTION statement. */
function bodyOf(stmt: Statement): { language: string; body: string } | undefined {
  const n = stmt.node as AnyNode;
  if (n.DoStmt) {
    const args = n.DoStmt.args;
    const body = option(args, 'as')?.arg?.String?.sval;
    const language = String(option(args, 'language')?.arg?.String?.sval ?? 'plpgsql').toLowerCase();
    return typeof body === 'string' ? { language, body } : undefined;
  }
  if (n.CreateFunctionStmt) {
    const opts = n.CreateFunctionStmt.options;
    const items = option(opts, 'as')?.arg?.List?.items;
    const body = items?.length === 1 ? items[0]?.String?.sval : undefined;
    const language = String(option(opts, 'language')?.arg?.String?.sval ?? '').toLowerCase();
    return typeof body === 'string' ? { language, body } : undefined;
  }
  return undefined;
}

/**
 * A DO block whose PL/pgSQL body ends transactions itself (COMMIT or ROLLBACK, PG 11+): Postgres
 * runs it only outside a transaction block (a batched backfill that commits each batch).
 */
export function commitsInBody(stmt: Statement): boolean {
  if (stmt.kind !== 'DoStmt') return false;
  const b = bodyOf(stmt);
  if (b?.language !== 'plpgsql' || !/\b(commit|rollback)\b/i.test(b.body)) return false;
  let tag = '$pgkeel$';
  for (let i = 0; b.body.includes(tag); i++) tag = `$pgkeel${i}$`;
  let tree: AnyNode;
  try {
    tree = parsePlPgSQLSync(
      `CREATE FUNCTION pg_temp.pgkeel_body() RETURNS void LANGUAGE plpgsql AS ${tag}${b.body}${tag}`,
    );
  } catch {
    return false;
  }
  let found = false;
  const visit = (v: unknown): void => {
    if (found || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const o = v as AnyNode;
    if (o.PLpgSQL_stmt_commit || o.PLpgSQL_stmt_rollback) {
      found = true;
      return;
    }
    for (const x of Object.values(o)) visit(x);
  };
  visit(tree?.plpgsql_funcs);
  return found;
}

/** The function a CREATE FUNCTION/PROCEDURE defines, if its body can be linted. */
export function functionDefinition(stmt: Statement): FunctionBody | undefined {
  const n = (stmt.node as AnyNode).CreateFunctionStmt;
  if (!n) return undefined;
  const b = bodyOf(stmt);
  if (!b || (b.language !== 'plpgsql' && b.language !== 'sql')) return undefined;
  const parts = (n.funcname ?? []).map((p: AnyNode) => p?.String?.sval).filter(Boolean);
  const name = parts.at(-1);
  return name ? { name: String(name), definition: stmt } : undefined;
}

/** Names of the functions a statement calls (`SELECT f()`, `CALL p()`, `… FROM f()`). */
export function calledFunctions(stmt: Statement): string[] {
  const out: string[] = [];
  const stack: unknown[] = [stmt.node];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    } else if (v && typeof v === 'object') {
      // CallStmt holds its FuncCall unwrapped, as `funccall`
      const call = (v as AnyNode).FuncCall ?? (v as AnyNode).CallStmt?.funccall;
      if (call) {
        const name = (call.funcname ?? []).map((p: AnyNode) => p?.String?.sval).at(-1);
        if (name) out.push(name);
      }
      // only objects can hold calls: leaving strings and numbers off the stack halves the walk
      for (const k in v as AnyNode) {
        const x = (v as AnyNode)[k];
        if (x !== null && typeof x === 'object') stack.push(x);
      }
    }
  }
  return out;
}

/**
 * The statements embedded in a DO block or function definition, in order. `index` is the host's:
 * findings in them belong to the statement that runs them. Never throws.
 */
export function embeddedStatements(file: SourceFile, host: Statement, index: number): Statement[] {
  return embeddedBody(file, host, index)?.statements ?? [];
}

/**
 * What a DO block or function definition runs: its statements (`index` is the host's) and what is
 * not statically known. Undefined when `host` has no body. Never throws.
 */
export function embeddedBody(file: SourceFile, host: Statement, index: number): EmbeddedBody | undefined {
  const n = host.node as AnyNode;
  if (!n.DoStmt && !n.CreateFunctionStmt) return undefined;
  const embeddedIn: EmbeddedIn = n.DoStmt
    ? { kind: 'do', start: host.start, end: host.end }
    : {
        kind: 'function',
        start: host.start,
        end: host.end,
        name: (n.CreateFunctionStmt.funcname ?? []).map((p: AnyNode) => p?.String?.sval).join('.'),
      };
  const out: EmbeddedBody = { in: embeddedIn, statements: [], unknown: [] };
  const whole = (reason: string) => out.unknown.push({ start: host.start, end: host.end, reason });
  try {
    const b = bodyOf(host);
    if (!b) {
      whole('a body pgkeel cannot read');
      return out;
    }
    // the body's text in the file: verbatim in a dollar-quoted (or escape-free quoted) string
    const bodyStart = file.sql.indexOf(b.body, host.start);
    if (bodyStart < 0 || bodyStart + b.body.length > host.end + 1) {
      whole('a body written as a quoted string with escapes');
      return out;
    }
    let pieces: Piece[];
    if (b.language === 'plpgsql') {
      try {
        const variables = new Set<string>();
        pieces = plpgsqlPieces(
          b.body,
          (at, end, reason) => out.unknown.push({ start: bodyStart + at, end: bodyStart + end, reason }),
          variables,
        );
        if (variables.size > 0) embeddedIn.variables = variables;
      } catch (e) {
        whole(`a body the PL/pgSQL parser rejects (${(e as Error)?.message ?? e})`);
        return out;
      }
    } else if (b.language === 'sql') pieces = sqlPieces(b.body);
    else {
      whole(`a LANGUAGE ${b.language} body`);
      return out;
    }
    for (const p of pieces) {
      const parsed = parsePiece(file, p, bodyStart);
      if (parsed.length === 0) {
        const start = bodyStart + p.at;
        out.unknown.push({ start, end: start + p.text.length, reason: 'SQL pgkeel cannot parse' });
      }
      const inside = p.conditional ? { ...embeddedIn, conditional: true } : embeddedIn;
      for (const s of parsed) out.statements.push({ ...s, index, embeddedIn: inside });
    }
    return out;
  } catch (e) {
    whole(`a body pgkeel failed to read (${(e as Error)?.message ?? e})`);
    return out;
  }
}

/** A name whose spelling in SQL text contains it (in some case): printable ASCII without `"`. */
const PLAIN_NAME = /^[\x20\x21\x23-\x7e]+$/;

/** Nesting of DO blocks and function calls followed. */
export const MAX_EMBEDDING = 4;

/** What the analyzer offers to run a body in one transaction (the Analyzer has both). */
export interface BlockScope {
  beginBlock(index: number): boolean;
  endBlock(opened: boolean): void;
}

/** One body a statement runs, with what `visit` returned for each of its statements. */
export interface EmbeddedRun<T> {
  body: EmbeddedBody;
  results: T[];
}

/**
 * Follows the SQL embedded in a file, statement by statement in file order: DO blocks run their
 * statements right away; a function's statements run where it is called (`SELECT f()`, `CALL p()`,
 * `PERFORM f()`), in the caller's state. Either way they share one transaction: the current one or
 * their own. Shared by lint, explain and trace so that they see the same statements.
 */
export class EmbeddedSql {
  /** functions defined in the file whose bodies can be read, by name */
  private readonly functions = new Map<string, FunctionBody>();
  /** with `oncePerFunction`: the functions already followed at a call */
  private readonly followed = new Set<string>();
  /** functions being followed now (a function calling itself is not followed again) */
  private readonly active = new Set<string>();

  constructor(
    readonly file: SourceFile,
    readonly options: {
      /** follow a function's body at its first call only (lint: its findings once); default: at every call */
      oncePerFunction?: boolean;
    } = {},
  ) {}

  /**
   * The bodies `stmt` runs. Call once per statement, in the order they run: a CREATE FUNCTION is
   * remembered here for its later calls.
   */
  bodiesRunBy(stmt: Statement): EmbeddedBody[] {
    if (stmt.kind === 'DoStmt') {
      const b = embeddedBody(this.file, stmt, stmt.index);
      return b ? [b] : [];
    }
    if (stmt.kind === 'CreateFunctionStmt') {
      const def = functionDefinition(stmt);
      if (def) {
        this.functions.set(def.name, def);
        this.followed.delete(def.name);
      }
      return [];
    }
    if (this.functions.size === 0 || !this.mayCall(stmt)) return [];
    const out: EmbeddedBody[] = [];
    for (const name of calledFunctions(stmt)) {
      const def = this.functions.get(name);
      if (!def || this.active.has(name)) continue;
      if (this.options.oncePerFunction) {
        if (this.followed.has(name)) continue;
        this.followed.add(name);
      }
      const b = embeddedBody(this.file, def.definition, stmt.index);
      if (!b) continue;
      const calledAt = stmt.start;
      out.push({
        in: { ...b.in, calledAt },
        statements: b.statements.map((s) => ({ ...s, embeddedIn: { ...s.embeddedIn!, calledAt } })),
        unknown: b.unknown,
      });
    }
    return out;
  }

  /**
   * False when `stmt` cannot call a known function, judged from its text: most statements of a file
   * that defines a function never name it, and reading the text is cheaper than walking the AST.
   * Exact for a top-level statement, whose text is what was parsed: a call names the function in
   * it as written (any case, maybe quoted, maybe longer than the 63 bytes kept), unless spelled with
   * U&"…" escapes or doubled quotes, which fall back to the walk, as do many functions (a search each).
   */
  private mayCall(stmt: Statement): boolean {
    if (stmt.embeddedIn || this.functions.size > 8 || stmt.text.includes('&')) return true;
    const text = stmt.text.toLowerCase();
    for (const name of this.functions.keys()) {
      if (!PLAIN_NAME.test(name) || text.includes(name.toLowerCase())) return true;
    }
    return false;
  }

  /**
   * Runs `visit` on every statement of every body `stmt` runs (at `depth + 1`), each body in one
   * transaction of `scope`. `visit` recurses by calling `run` again; nesting stops at MAX_EMBEDDING.
   */
  run<T>(
    stmt: Statement,
    depth: number,
    scope: BlockScope,
    visit: (s: Statement, depth: number) => T,
  ): EmbeddedRun<T>[] {
    if (depth >= MAX_EMBEDDING) return [];
    const out: EmbeddedRun<T>[] = [];
    for (const body of this.bodiesRunBy(stmt)) {
      const results: T[] = [];
      out.push({ body, results });
      if (body.statements.length === 0) continue;
      const name = body.in.kind === 'function' ? body.in.name?.split('.').at(-1) : undefined;
      if (name) this.active.add(name);
      const opened = scope.beginBlock(stmt.index);
      try {
        for (const s of body.statements) results.push(visit(s, depth + 1));
      } finally {
        scope.endBlock(opened);
        if (name) this.active.delete(name);
      }
    }
    return out;
  }
}

/** One SQL text found in a body: `text` is what to parse; `at` its offset in the body; `shift` body chars to skip before location 0. */
interface Piece {
  text: string;
  /** body char offset of the statement's first char */
  at: number;
  /** body char offset that AST location 0 corresponds to */
  base: number;
  /** the text is verbatim in the body (false: an unescaped string literal, offsets approximate) */
  exact: boolean;
  /** it runs only under a condition (IF, CASE, a loop, an exception handler) */
  conditional?: boolean;
}

function sqlPieces(body: string): Piece[] {
  return [{ text: body, at: 0, base: 0, exact: true }];
}

/** PL/pgSQL statements whose inner statements may run zero times */
const CONDITIONAL = new Set([
  'PLpgSQL_stmt_if',
  'PLpgSQL_stmt_case',
  'PLpgSQL_stmt_loop',
  'PLpgSQL_stmt_while',
  'PLpgSQL_stmt_fori',
  'PLpgSQL_stmt_fors',
  'PLpgSQL_stmt_forc',
  'PLpgSQL_stmt_foreach_a',
  'PLpgSQL_stmt_dynfors',
  'PLpgSQL_exception_block',
]);

/** Statements that run SQL given as an expression: `EXECUTE`, `FOR … IN EXECUTE`, `RETURN QUERY EXECUTE`, `OPEN … FOR EXECUTE`. */
const DYNAMIC: Record<string, string> = {
  PLpgSQL_stmt_dynexecute: 'query',
  PLpgSQL_stmt_dynfors: 'query',
  PLpgSQL_stmt_return_query: 'dynquery',
  PLpgSQL_stmt_open: 'dynquery',
};

/**
 * The SQL of a PL/pgSQL body. `unknown` is told of SQL built at run time (body offsets). Throws
 * when the PL/pgSQL parser rejects the body.
 */
function plpgsqlPieces(
  body: string,
  unknown: (at: number, end: number, reason: string) => void = () => {},
  variables?: Set<string>,
): Piece[] {
  let tag = '$pgkeel$';
  for (let i = 0; body.includes(tag); i++) tag = `$pgkeel${i}$`;
  const tree = parsePlPgSQLSync(
    `CREATE FUNCTION pg_temp.pgkeel_body() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}`,
  ) as AnyNode;
  // the body's variables: PL/pgSQL substitutes their values into its statements
  for (const d of tree?.plpgsql_funcs?.[0]?.PLpgSQL_function?.datums ?? []) {
    const name = (d?.PLpgSQL_var ?? d?.PLpgSQL_rec)?.refname;
    if (typeof name === 'string' && name !== 'found') variables?.add(name);
  }
  const lineStarts = [0];
  for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const out: Piece[] = [];
  let cursor = 0;
  const find = (text: string, lineno: number | undefined): number => {
    const from = Math.max(cursor, lineStarts[(lineno ?? 1) - 1] ?? 0);
    let i = body.indexOf(text, from);
    if (i < 0) i = body.indexOf(text, cursor);
    return i;
  };
  const visit = (v: unknown, conditional: boolean): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, conditional);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as AnyNode;
    const exec = o.PLpgSQL_stmt_execsql ?? o.PLpgSQL_stmt_call;
    if (exec) {
      const q: string | undefined = (exec.sqlstmt ?? exec.expr)?.PLpgSQL_expr?.query;
      if (q) {
        const i = find(q, exec.lineno);
        if (i >= 0) {
          out.push({ text: q, at: i, base: i, exact: true, conditional });
          cursor = i + q.length;
        }
      }
      return;
    }
    const perform = o.PLpgSQL_stmt_perform;
    if (perform) {
      // PERFORM x is kept as `SELECT x`: "SELECT" is one char shorter than "PERFORM"
      const q: string | undefined = perform.expr?.PLpgSQL_expr?.query;
      if (q?.startsWith('SELECT')) {
        const rest = q.slice(6);
        const i = find(rest, perform.lineno);
        if (i >= 7 && /^perform$/i.test(body.slice(i - 7, i))) {
          out.push({ text: q, at: i - 7, base: i - 6, exact: true, conditional });
          cursor = i + rest.length;
        }
      }
      return;
    }
    const dyn = o.PLpgSQL_stmt_dynexecute;
    if (dyn) {
      const q: string | undefined = dyn.query?.PLpgSQL_expr?.query;
      const lit = q ? constantString(q) : undefined;
      if (q && lit) {
        const i = find(q, dyn.lineno);
        if (i >= 0) {
          const at = i + lit.offset;
          out.push({ text: lit.value, at, base: at, exact: lit.exact, conditional });
          cursor = i + q.length;
        }
        return;
      }
    }
    for (const [kind, field] of Object.entries(DYNAMIC)) {
      const d = o[kind];
      const q: string | undefined = d?.[field]?.PLpgSQL_expr?.query;
      if (!q) continue;
      const i = find(q, d.lineno);
      if (i >= 0) {
        // from the EXECUTE keyword to the end of the expression
        const kw = /execute\s*$/i.exec(body.slice(Math.max(0, i - 40), i));
        const start = kw ? i - kw[0].length : i;
        unknown(start, i + q.length, 'EXECUTE of a string built at run time');
        cursor = i + q.length;
      }
      if (kind === 'PLpgSQL_stmt_dynexecute') return;
    }
    for (const k in o) visit(o[k], conditional || CONDITIONAL.has(k));
  };
  visit(tree.plpgsql_funcs, false);
  return out;
}

/** `'…'`, `E'…'` (no escapes) or `$tag$…$tag$`: its value and where the value starts in `expr`. */
function constantString(expr: string): { value: string; offset: number; exact: boolean } | undefined {
  let value: unknown;
  try {
    const tree = parseSync(`SELECT ${expr}`) as AnyNode;
    const stmts = tree.stmts ?? [];
    const sel = stmts.length === 1 ? stmts[0].stmt?.SelectStmt : undefined;
    const targets = sel?.targetList ?? [];
    if (targets.length !== 1 || sel.fromClause) return undefined;
    value = targets[0]?.ResTarget?.val?.A_Const?.sval?.sval;
  } catch {
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const lead = expr.length - expr.trimStart().length;
  const t = expr.trim();
  const dollar = /^\$[A-Za-z_]*\$/.exec(t);
  if (dollar) return { value, offset: lead + dollar[0].length, exact: true };
  if (t.startsWith("'")) {
    return { value, offset: lead + 1, exact: t.slice(1, -1) === value };
  }
  return undefined;
}

function parsePiece(file: SourceFile, p: Piece, bodyStart: number): Omit<Statement, 'index'>[] {
  let tree: AnyNode;
  try {
    tree = parseSync(p.text) as AnyNode;
  } catch {
    return [];
  }
  const out: Omit<Statement, 'index'>[] = [];
  const fileAt = bodyStart + p.at;
  const byteBase = file.bytes.charToByte(bodyStart + p.base);
  const exact = p.exact && p.at === p.base;
  for (const raw of tree.stmts ?? []) {
    if (!raw.stmt) continue;
    const node = raw.stmt as Node;
    const kind = Object.keys(node)[0] ?? 'Unknown';
    let start = fileAt;
    let end = fileAt + p.text.length;
    if (exact) {
      // several statements in one text (a SQL function body): each its own range
      const loc = raw.stmt_location ?? 0;
      start = file.bytes.byteToChar(byteBase + loc);
      end = raw.stmt_len ? file.bytes.byteToChar(byteBase + loc + raw.stmt_len) : fileAt + p.text.length;
      while (start < end && /\s/.test(file.sql[start]!)) start++;
      while (end > start && /[\s;]/.test(file.sql[end - 1]!)) end--;
    } else if (!p.exact) {
      // a string literal whose escapes shift offsets: underline the literal
      end = Math.min(file.sql.length, fileAt + p.text.length);
    }
    out.push({ node, kind, start, end, text: file.sql.slice(start, end), byteBase });
  }
  return out;
}
