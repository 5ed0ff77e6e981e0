/**
 * Representative statements for every catalog operation, run by the version matrix
 * (`npm run test:pg-matrix`) on PGlite and on real Postgres 11–18 to prove what `operations.ts`
 * claims. Each probe is data: a setup that creates what the statement needs (with rows), the
 * statement itself, the versions it exists on. Several probes cover one operation where the facts
 * depend on the statement's shape.
 */

import type { OperationId } from './operations.js';

/** The rows of the "Postgres facts" table in DESIGN.md, each checked by at least one probe. */
export const DESIGN_FACTS = {
  'add-column': 'ADD COLUMN nullable, no default: ACCESS EXCLUSIVE, brief, no rewrite',
  'add-column-default': 'ADD COLUMN DEFAULT non-volatile: AE brief, no rewrite on PG ≥ 11',
  'add-column-volatile-default': 'ADD COLUMN DEFAULT volatile: AE for the rewrite',
  'add-column-rewrites': 'ADD COLUMN serial / identity / GENERATED STORED / domain with CHECK: AE, rewrite',
  'alter-column-type': 'ALTER COLUMN TYPE: AE, rewrite unless binary-coercible; CHECKs re-verified',
  'set-not-null': 'SET NOT NULL: AE, full scan unless a validated CHECK (col IS NOT NULL) exists (PG ≥ 12)',
  'add-check': 'ADD CHECK: AE, scan unless NOT VALID; VALIDATE takes SHARE UPDATE EXCLUSIVE',
  'add-foreign-key': 'ADD FOREIGN KEY: SRE on both tables, scan unless NOT VALID; VALIDATE: SUE + ROW SHARE',
  'add-unique-primary-key': 'ADD UNIQUE / PRIMARY KEY: AE for the build; USING INDEX brief; no NOT VALID',
  'add-exclude': 'ADD EXCLUDE: AE during the build',
  'create-index': 'CREATE INDEX: SHARE; CONCURRENTLY: SUE, not in a transaction, waits for older snapshots',
  'drop-index': 'DROP INDEX: AE; CONCURRENTLY not in a transaction',
  reindex: 'REINDEX: SHARE + AE on the index; CONCURRENTLY since PG 12',
  'drop-constraint-trigger': 'DROP CONSTRAINT (FK), DROP TRIGGER: AE (FK: both tables); CREATE TRIGGER: SRE',
  rename: 'RENAME column/table: AE brief',
  partitions:
    'ATTACH PARTITION: SUE on parent (PG ≥ 12; AE before) + AE on partition, scan unless a matching CHECK; DETACH: AE; DETACH CONCURRENTLY since PG 14; CREATE TABLE … PARTITION OF: AE on parent',
  'rewriting-commands': 'VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED/UNLOGGED, TRUNCATE: AE, rewrite',
  'refresh-materialized-view':
    'REFRESH MATERIALIZED VIEW: AE (CONCURRENTLY: EXCLUSIVE, needs a unique index)',
  'create-table-as':
    'CREATE MATERIALIZED VIEW, CREATE TABLE AS, SELECT INTO: ACCESS SHARE on every source table; full read of the sources',
  'enum-add-value': 'ALTER TYPE … ADD VALUE: no table lock; not in a transaction block before PG 12',
  'lock-queue': 'a statement waiting for AE blocks every later query on the table, even SELECT',
  retries: 'SET lock_timeout inside a transaction is undone by ROLLBACK',
} as const;

export type DesignFactId = keyof typeof DESIGN_FACTS;

export interface Probe {
  /** unique; `<operation>` or `<operation>/<shape>` */
  id: string;
  /** the operation the statement classifies to */
  op: OperationId;
  /** SQL creating the tables, indexes and types the statement needs, with some rows; one statement at a time */
  setup: string;
  /** the one statement under test */
  sql: string;
  /**
   * SQL run after BEGIN in the statement's own transaction, before it: for facts that hold only for
   * objects new in that transaction (the transaction is rolled back afterwards)
   */
  inTransaction?: string;
  /** first / last major version the statement exists on (inclusive) */
  minVersion?: number;
  maxVersion?: number;
  notes?: string;
  /** rows of DESIGN.md's table this probe checks */
  design?: DesignFactId[];
  /**
   * for a statement that cannot run in a transaction block: SQL a second session runs in an open
   * transaction first, so that the statement stops and waits while holding (or requesting) the locks
   * under test; the matrix reads them from pg_locks, then ends the second session's transaction
   */
  stall?: string;
  /**
   * where the catalog claims more than Postgres does, knowingly (a fact the analyzer cannot prove from
   * the SQL): the matrix expects exactly this difference, and fails if it goes away
   */
  conservative?: { kind: 'scan' | 'rewrite'; relation: string; observed: string; why: string }[];
  /** settings the probe needs that pg-matrix prepares (a second tablespace) */
  needs?: 'tablespace';
  /**
   * where DESIGN.md says something else than what Postgres does (and the catalog now says), by
   * version range: shown as "corrected" in the matrix
   */
  designDiffers?: { minVersion?: number; maxVersion?: number; what: string }[];
}

const rows = (table: string, cols: string) =>
  `INSERT INTO ${table} SELECT ${cols} FROM generate_series(1, 100) g;`;

/** The usual table: `t (id int PRIMARY KEY, a int, b text)` with 100 rows. */
const T = `CREATE TABLE t (id int PRIMARY KEY, a int, b text);
${rows('t', "g, g, 'v' || g")}`;

/** `parent` (referenced, with rows) and `child` whose `parent_id` values all exist there. */
const FK = `CREATE TABLE parent (id int PRIMARY KEY);
${rows('parent', 'g')}
CREATE TABLE child (id int PRIMARY KEY, parent_id int);
${rows('child', 'g, g')}`;

/** A range-partitioned `events` with one partition and a standalone `events_2` with rows in its range. */
const PARTITIONS = `CREATE TABLE events (id int, at int) PARTITION BY RANGE (at);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000);
${rows('events', 'g, g')}
CREATE TABLE events_2 (id int, at int);
INSERT INTO events_2 SELECT g, 1000 + g FROM generate_series(1, 100) g;`;

/** PARTITIONS with a default partition holding a row */
const WITH_DEFAULT = `${PARTITIONS}
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events VALUES (0, 5000);`;

/** `t` with a trigger `t_touch` */
const TRIGGER = `${T}
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE PROCEDURE touch();`;

/**
 * A domain `pos`, a domain `pos2` derived from it, and two tables with rows: `t` has a `pos`
 * column, `u` a `pos2` column; `other` has none.
 */
