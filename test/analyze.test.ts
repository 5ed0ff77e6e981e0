import { beforeAll, describe, expect, it } from 'vitest';
import { Analyzer, type StatementFacts } from '../src/analyze/analyze.js';
import { runnerModel } from '../src/analyze/runners.js';
import type { RunnerName } from '../src/config/types.js';
import { loadParser, parseSql } from '../src/parse/parse.js';

beforeAll(() => loadParser());

function analyze(
  sql: string,
  options: { runner?: RunnerName; pgVersion?: number; lockTimeoutMs?: number; noTransaction?: boolean } = {},
): StatementFacts[] {
  const analyzer = new Analyzer({
    pgVersion: options.pgVersion ?? 16,
    runner: runnerModel(options.runner ?? 'psql'),
    lockTimeoutMs: options.lockTimeoutMs,
    noTransaction: options.noTransaction,
  });
  return parseSql(sql).statements.map((s) => {
    const facts = analyzer.analyze(s);
    analyzer.apply(facts);
    return facts;
  });
}

describe('transactions', () => {
  it('follows explicit BEGIN … COMMIT', () => {
    const f = analyze('SELECT 1; BEGIN; SELECT 2; COMMIT; SELECT 3;');
    expect(f.map((x) => x.transaction?.id)).toEqual([undefined, 1, 1, 1, undefined]);
    expect(f[2]!.transaction!.explicit).toBe(true);
  });

  it('puts the whole file in the runner’s transaction, and a new one after COMMIT', () => {
    const f = analyze('SELECT 1; COMMIT; SELECT 2;', { runner: 'prisma' });
    expect(f.map((x) => x.transaction?.id)).toEqual([1, 1, 2]);
    expect(f[0]!.transaction!.explicit).toBe(false);
  });

  it('opens no transaction block for a one-statement file sent as one query (Prisma, golang-migrate)', () => {
    const analyzeCounted = (sql: string) => {
      const { file, statements } = parseSql(sql);
      const analyzer = new Analyzer({
        pgVersion: 16,
        runner: runnerModel('prisma'),
        statementCount: file.statementCount,
      });
      return statements.map((s) => analyzer.analyze(s).transaction?.id);
    };
    expect(analyzeCounted('CREATE INDEX CONCURRENTLY i ON t (a);')).toEqual([undefined]);
    expect(analyzeCounted('CREATE INDEX CONCURRENTLY i ON t (a); SELECT 1;')).toEqual([1, 1]);
  });

  it('honours a file that opts out of the runner’s transaction', () => {
    expect(analyze('SELECT 1;', { runner: 'goose', noTransaction: true })[0]!.transaction).toBeUndefined();
  });
});

describe('objects created in this migration', () => {
  it('are schema-qualified, follow search_path and renames, and are forgotten on DROP', () => {
    const f = analyze(`
      CREATE TABLE a (id int);
      CREATE INDEX ON a (id);
      CREATE INDEX ON public.a (id);
      CREATE INDEX ON other.a (id);
      ALTER TABLE a RENAME TO b;
      CREATE INDEX ON b (id);
      DROP TABLE b;
      CREATE INDEX ON b (id);
      SET search_path TO app, public;
      CREATE TABLE c (id int);
      CREATE INDEX ON app.c (id);
      CREATE INDEX ON public.c (id);
    `);
    const isNew = (i: number) => f[i]!.locks[0]!.isNew;
    expect([1, 2, 3, 5, 7, 10, 11].map(isNew)).toEqual([true, true, false, true, false, true, false]);
  });

  it('are forgotten when their transaction rolls back', () => {
    const f = analyze('BEGIN; CREATE TABLE a (id int); ROLLBACK; CREATE INDEX ON a (id);');
    expect(f[3]!.locks[0]!.isNew).toBe(false);
  });
});

