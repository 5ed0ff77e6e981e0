/**
 * Hand-written setups for rule examples whose referenced objects the version matrix cannot guess
 * from the example itself (a constraint defined in an earlier migration, a partitioned table, a
 * table read without naming its columns), and what the matrix must expect of some examples. Keyed
 * by `<rule id>#<example index>`; the setup runs on an empty database before the example is traced.
 * Every other example gets a generic setup (`scripts/pg-matrix/examples.ts`): each table it
 * references but does not create, with the columns it mentions and a few rows.
 */

export interface ExampleSetup {
  /** SQL run on an empty database before the example (default: the generic setup) */
  setup?: string;
  /**
   * The example is an error the rule predicts: Postgres must refuse it with a message matching this
   * (counted as "refused as expected"; the run fails if Postgres accepts it). Not for setup problems.
   */
  refuses?: RegExp;
  /**
   * For a statement that runs outside a transaction block on a server: SQL a second session runs in
   * an open transaction to make it wait where its locks show in pg_locks (default: derived from the
   * analyzer's claims; a statement it claims no lock for needs one to be observed).
   */
  stall?: string;
  /** a tablespace the example moves tables to (made in place, as the catalog probes' is) */
  tablespace?: string;
  /**
   * Claims the analyzer makes conservatively (as a probe's `conservative`): a mismatch matching
   * `match` is expected on versions `min`–`max`, and the run fails when it no longer occurs there.
   */
  conservative?: { match: RegExp; why: string; min?: number; max?: number }[];
}

const ORDERS_WITH_INDEX = `CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;`;

const ORDERS_NOT_VALID = `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;`;

/** an enum the migration extends, and a table using it */
const ORDER_STATUS = `CREATE TYPE order_status AS ENUM ('open', 'closed');
CREATE TABLE orders (id int, status order_status, closed_at timestamptz);
INSERT INTO orders SELECT g, 'closed', timestamptz '2019-12-25' + g * interval '1 day' FROM generate_series(1, 10) g;`;

/** the table of the duplicate-column-assignment examples */
const K = `CREATE TABLE k (id int PRIMARY KEY, a int, b int);
INSERT INTO k SELECT g, g, g FROM generate_series(1, 10) g;`;
/** … with a composite column, whose fields are assigned one by one */
const K_COMPOSITE = `CREATE TYPE pair AS (x int, y int);
CREATE TABLE k (id int, a pair, b int);
INSERT INTO k SELECT g, row(g, g)::pair, g FROM generate_series(1, 10) g;`;
/** … with an array column, whose elements are assigned one by one */
const K_ARRAY = `CREATE TABLE k (id int PRIMARY KEY, a int[], b int);
INSERT INTO k SELECT g, ARRAY[g, g], g FROM generate_series(1, 10) g;`;

/** a table a database-wide CLUSTER or VACUUM FULL rewrites, clustered on an index once before */
const CLUSTERED_ORDERS = `CREATE TABLE orders (id int, created_at int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
CREATE INDEX orders_created_at_idx ON orders (created_at);
ALTER TABLE orders CLUSTER ON orders_created_at_idx;`;

const MULTIPLE_ASSIGNMENTS = /multiple assignments to same column "a"/;
const SPECIFIED_TWICE = (column: string) =>
  new RegExp(`column "${column.replace(/\?/g, '\\?')}" specified more than once`);

const IMPLIED_BOUND = {
  match: /scan on public\.m_2025: claimed full scan, observed no scan/,
  why: 'a validated CHECK that implies the bound spares the scan; the analyzer does not prove implications and claims the scan',
};

