/**
 * Setups shared by several rule examples (see `RuleExample.setup`, `refuses`, `conservative`): the
 * objects an example works on that it does not create itself, made on an empty database before the
 * version matrix (`npm run test:pg-matrix`) traces the example on real Postgres. Setups used by a
 * single example are written in the example.
 */

import type { ConservativeClaim } from './define.js';

/** a table with an index (REINDEX TABLE/SCHEMA/DATABASE reads each table once per index) */
export const ORDERS_WITH_INDEX = `CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;`;

/** a table with a CHECK constraint added NOT VALID by an earlier migration */
export const ORDERS_NOT_VALID = `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;`;

/** an enum the migration extends, and a table using it */
export const ORDER_STATUS = `CREATE TYPE order_status AS ENUM ('open', 'closed');
CREATE TABLE orders (id int, status order_status, closed_at timestamptz);
INSERT INTO orders SELECT g, 'closed', timestamptz '2019-12-25' + g * interval '1 day' FROM generate_series(1, 10) g;`;

/** a table a database-wide CLUSTER or VACUUM FULL rewrites, clustered on an index once before */
export const CLUSTERED_ORDERS = `CREATE TABLE orders (id int, created_at int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
CREATE INDEX orders_created_at_idx ON orders (created_at);
ALTER TABLE orders CLUSTER ON orders_created_at_idx;`;

/** the table of the duplicate-column-assignment examples */
export const K = `CREATE TABLE k (id int PRIMARY KEY, a int, b int);
INSERT INTO k SELECT g, g, g FROM generate_series(1, 10) g;`;
/** … with a composite column, whose fields are assigned one by one */
export const K_COMPOSITE = `CREATE TYPE pair AS (x int, y int);
CREATE TABLE k (id int, a pair, b int);
INSERT INTO k SELECT g, row(g, g)::pair, g FROM generate_series(1, 10) g;`;
/** … with an array column, whose elements are assigned one by one */
export const K_ARRAY = `CREATE TABLE k (id int PRIMARY KEY, a int[], b int);
INSERT INTO k SELECT g, ARRAY[g, g], g FROM generate_series(1, 10) g;`;

/** how Postgres refuses an UPDATE that assigns column `a` twice */
export const MULTIPLE_ASSIGNMENTS = /multiple assignments to same column "a"/;
/** how Postgres refuses an INSERT that names a column twice */
export const specifiedTwice = (column: string): RegExp =>
  new RegExp(`column "${column.replace(/\?/g, '\\?')}" specified more than once`);

/** ATTACH PARTITION after a validated CHECK that implies the partition bound */
export const IMPLIED_BOUND: ConservativeClaim = {
  match: /scan on public\.m_2025: claimed full scan, observed no scan/,
  why: 'a validated CHECK that implies the bound spares the scan; the analyzer does not prove implications and claims the scan',
};