describe('locks', () => {
  it('takes the strongest mode per relation and knows what the transaction already holds', () => {
    const f = analyze(`
      BEGIN;
      ALTER TABLE t ADD COLUMN a int, ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES o (id);
      CREATE INDEX ON t (a);
      CREATE INDEX ON o (id);
      CREATE INDEX ON p (id);
      ALTER TABLE p VALIDATE CONSTRAINT x;
      COMMIT;
    `);
    expect(f[1]!.locks.map((l) => [l.relation.key, l.mode])).toEqual([
      ['public.t', 'ACCESS EXCLUSIVE'],
      ['public.o', 'SHARE ROW EXCLUSIVE'],
    ]);
    expect(f[2]!.locks[0]!.alreadyHeld).toBe(true); // SHARE ⊂ ACCESS EXCLUSIVE held on t
    expect(f[3]!.locks[0]!.alreadyHeld).toBe(true); // SHARE is covered by SHARE ROW EXCLUSIVE held on o
    // holding SHARE does not cover SHARE UPDATE EXCLUSIVE: another session's SHARE blocks it
    expect(f[5]!.locks[0]!.alreadyHeld).toBe(false);
  });

  it('resolves VALIDATE of a foreign key added in this migration to the referenced table', () => {
    const f = analyze(
      'ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES o (id) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT f;',
    );
    expect(f[1]!.actions[0]!.op).toBe('validate-foreign-key');
    expect(f[1]!.locks.map((l) => [l.relation.name, l.mode])).toEqual([
      ['t', 'SHARE UPDATE EXCLUSIVE'],
      ['o', 'ROW SHARE'],
    ]);
  });
});

describe('timeouts', () => {
  const lockTimeouts = (sql: string, opts = {}) => analyze(sql, opts).map((f) => f.lockTimeout?.ms ?? 0);

  it('SET lasts for the session, RESET and 0 turn it off', () => {
    expect(
      lockTimeouts(
        "SELECT 1; SET lock_timeout = '2s'; SELECT 2; SET lock_timeout = 0; SELECT 3; SET lock_timeout TO 500; RESET lock_timeout; SELECT 4;",
      ),
    ).toEqual([0, 0, 2000, 2000, 0, 0, 500, 0]);
  });

  it('SET LOCAL lasts until the end of the transaction and does nothing outside one', () => {
    expect(
      lockTimeouts(
        "SET LOCAL lock_timeout = '1s'; SELECT 1; BEGIN; SET LOCAL lock_timeout = '1s'; SELECT 2; COMMIT; SELECT 3;",
      ),
    ).toEqual([0, 0, 0, 0, 1000, 1000, 0]);
  });

  it('reads set_config() and config-declared timeouts, which RESET returns to', () => {
    expect(lockTimeouts("SELECT set_config('lock_timeout', '3s', false); SELECT 1;")).toEqual([0, 3000]);
    expect(
      lockTimeouts('SELECT 1; SET lock_timeout = 0; SELECT 2; RESET lock_timeout; SELECT 3;', {
        lockTimeoutMs: 700,
      }),
    ).toEqual([700, 700, 0, 0, 700]);
  });
});

describe('classification', () => {
  it('knows the column types this migration declared, for type changes', () => {
    const f = analyze(
      'CREATE TABLE t (a varchar(10), b int); ALTER TABLE t ALTER COLUMN a TYPE varchar(20); ALTER TABLE t ALTER COLUMN b TYPE bigint; ALTER TABLE u ALTER COLUMN c TYPE text;',
    );
    expect(f.slice(1).map((x) => [x.actions[0]!.op, x.actions[0]!.detail?.typeChange?.rewrite])).toEqual([
      ['alter-column-type-coercible', false],
      ['alter-column-type', true],
      ['alter-column-type', 'unknown'],
    ]);
  });

  it('tells stable defaults from volatile ones by pg_proc volatility', () => {
    const ops = analyze(
      "ALTER TABLE t ADD COLUMN a timestamptz DEFAULT now(), ADD COLUMN b uuid DEFAULT gen_random_uuid(), ADD COLUMN c jsonb DEFAULT '{}'::jsonb, ADD COLUMN d int DEFAULT my_func(), ADD COLUMN e timestamptz DEFAULT CURRENT_TIMESTAMP;",
    )[0]!.actions.map((a) => [a.column, a.op, a.detail?.volatility]);
    expect(ops).toEqual([
      ['a', 'add-column-default', 'stable'],
      ['b', 'add-column-volatile-default', 'volatile'],
      ['c', 'add-column-default', 'immutable'],
      ['d', 'add-column-volatile-default', 'unknown'],
      ['e', 'add-column-default', 'stable'],
    ]);
  });

  it('uses a validated CHECK (col IS NOT NULL) to prove SET NOT NULL', () => {
    const f = analyze(
      'ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID; ALTER TABLE t ALTER COLUMN a SET NOT NULL; ALTER TABLE t VALIDATE CONSTRAINT c; ALTER TABLE t ALTER COLUMN a SET NOT NULL; ALTER TABLE t ALTER COLUMN b SET NOT NULL;',
    );
    expect([1, 3, 4].map((i) => f[i]!.actions[0]!.op)).toEqual([
      'set-not-null',
      'set-not-null-proven',
      'set-not-null',
    ]);
  });
});

