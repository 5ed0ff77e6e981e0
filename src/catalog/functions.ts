/**
 * Volatility of built-in functions: what decides whether `ADD COLUMN … DEFAULT expr` rewrites the
 * table (PG ≥ 11 rewrites only for volatile defaults) and whether an expression may appear in an
 * index or a generated column (immutable only).
 *
 * The data comes from pg_proc.provolatile (src/catalog/generated/functions.ts).
 */
import { IMMUTABLE_FUNCTIONS, STABLE_FUNCTIONS, VOLATILE_FUNCTIONS } from './generated/functions.js';

export type Volatility = 'immutable' | 'stable' | 'volatile';

const RANK: Record<Volatility, number> = { immutable: 0, stable: 1, volatile: 2 };

/** The more volatile of two volatilities (volatile > stable > immutable). */
export function worstVolatility(a: Volatility, b: Volatility): Volatility {
  return RANK[a] >= RANK[b] ? a : b;
}

let byName: Map<string, Volatility> | undefined;

function table(): Map<string, Volatility> {
  if (!byName) {
    byName = new Map();
    const add = (names: string, v: Volatility) => {
      for (const n of names.split(/\s+/)) if (n) byName!.set(n, v);
    };
    add(IMMUTABLE_FUNCTIONS, 'immutable');
    add(STABLE_FUNCTIONS, 'stable');
    add(VOLATILE_FUNCTIONS, 'volatile');
  }
  return byName;
}

/**
 * Volatility of a built-in function by (optionally schema-qualified) name; undefined for unknown
 * (user-defined or extension) functions.
 *
 * - `schema` other than `pg_catalog` → undefined. A dotted name (`'pg_catalog.now'`) is accepted
 *   when `schema` is not given.
 * - Overloads are not told apart: when they differ, the worst one wins (e.g. `date_part` is stable
 *   because its timestamptz overload is, although `date_part('year', a_date)` is immutable).
 * - `name` is compared exactly, as Postgres stores it: pass identifiers as the parser gives them
 *   (unquoted ones already folded to lower case).
 * - Aggregates, window functions, procedures and executor-internal functions are not listed.
 */
export function builtinVolatility(name: string, schema?: string): Volatility | undefined {
  let fn = name;
  let ns = schema;
  if (ns === undefined) {
    const dot = name.lastIndexOf('.');
    if (dot >= 0) {
      ns = name.slice(0, dot);
      fn = name.slice(dot + 1);
    }
  }
  if (ns !== undefined && ns !== 'pg_catalog') return undefined;
  return table().get(fn);
}

/**
 * Volatility of a `FuncCall` name list from the libpg-query AST (`funcname: [{String:{sval}}…]`),
 * given as plain strings: `['now']`, `['pg_catalog', 'now']`. Catalog-qualified names
 * (`db.schema.fn`) and other schemas → undefined.
 */
export function funcNameVolatility(parts: readonly string[]): Volatility | undefined {
  if (parts.length === 1) return builtinVolatility(parts[0]!);
  if (parts.length === 2) return builtinVolatility(parts[1]!, parts[0]!);
  return undefined;
}

/**
 * The `SQLValueFunctionOp` values of the libpg-query AST (@pgsql/types), each with the pg_catalog
 * function whose volatility it shares (the one Postgres' executor computes it from). These keywords
 * are parsed into `SQLValueFunction` nodes rather than function calls. SYSTEM_USER, EXTRACT, TRIM,
 * SUBSTRING, POSITION, OVERLAY, COLLATION FOR … are parsed as `FuncCall`s to pg_catalog functions
 * instead, and builtinVolatility finds those.
 */
const SQL_VALUE_FUNCTIONS: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'now',
  SVFOP_CURRENT_TIME: 'now',
  SVFOP_CURRENT_TIME_N: 'now',
  SVFOP_CURRENT_TIMESTAMP: 'now',
  SVFOP_CURRENT_TIMESTAMP_N: 'now',
  SVFOP_LOCALTIME: 'now',
  SVFOP_LOCALTIME_N: 'now',
  SVFOP_LOCALTIMESTAMP: 'now',
  SVFOP_LOCALTIMESTAMP_N: 'now',
  SVFOP_CURRENT_ROLE: 'current_user',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'current_user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_database',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

/**
 * Volatility of a `SQLValueFunction` node (`CURRENT_TIMESTAMP`, `LOCALTIME(3)`, `CURRENT_DATE`,
 * `CURRENT_USER`, `CURRENT_SCHEMA`, …) by its `op`: stable for all of them (fixed for the
 * transaction, or a session setting), so a DEFAULT using one does not rewrite on PG ≥ 11 but an
 * index or generated column cannot use one. Undefined for an op this module does not know.
 */
export function sqlValueFunctionVolatility(op: string): Volatility | undefined {
  const fn = SQL_VALUE_FUNCTIONS[op];
  return fn === undefined ? undefined : builtinVolatility(fn, 'pg_catalog');
}
