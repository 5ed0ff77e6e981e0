import { beforeAll, describe, expect, it } from 'vitest';
import { lex } from '../src/parse/lexer.js';
import { loadParser, parseSql } from '../src/parse/parse.js';
import { ByteMap, LineIndex } from '../src/parse/positions.js';

beforeAll(() => loadParser());

describe('positions', () => {
  it('maps UTF-8 bytes to UTF-16 chars across 2-, 3- and 4-byte characters', () => {
    const text = 'aé€😀b';
    const map = new ByteMap(text);
    // a=1 byte, é=2, €=3, 😀=4 (2 code units), b=1
    expect([0, 1, 3, 6, 10].map((b) => map.byteToChar(b))).toEqual([0, 1, 2, 3, 5]);
    expect([0, 1, 2, 3, 5].map((c) => map.charToByte(c))).toEqual([0, 1, 3, 6, 10]);
    expect(map.byteLength).toBe(11);
    expect(map.byteToChar(2)).toBe(1); // inside é
  });

  it('gives 1-based lines and columns, CRLF counted as line end', () => {
    const text = 'ab\r\ncd\nef';
    const idx = new LineIndex(text);
    expect(idx.position(0)).toEqual({ line: 1, column: 1 });
    expect(idx.position(4)).toEqual({ line: 2, column: 1 });
    expect(idx.position(8)).toEqual({ line: 3, column: 2 });
  });
});

describe('lexer', () => {
  it('splits on top-level semicolons only', () => {
    const sql = `select ';' ; select $$ ; $$; select "a;b"; select $x$ $$ ; $x$; /* ; */ select 1 -- ;\n;`;
    expect(lex(sql).pieces.map((p) => sql.slice(p.start, p.end))).toEqual([
      "select ';'",
      'select $$ ; $$',
      'select "a;b"',
      'select $x$ $$ ; $x$',
      'select 1 -- ;',
    ]);
  });

  it('keeps BEGIN ATOMIC bodies whole', () => {
    const sql =
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3;';
    expect(lex(sql).pieces.map((p) => sql.slice(p.start, p.end))).toEqual([
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END',
      'SELECT 3',
    ]);
  });

  it('blanks psql meta-commands and COPY data without moving offsets', () => {
    const sql = "\\set x 1\nCOPY t FROM stdin;\n1\t'a;\n\\.\nSELECT 1 \\gset\nSELECT 2;";
    const r = lex(sql);
    expect(r.sql.length).toBe(sql.length);
    expect(r.sql.split('\n').length).toBe(sql.split('\n').length);
    expect(r.pieces.map((p) => sql.slice(p.start, p.end))).toEqual([
      'COPY t FROM stdin',
      'SELECT 1',
      'SELECT 2',
    ]);
  });

  it('collects comments with their text', () => {
    const r = lex('-- pgkeel-ignore a -- why\nselect 1; /* block */');
    expect(r.comments.map((c) => [c.kind, c.text])).toEqual([
      ['line', 'pgkeel-ignore a -- why'],
      ['block', 'block'],
    ]);
  });
});

describe('parseSql', () => {
  it('accepts an empty file', () => {
    expect(parseSql('').statements).toEqual([]);
    expect(parseSql('  -- only a comment\n').statements).toEqual([]);
  });

  it('reports a bad statement at its own location and parses the rest', () => {
    const sql = 'select 1;\ncreate tabel x (a int);\nalter table t add column c int;';
    const { statements, errors, file } = parseSql(sql);
    expect(statements.map((s) => s.kind)).toEqual(['SelectStmt', 'AlterTableStmt']);
    expect(errors).toHaveLength(1);
    const err = errors[0]!;
    expect(file.position(err.start)).toEqual({ line: 2, column: 1 });
    expect(sql.slice(err.at, err.at + 5)).toBe('tabel');
    expect(err.message).toMatch(/syntax error/);
  });

  it('gives char offsets after multi-byte text, also for AST locations', () => {
    const sql = "select 'ünïcødé 😀';\nalter table t add column c int;";
    const { statements, file } = parseSql(sql);
    const alter = statements[1]!;
    expect(alter.text).toBe('alter table t add column c int');
    expect(file.position(alter.start)).toEqual({ line: 2, column: 1 });
    const rel = (alter.node as { AlterTableStmt: { relation: { location: number } } }).AlterTableStmt
      .relation;
    expect(sql.slice(file.offsetOf(alter, rel.location), file.offsetOf(alter, rel.location) + 1)).toBe('t');
  });

  it('reports offsets in files with CRLF line ends', () => {
    const sql = 'select 1;\r\n\r\nselect 2;';
    const { statements, file } = parseSql(sql);
    expect(file.position(statements[1]!.start)).toEqual({ line: 3, column: 1 });
  });

  // psql sends the query buffer on each of these as on `;`: what follows is a new statement, not
  // the alias `COMMIT` of `SELECT 1` (which broke the transaction model)
  const SENDING = ['\\g', '\\gx', '\\gset', '\\gexec', '\\gdesc', '\\crosstabview', '\\watch'];
  for (const cmd of SENDING) {
    for (const [layout, sep] of [
      ['on one line', ' '],
      ['across lines', '\n  '],
    ] as const) {
      it(`ends the statement at ${cmd} (${layout})`, () => {
        const sql = `BEGIN;\nSELECT 1${sep}${cmd} x\nCOMMIT;\nSELECT 2 ${cmd}\n\tROLLBACK;`;
        const { statements, errors, file } = parseSql(sql);
        expect(errors).toEqual([]);
        expect(statements.map((s) => s.text)).toEqual([
          'BEGIN',
          'SELECT 1',
          'COMMIT',
          'SELECT 2',
          'ROLLBACK',
        ]);
        expect(statements.map((s) => s.kind)).toEqual([
          'TransactionStmt',
          'SelectStmt',
          'TransactionStmt',
          'SelectStmt',
          'TransactionStmt',
        ]);
        // positions are those of the original file
        const at = (s: number) => file.position(statements[s]!.start);
        expect(at(1)).toEqual({ line: 2, column: 1 });
        expect(at(2)).toEqual({ line: sep === ' ' ? 3 : 4, column: 1 });
        expect(at(4)).toEqual({ line: sep === ' ' ? 5 : 6, column: 2 });
        for (const s of statements) expect(sql.slice(s.start, s.end)).toBe(s.text);
      });
    }
  }

  it('does not end the statement at other meta-commands or at a backslash in a string', () => {
    const { statements } = parseSql("SELECT 'a\\gset' \\echo hi\n, 2;\nCOMMIT;");
    expect(statements.map((s) => s.kind)).toEqual(['SelectStmt', 'TransactionStmt']);
  });

  it('parses psql scripts with meta-commands between statements', () => {
    const sql = '\\set ON_ERROR_STOP 1\nselect :x;\ncreate table t (a int);\n\\d t\n';
    const { statements, errors } = parseSql(sql);
    expect(statements.map((s) => s.kind)).toEqual(['CreateStmt']);
    expect(errors).toHaveLength(1); // psql variables are not SQL
  });
});
