/**
 * The pure parts of a safe `trace --database-url`: libpq keyword/value connection strings, which
 * value of `--database-url` is a URL and which a path, how a blocker is described, and which
 * statements have effects a rollback does not undo. The database side is in test/pg/url-safety.pg.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseDatabaseUrl } from '../src/cli/database-url.js';
import { type CliIo, main } from '../src/cli/main.js';
import { loadParser, openSource, type Statement } from '../src/parse/parse.js';
import { describeBlockers, maskQuery } from '../src/trace/blockers.js';
import {
  ConninfoError,
  connectionSecrets,
  parseKeywordValue,
  redactUrl,
  toConnectionUri,
} from '../src/trace/conninfo.js';
import { SideEffectDetector } from '../src/trace/side-effects.js';

describe('libpq keyword/value connection strings', () => {
  it('are read as libpq reads them: quotes, backslash escapes, spaces around =', () => {
    const kv = parseKeywordValue(
      "host=db.internal port = 5433 dbname='my app' user=me password='it\\'s \\\\ secret' sslmode=require",
    );
    expect(Object.fromEntries(kv)).toEqual({
      host: 'db.internal',
      port: '5433',
      dbname: 'my app',
      user: 'me',
      password: "it's \\ secret",
      sslmode: 'require',
    });
  });

  it('become a URI that node-postgres reads the same way', async () => {
    const { parse } = await import('pg-connection-string');
    const uri = toConnectionUri(
      "host=/var/run/postgresql port=5433 dbname='my app' user=me password='p@ss:/w'",
    );
    expect(parse(uri)).toMatchObject({
      host: '/var/run/postgresql',
      port: '5433',
      database: 'my app',
      user: 'me',
      password: 'p@ss:/w',
    });
    expect(toConnectionUri('postgres://me@db/app')).toBe('postgres://me@db/app');
  });

  it('are refused with a clear message when malformed or unsupported, never echoing the password', () => {
    expect(() => toConnectionUri('host=db dbname')).toThrow(ConninfoError);
    expect(() => toConnectionUri("host=db password='unterminated")).toThrow(
      /unterminated quoted value of "password"/,
    );
    expect(() => toConnectionUri("host=db password='unterminated")).not.toThrow(/unterminated$/);
    expect(() => toConnectionUri('service=prod')).toThrow(/"service" is not supported/);
    expect(() => toConnectionUri('not a connection string')).toThrow(/expected postgres:\/\//);
  });

  it('keep their password out of what is shown', () => {
    const conn = "host=db user=me password='s3 cr\\'t' dbname=app";
    expect(connectionSecrets(conn)).toContain("s3 cr\\'t");
    expect(redactUrl(conn)).toBe('host=db user=me dbname=app');
    expect(redactUrl(toConnectionUri('host=db user=me password=hunter22 dbname=app'))).not.toContain(
      'hunter22',
    );
  });
});

describe('--database-url and the paths after it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgkeel-dburl-'));
    writeFileSync(join(dir, 'a.sql'), 'SELECT 1;\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a connection string as the URL', () => {
    expect(chooseDatabaseUrl('postgres://db/app', ['a.sql'], {}, dir)).toEqual({
      url: 'postgres://db/app',
      paths: ['a.sql'],
    });
    expect(chooseDatabaseUrl('host=db dbname=app', [], {}, dir)).toEqual({
      url: 'host=db dbname=app',
      paths: [],
    });
  });

  it('gives back a path it swallowed, with the URL from DATABASE_URL', () => {
    expect(chooseDatabaseUrl('a.sql', [], { DATABASE_URL: 'postgres://db/app' }, dir)).toEqual({
      url: 'postgres://db/app',
      paths: ['a.sql'],
    });
  });

  it('is a usage error (exit 2) without DATABASE_URL, saying how to write it', async () => {
    let err = '';
    const io: CliIo = { stdout: () => {}, stderr: (s) => (err += s), isTTY: false, cwd: dir, env: {} };
    expect(await main(['trace', '--database-url', 'a.sql'], io)).toBe(2);
    expect(err).toContain('--database-url took "a.sql", which is a path, not a connection string');
    expect(err).toContain('--database-url=<url>');
    err = '';
    expect(await main(['trace', 'a.sql', '--database-url', 'localhost'], io)).toBe(2);
    expect(err).toContain('is not a connection string');
  });
});

describe('blockers', () => {
  it('are described with their SQL on one line, literals masked', () => {
    expect(maskQuery("UPDATE users SET password_hash = 'secret''s'\n  WHERE id = $1")).toBe(
      "UPDATE users SET password_hash = '…' WHERE id = $1",
    );
    expect(
      describeBlockers([
        {
          pid: 1234,
          user: 'app_user',
          application: null,
          state: 'idle in transaction',
          query: "SELECT * FROM orders WHERE email = 'a@b.c'",
          transactionSeconds: 45.2,
        },
      ]),
    ).toBe(
      `blocked by pid 1234 (app_user, last ran "SELECT * FROM orders WHERE email = '…'", idle in transaction for 45 s)`,
    );
  });
});

describe('statements with effects a rollback does not undo', () => {
  beforeAll(() => loadParser());

  /** reasons per statement, each statement recorded as run when it has none */
  async function effects(sql: string, sequenceColumns: Record<string, string[]> = {}): Promise<string[][]> {
    const source = openSource(sql);
    const detector = new SideEffectDetector();
    const out: string[][] = [];
    for (const item of source.items()) {
      if (item.type !== 'statement') throw new Error(item.message);
      const found = await detector.check(
        item as Statement,
        [],
        source,
        async (r) => sequenceColumns[r] ?? [],
      );
      out.push(found.map((e) => `${e.line}: ${e.reason}`));
      if (found.length === 0)
        detector.record(item as Statement, item.kind === 'CreateSeqStmt' ? ['public.fresh'] : []);
    }
    return out;
  }

  it('find sequence, file, dblink and session functions wherever they are called', async () => {
    expect(
      await effects(
        [
          "SELECT setval('orders_id_seq', 10);",
          'UPDATE t SET n = nextval(\'"Odd".s\');',
          "SELECT dblink_exec('dbname=x', 'DELETE FROM y');",
          "SELECT lo_export(1, '/tmp/x');",
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity;',
          "COPY t TO '/tmp/t.csv';",
          "COPY t TO PROGRAM 'rm -rf /';",
          "COPY t FROM '/tmp/t.csv';",
          "NOTIFY ch, 'x';",
          "SELECT pg_notify('ch', 'x');",
          "ALTER SYSTEM SET work_mem = '1GB';",
        ].join('\n'),
      ),
    ).toEqual([
      ["1: setval('orders_id_seq') sets a sequence, which a rollback does not undo"],
      ["2: nextval('Odd.s') advances a sequence, which a rollback does not undo"],
      ['3: dblink_exec(…) runs SQL on another connection, which commits on its own'],
      ['4: lo_export(…) writes a file on the database server'],
      ['5: pg_terminate_backend(…) ends a database session at once'],
      ['6: COPY … TO a file writes it on the database server'],
      ['7: COPY … PROGRAM runs a program on the database server'],
      [],
      [],
      [],
      ['11: ALTER SYSTEM writes postgresql.auto.conf, outside any transaction'],
    ]);
  });

  it('leave the migration’s own sequences and tables alone, and definitions that call nothing now', async () => {
    expect(
      await effects(
        [
          'CREATE SEQUENCE fresh;',
          "SELECT nextval('fresh');",
          "CREATE TABLE n (id serial, x int DEFAULT nextval('other'));",
          "SELECT nextval('n_id_seq');",
          "CREATE FUNCTION f() RETURNS bigint LANGUAGE sql RETURN nextval('other');",
          "ALTER TABLE t ALTER COLUMN id SET DEFAULT nextval('other');",
          "CREATE VIEW v AS SELECT nextval('other');",
        ].join('\n'),
      ),
    ).toEqual([[], [], [], [], [], [], []]);
  });

  it('find inserts that take a serial or identity default of an existing table, and DO blocks', async () => {
    const cols = { people: ['id'] };
    expect(
      await effects(
        [
          "INSERT INTO people (name) VALUES ('a');",
          "INSERT INTO people (id, name) VALUES (1, 'a');",
          "INSERT INTO people (id, name) VALUES (DEFAULT, 'a');",
          "INSERT INTO other (name) VALUES ('a');",
          "DO $$ DECLARE n bigint; BEGIN n := nextval('s'); END $$;",
        ].join('\n'),
        cols,
      ),
    ).toEqual([
      [
        '1: INSERT into people takes the default of id, which advances a sequence that a rollback does not undo',
      ],
      [],
      [
        '3: INSERT into people takes the default of id, which advances a sequence that a rollback does not undo',
      ],
      [],
      ['5: nextval(…) in the DO block advances a sequence, which a rollback does not undo'],
    ]);
  });
});
