/**
 * `trace` on PGlite stays in control of what it runs: statements are bounded in time, statements
 * PGlite cannot survive fail as statements, each migration file gets the session its runner gives
 * it, a broken snapshot is rebuilt, and long traces show progress in logs.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEngine } from '../src/trace/engine.js';
import { startEngine } from '../src/trace/engines/index.js';
import { pgliteSnapshotPath, startPglite } from '../src/trace/engines/pglite.js';
import { TraceProgressLines } from '../src/trace/report.js';
import { type TracedFile, traceFiles, traceSql } from '../src/trace/trace.js';
import { runCli } from './run-cli.js';

let dir: string;
let engine: TraceEngine;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-trace-safety-'));
  engine = await startEngine({ kind: 'pglite' });
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

const statuses = (f: TracedFile) => f.statements.map((s) => s.status);

describe('statement timeout on PGlite', () => {
  it('stops a statement that runs too long, and traces the next file on a database set up again', async () => {
    const history = join(dir, 'timeout');
    await mkdir(history);
    await writeFile(join(history, '001_table.sql'), 'CREATE TABLE items (id int);\n');
    await writeFile(
      join(history, '002_sleep.sql'),
      'SELECT pg_sleep(20);\nALTER TABLE items ADD COLUMN a int;\n',
    );
    await writeFile(join(history, '003_more.sql'), 'ALTER TABLE items ADD COLUMN b int;\n');
    const t0 = performance.now();
    const report = await traceFiles(['timeout/002_sleep.sql', 'timeout/003_more.sql'], {
      cwd: dir,
      engine: { kind: 'pglite', statementTimeoutMs: 300 },
    });
    // PGlite's own statement_timeout never fires: without pgkeel's, this takes the full 20 s
    expect(performance.now() - t0).toBeLessThan(15_000);
    const [sleep, more] = report.files;
    expect(statuses(sleep!)).toEqual(['error', 'not-run']);
    expect(sleep!.statements[0]!.error).toMatch(/statement timeout: it ran longer than 300 ms/);
    // the database was started afresh: 001 is applied again before 003, whose table exists then
    expect(statuses(more!)).toEqual(['match']);
    expect(more!.setup.earlier).toEqual(['timeout/001_table.sql']);
    // 002 is not applied again: its statement would be stopped again
    expect(more!.setup.problems).toEqual([
      'timeout/002_sleep.sql: not applied again: PGlite had to stop its statement at line 1',
    ]);
    expect(more!.notes.join('\n')).toContain('started a new, empty database');
  }, 30_000);
});

describe('statements PGlite cannot survive', () => {
  it('refuses COPY … PROGRAM, COPY with a server file and client_encoding changes, with where they are', async () => {
    const sql = [
      'CREATE TABLE t (a text);',
      "COPY t TO PROGRAM 'cat';",
      "DO $$ BEGIN\n  COPY t FROM PROGRAM 'echo x';\nEND $$;",
      "COPY t TO '/tmp/pgkeel-t.csv';",
      "SET client_encoding = 'LATIN1';",
      "SELECT set_config('client_encoding', 'LATIN1', false);",
      "INSERT INTO t VALUES ('é');",
      'ALTER TABLE t ADD COLUMN b int;',
    ].join('\n');
    const file = await traceSql(sql, { engine });
    expect(statuses(file)).toEqual([
      'match',
      'not-traced',
      'not-traced',
      'not-traced',
      'not-traced',
      'not-traced',
      'match',
      'match',
    ]);
    const reasons = file.statements.map((s) => s.reason ?? '');
    expect(reasons[1]).toBe(
      'not traced on PGlite: COPY TO PROGRAM runs a program on the server, which PGlite cannot (line 2)',
    );
    // the statement inside the DO block, at its own line
    expect(reasons[2]).toContain(
      'COPY FROM PROGRAM runs a program on the server, which PGlite cannot (line 4)',
    );
    expect(reasons[3]).toContain('PGlite has no server file system (line 6)');
    expect(reasons[4]).toContain('client_encoding');
    expect(reasons[5]).toContain('client_encoding');
    // PGlite still answers, in UTF-8
    expect(await engine.query("SELECT a FROM t WHERE a = 'é'")).toEqual([{ a: 'é' }]);
  }, 30_000);

  it('does not run them as setup either', async () => {
    const history = join(dir, 'refused-setup');
    await mkdir(history);
    await writeFile(
      join(history, '001_setup.sql'),
      "CREATE TABLE s (a int);\nCOPY s TO PROGRAM 'cat';\nCREATE TABLE s2 (a int);\n",
    );
    await writeFile(join(history, '002_alter.sql'), 'ALTER TABLE s2 ADD COLUMN b int;\n');
    const [file] = (await traceFiles(['refused-setup/002_alter.sql'], { cwd: dir, engine })).files;
    expect(file!.setup.problems).toEqual([
      'refused-setup/001_setup.sql:2: not run on PGlite: COPY TO PROGRAM runs a program on the server, which PGlite cannot',
    ]);
    expect(statuses(file!)).toEqual(['match']);
  }, 30_000);

  it('fails a statement that ends or cancels its own session as a statement', async () => {
    const file = await traceSql(
      [
        'CREATE TABLE k (a int);',
        'SELECT pg_terminate_backend(pg_backend_pid());',
        'SELECT pg_cancel_backend(pg_backend_pid());',
        "SET statement_timeout = '1ms';",
        'ALTER TABLE k ADD COLUMN b int;',
      ].join('\n'),
      { engine },
    );
    expect(file.statements.every((s) => s.status === 'match' || s.status === 'error')).toBe(true);
    expect(statuses(file).at(-1)).toBe('match');
    await engine.exec('RESET statement_timeout');
  }, 30_000);
});

describe('SQL built at run time that breaks PGlite', () => {
  it('fails the statement, and the next file runs on a new database', async () => {
    await mkdir(join(dir, 'dynamic'));
    await writeFile(
      join(dir, 'dynamic/001_copy.sql'),
      "CREATE TABLE d (a text);\nINSERT INTO d VALUES ('x');\nDO $$ BEGIN EXECUTE 'COPY d TO PROGRAM ' || quote_literal('cat'); END $$;\n",
    );
    await writeFile(join(dir, 'dynamic/002_after.sql'), 'CREATE TABLE e (a int);\n');
    const [dynamic, after] = (
      await traceFiles(['dynamic/001_copy.sql', 'dynamic/002_after.sql'], { cwd: dir, engine })
    ).files;
    expect(statuses(dynamic!)).toEqual(['match', 'match', 'error']);
    expect(dynamic!.statements[2]!.error).toContain('PGlite was left broken, and started afresh');
    expect(statuses(after!)).toEqual(['match']);
  }, 60_000);
});

describe('each file gets the session its runner gives it', () => {
  const write = async (name: string) => {
    const history = join(dir, name);
    await mkdir(history);
    await writeFile(
      join(history, '001_path.sql'),
      `CREATE SCHEMA ${name}_s;\nCREATE ROLE ${name}_r;\nGRANT ALL ON SCHEMA ${name}_s, public TO ${name}_r;\nSET search_path = ${name}_s;\nSET ROLE ${name}_r;\n`,
    );
    await writeFile(join(history, '002_table.sql'), `CREATE TABLE ${name}_t (a int);\n`);
    await writeFile(join(history, '003_table.sql'), `CREATE TABLE ${name}_u (a int);\n`);
    return history;
  };
  const where = async (table: string) =>
    (
      await engine.query(
        `SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = '${table}'`,
      )
    )[0];

  it('psql: what an earlier file SETs does not reach the traced one', async () => {
    await write('psqlrun');
    await traceFiles(['psqlrun/002_table.sql'], { cwd: dir, engine, runner: 'psql' });
    expect(await where('psqlrun_t')).toEqual({ schema: 'public', owner: 'postgres' });
  }, 30_000);

  it('psql: nor one traced file the next', async () => {
    await write('psqltwo');
    await traceFiles(['psqltwo/001_path.sql', 'psqltwo/002_table.sql'], { cwd: dir, engine, runner: 'psql' });
    expect(await where('psqltwo_t')).toEqual({ schema: 'public', owner: 'postgres' });
  }, 30_000);

  it('a runner that applies the pending migrations over one connection keeps the session between them', async () => {
    await write('knexrun');
    await traceFiles(['knexrun/001_path.sql', 'knexrun/002_table.sql'], { cwd: dir, engine, runner: 'knex' });
    expect(await where('knexrun_t')).toEqual({ schema: 'knexrun_s', owner: 'knexrun_r' });
    // earlier migrations ran in an earlier run of the tool: the traced file starts afresh
    await traceFiles(['knexrun/003_table.sql'], { cwd: dir, engine, runner: 'knex' });
    expect(await where('knexrun_u')).toEqual({ schema: 'public', owner: 'postgres' });
  }, 30_000);
});

describe('PGlite snapshot', () => {
  it('discards a snapshot that is valid gzip but no tar, says so, and rebuilds it', async () => {
    const cacheDir = join(dir, 'cache');
    const file = pgliteSnapshotPath(cacheDir);
    await mkdir(join(cacheDir, 'pglite'), { recursive: true });
    await writeFile(file, gzipSync(Buffer.from('not a tar archive, but gzip all right\n'.repeat(50))));
    const lines: string[] = [];
    const pglite = await startPglite({ cacheDir, log: (l) => lines.push(l) });
    try {
      expect(pglite.fromSnapshot).toBe(false);
      expect(lines.join('\n')).toMatch(/ignoring the PGlite snapshot .*: not a tar archive; rebuilding it/);
      expect(await pglite.query('SELECT 1 AS x')).toEqual([{ x: 1 }]);
    } finally {
      await pglite.close();
    }
    expect(
      gunzipSync(await readFile(file))
        .subarray(257, 262)
        .toString(),
    ).toBe('ustar');
  }, 60_000);
});

describe('pgkeel trace CLI', () => {
  it('caps --seed-rows with a usage error', async () => {
    await writeFile(join(dir, 'one.sql'), 'SELECT 1;\n');
    const r = await runCli(['trace', 'one.sql', '--seed-rows', '1000001'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pgkeel trace: --seed-rows is at most 1,000,000\n');
    await expect(traceFiles(['one.sql'], { cwd: dir, engine, seedRows: 2_000_000 })).rejects.toThrow(
      'seedRows is at most 1,000,000',
    );
  });

  it('--statement-timeout bounds a statement on PGlite', async () => {
    await writeFile(join(dir, 'sleep.sql'), 'SELECT pg_sleep(20);\n');
    const r = await runCli(['trace', 'sleep.sql', '--statement-timeout', '200ms', '-f', 'json'], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { files: TracedFile[] };
    expect(json.files[0]!.statements[0]!.error).toContain('statement timeout');
  }, 30_000);
});

describe('progress where stderr is not a terminal', () => {
  it('writes a plain line per interval, saying when nothing moved', () => {
    const out: string[] = [];
    const lines = new TraceProgressLines((l) => out.push(l), 60_000);
    try {
      lines.tick(); // nothing to say yet
      lines.update({ file: 1, files: 3, path: 'db/002.sql', statement: 11, statements: 40, phase: 'trace' });
      lines.tick();
      lines.tick();
      lines.update({ file: 2, files: 3, path: 'db/003.sql', statement: 0, statements: 5, phase: 'setup' });
      lines.tick();
    } finally {
      lines.stop();
    }
    expect(out).toEqual([
      'pgkeel: tracing file 2/3 db/002.sql: statement 12/40\n',
      'pgkeel: tracing file 2/3 db/002.sql: statement 12/40 (still running)\n',
      'pgkeel: tracing file 3/3 db/003.sql: setting up\n',
    ]);
  });

  it('writes on its own at each interval', async () => {
    const out: string[] = [];
    const lines = new TraceProgressLines((l) => out.push(l), 20);
    lines.update({ file: 0, files: 1, path: 'a.sql', statement: 0, statements: 1, phase: 'trace' });
    try {
      for (let i = 0; i < 100 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      lines.stop();
    }
    expect(out[0]).toBe('pgkeel: tracing a.sql: statement 1/1\n');
  });
});
