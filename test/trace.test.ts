/** trace on PGlite: one engine for the whole file (it takes seconds to start); each test uses its own tables. */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../src/cli/main.js';
import { clearConfigCache } from '../src/config/load.js';
import { type Claim, compare } from '../src/trace/compare.js';
import type { TraceEngine } from '../src/trace/engine.js';
import { startEngine } from '../src/trace/engines/index.js';
import { Observer } from '../src/trace/observe.js';
import { formatTrace, mismatchText } from '../src/trace/report.js';
import { type TracedFile, traceFiles, traceSql } from '../src/trace/trace.js';

let engine: TraceEngine;
let dir: string;

beforeAll(async () => {
  engine = await startEngine({ kind: 'pglite' });
  dir = await mkdtemp(join(tmpdir(), 'pgsafe-trace-'));
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

describe('pgsafe trace', () => {
  async function run(argv: string[], env: Record<string, string> = {}) {
    clearConfigCache();
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      isTTY: false,
      cwd: dir,
      env,
    };
    const code = await main(argv, io);
    return { code, stdout, stderr };
  }

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
    expect(r.stderr).toMatch(/pgsafe: .*trace engine/);
    expect(r.stderr + r.stdout).not.toMatch(/s3cr/);
  });
});
