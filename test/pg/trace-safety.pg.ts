/**
 * On a real server, statements that cancel or end the tracing session fail as statements, and the
 * session switch between migration files works as on PGlite. Run with
 * `npx vitest run -c vitest.pg.config.ts`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEngine } from '../../src/trace/engine.js';
import { startEngine } from '../../src/trace/engines/index.js';
import { traceFiles, traceSql } from '../../src/trace/trace.js';

describe('a real server', () => {
  let engine: TraceEngine | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgkeel-trace-safety-pg-'));
    engine = await startEngine({ kind: 'postgres', major: 16, statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a statement that makes the session cancel the tracer’s own queries', async () => {
    const file = await traceSql(
      "CREATE TABLE k (a int);\nSET statement_timeout = '1ms';\nSELECT count(*) FROM generate_series(1, 3000000);\n",
      { engine: engine! },
    );
    expect(file.statements[0]!.status).toBe('match');
    // the SET itself or the statement after it fails (the tracer's own look at pg_locks is cancelled too)
    expect(file.statements.some((s) => s.status === 'error')).toBe(true);
    // back to the engine's own setting
    await engine!.exec("SET statement_timeout = '5s'");
  });

  it('stops a statement at --statement-timeout', async () => {
    const file = await traceSql('SELECT pg_sleep(30);\n', { engine: engine! });
    expect(file.statements[0]!.status).toBe('error');
    expect(file.statements[0]!.error).toContain('statement timeout');
  }, 20_000);

  it('gives each psql file a new session', async () => {
    const history = join(dir, 'h');
    await mkdir(history);
    await writeFile(
      join(history, '001.sql'),
      'CREATE SCHEMA s;\nCREATE ROLE r;\nGRANT ALL ON SCHEMA s, public TO r;\nSET search_path = s;\nSET ROLE r;\n',
    );
    await writeFile(join(history, '002.sql'), 'CREATE TABLE t (a int);\n');
    await traceFiles(['h/001.sql', 'h/002.sql'], { cwd: dir, engine: engine!, runner: 'psql' });
    expect(
      await engine!.query(
        "SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) <> 'r' AS not_r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 't'",
      ),
    ).toEqual([{ schema: 'public', not_r: true }]);
    // the engine's own statement_timeout survived the new session
    expect(await engine!.query("SELECT current_setting('statement_timeout') AS t")).toEqual([{ t: '5s' }]);
  });

  it('fails a statement that ends its own session, without crashing', async () => {
    const file = await traceSql(
      'CREATE TABLE z (a int);\nSELECT pg_terminate_backend(pg_backend_pid());\nALTER TABLE z ADD COLUMN b int;\n',
      { engine: engine! },
    );
    expect(file.statements.map((s) => s.status)).toEqual(['match', 'error', 'not-run']);
  });
});
