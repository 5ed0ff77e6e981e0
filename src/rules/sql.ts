/** Helpers for the SQL that fixes and messages show. */

import { createRequire } from 'node:module';
import type { AnyNode } from '../analyze/ast.js';
import { quoteIdent } from '../analyze/ast.js';
import { blockSummary, type LockMode } from '../catalog/locks.js';

export { quoteIdent };

type Deparser = typeof import('pgsql-deparser');
let deparser: Deparser | undefined;

/** One statement node (e.g. `{ AlterTableStmt: … }`) back to SQL, on one line. */
export function deparse(node: AnyNode): string {
  // loaded on first use: the deparser is the largest module of the CLI and few runs need it
  deparser ??= createRequire(import.meta.url)('pgsql-deparser') as Deparser;
  return deparser.deparseSync(node, { pretty: false }).trim();
}

/** "takes ACCESS EXCLUSIVE on users, which blocks all reads and writes" */
export function lockClause(mode: LockMode, relation: string): string {
  return `takes ${mode} on ${relation}, which ${blockSummary(mode)}`;
}

/** `a, b` from a list of names, quoted where needed */
export function columnList(cols: string[]): string {
  return cols.map(quoteIdent).join(', ');
}

/** Postgres' default name for a constraint: `table_col1_col2_suffix`, cut to 63 bytes like Postgres does. */
export function defaultConstraintName(
  table: string,
  columns: string[],
  suffix: 'key' | 'pkey' | 'fkey' | 'check',
): string {
  const name = suffix === 'pkey' ? `${table}_pkey` : `${table}_${columns.join('_')}_${suffix}`;
  return name.length > 63 ? name.slice(0, 63) : name;
}