const DOMAIN = `CREATE DOMAIN pos AS int;
CREATE DOMAIN pos2 AS pos;
CREATE TABLE t (id int PRIMARY KEY, a pos);
${rows('t', 'g, g')}
CREATE TABLE u (id int PRIMARY KEY, b pos2);
${rows('u', 'g, g')}
CREATE TABLE other (id int PRIMARY KEY, a int);
${rows('other', 'g, g')}`;

const MATVIEW = `${T}
CREATE MATERIALIZED VIEW mv AS SELECT id, a FROM t;
CREATE UNIQUE INDEX mv_id ON mv (id);`;

export const PROBES: readonly Probe[] = [
  // ── columns ──────────────────────────────────────────────────────────────────
  {
    id: 'add-column',
    op: 'add-column',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c int',
    design: ['add-column'],
  },
  {
    id: 'add-column-not-null',
    op: 'add-column-not-null',
    setup: 'CREATE TABLE t (id int PRIMARY KEY, a int);',
    sql: 'ALTER TABLE t ADD COLUMN c int NOT NULL',
    notes: 'on an empty table: with rows it fails, after reading them',
  },
  {
    id: 'add-column-default/constant',
    op: 'add-column-default',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 42',
    design: ['add-column-default'],
  },
  {
    id: 'add-column-default/now',
    op: 'add-column-default',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()',
    notes: 'now() is STABLE: evaluated once, stored in the catalog',
    design: ['add-column-default'],
  },
  {
    id: 'add-column-default/jsonb',
    op: 'add-column-default',
    setup: T,
    sql: "ALTER TABLE t ADD COLUMN c jsonb NOT NULL DEFAULT '{}'::jsonb",
    design: ['add-column-default'],
  },
  {
    id: 'add-column-volatile-default/clock_timestamp',
    op: 'add-column-volatile-default',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()',
    design: ['add-column-volatile-default'],
  },
  {
    id: 'add-column-volatile-default/gen_random_uuid',
    op: 'add-column-volatile-default',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()',
    minVersion: 13,
    notes: 'gen_random_uuid() is built in since PG 13 (pgcrypto before)',
    design: ['add-column-volatile-default'],
  },
  {
    id: 'add-column-serial',
    op: 'add-column-serial',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c bigserial',
    design: ['add-column-rewrites'],
  },
  {
    id: 'add-column-identity',
    op: 'add-column-identity',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY',
    design: ['add-column-rewrites'],
  },
  {
    id: 'add-column-generated-stored',
    op: 'add-column-generated-stored',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) STORED',
    minVersion: 12,
    notes: 'generated columns exist since PG 12',
    design: ['add-column-rewrites'],
  },
  {
    id: 'add-column/generated-virtual',
    op: 'add-column',
    setup: T,
    sql: 'ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a * 2) VIRTUAL',
    minVersion: 18,
    notes: 'virtual generated columns (PG 18) are computed on read: no rewrite',
  },
  {
    id: 'add-column-domain-check',
    op: 'add-column-domain-check',
    setup: `CREATE DOMAIN positive AS int CHECK (VALUE > 0);
${T}`,
    sql: 'ALTER TABLE t ADD COLUMN c positive',
    design: ['add-column-rewrites'],
  },
  {
    id: 'add-column-domain-check/with-default',
    op: 'add-column-domain-check',
    setup: `CREATE DOMAIN positive AS int CHECK (VALUE > 0);
${T}`,
    sql: 'ALTER TABLE t ADD COLUMN c positive DEFAULT 1',
    notes: 'a constant DEFAULT does not spare the rewrite: the domain is checked for every row',
  },
  {
    id: 'add-column-domain-check/not-null-domain',
    op: 'add-column-domain-check',
    setup: `CREATE DOMAIN required_int AS int NOT NULL;
${T}`,
    sql: 'ALTER TABLE t ADD COLUMN c required_int DEFAULT 0',
    notes: 'a NOT NULL domain is a constrained domain too',
  },
  { id: 'drop-column', op: 'drop-column', setup: T, sql: 'ALTER TABLE t DROP COLUMN b' },
  {
    id: 'alter-column-type/int-bigint',
    op: 'alter-column-type',
    setup: T,
    sql: 'ALTER TABLE t ALTER COLUMN a TYPE bigint',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type/char-text',
    op: 'alter-column-type',
    setup: `CREATE TABLE t (id int, c char(10));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE text',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type/varchar-shorter',
    op: 'alter-column-type',
    setup: `CREATE TABLE t (id int, c varchar(20));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE varchar(10)',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type/timestamptz-not-utc',
    op: 'alter-column-type',
    setup: `SET TimeZone = 'Europe/Paris';
CREATE TABLE t (id int, at timestamp);
${rows('t', "g, '2020-01-01'::timestamp + g * interval '1 hour'")}`,
    sql: 'ALTER TABLE t ALTER COLUMN at TYPE timestamptz',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/varchar-longer',
    op: 'alter-column-type-coercible',
    setup: `CREATE TABLE t (id int, c varchar(10));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE varchar(20)',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/using-cast',
    op: 'alter-column-type-coercible',
    setup: `CREATE TABLE t (id int, c varchar(10));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE text USING c::text',
    notes: 'USING the column cast to the new type converts it as without USING',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type/using-cast-typmod',
    op: 'alter-column-type',
    setup: `CREATE TABLE t (id int, c text);
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE varchar(20) USING c::varchar(20)',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type/using-expression',
    op: 'alter-column-type',
    setup: `CREATE TABLE t (id int, c varchar(10));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE text USING lower(c)',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/varchar-text',
    op: 'alter-column-type-coercible',
    setup: `CREATE TABLE t (id int, c varchar(10));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE text',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/numeric-wider',
    op: 'alter-column-type-coercible',
    setup: `CREATE TABLE t (id int, n numeric(8,2));
${rows('t', 'g, g')}`,
    sql: 'ALTER TABLE t ALTER COLUMN n TYPE numeric(12,2)',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/timestamptz-utc',
    op: 'alter-column-type-coercible',
    setup: `SET TimeZone = 'UTC';
CREATE TABLE t (id int, at timestamp);
${rows('t', "g, '2020-01-01'::timestamp + g * interval '1 hour'")}`,
    sql: 'ALTER TABLE t ALTER COLUMN at TYPE timestamptz',
    minVersion: 12,
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/check-reverified',
    op: 'alter-column-type-coercible',
    setup: `CREATE TABLE t (id int, c varchar(10) CHECK (length(c) > 1));
${rows('t', "g, 'v' || g")}`,
    sql: 'ALTER TABLE t ALTER COLUMN c TYPE varchar(20)',
    notes: 'no rewrite, but the CHECK on the column is verified again: a full scan',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type-coercible/index-rebuilt',
    op: 'alter-column-type-coercible',
    setup: `SET TimeZone = 'UTC';
CREATE TABLE t (id int, at timestamp);
${rows('t', "g, '2020-01-01'::timestamp + g * interval '1 hour'")}
CREATE INDEX t_at_idx ON t (at);`,
    sql: 'ALTER TABLE t ALTER COLUMN at TYPE timestamptz',
    minVersion: 12,
    notes: 'no rewrite, but the index is rebuilt: its operator class changes',
    design: ['alter-column-type'],
  },
  {
    id: 'alter-column-type/timestamptz-utc-pg11',
    op: 'alter-column-type',
    setup: `SET TimeZone = 'UTC';
CREATE TABLE t (id int, at timestamp);
${rows('t', "g, '2020-01-01'::timestamp + g * interval '1 hour'")}`,
    sql: 'ALTER TABLE t ALTER COLUMN at TYPE timestamptz',
    maxVersion: 11,
    notes: 'before PG 12 timestamp → timestamptz rewrites even in UTC',
    design: ['alter-column-type'],
  },
  {
    id: 'set-not-null',
    op: 'set-not-null',
    setup: T,
    sql: 'ALTER TABLE t ALTER COLUMN a SET NOT NULL',
    design: ['set-not-null'],
  },
  {
    id: 'set-not-null-proven',
    op: 'set-not-null-proven',
    setup: `${T}
ALTER TABLE t ADD CONSTRAINT t_a_not_null CHECK (a IS NOT NULL);`,
    sql: 'ALTER TABLE t ALTER COLUMN a SET NOT NULL',
    notes: 'the validated CHECK proves there is no NULL (PG ≥ 12); PG 11 scans anyway',
    design: ['set-not-null'],
  },
  {
    id: 'drop-not-null',
    op: 'drop-not-null',
    setup: `${T}\nALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
    sql: 'ALTER TABLE t ALTER COLUMN a DROP NOT NULL',
  },
  {
    id: 'drop-not-null/constraint',
    op: 'drop-not-null',
    setup: `${T}\nALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
    sql: 'ALTER TABLE t DROP CONSTRAINT t_a_not_null',
    minVersion: 18,
    notes:
      'since PG 18 a NOT NULL is a constraint named <table>_<column>_not_null: dropping it drops the NOT NULL',
  },
  {
    id: 'drop-not-null/constraint-numbered',
    op: 'drop-not-null',
    setup: `${T}
ALTER TABLE t ADD CONSTRAINT t_a_not_null CHECK (a IS NOT NULL);
ALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
    sql: 'ALTER TABLE t DROP CONSTRAINT t_a_not_null1',
    minVersion: 18,
    notes: 'the generated name was taken (by a CHECK): Postgres numbers it',
  },
  {
    id: 'drop-not-null/constraint-named',
    op: 'drop-not-null',
    setup: `${T}\nALTER TABLE t ADD CONSTRAINT a_required NOT NULL a;`,
    sql: 'ALTER TABLE t DROP CONSTRAINT a_required',
    minVersion: 18,
    notes: 'a NOT NULL constraint given its own name (PG 18)',
  },
  { id: 'set-default', op: 'set-default', setup: T, sql: 'ALTER TABLE t ALTER COLUMN a SET DEFAULT 7' },
  {
    id: 'rename-column',
    op: 'rename-column',
    setup: T,
    sql: 'ALTER TABLE t RENAME COLUMN a TO a2',
    design: ['rename'],
  },

  // ── constraints ──────────────────────────────────────────────────────────────
  {
    id: 'add-check',
    op: 'add-check',
    setup: T,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0)',
    design: ['add-check'],
  },
  {
    id: 'add-check-not-valid',
    op: 'add-check-not-valid',
    setup: T,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0) NOT VALID',
    design: ['add-check'],
  },
  {
    id: 'add-not-null-constraint',
    op: 'add-not-null-constraint',
    setup: T,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_a_not_null NOT NULL a',
    minVersion: 18,
    design: ['set-not-null'],
  },
  {
    id: 'add-not-null-constraint-not-valid',
    op: 'add-not-null-constraint-not-valid',
    setup: T,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_a_not_null NOT NULL a NOT VALID',
    minVersion: 18,
    design: ['set-not-null'],
  },
  {
    id: 'validate-constraint/not-null',
    op: 'validate-constraint',
    setup: `${T}
ALTER TABLE t ADD CONSTRAINT t_a_not_null NOT NULL a NOT VALID;`,
    sql: 'ALTER TABLE t VALIDATE CONSTRAINT t_a_not_null',
    minVersion: 18,
    design: ['set-not-null'],
  },
  {
    id: 'add-foreign-key',
    op: 'add-foreign-key',
    setup: FK,
    sql: 'ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id)',
    design: ['add-foreign-key'],
  },
  {
    id: 'add-foreign-key-new-column',
    op: 'add-foreign-key-new-column',
    setup: FK,
    sql: 'ALTER TABLE child ADD COLUMN other_id int REFERENCES parent (id)',
    notes: 'the new column is NULL everywhere: Postgres checks nothing',
    design: ['add-foreign-key'],
    designDiffers: [{ what: 'ADD COLUMN … REFERENCES without a DEFAULT does not scan' }],
  },
  {
    id: 'add-foreign-key/new-column-default',
    op: 'add-foreign-key',
    setup: FK,
    sql: 'ALTER TABLE child ADD COLUMN other_id int DEFAULT 1 REFERENCES parent (id)',
    design: ['add-foreign-key'],
  },
  {
    id: 'add-foreign-key-not-valid',
    op: 'add-foreign-key-not-valid',
    setup: FK,
    sql: 'ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID',
    design: ['add-foreign-key'],
  },
  {
    id: 'validate-constraint',
    op: 'validate-constraint',
    setup: `${T}
ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0) NOT VALID;`,
    sql: 'ALTER TABLE t VALIDATE CONSTRAINT t_a_positive',
    design: ['add-check'],
  },
  {
    id: 'validate-foreign-key',
    op: 'validate-foreign-key',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;`,
    sql: 'ALTER TABLE child VALIDATE CONSTRAINT child_parent_fk',
    design: ['add-foreign-key'],
  },
  {
    id: 'add-unique',
    op: 'add-unique',
    setup: T,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a)',
    design: ['add-unique-primary-key'],
  },
  {
    id: 'add-primary-key/nullable',
    op: 'add-primary-key',
    setup: `CREATE TABLE t (id int, a int);
${rows('t', 'g, g')}`,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (id)',
    design: ['add-unique-primary-key'],
  },
  {
    id: 'add-unique-using-index',
    op: 'add-unique-using-index',
    setup: `${T}
CREATE UNIQUE INDEX t_a_key ON t (a);`,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE USING INDEX t_a_key',
    design: ['add-unique-primary-key'],
  },
  {
    id: 'add-primary-key-using-index/not-null',
    op: 'add-primary-key-using-index',
    setup: `CREATE TABLE t (id int NOT NULL, a int);
${rows('t', 'g, g')}
CREATE UNIQUE INDEX t_pkey ON t (id);`,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey',
    design: ['add-unique-primary-key'],
  },
  {
    id: 'add-primary-key-using-index/nullable',
    op: 'add-primary-key-using-index',
    setup: `CREATE TABLE t (id int, a int);
${rows('t', 'g, g')}
CREATE UNIQUE INDEX t_pkey ON t (id);`,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey',
    notes: 'the nullable key column is scanned under the lock to set NOT NULL',
    design: ['add-unique-primary-key'],
  },
  {
    id: 'add-exclusion',
    op: 'add-exclusion',
    setup: `CREATE TABLE t (id int, r int4range);
${rows('t', 'g, int4range(g * 10, g * 10 + 5)')}`,
    sql: 'ALTER TABLE t ADD CONSTRAINT t_r_excl EXCLUDE USING gist (r WITH &&)',
    design: ['add-exclude'],
  },
  {
    id: 'drop-constraint',
    op: 'drop-constraint',
    setup: `${T}\nALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);`,
    sql: 'ALTER TABLE t DROP CONSTRAINT t_a_positive',
  },
  {
    id: 'drop-constraint/check-named-like-not-null',
    op: 'drop-constraint',
    setup: `${T}\nALTER TABLE t ADD CONSTRAINT t_a_not_null CHECK (a IS NOT NULL);`,
    sql: 'ALTER TABLE t DROP CONSTRAINT t_a_not_null',
    notes: 'a CHECK named like a PG 18 NOT NULL constraint is still a CHECK: the column stays nullable',
  },
  {
    id: 'drop-foreign-key',
    op: 'drop-foreign-key',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);`,
    sql: 'ALTER TABLE child DROP CONSTRAINT child_parent_fk',
    design: ['drop-constraint-trigger'],
  },
  {
    id: 'rename-constraint',
    op: 'rename-constraint',
    setup: `${T}\nALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);`,
    sql: 'ALTER TABLE t RENAME CONSTRAINT t_a_positive TO t_a_gt_0',
  },
  {
    id: 'rename-constraint/index-backed',
    op: 'rename-constraint',
    setup: T,
    sql: 'ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_pk',
    notes: 'the index of the constraint is renamed too',
  },
  {
    id: 'rename-index',
    op: 'rename-index',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'ALTER INDEX t_a_idx RENAME TO t_a_idx2',
    designDiffers: [
      { minVersion: 12, what: 'renaming an index takes SHARE UPDATE EXCLUSIVE on it since PG 12' },
    ],
    design: ['rename'],
  },
  {
    id: 'alter-index-set/fillfactor',
    op: 'alter-index-set',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'ALTER INDEX t_a_idx SET (fillfactor = 70)',
  },
  {
    id: 'alter-index-set/statistics',
    op: 'alter-index-set',
    setup: `${T}\nCREATE INDEX t_a_expr_idx ON t ((a + 1));`,
    sql: 'ALTER INDEX t_a_expr_idx ALTER COLUMN 1 SET STATISTICS 100',
  },

  // ── indexes ──────────────────────────────────────────────────────────────────
  {
    id: 'create-index',
    op: 'create-index',
    setup: T,
    sql: 'CREATE INDEX t_a_idx ON t (a)',
    design: ['create-index'],
  },
  {
    id: 'create-index-concurrently',
    op: 'create-index-concurrently',
    setup: T,
    sql: 'CREATE INDEX CONCURRENTLY t_a_idx ON t (a)',
    stall: 'LOCK TABLE t IN ROW EXCLUSIVE MODE',
    notes: 'a writer holding ROW EXCLUSIVE makes the build wait after it has taken its own lock',
    design: ['create-index'],
  },
  {
    id: 'create-index-concurrently/older-snapshot',
    op: 'create-index-concurrently',
    setup: `${T}
CREATE TABLE other (id int);`,
    sql: 'CREATE INDEX CONCURRENTLY t_a_idx ON t (a)',
    stall: 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM other',
    notes:
      'a transaction that only read another table still makes the build wait (it must, or the build does not finish)',
    design: ['create-index'],
  },
  {
    id: 'drop-index',
    op: 'drop-index',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'DROP INDEX t_a_idx',
    design: ['drop-index'],
  },
  {
    id: 'drop-index-concurrently',
    op: 'drop-index-concurrently',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'DROP INDEX CONCURRENTLY t_a_idx',
    stall: "SELECT 1 FROM pg_class WHERE oid = 't_a_idx'::regclass FOR UPDATE",
    notes:
      'a lock on the index’s pg_class row stops it at its last step, when it holds ACCESS EXCLUSIVE on the index',
    design: ['drop-index'],
  },
  {
    id: 'reindex/index',
    op: 'reindex',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'REINDEX INDEX t_a_idx',
    design: ['reindex'],
  },
  {
    id: 'reindex/table',
    op: 'reindex',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'REINDEX TABLE t',
    design: ['reindex'],
  },
  {
    id: 'reindex-concurrently',
    op: 'reindex-concurrently',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'REINDEX INDEX CONCURRENTLY t_a_idx',
    minVersion: 12,
    stall: 'LOCK TABLE t IN ROW EXCLUSIVE MODE',
    notes: 'a writer makes the rebuild wait after its first phase',
    design: ['reindex'],
  },

  {
    id: 'reindex-multiple/schema',
    op: 'reindex-multiple',
    setup: `CREATE SCHEMA app;
CREATE TABLE app.t (id int PRIMARY KEY, a int);
${rows('app.t', 'g, g')}
CREATE INDEX t_a_idx ON app.t (a);`,
    sql: 'REINDEX SCHEMA app',
    stall: 'LOCK TABLE app.t IN ROW EXCLUSIVE MODE',
    notes:
      'every table of the schema, each in a transaction of its own; a writer makes it wait for its SHARE lock',
    design: ['reindex'],
  },
  {
    id: 'reindex-multiple/database',
    op: 'reindex-multiple',
    setup: `${T}
CREATE INDEX t_a_idx ON t (a);`,
    sql: 'REINDEX DATABASE',
    minVersion: 16,
    stall: 'LOCK TABLE t IN ROW EXCLUSIVE MODE',
    notes: 'without a name, and leaving the system catalogs out, since PG 16',
    design: ['reindex'],
  },
  {
    id: 'reindex-concurrently/swap',
    op: 'reindex-concurrently',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'REINDEX INDEX CONCURRENTLY t_a_idx',
    minVersion: 12,
    stall: "SELECT 1 FROM pg_class WHERE oid = 't_a_idx'::regclass FOR UPDATE",
    notes: 'a lock on the old index’s pg_class row stops it where it swaps the new index in',
    design: ['reindex'],
  },

  // ── tables ───────────────────────────────────────────────────────────────────
  { id: 'create-table', op: 'create-table', setup: '', sql: 'CREATE TABLE t (id int PRIMARY KEY, a int)' },
  {
    id: 'create-table-with-foreign-key',
    op: 'create-table-with-foreign-key',
    setup: `CREATE TABLE parent (id int PRIMARY KEY);\n${rows('parent', 'g')}`,
    sql: 'CREATE TABLE child (id int, parent_id int REFERENCES parent (id))',
  },
  {
    id: 'create-table-partition-of',
    op: 'create-table-partition-of',
    setup: PARTITIONS,
    sql: 'CREATE TABLE events_3 PARTITION OF events FOR VALUES FROM (2000) TO (3000)',
    design: ['partitions'],
  },
  {
    id: 'create-table-partition-of/default-partition',
    op: 'check-default-partition',
    setup: WITH_DEFAULT,
    sql: 'CREATE TABLE events_3 PARTITION OF events FOR VALUES FROM (2000) TO (3000)',
    notes: 'the default partition is read in full under ACCESS EXCLUSIVE',
    design: ['partitions'],
    designDiffers: [{ what: 'a default partition is locked ACCESS EXCLUSIVE and scanned' }],
  },
  { id: 'drop-table', op: 'drop-table', setup: T, sql: 'DROP TABLE t' },
  {
    id: 'drop-table/with-foreign-key',
    op: 'drop-foreign-key',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);`,
    sql: 'DROP TABLE child',
    notes: 'dropping the table drops its foreign key: ACCESS EXCLUSIVE on the referenced table too',
  },
  {
    id: 'drop-table/referenced-cascade',
    op: 'drop-foreign-key',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);`,
    sql: 'DROP TABLE parent CASCADE',
    notes:
      'CASCADE drops the foreign keys referencing the table: ACCESS EXCLUSIVE on each referencing table too',
  },
  {
    id: 'drop-column/with-foreign-key',
    op: 'drop-foreign-key',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);`,
    sql: 'ALTER TABLE child DROP COLUMN parent_id',
    notes: 'dropping the column drops its foreign key: ACCESS EXCLUSIVE on the referenced table too',
  },
  {
    id: 'truncate/cascade',
    op: 'truncate',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);`,
    sql: 'TRUNCATE parent CASCADE',
    notes: 'CASCADE truncates every table referencing it: ACCESS EXCLUSIVE and a new empty file on each',
  },
  {
    id: 'inherit',
    op: 'inherit',
    setup: `${T}
CREATE TABLE t_parent (id int, a int, b text);`,
    sql: 'ALTER TABLE t INHERIT t_parent',
    notes: 'the parent is locked SHARE UPDATE EXCLUSIVE while the child takes its columns and constraints',
  },
  {
    id: 'no-inherit',
    op: 'no-inherit',
    setup: `${T}
CREATE TABLE t_parent (id int, a int, b text);
ALTER TABLE t INHERIT t_parent;`,
    sql: 'ALTER TABLE t NO INHERIT t_parent',
  },
  { id: 'rename-table', op: 'rename-table', setup: T, sql: 'ALTER TABLE t RENAME TO t2', design: ['rename'] },
  { id: 'truncate', op: 'truncate', setup: T, sql: 'TRUNCATE t', design: ['rewriting-commands'] },
  {
    id: 'vacuum-full',
    op: 'vacuum-full',
    setup: T,
    sql: 'VACUUM FULL t',
    stall: 'SELECT count(*) FROM t',
    design: ['rewriting-commands'],
  },
  {
    id: 'vacuum-full/database',
    op: 'vacuum-full',
    setup: T,
    sql: 'VACUUM FULL',
    stall: 'LOCK TABLE t IN ACCESS SHARE MODE',
    notes: 'without a table: every table of the database, one after another',
    design: ['rewriting-commands'],
  },
  {
    id: 'vacuum/database',
    op: 'vacuum',
    setup: T,
    sql: 'VACUUM',
    stall: 'LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE',
  },
  { id: 'analyze/database', op: 'analyze', setup: T, sql: 'ANALYZE' },
  {
    id: 'vacuum',
    op: 'vacuum',
    setup: T,
    sql: 'VACUUM t',
    stall: 'LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE',
  },
  { id: 'analyze', op: 'analyze', setup: T, sql: 'ANALYZE t' },
  { id: 'comment/table', op: 'comment', setup: T, sql: "COMMENT ON TABLE t IS 'orders'" },
  { id: 'comment/column', op: 'comment', setup: T, sql: "COMMENT ON COLUMN t.a IS 'amount'" },
  {
    id: 'cluster',
    op: 'cluster',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'CLUSTER t USING t_a_idx',
    design: ['rewriting-commands'],
  },
  {
    id: 'cluster-all',
    op: 'cluster-all',
    setup: `${T}
CREATE INDEX t_a_idx ON t (a);
ALTER TABLE t CLUSTER ON t_a_idx;
CREATE TABLE u (id int PRIMARY KEY, a int);
${rows('u', 'g, g')}`,
    sql: 'CLUSTER',
    stall: 'LOCK TABLE t IN ACCESS SHARE MODE',
    notes: 'only the tables clustered before (t, not u), each in a transaction of its own',
    design: ['rewriting-commands'],
  },
  {
    id: 'set-tablespace',
    op: 'set-tablespace',
    setup: T,
    sql: 'ALTER TABLE t SET TABLESPACE pgkeel_probe',
    needs: 'tablespace',
    design: ['rewriting-commands'],
  },
  {
    id: 'set-access-method',
    op: 'set-access-method',
    setup: `DROP ACCESS METHOD IF EXISTS heap2 CASCADE;
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
${T}`,
    sql: 'ALTER TABLE t SET ACCESS METHOD heap2',
    minVersion: 15,
    notes: 'heap2: a second table access method with heap’s handler',
  },
  {
    id: 'set-expression',
    op: 'set-expression',
    setup: `CREATE TABLE t (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED);
INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 100) g;`,
    sql: 'ALTER TABLE t ALTER COLUMN g SET EXPRESSION AS (a * 3)',
    minVersion: 17,
  },
  {
    id: 'set-logged/unlogged',
    op: 'set-logged',
    setup: T,
    sql: 'ALTER TABLE t SET UNLOGGED',
    design: ['rewriting-commands'],
  },
  {
    id: 'set-logged/logged',
    op: 'set-logged',
    setup: `CREATE UNLOGGED TABLE t (id int PRIMARY KEY, a int);\n${rows('t', 'g, g')}`,
    sql: 'ALTER TABLE t SET LOGGED',
    design: ['rewriting-commands'],
  },
  {
    id: 'attach-partition',
    op: 'attach-partition',
    setup: PARTITIONS,
    sql: 'ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES FROM (1000) TO (2000)',
    design: ['partitions'],
  },
  {
    id: 'attach-partition/default-partition',
    op: 'check-default-partition',
    setup: WITH_DEFAULT,
    sql: 'ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES FROM (1000) TO (2000)',
    design: ['partitions'],
    designDiffers: [{ what: 'a default partition is locked ACCESS EXCLUSIVE and scanned' }],
  },
  {
    id: 'attach-partition/matching-check',
    op: 'attach-partition',
    setup: `${PARTITIONS}
ALTER TABLE events_2 ADD CONSTRAINT events_2_bound CHECK (at IS NOT NULL AND at >= 1000 AND at < 2000);`,
    sql: 'ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES FROM (1000) TO (2000)',
    conservative: [
      {
        kind: 'scan',
        relation: 'public.events_2',
        observed: 'no scan',
        why: 'a validated CHECK that implies the bound (NULLs included) spares the scan; the analyzer does not prove implications and claims the scan',
      },
    ],
    design: ['partitions'],
  },
  {
    id: 'detach-partition',
    op: 'detach-partition',
    setup: PARTITIONS,
    sql: 'ALTER TABLE events DETACH PARTITION events_1',
    design: ['partitions'],
    designDiffers: [{ maxVersion: 13, what: 'the partition is locked SHARE UPDATE EXCLUSIVE before PG 14' }],
  },
  {
    id: 'detach-partition/default-partition',
    op: 'detach-partition',
    setup: WITH_DEFAULT,
    sql: 'ALTER TABLE events DETACH PARTITION events_1',
    notes: 'the default partition’s constraint changes: it is locked ACCESS EXCLUSIVE too (not read)',
    design: ['partitions'],
    designDiffers: [{ what: 'a default partition is locked ACCESS EXCLUSIVE too' }],
  },
  {
    id: 'detach-partition-concurrently',
    op: 'detach-partition-concurrently',
    setup: PARTITIONS,
    sql: 'ALTER TABLE events DETACH PARTITION events_1 CONCURRENTLY',
    minVersion: 14,
    stall: 'SELECT count(*) FROM events_1',
    notes: 'a reader of the partition alone makes the second transaction wait for its lock on the partition',
    design: ['partitions'],
  },
  {
    id: 'create-trigger',
    op: 'create-trigger',
    setup: `${T}
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;`,
    sql: 'CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()',
    design: ['drop-constraint-trigger'],
  },
  {
    id: 'drop-trigger',
    op: 'drop-trigger',
    setup: `${T}
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE PROCEDURE touch();`,
    sql: 'DROP TRIGGER t_touch ON t',
    design: ['drop-constraint-trigger'],
  },
  {
    id: 'refresh-materialized-view',
    op: 'refresh-materialized-view',
    setup: MATVIEW,
    sql: 'REFRESH MATERIALIZED VIEW mv',
    design: ['refresh-materialized-view'],
  },
  {
    id: 'refresh-materialized-view-concurrently',
    op: 'refresh-materialized-view-concurrently',
    setup: MATVIEW,
    sql: 'REFRESH MATERIALIZED VIEW CONCURRENTLY mv',
    design: ['refresh-materialized-view'],
  },
  {
    id: 'create-table-as',
    op: 'create-table-as',
    setup: FK,
    sql: 'CREATE TABLE copy AS SELECT c.id FROM child c JOIN parent p ON p.id = c.parent_id',
    design: ['create-table-as'],
  },
  {
    id: 'create-table-as/select-into',
    op: 'create-table-as',
    setup: FK,
    sql: 'WITH kept AS (SELECT id FROM parent) SELECT * INTO copy FROM kept',
    design: ['create-table-as'],
  },
  {
    id: 'create-materialized-view',
    op: 'create-materialized-view',
    setup: FK,
    sql: 'CREATE MATERIALIZED VIEW copy AS SELECT id FROM child WHERE parent_id IN (SELECT id FROM parent)',
    design: ['create-table-as'],
  },
  {
    id: 'create-table-as-no-data',
    op: 'create-table-as-no-data',
    setup: T,
    sql: 'CREATE TABLE copy AS SELECT * FROM t WITH NO DATA',
    design: ['create-table-as'],
  },
  {
    id: 'create-table-as-no-data/materialized-view',
    op: 'create-table-as-no-data',
    setup: T,
    sql: 'CREATE MATERIALIZED VIEW copy AS SELECT * FROM t WITH NO DATA',
    design: ['create-table-as'],
  },
  { id: 'alter-table', op: 'alter-table', setup: T, sql: 'ALTER TABLE t ENABLE ROW LEVEL SECURITY' },
  {
    id: 'alter-table/disable-rule',
    op: 'alter-table',
    setup: `${T}\nCREATE RULE t_notify AS ON INSERT TO t DO ALSO NOTIFY t;`,
    sql: 'ALTER TABLE t DISABLE RULE t_notify',
    notes: 'ENABLE / DISABLE RULE take ACCESS EXCLUSIVE, unlike ENABLE / DISABLE TRIGGER',
  },
  {
    id: 'alter-table/alter-constraint',
    op: 'alter-table',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id);`,
    sql: 'ALTER TABLE child ALTER CONSTRAINT child_parent_fk DEFERRABLE INITIALLY DEFERRED',
  },
  {
    id: 'alter-table/column-storage',
    op: 'alter-table',
    setup: T,
    sql: 'ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL',
  },
  {
    id: 'alter-table/replica-identity',
    op: 'alter-table',
    setup: T,
    sql: 'ALTER TABLE t REPLICA IDENTITY FULL',
  },
  {
    id: 'alter-table-set-statistics',
    op: 'alter-table-set-statistics',
    setup: T,
    sql: 'ALTER TABLE t ALTER COLUMN a SET STATISTICS 500',
  },
  {
    id: 'alter-table-set-statistics/n-distinct',
    op: 'alter-table-set-statistics',
    setup: T,
    sql: 'ALTER TABLE t ALTER COLUMN a SET (n_distinct = 50)',
  },
  {
    id: 'alter-table-set-statistics/cluster-on',
    op: 'alter-table-set-statistics',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);`,
    sql: 'ALTER TABLE t CLUSTER ON t_a_idx',
  },
  {
    id: 'alter-table-set-statistics/without-cluster',
    op: 'alter-table-set-statistics',
    setup: `${T}\nCREATE INDEX t_a_idx ON t (a);\nALTER TABLE t CLUSTER ON t_a_idx;`,
    sql: 'ALTER TABLE t SET WITHOUT CLUSTER',
  },
  {
    id: 'set-storage-parameters/fillfactor',
    op: 'set-storage-parameters',
    setup: T,
    sql: 'ALTER TABLE t SET (fillfactor = 70)',
    notes: 'the new fillfactor applies to pages written from now on: no rewrite',
  },
  {
    id: 'set-storage-parameters/autovacuum',
    op: 'set-storage-parameters',
    setup: T,
    sql: 'ALTER TABLE t SET (autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_enabled = false, parallel_workers = 2)',
  },
  {
    id: 'set-storage-parameters/reset',
    op: 'set-storage-parameters',
    setup: `${T}\nALTER TABLE t SET (fillfactor = 70);`,
    sql: 'ALTER TABLE t RESET (fillfactor)',
  },
  {
    id: 'set-storage-parameters-exclusive',
    op: 'set-storage-parameters-exclusive',
    setup: T,
    sql: 'ALTER TABLE t SET (user_catalog_table = true)',
  },
  {
    id: 'enable-disable-trigger/disable',
    op: 'enable-disable-trigger',
    setup: TRIGGER,
    sql: 'ALTER TABLE t DISABLE TRIGGER t_touch',
  },
  {
    id: 'enable-disable-trigger/enable-always',
    op: 'enable-disable-trigger',
    setup: TRIGGER,
    sql: 'ALTER TABLE t ENABLE ALWAYS TRIGGER t_touch',
  },
  {
    id: 'enable-disable-trigger/enable-replica',
    op: 'enable-disable-trigger',
    setup: TRIGGER,
    sql: 'ALTER TABLE t ENABLE REPLICA TRIGGER t_touch',
  },
  {
    id: 'enable-disable-trigger/user',
    op: 'enable-disable-trigger',
    setup: TRIGGER,
    sql: 'ALTER TABLE t DISABLE TRIGGER USER',
  },
  { id: 'lock-table', op: 'lock-table', setup: T, sql: 'LOCK TABLE t' },

  // ── types ────────────────────────────────────────────────────────────────────
  {
    id: 'alter-type-add-value',
    op: 'alter-type-add-value',
    setup: `CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE t (id int, m mood);
${rows('t', "g, 'ok'")}`,
    sql: "ALTER TYPE mood ADD VALUE 'happy'",
    stall: 'LOCK TABLE pg_catalog.pg_enum IN SHARE MODE',
    notes: 'before PG 12 it cannot run in a transaction block; a lock on pg_enum makes it wait',
    design: ['enum-add-value'],
  },

  {
    id: 'alter-type-add-value-new-type',
    op: 'alter-type-add-value-new-type',
    setup: 'CREATE TABLE t (id int);',
    inTransaction: "CREATE TYPE mood AS ENUM ('sad', 'ok');",
    sql: "ALTER TYPE mood ADD VALUE 'happy'",
    notes: 'an enum created in the same transaction may be extended inside it on every version, PG 11 too',
    design: ['enum-add-value'],
  },

  // ── domains ──────────────────────────────────────────────────────────────────
  {
    id: 'alter-domain-add-check',
    op: 'alter-domain-add-check',
    setup: DOMAIN,
    sql: 'ALTER DOMAIN pos ADD CONSTRAINT pos_positive CHECK (VALUE > 0)',
    notes:
      'SHARE on, and a full read of, every table with a column of the domain or of a domain derived from it',
  },
  {
    id: 'alter-domain-add-check-not-valid',
    op: 'alter-domain-add-check-not-valid',
    setup: DOMAIN,
    sql: 'ALTER DOMAIN pos ADD CONSTRAINT pos_positive CHECK (VALUE > 0) NOT VALID',
  },
  {
    id: 'alter-domain-set-not-null',
    op: 'alter-domain-set-not-null',
    setup: DOMAIN,
    sql: 'ALTER DOMAIN pos SET NOT NULL',
  },
  {
    id: 'alter-domain-add-not-null',
    op: 'alter-domain-add-not-null',
    setup: DOMAIN,
    sql: 'ALTER DOMAIN pos ADD CONSTRAINT pos_not_null NOT NULL',
    minVersion: 17,
  },
  {
    id: 'alter-domain-validate-constraint',
    op: 'alter-domain-validate-constraint',
    setup: `${DOMAIN}
ALTER DOMAIN pos ADD CONSTRAINT pos_positive CHECK (VALUE > 0) NOT VALID;`,
    sql: 'ALTER DOMAIN pos VALIDATE CONSTRAINT pos_positive',
    notes: 'unlike ALTER TABLE … VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE), it blocks writes for the scan',
  },

  // ── data ─────────────────────────────────────────────────────────────────────
  { id: 'update', op: 'update', setup: T, sql: 'UPDATE t SET b = b' },
  { id: 'delete', op: 'delete', setup: T, sql: 'DELETE FROM t WHERE a > 50' },
  { id: 'insert', op: 'insert', setup: T, sql: "INSERT INTO t VALUES (1000, 1000, 'x')" },
  {
    id: 'read/insert-select',
    op: 'read',
    setup: FK,
    sql: 'INSERT INTO parent SELECT id + 1000 FROM child',
    notes: 'the table read is locked ACCESS SHARE, the table written ROW EXCLUSIVE',
  },
  {
    id: 'read/update-from',
    op: 'read',
    setup: FK,
    sql: 'UPDATE child SET parent_id = parent.id FROM parent WHERE parent.id = child.parent_id',
  },
  {
    id: 'read/delete-subquery',
    op: 'read',
    setup: FK,
    sql: 'DELETE FROM child WHERE parent_id IN (SELECT id FROM parent WHERE id > 50)',
  },
  {
    id: 'read/select',
    op: 'read',
    setup: FK,
    sql: 'SELECT count(*) FROM child JOIN parent ON parent.id = child.parent_id',
  },
  {
    id: 'read/through-view',
    op: 'read',
    setup: `${FK}
CREATE VIEW child_view AS SELECT * FROM child;`,
    sql: 'SELECT count(*) FROM child_view',
    notes: 'reading a view reads (and locks) the relations of its query',
  },
  {
    id: 'read/create-view',
    op: 'read',
    setup: FK,
    sql: 'CREATE VIEW child_parents AS SELECT child.id, parent.id AS pid FROM child JOIN parent ON parent.id = child.parent_id',
    notes: 'the query is analysed, not run: its tables are locked ACCESS SHARE but not read',
  },
  {
    id: 'read/refresh-sources',
    op: 'read',
    setup: MATVIEW,
    sql: 'REFRESH MATERIALIZED VIEW mv',
    notes: 'the view’s query runs again: its source tables are read under ACCESS SHARE',
  },
  {
    id: 'enforce-foreign-key',
    op: 'enforce-foreign-key',
    setup: `${FK}
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) NOT ENFORCED;`,
    sql: 'ALTER TABLE child ALTER CONSTRAINT child_parent_fk ENFORCED',
    minVersion: 18,
    notes:
      'PG 18: checks every row under ACCESS EXCLUSIVE, and reads the referenced table under SHARE ROW EXCLUSIVE',
  },
  {
    id: 'drop-view',
    op: 'drop-view',
    setup: `${T}\nCREATE VIEW t_view AS SELECT * FROM t;`,
    sql: 'DROP VIEW t_view',
    notes: 'only the view is locked, not the tables its query reads',
  },
  { id: 'drop-view/materialized', op: 'drop-view', setup: MATVIEW, sql: 'DROP MATERIALIZED VIEW mv' },
  {
    id: 'merge',
    op: 'merge',
    setup: FK,
    sql: 'MERGE INTO parent p USING child c ON p.id = c.parent_id WHEN MATCHED THEN UPDATE SET id = p.id',
    minVersion: 15,
  },
];

