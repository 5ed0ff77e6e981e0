/**
 * Hand-written setups for rule examples whose referenced objects the version matrix cannot guess
 * from the example itself (a constraint defined in an earlier migration, a partitioned table, a
 * table read without naming its columns). Keyed by `<rule id>#<example index>`; the SQL runs on an
 * empty database before the example is traced. Every other example gets a generic setup: each table
 * it references but does not create, with the columns it mentions and a few rows.
 */
const ORDERS_WITH_INDEX = `CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;`;

export const RULE_EXAMPLE_SETUPS: Record<string, string> = {
  // REINDEX TABLE reads the table once per index: the example's table needs one
  'reindex-non-concurrently#1': ORDERS_WITH_INDEX,
  'reindex-non-concurrently#5': ORDERS_WITH_INDEX,
  // SET LOGGED rewrites only a table that is UNLOGGED (on a logged one it does nothing)
  'table-rewrite-maintenance#4': `CREATE UNLOGGED TABLE events (id int, at int);
INSERT INTO events SELECT g, g FROM generate_series(1, 10) g;`,
  'concurrently-in-transaction#9': `CREATE TABLE events (id int, at int) PARTITION BY RANGE (at);
CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM (2020) TO (2021);`,
  'set-not-null#5': `CREATE TABLE foo (id int, bar int);
INSERT INTO foo SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;`,
  'statement-timeout-missing#6': `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;`,
  'validate-in-same-transaction#5': `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;`,
  'unbatched-data-migration#3': `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
CREATE TABLE order_totals (order_id int, total int);`,
};