export const RULE_EXAMPLE_SETUPS: Record<string, string | ExampleSetup> = {
  'attach-partition#2': { conservative: [IMPLIED_BOUND] },
  'attach-partition#3': { conservative: [IMPLIED_BOUND] },
  // the sessions of the matrix's servers run in UTC
  'prefer-timestamptz#2': {
    conservative: [
      {
        match: /rewrite on app\.users: claimed rewrite, observed no rewrite/,
        why: 'timestamptz → timestamp is not rewritten when the session time zone is UTC (PG 12+); the analyzer does not know the time zone and claims the rewrite',
        min: 12,
      },
    ],
  },
  // REINDEX TABLE reads the table once per index: the example's table needs one
  'reindex-non-concurrently#1': ORDERS_WITH_INDEX,
  'reindex-non-concurrently#5': ORDERS_WITH_INDEX,
  // REINDEX DATABASE goes through every table: one, with an index
  'reindex-non-concurrently#6': ORDERS_WITH_INDEX,
  // REINDEX SCHEMA reindexes every table of the schema: one, with an index; a writer makes it wait
  // for its SHARE lock on that table
  'reindex-non-concurrently#2': {
    setup: `CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int);
INSERT INTO app.orders SELECT g, g FROM generate_series(1, 10) g;`,
    stall: 'LOCK TABLE app.orders IN ROW EXCLUSIVE MODE',
  },
  // SET LOGGED rewrites only a table that is UNLOGGED (on a logged one it does nothing)
  'table-rewrite-maintenance#4': `CREATE UNLOGGED TABLE events (id int, at int);
INSERT INTO events SELECT g, g FROM generate_series(1, 10) g;`,
  'table-rewrite-maintenance#3': { tablespace: 'archive' },
  // a second table access method (a stand-in for an extension's, with heap's handler)
  'table-rewrite-maintenance#13': `DROP ACCESS METHOD IF EXISTS columnar CASCADE;
CREATE ACCESS METHOD columnar TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE orders (id int, note text);
INSERT INTO orders SELECT g, 'v' || g FROM generate_series(1, 10) g;`,
  // a stored generated column whose expression the example changes
  'change-column-type#10': `CREATE TABLE orders (id int, quantity int, price int, total int GENERATED ALWAYS AS (quantity * price) STORED);
INSERT INTO orders (id, quantity, price) SELECT g, g, g FROM generate_series(1, 10) g;`,
  // CLUSTER without a table reclusters the tables clustered before; VACUUM FULL without one
  // rewrites every table. A reader of the table makes either wait for its lock on it.
  'table-rewrite-maintenance#6': { setup: CLUSTERED_ORDERS, stall: 'LOCK TABLE orders IN ACCESS SHARE MODE' },
  'table-rewrite-maintenance#7': { setup: CLUSTERED_ORDERS, stall: 'LOCK TABLE orders IN ACCESS SHARE MODE' },
  // VACUUM without a table vacuums every table: a session holding SHARE UPDATE EXCLUSIVE makes it wait
  'table-rewrite-maintenance#9': {
    setup: CLUSTERED_ORDERS,
    stall: 'LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE',
  },
  'concurrently-in-transaction#9': `CREATE TABLE events (id int, at int) PARTITION BY RANGE (at);
CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM (2020) TO (2021);`,
  'set-not-null#5': `CREATE TABLE foo (id int, bar int);
INSERT INTO foo SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;`,
  'statement-timeout-missing#6': ORDERS_NOT_VALID,
  'validate-in-same-transaction#5': ORDERS_NOT_VALID,
  // the table the example drops and rolls back exists, as the file expects on a converged install
  'create-index-non-concurrently#6': `CREATE TABLE orders (customer_id int);
INSERT INTO orders SELECT g FROM generate_series(1, 10) g;`,
  'unbatched-data-migration#3': `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
CREATE TABLE order_totals (order_id int, total int);`,

  // uuid() is no Postgres function (the example's project defines one): a volatile stand-in, which
  // is all the example's claim (a volatile default rewrites the table) is about
  'add-column-volatile-default#2': `CREATE TABLE core_recipe (id int);
INSERT INTO core_recipe SELECT g FROM generate_series(1, 10) g;
CREATE FUNCTION uuid() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT (random() * 1000)::int';`,

  // gist compares ranges with = by itself (no btree_gist, which PGlite does not load): room_id as
  // a range takes the same locks and builds the same index as an int with btree_gist
  'add-exclusion-constraint#0': `CREATE TABLE room_bookings (id int, room_id int4range, during tstzrange);
INSERT INTO room_bookings SELECT g, int4range(g, g + 1), tstzrange(timestamptz '2020-01-01' + g * interval '1 day', timestamptz '2020-01-01' + (g + 1) * interval '1 day') FROM generate_series(1, 10) g;`,
  // the example's own bigint column needs btree_gist's gist operator class for =
  'add-exclusion-constraint#2': 'CREATE EXTENSION IF NOT EXISTS btree_gist;',
  'add-exclusion-constraint#3': 'CREATE EXTENSION IF NOT EXISTS btree_gist;',

  // using a value added in the same transaction block: Postgres refuses it, as the rule says
  'enum-add-value-in-transaction#0': { setup: ORDER_STATUS, refuses: /unsafe use of new value "archived"/ },
  'enum-add-value-in-transaction#2': ORDER_STATUS,
  // PG 12–16 refuse a value added to an enum created in the same transaction, as the rule says
  'enum-add-value-in-transaction#6': { refuses: /unsafe use of new value "archived"/ },

  // DROP DATABASE runs outside a transaction block; a lock on its pg_database row stops it at its
  // last step (it takes no lock on any relation of the database the migration runs in)
  'drop-database#0': { stall: `SELECT 1 FROM pg_database WHERE datname = 'table_name' FOR UPDATE` },
  'drop-database#1': {
    setup: 'DROP DATABASE IF EXISTS table_name;\nCREATE DATABASE table_name;',
    stall: `SELECT 1 FROM pg_database WHERE datname = 'table_name' FOR UPDATE`,
  },
  'drop-database#2': { stall: `SELECT 1 FROM pg_database WHERE datname = 'old_reports' FOR UPDATE` },

  // every bad example of duplicate-column-assignment is one Postgres refuses
  'duplicate-column-assignment#0': { setup: K, refuses: MULTIPLE_ASSIGNMENTS },
  'duplicate-column-assignment#1': { setup: K, refuses: MULTIPLE_ASSIGNMENTS },
  'duplicate-column-assignment#2': { setup: K, refuses: MULTIPLE_ASSIGNMENTS },
  'duplicate-column-assignment#3': { setup: K_COMPOSITE, refuses: MULTIPLE_ASSIGNMENTS },
  'duplicate-column-assignment#4': { setup: K, refuses: MULTIPLE_ASSIGNMENTS },
  'duplicate-column-assignment#5': { setup: K, refuses: SPECIFIED_TWICE('a') },
  'duplicate-column-assignment#6': {
    setup: `CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE TABLE s (id int);
INSERT INTO s SELECT g FROM generate_series(1, 10) g;`,
    refuses: SPECIFIED_TWICE('a'),
  },
  'duplicate-column-assignment#7': { refuses: SPECIFIED_TWICE('a') },
  'duplicate-column-assignment#8': { refuses: SPECIFIED_TWICE('?column?') },
  'duplicate-column-assignment#9': { refuses: SPECIFIED_TWICE('id') },
  'duplicate-column-assignment#11': K_COMPOSITE,
  // run again, ADD CONSTRAINT … USING INDEX finds no index: the first run renamed it to the constraint's name
  'prefer-robust-statements#5': { refuses: /index "email_idx" does not exist/ },
  'duplicate-column-assignment#12': K_ARRAY,
  'duplicate-column-assignment#14': K_COMPOSITE,
};