/** Probes that exist on a major version. */
export function probesFor(pgVersion: number): Probe[] {
  return PROBES.filter((p) => (p.minVersion ?? 0) <= pgVersion && pgVersion <= (p.maxVersion ?? 99));
}

/** DESIGN.md facts about sessions and transactions rather than one statement's locks. */
export interface Scenario {
  id: string;
  title: string;
  design: DesignFactId[];
  minVersion?: number;
  maxVersion?: number;
  setup: string;
  /** run in order in one session; a step may have to fail with an error containing `error` */
  steps?: { sql: string; error?: string }[];
  /** one row, one boolean column that must be true after the steps */
  check?: string;
  /**
   * the lock queue: a second session holds `hold` in an open transaction, `waiter` queues behind
   * it, and `blocked`, from a third session with a short lock_timeout, must time out behind `waiter`
   */
  queue?: { hold: string; waiter: string; blocked: string };
  designDiffers?: { minVersion?: number; maxVersion?: number; what: string }[];
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'lock-queue',
    title: 'a waiting ACCESS EXCLUSIVE blocks a later SELECT',
    design: ['lock-queue'],
    setup: T,
    queue: {
      hold: 'SELECT count(*) FROM t',
      waiter: 'ALTER TABLE t ADD COLUMN c int',
      blocked: 'SELECT count(*) FROM t',
    },
  },
  {
    id: 'retries/set-undone-by-rollback',
    title: 'SET lock_timeout inside a transaction is undone by ROLLBACK',
    design: ['retries'],
    setup: '',
    steps: [{ sql: 'BEGIN' }, { sql: "SET lock_timeout = '1s'" }, { sql: 'ROLLBACK' }],
    check: "SELECT current_setting('lock_timeout') = '0'",
  },
  {
    id: 'add-unique/not-valid-refused',
    title: 'NOT VALID is refused on UNIQUE',
    design: ['add-unique-primary-key'],
    setup: T,
    steps: [
      {
        sql: 'ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a) NOT VALID',
        error: 'cannot be marked NOT VALID',
      },
    ],
  },
  {
    id: 'create-index-concurrently/invalid-kept',
    title: 'a failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS keeps',
    design: ['create-index'],
    setup: `CREATE TABLE t (id int, a int);
INSERT INTO t VALUES (1, 1), (2, 1);`,
    steps: [
      { sql: 'CREATE UNIQUE INDEX CONCURRENTLY t_a_key ON t (a)', error: 'could not create unique index' },
      { sql: 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a_key ON t (a)' },
    ],
    check: "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 't_a_key'::regclass",
  },
  {
    id: 'alter-type-add-value/unusable-until-commit',
    title: 'a value added in a transaction cannot be used before it commits',
    design: ['enum-add-value'],
    minVersion: 12,
    setup: "CREATE TYPE mood AS ENUM ('sad', 'ok');",
    steps: [
      { sql: 'BEGIN' },
      { sql: "ALTER TYPE mood ADD VALUE 'happy'" },
      { sql: "SELECT 'happy'::mood", error: 'unsafe use of new value' },
    ],
  },
  {
    id: 'alter-type-add-value/new-type-unusable',
    title:
      'a value added to an enum created in the same transaction cannot be used before it commits (PG 12–16)',
    design: ['enum-add-value'],
    minVersion: 12,
    maxVersion: 16,
    setup: '',
    steps: [
      { sql: 'BEGIN' },
      { sql: "CREATE TYPE mood AS ENUM ('sad', 'ok')" },
      { sql: "ALTER TYPE mood ADD VALUE 'happy'" },
      { sql: "SELECT 'happy'::mood", error: 'unsafe use of new value' },
    ],
  },
  {
    id: 'alter-type-add-value/new-type-usable-before-12',
    title: 'before PG 12 a value added to an enum created in the same transaction can be used at once',
    design: ['enum-add-value'],
    maxVersion: 11,
    setup: '',
    steps: [
      { sql: 'BEGIN' },
      { sql: "CREATE TYPE mood AS ENUM ('sad', 'ok')" },
      { sql: "ALTER TYPE mood ADD VALUE 'happy'" },
      { sql: "SELECT 'happy'::mood" },
      { sql: 'ROLLBACK' },
    ],
  },
  {
    id: 'alter-type-add-value/new-type-usable',
    title: 'a value added to an enum created in the same transaction can be used at once (PG 17+)',
    design: ['enum-add-value'],
    minVersion: 17,
    setup: '',
    steps: [
      { sql: 'BEGIN' },
      { sql: "CREATE TYPE mood AS ENUM ('sad', 'ok')" },
      { sql: "ALTER TYPE mood ADD VALUE 'happy'" },
      { sql: "SELECT 'happy'::mood" },
      { sql: 'ROLLBACK' },
    ],
  },
];