describe('LOCK TABLE', () => {
  it('takes the mode it names', () => {
    const f = analyze('LOCK TABLE t IN SHARE MODE; LOCK t; LOCK TABLE t IN ROW EXCLUSIVE MODE;');
    expect(f.map((x) => x.locks[0]!.mode)).toEqual(['SHARE', 'ACCESS EXCLUSIVE', 'ROW EXCLUSIVE']);
  });
});

describe('ALTER TABLE subcommands below ACCESS EXCLUSIVE', () => {
  const ops = (sql: string) => analyze(sql)[0]!.actions.map((a) => [a.op, a.facts.locks[0]?.mode]);

  it('tells trigger, storage-parameter and statistics changes from the rest', () => {
    expect(ops('ALTER TABLE t DISABLE TRIGGER x, ENABLE REPLICA TRIGGER y, ENABLE TRIGGER ALL;')).toEqual([
      ['enable-disable-trigger', 'SHARE ROW EXCLUSIVE'],
      ['enable-disable-trigger', 'SHARE ROW EXCLUSIVE'],
      ['enable-disable-trigger', 'SHARE ROW EXCLUSIVE'],
    ]);
    expect(ops('ALTER TABLE t SET (fillfactor = 70, toast.autovacuum_enabled = off);')).toEqual([
      ['set-storage-parameters', 'SHARE UPDATE EXCLUSIVE'],
    ]);
    expect(ops('ALTER TABLE t RESET (autovacuum_vacuum_scale_factor);')).toEqual([
      ['set-storage-parameters', 'SHARE UPDATE EXCLUSIVE'],
    ]);
    expect(ops('ALTER TABLE t SET (fillfactor = 70, user_catalog_table = true);')).toEqual([
      ['set-storage-parameters-exclusive', 'ACCESS EXCLUSIVE'],
    ]);
    expect(ops('ALTER TABLE t ALTER COLUMN a SET (n_distinct = 5), CLUSTER ON i;')).toEqual([
      ['alter-table-set-statistics', 'SHARE UPDATE EXCLUSIVE'],
      ['alter-table-set-statistics', 'SHARE UPDATE EXCLUSIVE'],
    ]);
  });

  it('keeps rules, constraints, views’ options and unknown parameters at ACCESS EXCLUSIVE', () => {
    expect(
      ops('ALTER TABLE t DISABLE RULE r, ALTER CONSTRAINT c DEFERRABLE, SET (no_such_option = 1);'),
    ).toEqual([
      ['alter-table', 'ACCESS EXCLUSIVE'],
      ['alter-table', 'ACCESS EXCLUSIVE'],
      ['alter-table', 'ACCESS EXCLUSIVE'],
    ]);
    expect(ops('ALTER VIEW v SET (security_barrier = true);')).toEqual([['alter-table', 'ACCESS EXCLUSIVE']]);
  });
});

describe('NOT NULL constraints (PG 18)', () => {
  const dropOps = (sql: string, pgVersion: number) =>
    analyze(sql, { pgVersion })
      .at(-1)!
      .actions.map((a) => [a.op, a.column]);

  it('reads DROP CONSTRAINT <table>_<column>_not_null as DROP NOT NULL on PG 18 only', () => {
    expect(dropOps('ALTER TABLE users DROP CONSTRAINT users_phone_not_null;', 18)).toEqual([
      ['drop-not-null', 'phone'],
    ]);
    expect(dropOps('ALTER TABLE users DROP CONSTRAINT users_phone_not_null;', 17)).toEqual([
      ['drop-constraint', undefined],
    ]);
    expect(dropOps('ALTER TABLE users DROP CONSTRAINT phone_not_null;', 18)).toEqual([
      ['drop-constraint', undefined],
    ]);
    // Postgres numbers a generated name that is taken
    expect(dropOps('ALTER TABLE users DROP CONSTRAINT users_phone_not_null1;', 18)).toEqual([
      ['drop-not-null', 'phone'],
    ]);
  });

  it('knows named NOT NULL constraints and CHECKs that only look like one', () => {
    expect(
      dropOps('ALTER TABLE users ADD CONSTRAINT p NOT NULL phone; ALTER TABLE users DROP CONSTRAINT p;', 18),
    ).toEqual([['drop-not-null', 'phone']]);
    expect(
      dropOps(
        'ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL); ALTER TABLE users DROP CONSTRAINT users_phone_not_null;',
        18,
      ),
    ).toEqual([['drop-constraint', undefined]]);
    // a table created here has no column "x_y"
    expect(
      dropOps(
        'CREATE TABLE users (phone text NOT NULL); ALTER TABLE users DROP CONSTRAINT users_x_y_not_null;',
        18,
      ),
    ).toEqual([['drop-constraint', undefined]]);
  });
});

