import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSql } from '../src/explain/explain.js';
import { formatExplain } from '../src/explain/index.js';
import { runCli } from './run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-explain-'));
  await writeFile(join(dir, 'check.sql'), 'ALTER TABLE orders ADD CONSTRAINT c CHECK (amount >= 0);\n');
  await writeFile(join(dir, 'broken.sql'), 'ALTER TABLE orders ADD COLUMN;\nCREATE INDEX i ON t (x);\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (argv: string[]) => runCli(argv, { cwd: dir });

const MIGRATION = `BEGIN;
CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric);
CREATE INDEX invoices_total_idx ON invoices (total);
ALTER TABLE orders ADD CONSTRAINT orders_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
`;

describe('explainSql', () => {
  it('names the lock, what it blocks and lets through, the work under it and how long it lasts', async () => {
    const f = await explainSql(MIGRATION, { pgVersion: 16 });
    const byLine = (line: number) => f.statements.find((s) => s.line === line)!;

    const fk = byLine(4);
    expect(fk.locks.map((l) => [l.relation, l.role, l.mode])).toEqual([
      ['public.orders', 'table', 'SHARE ROW EXCLUSIVE'],
      ['public.customers', 'referenced', 'SHARE ROW EXCLUSIVE'],
    ]);
    const orders = fk.locks[0]!;
    expect(orders.blocks).toContain('INSERT/UPDATE/DELETE');
    expect(orders.allows).toEqual(['SELECT', 'SELECT FOR UPDATE/SHARE']);
    expect(orders.blocksApplication).toBe(true);
    expect(orders).toMatchObject({ scan: true, rewrite: false, duration: 'table-size', heldUntil: 'commit' });
    // the referenced table's lock lasts while the referencing table is scanned
    expect(fk.locks[1]).toMatchObject({ scan: false, duration: 'table-size', sizeOf: 'public.orders' });
    expect(fk.transaction).toEqual({
      id: 1,
      openedBy: 'statement',
      start: { statement: 0, line: 1 },
      end: { statement: 5, line: 6 },
    });

    // after COMMIT: autocommit, released at the end of the statement; the type change rewrites
    const alter = byLine(7);
    expect(alter.transaction).toBeUndefined();
    expect(alter.locks[0]).toMatchObject({
      mode: 'ACCESS EXCLUSIVE',
      rewrite: true,
      heldUntil: 'statement-end',
      allows: [],
    });
    expect(alter.notes.join(' ')).toMatch(/type change/);
  });

  it('shows locks still held from earlier statements, with where they were taken', async () => {
    const f = await explainSql(MIGRATION, { pgVersion: 16 });
    const addColumn = f.statements.find((s) => s.line === 5)!;
    // orders was locked by the FOREIGN KEY at line 4 and is locked again (stronger) here
    expect(addColumn.locks[0]).toMatchObject({
      relation: 'public.orders',
      mode: 'ACCESS EXCLUSIVE',
      alreadyHeld: false,
      heldSince: { statement: 3, line: 4 },
    });
    const held = addColumn.heldFromEarlier.map((h) => [h.relation, h.mode, h.since.line]);
    expect(held).toEqual([
      ['public.invoices', 'SHARE', 3],
      ['public.customers', 'SHARE ROW EXCLUSIVE', 4],
    ]);
    const commit = f.statements.find((s) => s.sql === 'COMMIT')!;
    expect(commit.heldFromEarlier.find((h) => h.relation === 'public.orders')).toMatchObject({
      mode: 'ACCESS EXCLUSIVE',
      modes: ['SHARE ROW EXCLUSIVE', 'ACCESS EXCLUSIVE'],
    });
  });

  it('marks relations created in this migration, and in this transaction', async () => {
    const f = await explainSql(MIGRATION, { pgVersion: 16 });
    const index = f.statements.find((s) => s.line === 3)!;
    expect(index.locks[0]).toMatchObject({
      relation: 'public.invoices',
      mode: 'SHARE',
      isNew: true,
      newInTransaction: true,
      indexBuild: true,
    });
    const later = await explainSql('CREATE TABLE t (x int);\nCREATE INDEX ON t (x);\n', { pgVersion: 16 });
    expect(later.statements[1]!.locks[0]).toMatchObject({ isNew: true, newInTransaction: false });
  });

  it('knows the runner’s implicit transaction', async () => {
    const f = await explainSql('CREATE INDEX CONCURRENTLY i ON t (x);\nALTER TABLE t ADD COLUMN y int;\n', {
      pgVersion: 16,
      runner: 'knex',
    });
    expect(f.statements[0]!.transaction).toEqual({ id: 1, openedBy: 'runner' });
    expect(f.statements[0]!.notes.join(' ')).toMatch(/cannot run inside a transaction block.*knex/);
    expect(f.statements[1]!.locks[0]!.heldUntil).toBe('commit');
  });

  it('follows the target version: SET NOT NULL proven by a CHECK scans before PG 12', async () => {
    const sql = `ALTER TABLE t ADD CONSTRAINT nn CHECK (x IS NOT NULL) NOT VALID;
ALTER TABLE t VALIDATE CONSTRAINT nn;
ALTER TABLE t ALTER COLUMN x SET NOT NULL;
`;
    const on11 = (await explainSql(sql, { pgVersion: 11 })).statements[2]!;
    const on12 = (await explainSql(sql, { pgVersion: 12 })).statements[2]!;
    expect(on11.locks[0]).toMatchObject({ scan: true, duration: 'table-size' });
    expect(on11.notes).toContain('Before PG 12 the CHECK constraint is not used.');
    expect(on12.locks[0]).toMatchObject({ scan: false, duration: 'brief' });
  });

  it('says when an operation does not exist on the target version', async () => {
    const sql = 'REINDEX TABLE CONCURRENTLY t;\n';
    const on11 = (await explainSql(sql, { pgVersion: 11 })).statements[0]!;
    expect(on11.actions[0]).toMatchObject({ operation: 'reindex-concurrently', unsupported: true });
    expect(on11.notes.join(' ')).toMatch(/does not exist on PostgreSQL 11/);
    const on12 = (await explainSql(sql, { pgVersion: 12 })).statements[0]!;
    expect(on12.actions[0]!.unsupported).toBeUndefined();
    expect(on12.notes.join(' ')).not.toMatch(/does not exist/);
  });

  it('keeps going after a statement that does not parse', async () => {
    const f = await explainSql('ALTER TABLE t ADD COLUMN;\nCREATE INDEX i ON t (x);\n');
    expect(f.parseErrors).toBe(1);
    expect(f.statements[0]!.error).toBeTruthy();
    expect(f.statements[1]!.locks[0]!.mode).toBe('SHARE');
  });
});

/** 1-based line and column of the first occurrence of `needle` in `sql` */
function at(sql: string, needle: string): { line: number; column: number } {
  const i = sql.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in the SQL`);
  const before = sql.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

const DO_BLOCK = `BEGIN;
DO $$
BEGIN
  ALTER TABLE orders ADD COLUMN uid uuid DEFAULT gen_random_uuid();
  CREATE INDEX orders_note_idx ON orders (note);
  EXECUTE format('CREATE INDEX %I ON customers (name)', 'customers_name_idx');
END $$;
ALTER TABLE customers ADD COLUMN x int;
COMMIT;
DO $$ BEGIN CREATE INDEX invoices_total_idx ON invoices (total); END $$;
`;

describe('explain: DO blocks and functions', () => {
  it('shows a DO block’s statements under it, with their own locks, work and positions', async () => {
    const f = await explainSql(DO_BLOCK, { pgVersion: 16 });
    expect(f.statements.map((s) => s.line)).toEqual([1, 2, 8, 9, 10]);
    const block = f.statements[1]!;
    expect(block.kind).toBe('DoStmt');
    expect(block.locks).toEqual([]);
    expect(block.embedded).toHaveLength(1);
    const body = block.embedded![0]!;
    expect(body).toMatchObject({ kind: 'do', line: 2, column: 1 });
    const [add, index] = body.statements;
    expect(add).toMatchObject({ index: 1, kind: 'AlterTableStmt', ...at(DO_BLOCK, 'ALTER TABLE orders') });
    expect(add!.sql).toBe('ALTER TABLE orders ADD COLUMN uid uuid DEFAULT gen_random_uuid()');
    expect(add!.locks).toHaveLength(1);
    expect(add!.locks[0]).toMatchObject({
      relation: 'public.orders',
      mode: 'ACCESS EXCLUSIVE',
      rewrite: true,
      duration: 'table-size',
      heldUntil: 'commit',
    });
    expect(add!.notes.join(' ')).toMatch(/volatile function gen_random_uuid/);
    expect(index).toMatchObject({ kind: 'IndexStmt', ...at(DO_BLOCK, 'CREATE INDEX orders_note_idx') });
    // SHARE is covered by the ACCESS EXCLUSIVE the ALTER TABLE took just before, in the same block
    expect(index!.locks[0]).toMatchObject({
      relation: 'public.orders',
      mode: 'SHARE',
      indexBuild: true,
      alreadyHeld: true,
      heldSince: { statement: 1, line: 4 },
    });
    // EXECUTE of a string built at run time: said, not guessed
    expect(body.notStaticallyKnown).toEqual([
      {
        ...at(DO_BLOCK, 'EXECUTE format'),
        endLine: 6,
        endColumn: 78,
        start: DO_BLOCK.indexOf('EXECUTE format'),
        end: DO_BLOCK.indexOf(';\nEND $$;\nALTER'),
        sql: "EXECUTE format('CREATE INDEX %I ON customers (name)', 'customers_name_idx')",
        reason: 'EXECUTE of a string built at run time',
      },
    ]);
  });

  it('keeps the DO block’s locks held for the rest of the transaction, or only for the block', async () => {
    const f = await explainSql(DO_BLOCK, { pgVersion: 16 });
    const inside = f.statements[1]!.embedded![0]!.statements[0]!;
    expect(inside.transaction).toEqual({
      id: 1,
      openedBy: 'statement',
      start: { statement: 0, line: 1 },
      end: { statement: 3, line: 9 },
    });
    // the statement after the block still sees orders locked, since the line inside the block
    const after = f.statements[2]!;
    expect(after.heldFromEarlier.map((h) => [h.relation, h.mode, h.since])).toEqual([
      ['public.orders', 'ACCESS EXCLUSIVE', { statement: 1, line: 4 }],
    ]);
    // in autocommit, the block runs in a transaction of its own, released when it ends
    const alone = f.statements[4]!;
    expect(alone.transaction).toBeUndefined();
    const index = alone.embedded![0]!.statements[0]!;
    expect(index).toMatchObject({ line: 10, column: 13 });
    expect(index.locks.map((l) => [l.relation, l.mode])).toEqual([['public.invoices', 'SHARE']]);
    expect(index.transaction).toEqual({ id: 2, openedBy: 'block', start: { statement: 4, line: 10 } });
  });

  it('shows a function’s statements where it is called, at every call', async () => {
    const sql = `CREATE FUNCTION add_note() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attname = 'note') THEN
    ALTER TABLE orders ADD COLUMN note text;
  END IF;
END $$;
SELECT add_note();
SELECT add_note();
`;
    const f = await explainSql(sql, { pgVersion: 16 });
    expect(f.statements[0]!.embedded).toBeUndefined();
    for (const call of [f.statements[1]!, f.statements[2]!]) {
      expect(call.embedded).toHaveLength(1);
      const body = call.embedded![0]!;
      expect(body).toMatchObject({ kind: 'function', name: 'add_note', line: 1, column: 1 });
      expect(body.statements).toHaveLength(1);
      expect(body.statements[0]).toMatchObject({
        index: call.index,
        conditional: true,
        ...at(sql, 'ALTER TABLE'),
      });
      expect(body.statements[0]!.locks.map((l) => [l.relation, l.mode])).toEqual([
        ['public.orders', 'ACCESS EXCLUSIVE'],
      ]);
      expect(body.statements[0]!.transaction).toMatchObject({
        openedBy: 'block',
        start: { line: call.line },
      });
    }
  });

  it('pretty, json and markdown show the embedded statements', async () => {
    const report = { files: [await explainSql(DO_BLOCK, { pgVersion: 16, path: 'm.sql' })] };
    const pretty = formatExplain('pretty', report, { toolVersion: '0', maxWidth: 200 });
    expect(pretty).toContain(
      "line 2  DO $$ …\n  runs    the DO block's 2 statements, and 1 part not statically known:\n    line 4:3  ALTER TABLE orders ADD COLUMN uid uuid DEFAULT gen_random_uuid()\n      does    ADD COLUMN with a volatile DEFAULT",
    );
    expect(pretty).toContain('      lock    ACCESS EXCLUSIVE on orders — blocks all reads and writes');
    expect(pretty).toContain(
      "    line 6:3  EXECUTE format('CREATE INDEX %I ON customers (name)', 'customers_name_idx')\n      unknown not statically known: EXECUTE of a string built at run time",
    );
    expect(pretty).toContain('  still   holds ACCESS EXCLUSIVE on orders (locked since line 4)');
    expect(pretty).toContain(
      'builds an index: for a time proportional to the table’s size, then until the statement on line 10 ends',
    );

    const doc = JSON.parse(formatExplain('json', report, { toolVersion: '0' }));
    const block = doc.files[0].statements[1];
    expect(Object.keys(block).at(-1)).toBe('embedded');
    expect(block.embedded[0]).toMatchObject({ kind: 'do', line: 2, column: 1 });
    expect(Object.keys(block.embedded[0])).toEqual([
      'kind',
      'line',
      'column',
      'statements',
      'notStaticallyKnown',
    ]);
    expect(
      block.embedded[0].statements.map((s: { line: number; locks: { mode: string }[] }) => [
        s.line,
        s.locks[0]!.mode,
      ]),
    ).toEqual([
      [4, 'ACCESS EXCLUSIVE'],
      [5, 'SHARE'],
    ]);
    expect(block.embedded[0].notStaticallyKnown[0]).toMatchObject({ line: 6, column: 3 });
    // statements that run no embedded SQL keep their shape
    expect(doc.files[0].statements[2].embedded).toBeUndefined();

    const md = formatExplain('markdown', report, { toolVersion: '0' });
    expect(md).toContain('| 2 | `DO $$ …` |  | — | runs the statements below |  |  |');
    expect(md).toContain(
      '| ↳ 4:3 | `ALTER TABLE orders ADD COLUMN uid uuid DEFAULT gen_random_uuid()` | `orders` | **ACCESS EXCLUSIVE** | blocks all reads and writes | rewrite: proportional to table size | COMMIT (line 9) |',
    );
    expect(md).toContain(
      "| ↳ 6:3 | `EXECUTE format('CREATE INDEX %I ON customers (name)', 'customers_name_idx')` |  | ? | not statically known: EXECUTE of a string built at run time |  |  |",
    );
    expect(md).toContain('end of the statement (line 10)');
    // every row has the header's cells
    for (const line of md.split('\n').filter((l) => l.startsWith('|'))) {
      expect(line.replace(/\\\|/g, '').split('|').length).toBe(9);
    }
  });
});

describe('explain formats', () => {
  it('pretty: readable lines per statement, colour only when asked', async () => {
    const report = { files: [await explainSql(MIGRATION, { pgVersion: 16, path: 'm.sql' })] };
    const plain = formatExplain('pretty', report, { toolVersion: '0' });
    expect(plain).not.toContain('\x1b[');
    expect(plain).toContain('m.sql  PG 16 · psql · 7 statements');
    expect(plain).toContain('SHARE ROW EXCLUSIVE on customers — blocks writes (INSERT/UPDATE/DELETE)');
    expect(plain).toMatch(/allows SELECT, SELECT FOR UPDATE\/SHARE\n/);
    expect(plain).toContain('transaction 1 (BEGIN at line 1): locks are held until COMMIT at line 6');
    expect(plain).toContain('holds SHARE on invoices (locked since line 3)');
    expect(plain).toMatch(/7 statements in 1 file · \d+ block application queries/);
    expect(formatExplain('pretty', report, { toolVersion: '0', color: true })).toContain('\x1b[');
  });

  it('json: the documented document', async () => {
    const report = { files: [await explainSql(MIGRATION, { pgVersion: 16, path: 'm.sql' })] };
    const doc = JSON.parse(formatExplain('json', report, { toolVersion: '1.2.3' }));
    expect(doc.version).toBe(1);
    expect(doc.tool).toEqual({ name: 'pgkeel', version: '1.2.3' });
    const file = doc.files[0];
    expect(Object.keys(file)).toEqual([
      'path',
      'pgVersion',
      'runner',
      'noTransaction',
      'statementCount',
      'parseErrors',
      'statements',
    ]);
    const fk = file.statements[3];
    expect(Object.keys(fk)).toEqual([
      'index',
      'line',
      'column',
      'endLine',
      'endColumn',
      'start',
      'end',
      'sql',
      'kind',
      'transaction',
      'actions',
      'locks',
      'heldFromEarlier',
      'notes',
    ]);
    expect(fk.locks[0]).toMatchObject({
      relation: 'public.orders',
      mode: 'SHARE ROW EXCLUSIVE',
      duration: 'table-size',
    });
    expect(JSON.stringify(doc)).not.toContain('null');
  });

  it('markdown: one valid table per file, notes below it', async () => {
    const report = {
      files: [
        await explainSql(`${MIGRATION}SELECT 'a|b';\nCREATE INDEX CONCURRENTLY i ON t (x);\n`, {
          pgVersion: 16,
          path: 'm.sql',
        }),
      ],
    };
    const md = formatExplain('markdown', report, { toolVersion: '0' });
    const lines = md.split('\n');
    const header = lines.findIndex((l) => l.startsWith('| line |'));
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toMatch(/^\|(?:-{3,}:?\|)+$/);
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    const table = lines.slice(header, lines.indexOf('', header));
    expect(table.length).toBeGreaterThan(8);
    for (const row of table) expect(cells(row)).toBe(cells(lines[header]!));
    expect(md).toContain("`SELECT 'a\\|b'`");
    expect(md).toContain('| **SHARE ROW EXCLUSIVE** |');
    expect(md).toMatch(/\n- line \d+: Waits for every transaction with an older snapshot/);
  });
});

describe('pgkeel explain', () => {
  it('explains files, exits 0, and applies --pg-version and --format', async () => {
    const r = await run(['explain', 'check.sql', '--pg-version', '12', '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.files[0]).toMatchObject({ path: 'check.sql', pgVersion: 12, runner: 'psql' });
    expect(doc.files[0].statements[0].locks[0].mode).toBe('ACCESS EXCLUSIVE');
  });

  it('shows parse errors and exits 1', async () => {
    const r = await run(['explain', 'broken.sql']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Postgres cannot parse this statement');
    expect(r.stdout).toContain('SHARE on t');
  });

  it('exits 2 on a missing file or a bad flag', async () => {
    expect((await run(['explain', 'missing.sql'])).code).toBe(2);
    expect((await run(['explain', 'check.sql', '--pg-version', '9'])).code).toBe(2);
    expect((await run(['explain', 'check.sql', '--format', 'xml'])).code).toBe(2);
  });

  it('prints what the README shows for examples/002', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('`pgkeel explain examples/002_orders_amount_check.sql`:'));
    const block = /```\n([\s\S]*?)```/.exec(section)![1]!;
    const { code, stdout: out } = await runCli(['explain', 'examples/002_orders_amount_check.sql'], {
      cwd: process.cwd(),
    });
    expect(code).toBe(0);
    expect(out).toContain(block.trimEnd());
  });
});

describe('locks held from earlier statements', () => {
  it('dates the strongest held mode from the statement that took it', async () => {
    const sql = `BEGIN;
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN note text;
SELECT 1;
COMMIT;
`;
    const report = { files: [await explainSql(sql, { pgVersion: 16, path: 'm.sql' })] };
    const pretty = formatExplain('pretty', report, { toolVersion: '0', maxWidth: 200 });
    expect(pretty).toContain('holds ACCESS EXCLUSIVE on orders (locked since line 3)');
  });
});
