/**
 * Safe sequences more than one rule's fix or plan uses, version-aware through the catalog: proving a
 * column NOT NULL without a long ACCESS EXCLUSIVE scan, and backfilling a column in batches.
 */

import type { RelationRef } from '../analyze/ast.js';
import { asNode } from '../analyze/nodes.js';
import { operationFacts } from '../catalog/operations.js';
import { deparse, quoteIdent } from './sql.js';

/**
 * Statements that make `column` NOT NULL without scanning under ACCESS EXCLUSIVE: PG 18, a NOT NULL
 * constraint added NOT VALID then validated; PG 12–17, a CHECK (col IS NOT NULL) validated first,
 * which SET NOT NULL then trusts, and dropped. Undefined before PG 12: SET NOT NULL always scans.
 * The VALIDATE must run in a later transaction than the ADD (the planner puts it there).
 */
export function notNullSteps(table: RelationRef, column: string, pgVersion: number): string[] | undefined {
  if (operationFacts('set-not-null-proven', pgVersion).scan) return undefined;
  const col = quoteIdent(column);
  // Postgres' own name for the column's NOT NULL constraint (PG 18): the result is the same
  const name = quoteIdent(`${table.name}_${column}_not_null`.slice(0, 63));
  const t = `ALTER TABLE ${table.display}`;
  if (!operationFacts('add-not-null-constraint-not-valid', pgVersion).unsupported)
    return [`${t} ADD CONSTRAINT ${name} NOT NULL ${col} NOT VALID`, `${t} VALIDATE CONSTRAINT ${name}`];
  return [
    `${t} ADD CONSTRAINT ${name} CHECK (${col} IS NOT NULL) NOT VALID`,
    `${t} VALIDATE CONSTRAINT ${name}`,
    `${t} ALTER COLUMN ${col} SET NOT NULL`,
    `${t} DROP CONSTRAINT ${name}`,
  ];
}

/**
 * The lock_timeout of a statement that waits for other transactions without blocking traffic while
 * it waits (CREATE INDEX CONCURRENTLY waits for every older transaction; VALIDATE for the table's
 * writers): long enough not to cancel it on a busy database, never 0 (an endless wait).
 */
export const LONG_LOCK_TIMEOUT = '1min';

/** Pages of the table updated per transaction by `backfillStep`. */
export const BACKFILL_PAGES = 1000;

/**
 * A DO block that sets `column` to `value` where it is NULL, a range of pages at a time, committing
 * after each range (PG 11+, and only outside a transaction block): no row stays locked for long and
 * a rerun after an interruption goes on where it stopped. From PG 14 each range is read by a TID
 * range scan; before, each range costs a scan of the table.
 */
export function backfillStep(table: RelationRef, column: string, value: string): string {
  const col = quoteIdent(column);
  return batchedStep(
    table,
    (range) => `UPDATE ${table.display} SET ${col} = ${value}\n    WHERE ${col} IS NULL\n      AND ${range}`,
  );
}

/**
 * A DO block that runs a data change a range of pages at a time, committing after each (PG 11+,
 * outside a transaction block): `statement` gets the ctid condition of one range to AND in.
 */
export function batchedStep(table: RelationRef, statement: (range: string) => string): string {
  const regclass = `'${table.display.replace(/'/g, "''")}'::regclass`;
  return [
    'DO $pgkeel$',
    'DECLARE',
    `  last_page bigint := pg_relation_size(${regclass}) / current_setting('block_size')::int;`,
    '  first_page bigint := 0;',
    'BEGIN',
    '  WHILE first_page <= last_page LOOP',
    `    ${statement(`ctid >= format('(%s,0)', first_page)::tid AND ctid < format('(%s,0)', first_page + ${BACKFILL_PAGES})::tid`)};`,
    '    COMMIT;',
    `    first_page := first_page + ${BACKFILL_PAGES};`,
    '  END LOOP;',
    'END',
    '$pgkeel$',
  ].join('\n');
}

/**
 * An UPDATE or DELETE of one table as SQL with `placeholder` (a bare name) ANDed to its WHERE, for
 * a batch's condition to take its place. Undefined with WITH, FROM, USING or RETURNING: the rows a
 * batch changes would not be just those its condition selects.
 */
export function withBatchCondition(node: unknown, placeholder: string): string | undefined {
  const update = asNode(node, 'UpdateStmt');
  const del = asNode(node, 'DeleteStmt');
  const stmt = update ?? del;
  if (!stmt?.relation?.relname || stmt.withClause || stmt.returningClause) return undefined;
  if (update?.fromClause?.length || del?.usingClause?.length) return undefined;
  const condition = { ColumnRef: { fields: [{ String: { sval: placeholder } }] } };
  const body = structuredClone(stmt) as typeof stmt & { whereClause?: unknown };
  body.whereClause = stmt.whereClause
    ? { BoolExpr: { boolop: 'AND_EXPR', args: [stmt.whereClause, condition] } }
    : condition;
  const sql = deparse(update ? { UpdateStmt: body } : { DeleteStmt: body });
  return sql.includes(placeholder) ? sql : undefined;
}