describe('domains', () => {
  const domainActions = (sql: string, pgVersion = 16) =>
    analyze(sql, { pgVersion })
      .at(-1)!
      .actions.map((a) => [a.op, a.relations.table?.key, a.relations.table?.set !== undefined]);

  it('locks the tables with a column of the domain, or of a domain derived from it', () => {
    expect(
      domainActions(`CREATE DOMAIN pos AS int; CREATE DOMAIN pos2 AS pos;
        CREATE TABLE a (x pos); CREATE TABLE b (y pos2); CREATE TABLE c (z int);
        ALTER DOMAIN pos ADD CONSTRAINT pos_positive CHECK (VALUE > 0);`),
    ).toEqual([
      ['alter-domain-add-check', 'public.a', false],
      ['alter-domain-add-check', 'public.b', false],
    ]);
  });

  it('says when tables using an existing domain are unknown', () => {
    expect(domainActions('ALTER DOMAIN pos ADD CONSTRAINT pos_positive CHECK (VALUE > 0);')).toEqual([
      ['alter-domain-add-check', '<domain-users public.pos>', true],
    ]);
    // the tables known to use it, and the set of the others
    expect(
      domainActions('ALTER TABLE t ADD COLUMN p pos; ALTER DOMAIN pos VALIDATE CONSTRAINT pos_positive;'),
    ).toEqual([
      ['alter-domain-validate-constraint', 'public.t', false],
      ['alter-domain-validate-constraint', '<domain-users public.pos>', true],
    ]);
  });

  it('classifies NOT VALID, SET NOT NULL and ADD … NOT NULL', () => {
    expect(domainActions('ALTER DOMAIN pos ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID;')).toEqual([
      ['alter-domain-add-check-not-valid', undefined, false],
    ]);
    expect(domainActions('ALTER DOMAIN pos SET NOT NULL;')).toEqual([
      ['alter-domain-set-not-null', '<domain-users public.pos>', true],
    ]);
    const add = analyze('ALTER DOMAIN pos ADD CONSTRAINT n NOT NULL;', { pgVersion: 16 })[0]!.actions[0]!;
    expect([add.op, add.facts.unsupported]).toEqual(['alter-domain-add-not-null', true]);
  });

  it('counts a derived domain’s inherited CHECK when a column of it is added', () => {
    const f = analyze(
      'CREATE DOMAIN pos AS int CHECK (VALUE > 0); CREATE DOMAIN pos2 AS pos; ALTER TABLE t ADD COLUMN p pos2;',
    );
    expect(f[2]!.actions[0]!.op).toBe('add-column-domain-check');
  });
});

describe('relations a statement does not name', () => {
  const locks = (f: StatementFacts) => f.locks.map((l) => [l.relation.key, l.mode]);

  it('claims the set when the tables are not all known', () => {
    expect(locks(analyze('VACUUM FULL;')[0]!)).toEqual([['<database>', 'ACCESS EXCLUSIVE']]);
    expect(locks(analyze('REINDEX SCHEMA app;')[0]!)).toEqual([['<schema app>', 'SHARE']]);
    expect(locks(analyze('CLUSTER;')[0]!)).toEqual([['<clustered>', 'ACCESS EXCLUSIVE']]);
    expect(locks(analyze('ALTER TABLE m DETACH PARTITION m_1;')[0]!)).toContainEqual([
      '<default-partition public.m>',
      'ACCESS EXCLUSIVE',
    ]);
  });

  it('names the members when it knows them all', () => {
    const analyzer = new Analyzer({ pgVersion: 16, runner: runnerModel('psql') });
    const ref = (name: string) => ({ schema: undefined, name, key: `public.${name}`, display: name });
    analyzer.state.liveTables.set('public.a', ref('a'));
    analyzer.state.liveTables.set('public.b', ref('b'));
    analyzer.state.clusteredTables.set('public.b', ref('b'));
    analyzer.state.schemaLearned = true;
    const run = (sql: string) => analyzer.analyze(parseSql(sql).statements[0]!);
    expect(locks(run('VACUUM;'))).toEqual([
      ['public.a', 'SHARE UPDATE EXCLUSIVE'],
      ['public.b', 'SHARE UPDATE EXCLUSIVE'],
    ]);
    expect(locks(run('CLUSTER;'))).toEqual([['public.b', 'ACCESS EXCLUSIVE']]);
    // no default partition: only the parent and the partition are locked
    expect(locks(run('ALTER TABLE a DETACH PARTITION b;')).map(([k]) => k)).toEqual(['public.a', 'public.b']);
  });

  it('names a default partition created in the migration', () => {
    const f = analyze(`CREATE TABLE m (at int) PARTITION BY RANGE (at);
      CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (0) TO (10);
      CREATE TABLE m_other PARTITION OF m DEFAULT;
      ALTER TABLE m DETACH PARTITION m_1;`);
    expect(locks(f[3]!).map(([k]) => k)).toEqual(['public.m', 'public.m_1', 'public.m_other']);
  });
});

