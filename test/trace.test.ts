/** trace on PGlite: one engine for the whole file (it takes seconds to start); each test uses its own tables. */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claim, compare, mismatchText } from '../src/trace/compare.js';
import type { TraceEngine } from '../src/trace/engine.js';
import { startEngine } from '../src/trace/engines/index.js';
import { Observer } from '../src/trace/observe.js';
import { formatTrace } from '../src/trace/report.js';
import { type TracedFile, traceFiles, traceSql } from '../src/trace/trace.js';
import { runCli } from './run-cli.js';

let engine: TraceEngine;
let dir: string;

beforeAll(async () => {
  engine = await startEngine({ kind: 'pglite' });
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-trace-'));
}, 60_000);
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

function report(file: TracedFile) {
  return { engine: { name: engine.name, majorVersion: engine.majorVersion }, files: [file] };
}

describe('traceSql on PGlite', () => {
  it('observes what the catalog claims: CHECK, NOT VALID + VALIDATE, CREATE INDEX, int → bigint', async () => {
    await engine.exec('CREATE TABLE t1 (id int PRIMARY KEY, qty int, name text)');
    const sql = `ALTER TABLE t1 ADD CONSTRAINT qty_nonneg CHECK (qty >= 0);
BEGIN;
ALTER TABLE t1 ADD CONSTRAINT qty_small CHECK (qty < 1000000) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE t1 VALIDATE CONSTRAINT qty_small;
COMMIT;
CREATE INDEX t1_name_idx ON t1 (name);
ALTER TABLE t1 ALTER COLUMN qty TYPE bigint;
`;
    const file = await traceSql(sql, { engine, seedRows: 20 });
    expect(file.setup.seeded).toEqual([{ table: 'public.t1', rows: 20 }]);
    expect(file.statements.map((s) => s.status)).toEqual(Array(9).fill('match'));
    const at = (line: number) => file.statements.find((s) => s.line === line)!;
    expect(at(1).observed).toMatchObject({
      locks: [{ relation: 'public.t1', mode: 'ACCESS EXCLUSIVE' }],
      seqScans: ['public.t1'],
    });
    expect(at(3).observed?.seqScans).toEqual([]);
    expect(at(3).inTransaction).toBe(true);
    expect(at(6).observed).toMatchObject({
      locks: [{ relation: 'public.t1', mode: 'SHARE UPDATE EXCLUSIVE' }],
      seqScans: ['public.t1'],
    });
    expect(at(8).observed?.locks?.find((l) => l.relation === 'public.t1')?.mode).toBe('SHARE');
    expect(at(9).observed?.rewritten).toContain('public.t1');
    expect(at(9).claimed).toEqual([
      { relation: 'public.t1', mode: 'ACCESS EXCLUSIVE', rewrite: true, scan: false, indexBuild: false },
    ]);
    const text = formatTrace('pretty', report(file), { toolVersion: '0' });
    expect(text).toContain('public.t1  ACCESS EXCLUSIVE · rewrite · full scan  ACCESS EXCLUSIVE · rewrite');
    expect(text).toMatch(/✓ 9 statements in 1 file on PGlite .*: what Postgres did matches the catalog/);
  });

  it('wraps the file in the runner’s transaction, so locks accumulate as in production', async () => {
    await engine.exec('CREATE TABLE t2 (id int PRIMARY KEY, qty int)');
    const sql =
      'ALTER TABLE t2 ADD COLUMN note text;\nALTER TABLE t2 ADD CONSTRAINT c CHECK (qty > 0) NOT VALID;\n';
    const file = await traceSql(sql, { engine, runner: 'knex' });
    expect(file.statements.every((s) => s.inTransaction)).toBe(true);
    // the second statement needs ACCESS EXCLUSIVE again: held since line 1, so nothing new to see
    const second = file.statements[1]!;
    expect(second.status).toBe('match');
    expect(second.observed?.locks).toEqual([]);
    expect(second.unverified[0]).toMatchObject({ relation: 'public.t2' });
    expect(second.unverified[0]!.reason).toMatch(/holds ACCESS EXCLUSIVE on it since line 1/);
    // and the runner committed: the column exists for the next session
    const cols = await engine.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 't2' AND column_name = 'note'`,
    );
    expect(cols).toHaveLength(1);
  });

  it('reports a failing statement instead of throwing, and does not run what follows', async () => {
    const file = await traceSql(
      'CREATE TABLE t3 (x int);\nALTER TABLE t3_missing ADD COLUMN y int;\nSELECT 1;\n',
      {
        engine,
      },
    );
    expect(file.statements.map((s) => s.status)).toEqual(['match', 'error', 'not-run']);
    expect(file.statements[1]!.error).toMatch(/t3_missing.*does not exist/);
    expect(file.statements[2]!.reason).toMatch(/earlier statement failed \(line 2\)/);
    const text = formatTrace('pretty', report(file), { toolVersion: '0' });
    expect(text).toContain('error  relation "t3_missing" does not exist');
    expect(text).toContain('✗ 1 error');
  });

  it('rolls everything back and leaves out what cannot run in a transaction, when asked to', async () => {
    await engine.exec('CREATE TABLE t4 (id int PRIMARY KEY, qty int)');
    const sql =
      'BEGIN;\nALTER TABLE t4 ADD COLUMN rolled_back int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY t4_qty ON t4 (qty);\n';
    const file = await traceSql(sql, { engine, rollbackOnly: true });
    expect(file.statements.map((s) => s.status)).toEqual(['not-traced', 'match', 'not-traced', 'not-traced']);
    expect(file.statements[3]!.reason).toMatch(/cannot run inside a transaction block/);
    const cols = await engine.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 't4' AND column_name = 'rolled_back'`,
    );
    expect(cols).toHaveLength(0);

    // an error aborts the one transaction: what follows is not run, and nothing is committed
    const failing = await traceSql(
      'ALTER TABLE t4 ADD COLUMN a int;\nALTER TABLE t4_missing ADD COLUMN b int;\nALTER TABLE t4 ADD COLUMN c int;\n',
      { engine, rollbackOnly: true, seedRows: 3 },
    );
    expect(failing.statements.map((s) => s.status)).toEqual(['match', 'error', 'not-run']);
    expect(await engine.query('SELECT 1 FROM t4')).toHaveLength(0);
    const added = await engine.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 't4' AND column_name IN ('a', 'c')`,
    );
    expect(added).toHaveLength(0);
  });
});

/** 1-based line and column of the first occurrence of `needle` in `sql` */
function at(sql: string, needle: string): { line: number; column: number } {
  const i = sql.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in the SQL`);
  const before = sql.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

describe('trace: DO blocks and functions on PGlite', () => {
  it('claims what the DO block’s statements do: a volatile DEFAULT rewrites under ACCESS EXCLUSIVE', async () => {
    await engine.exec('CREATE TABLE do1 (id int PRIMARY KEY)');
    const sql = `DO $$
BEGIN
  ALTER TABLE do1 ADD COLUMN uid uuid DEFAULT gen_random_uuid();
END $$;
`;
    const file = await traceSql(sql, { engine, seedRows: 5 });
    expect(file.setup.seeded).toEqual([{ table: 'public.do1', rows: 5 }]);
    const s = file.statements[0]!;
    expect(s.kind).toBe('DoStmt');
    expect(s.status).toBe('match');
    expect(s.claimed).toEqual([
      { relation: 'public.do1', mode: 'ACCESS EXCLUSIVE', rewrite: true, scan: false, indexBuild: false },
    ]);
    expect(s.observed?.locks?.find((l) => l.relation === 'public.do1')?.mode).toBe('ACCESS EXCLUSIVE');
    expect(s.observed?.rewritten).toContain('public.do1');
    expect(s.embedded).toEqual([
      {
        kind: 'do',
        line: 1,
        column: 1,
        statements: [
          {
            ...at(sql, 'ALTER TABLE'),
            endLine: 3,
            endColumn: 3 + 'ALTER TABLE do1 ADD COLUMN uid uuid DEFAULT gen_random_uuid()'.length,
            start: sql.indexOf('ALTER TABLE'),
            end: sql.indexOf(';\nEND'),
            sql: 'ALTER TABLE do1 ADD COLUMN uid uuid DEFAULT gen_random_uuid()',
            kind: 'AlterTableStmt',
            claimed: [
              {
                relation: 'public.do1',
                mode: 'ACCESS EXCLUSIVE',
                rewrite: true,
                scan: false,
                indexBuild: false,
              },
            ],
          },
        ],
        notStaticallyKnown: [],
      },
    ]);

    const text = formatTrace('pretty', report(file), { toolVersion: '0', maxWidth: 200 });
    expect(text).toContain('public.do1  ACCESS EXCLUSIVE · rewrite · full scan  ACCESS EXCLUSIVE · rewrite');
    expect(text).toContain("runs  the DO block's statements (the claims above are theirs):");
    expect(text).toContain(
      'line 3:3  ALTER TABLE do1 ADD COLUMN uid uuid DEFAULT gen_random_uuid()  → public.do1 ACCESS EXCLUSIVE · rewrite',
    );
    const doc = JSON.parse(formatTrace('json', report(file), { toolVersion: '0' }));
    const json = doc.files[0].statements[0];
    expect(Object.keys(json)).toEqual([
      'index',
      'line',
      'column',
      'endLine',
      'endColumn',
      'start',
      'end',
      'sql',
      'kind',
      'status',
      'durationMs',
      'inTransaction',
      'created',
      'observed',
      'claimed',
      'embedded',
      'mismatches',
      'unverified',
      'notes',
    ]);
    expect(json.embedded[0].statements[0]).toMatchObject({ line: 3, column: 3, kind: 'AlterTableStmt' });
  });

  it('claims SHARE for CREATE INDEX in a DO block, and shows a mismatch when Postgres takes more', async () => {
    await engine.exec('CREATE TABLE do2 (id int PRIMARY KEY, note text)');
    // a function the database has and the migration does not define: pgkeel cannot know what it does
    await engine.exec(
      `CREATE FUNCTION do2_lock() RETURNS void LANGUAGE plpgsql AS $$ BEGIN LOCK TABLE do2 IN ACCESS EXCLUSIVE MODE; END $$`,
    );
    const sql = `DO $$ BEGIN CREATE INDEX do2_note_idx ON do2 (note); END $$;
DO $$ BEGIN CREATE INDEX do2_id_note_idx ON do2 (id, note); PERFORM do2_lock(); END $$;
`;
    const file = await traceSql(sql, { engine });
    const [plain, locking] = file.statements;
    expect(plain!.status).toBe('match');
    expect(plain!.claimed).toEqual([
      { relation: 'public.do2', mode: 'SHARE', rewrite: false, scan: false, indexBuild: true },
    ]);
    expect(plain!.observed?.locks?.find((l) => l.relation === 'public.do2')?.mode).toBe('SHARE');
    expect(plain!.embedded![0]!.statements[0]).toMatchObject({ line: 1, column: 13, kind: 'IndexStmt' });

    expect(locking!.status).toBe('mismatch');
    expect(locking!.mismatches).toEqual([
      { kind: 'lock-mode', relation: 'public.do2', claimed: 'SHARE', observed: 'ACCESS EXCLUSIVE' },
    ]);
    const text = formatTrace('pretty', report(file), { toolVersion: '0' });
    expect(text).toContain('✗ public.do2: the catalog claims SHARE, Postgres took ACCESS EXCLUSIVE');
  });

  it('claims a function’s statements where the file calls it', async () => {
    await engine.exec('CREATE TABLE do3 (id int PRIMARY KEY)');
    const sql = `CREATE FUNCTION do3_add() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  ALTER TABLE do3 ADD COLUMN made timestamptz DEFAULT clock_timestamp();
END $$;
SELECT do3_add();
`;
    const file = await traceSql(sql, { engine });
    expect(file.statements.map((s) => s.status)).toEqual(['match', 'match']);
    expect(file.statements[0]!.claimed).toEqual([]);
    expect(file.statements[0]!.embedded).toBeUndefined();
    const call = file.statements[1]!;
    expect(call.claimed).toEqual([
      { relation: 'public.do3', mode: 'ACCESS EXCLUSIVE', rewrite: true, scan: false, indexBuild: false },
    ]);
    expect(call.observed?.rewritten).toContain('public.do3');
    expect(call.embedded).toHaveLength(1);
    expect(call.embedded![0]).toMatchObject({ kind: 'function', name: 'do3_add', line: 1, column: 1 });
    expect(call.embedded![0]!.statements[0]).toMatchObject({
      ...at(sql, 'ALTER TABLE'),
      kind: 'AlterTableStmt',
    });
    const text = formatTrace('pretty', report(file), { toolVersion: '0' });
    expect(text).toContain('runs  function do3_add (defined at line 1), whose statements claim:');
  });

  it('says that EXECUTE of a string built at run time is not statically known', async () => {
    await engine.exec('CREATE TABLE do4 (id int PRIMARY KEY, note text)');
    const sql = `DO $$
BEGIN
  EXECUTE format('CREATE INDEX %I ON do4 (note)', 'do4_note_idx');
END $$;
`;
    const file = await traceSql(sql, { engine });
    const s = file.statements[0]!;
    // Postgres took SHARE for the index; the catalog cannot claim it, and does not call it a mismatch
    expect(s.observed?.locks?.find((l) => l.relation === 'public.do4')?.mode).toBe('SHARE');
    expect(s.claimed).toEqual([]);
    expect(s.status).toBe('match');
    expect(s.mismatches).toEqual([]);
    expect(s.unverified).toHaveLength(1);
    expect(s.unverified[0]!.relation).toBe('public.do4');
    expect(s.unverified[0]!.reason).toMatch(
      /^not statically known: the statement runs EXECUTE of a string built at run time at line 3 /,
    );
    expect(s.embedded![0]!.statements).toEqual([]);
    expect(s.embedded![0]!.notStaticallyKnown).toEqual([
      {
        ...at(sql, 'EXECUTE'),
        endLine: 3,
        endColumn: 3 + "EXECUTE format('CREATE INDEX %I ON do4 (note)', 'do4_note_idx')".length,
        start: sql.indexOf('EXECUTE'),
        end: sql.indexOf(';\nEND'),
        sql: "EXECUTE format('CREATE INDEX %I ON do4 (note)', 'do4_note_idx')",
        reason: 'EXECUTE of a string built at run time',
      },
    ]);
    expect(s.notes.join(' ')).toMatch(
      /not statically known \(line 3: EXECUTE of a string built at run time\)/,
    );
    const text = formatTrace('pretty', report(file), { toolVersion: '0', maxWidth: 200 });
    expect(text).toContain(
      "line 3:3  EXECUTE format('CREATE INDEX %I ON do4 (note)', 'do4_note_idx')  → not statically known: EXECUTE of a string built at run time",
    );
    const doc = JSON.parse(formatTrace('json', report(file), { toolVersion: '0' }));
    expect(doc.files[0].statements[0].embedded[0].notStaticallyKnown[0]).toMatchObject({
      line: 3,
      column: 3,
    });
  });
});

describe('compare', () => {
  it('reports a claim Postgres contradicts', async () => {
    await engine.exec('CREATE TABLE t5 (id int PRIMARY KEY, qty int)');
    const observation = await new Observer(engine).run('CREATE INDEX t5_qty ON t5 (qty)');
    // a deliberately wrong claim: CREATE INDEX does not take ACCESS EXCLUSIVE, and it does read the table
    const wrong: Claim[] = [
      { relation: 'public.t5', mode: 'ACCESS EXCLUSIVE', rewrite: true, scan: false, indexBuild: false },
    ];
    const mismatches = compare(wrong, observation);
    expect(mismatches).toContainEqual({
      kind: 'lock-mode',
      relation: 'public.t5',
      claimed: 'ACCESS EXCLUSIVE',
      observed: 'SHARE',
    });
    expect(mismatches.map((m) => m.kind)).toContain('rewrite');
    expect(mismatchText(mismatches[0]!)).toBe(
      'public.t5: the catalog claims ACCESS EXCLUSIVE, Postgres took SHARE',
    );
    const right: Claim[] = [
      { relation: 'public.t5', mode: 'SHARE', rewrite: false, scan: false, indexBuild: true },
    ];
    const again = await new Observer(engine).run('CREATE INDEX t5_qty2 ON t5 (qty)');
    expect(compare(right, again)).toEqual([]);
  });
});

describe('traceFiles', () => {
  it('applies the earlier migrations of the directory first, in the runner’s order', async () => {
    const history = join(dir, 'history');
    await mkdir(history);
    await writeFile(join(history, '001_create.sql'), 'CREATE TABLE widgets (id int PRIMARY KEY, qty int);\n');
    await writeFile(
      join(history, '002_alter.sql'),
      'ALTER TABLE widgets ADD CONSTRAINT qty_pos CHECK (qty >= 0);\n',
    );
    await writeFile(join(history, '003_later.sql'), 'DROP TABLE widgets;\n');
    const result = await traceFiles(['history/002_alter.sql'], { cwd: dir, engine, seedRows: 5 });
    const file = result.files[0]!;
    expect(file.setup.earlier).toEqual(['history/001_create.sql']);
    expect(file.setup.problems).toEqual([]);
    expect(file.setup.seeded).toEqual([{ table: 'public.widgets', rows: 5 }]);
    expect(file.statements[0]).toMatchObject({ status: 'match', observed: { seqScans: ['public.widgets'] } });
  });
});

describe('README', () => {
  it('shows what tracing examples/002 with its schema prints', async () => {
    const readme = await readFile('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Trace'));
    const schema = /```sql\n([\s\S]*?)```/.exec(section)![1]!;
    const shown = /```\n([\s\S]*?)```/.exec(section.slice(section.indexOf('prints')))![1]!;
    const here = join(dir, 'readme');
    await mkdir(join(here, 'examples'), { recursive: true });
    await writeFile(join(here, 'schema.sql'), schema);
    await copyFile(
      'examples/002_orders_amount_check.sql',
      join(here, 'examples/002_orders_amount_check.sql'),
    );
    const result = await traceFiles(['examples/002_orders_amount_check.sql'], {
      cwd: here,
      engine,
      schema: ['schema.sql'],
      seedRows: 1000,
      applyEarlier: false,
    });
    const timings = (s: string) => s.replace(/\d+\.\d ms/g, '… ms');
    expect(timings(formatTrace('pretty', result, { toolVersion: '0' }))).toContain(timings(shown.trimEnd()));
  });
});

describe('pgkeel trace', () => {
  const run = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { cwd: dir, env });

  it('traces on the embedded engine, prints JSON, exits 1 on an error', async () => {
    await writeFile(join(dir, 'schema.sql'), 'CREATE TABLE accounts (id int PRIMARY KEY, email text);\n');
    await writeFile(
      join(dir, 'unique.sql'),
      'ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);\nALTER TABLE nope ADD COLUMN x int;\n',
    );
    const r = await run([
      'trace',
      'unique.sql',
      '--schema',
      'schema.sql',
      '--seed-rows',
      '10',
      '--format',
      'json',
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.engine.name).toMatch(/PGlite/);
    expect(doc.files[0].setup).toMatchObject({
      schema: ['schema.sql'],
      seeded: [{ table: 'public.accounts', rows: 10 }],
    });
    expect(doc.files[0].statements.map((s: { status: string }) => s.status)).toEqual(['match', 'error']);
    expect(doc.summary).toMatchObject({ statements: 2, matched: 1, errors: 1 });
  });

  it('exits 2 on usage errors, and never prints a database password', async () => {
    await writeFile(join(dir, 'one.sql'), 'SELECT 1;\n');
    expect((await run(['trace', 'one.sql', '--allow-commit'])).code).toBe(2);
    expect((await run(['trace', 'one.sql', '--pg', '16', '--database-url', 'postgres://x@h/db'])).code).toBe(
      2,
    );
    expect((await run(['trace', 'one.sql', '--database-url'])).code).toBe(2);
    expect((await run(['trace', 'missing.sql'])).code).toBe(2);
    const r = await run(['trace', 'one.sql', '--database-url'], {
      DATABASE_URL: 'postgres://me:s3cr%21t@127.0.0.1:1/db',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pgkeel: .*trace engine/);
    expect(r.stderr + r.stdout).not.toMatch(/s3cr/);
  });
});