describe('ALTER COLUMN TYPE precision', () => {
  const op = (sql: string) => analyze(sql).at(-1)!.actions[0]!;

  it('treats USING the column cast to the new type as no USING', () => {
    const base = 'CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN c varchar(10);';
    expect(op(`${base} ALTER TABLE t ALTER COLUMN c TYPE text USING c::text;`).op).toBe(
      'alter-column-type-coercible',
    );
    expect(op(`${base} ALTER TABLE t ALTER COLUMN c TYPE text USING c;`).op).toBe(
      'alter-column-type-coercible',
    );
    expect(op(`${base} ALTER TABLE t ALTER COLUMN c TYPE text USING lower(c);`).op).toBe('alter-column-type');
    expect(op(`${base} ALTER TABLE t ALTER COLUMN c TYPE varchar(5) USING c::varchar(5);`).op).toBe(
      'alter-column-type',
    );
  });

  it('re-verifies only validated CHECKs still on the table', () => {
    const scan = (sql: string) => op(`ALTER TABLE t ADD COLUMN c varchar(10); ${sql}`).facts.scan;
    const change = 'ALTER TABLE t ALTER COLUMN c TYPE varchar(20);';
    expect(scan(`ALTER TABLE t ADD CONSTRAINT k CHECK (c <> ''); ${change}`)).toBe(true);
    expect(scan(`ALTER TABLE t ADD CONSTRAINT k CHECK (c <> '') NOT VALID; ${change}`)).toBe(false);
    expect(
      scan(
        `ALTER TABLE t ADD CONSTRAINT k CHECK (c <> '') NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT k; ${change}`,
      ),
    ).toBe(true);
    expect(
      scan(`ALTER TABLE t ADD CONSTRAINT k CHECK (c <> ''); ALTER TABLE t DROP CONSTRAINT k; ${change}`),
    ).toBe(false);
  });
});

describe('CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW', () => {
  const sources = (f: StatementFacts) => f.actions.map((a) => `${a.op} ${a.relations.table?.key}`);

  it('locks each table the query reads once, not its CTEs nor its new table', () => {
    const [matview, selectInto, noData] = analyze(`CREATE MATERIALIZED VIEW mv AS
  SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id
  UNION ALL SELECT order_id FROM line_items WHERE order_id IN (SELECT id FROM orders);
WITH recent AS (SELECT * FROM app.payments) SELECT * INTO archive FROM recent;
CREATE TABLE orders_shape AS SELECT * FROM orders WITH NO DATA;`);
    expect(sources(matview!)).toEqual([
      'create-materialized-view public.orders',
      'create-materialized-view public.customers',
      'create-materialized-view public.line_items',
    ]);
    expect(matview!.locks.map((l) => l.mode)).toEqual(['ACCESS SHARE', 'ACCESS SHARE', 'ACCESS SHARE']);
    expect(sources(selectInto!)).toEqual(['create-table-as app.payments']);
    expect(sources(noData!)).toEqual(['create-table-as-no-data public.orders']);
    expect(noData!.actions[0]!.facts.scan).toBe(false);
  });

  it('SELECT … INTO creates a table of this migration', () => {
    const [, copy] = analyze(
      'SELECT * INTO archive FROM payments; CREATE TABLE archive_2 AS SELECT * FROM archive;',
    );
    expect(copy!.locks).toMatchObject([{ mode: 'ACCESS SHARE', isNew: true }]);
  });
});
