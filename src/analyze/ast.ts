/** Small typed accessors over libpg-query's JSON AST, which wraps every node as `{ TypeName: {...} }`. */

import type { Node } from '@pgsql/types';

// biome-ignore lint/suspicious/noExplicitAny: AST nodes are loosely typed JSON; accessors narrow them
export type AnyNode = any;

/** `{ Kind: body }` → `['Kind', body]` */
export function unwrap(node: unknown): [string, AnyNode] | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const keys = Object.keys(node);
  if (keys.length !== 1) return undefined;
  const k = keys[0]!;
  return [k, (node as Record<string, unknown>)[k]];
}

/** The body of a node if it is of `kind`. */
export function as<K extends string>(node: unknown, kind: K): AnyNode | undefined {
  if (node && typeof node === 'object' && kind in node) return (node as Record<string, unknown>)[kind];
  return undefined;
}

/** `[{String:{sval:'a'}}, …]` → `['a', …]` */
export function names(list: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(list)) return out;
  // one loop, no map/filter intermediates: called for nearly every name in every statement
  for (const n of list) {
    const s = as(n, 'String')?.sval ?? '';
    if (s !== '') out.push(s);
  }
  return out;
}

/** The integer or string value of an A_Const (`{ival:{}}` is 0 in the JSON form). */
export function constValue(node: unknown): string | number | boolean | undefined {
  const c = as(node, 'A_Const');
  if (!c) return undefined;
  if (c.isnull) return undefined;
  if ('ival' in c) return c.ival?.ival ?? 0;
  if ('sval' in c) return c.sval?.sval ?? '';
  if ('fval' in c) return Number(c.fval?.fval);
  if ('boolval' in c) return c.boolval?.boolval ?? false;
  return undefined;
}

/** Depth-first visit of every node object under `root` (including root). Stops descending when `visit` returns false. */
export function walk(root: unknown, visit: (kind: string, body: AnyNode) => boolean | undefined): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (let i = n.length - 1; i >= 0; i--) stack.push(n[i]);
      continue;
    }
    if (n === null || typeof n !== 'object') continue;
    // as `unwrap`, without its key array and regex for every node of the tree
    let kind: string | undefined;
    let keys = 0;
    for (const k in n) {
      if (++keys > 1) break;
      kind = k;
    }
    if (keys === 1) {
      const c = kind!.charCodeAt(0);
      if (c >= 65 && c <= 90) {
        const body = (n as Record<string, unknown>)[kind!];
        if (visit(kind!, body) === false) continue;
        stack.push(body);
        continue;
      }
    }
    for (const k in n) {
      const v = (n as Record<string, unknown>)[k];
      if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
}

/** A relation reference resolved against the migration's search_path. */
export interface RelationRef {
  schema: string | undefined;
  name: string;
  /** `schema.name` with the default schema filled in: the identity used for state */
  key: string;
  /** as written, for messages */
  display: string;
  /** AST location of the name, when the parser gave one */
  location?: number;
  /**
   * the reference stands for relations the statement does not name (`VACUUM;` locks every table):
   * `name`, `key` and `display` then describe the set, and `schema` is the schema it is limited to
   */
  set?: RelationSet;
}

/**
 * Relations a statement locks without naming them, described by what they have in common. Each
 * kind may turn out empty; the analyzer names the members when it knows all of them (tables of this
 * migration, or the live schema read by `pgkeel trace`).
 */
export type RelationSet =
  /** every table and materialized view of the database (VACUUM, ANALYZE, REINDEX DATABASE) */
  | { kind: 'database' }
  /** every table in a schema (REINDEX SCHEMA) */
  | { kind: 'schema'; schema: string }
  /** every system catalog (REINDEX SYSTEM) */
  | { kind: 'system' }
  /** every table clustered on an index before (CLUSTER without a table) */
  | { kind: 'clustered' }
  /** every table with a column of the domain, or of a domain derived from it (`schema.name`) */
  | { kind: 'domain-users'; domain: string }
  /** the default partition of a partitioned table (`schema.name`), if it has one */
  | { kind: 'default-partition'; parent: RelationRef }
  /** the relations the query of a (materialized) view reads, when the view was defined elsewhere */
  | { kind: 'view-sources'; view: RelationRef };

/** A RelationRef standing for a set of relations. */
export function setRef(set: RelationSet): RelationRef {
  const display = describeSet(set);
  const arg =
    set.kind === 'schema'
      ? set.schema
      : set.kind === 'domain-users'
        ? set.domain
        : set.kind === 'default-partition'
          ? set.parent.key
          : set.kind === 'view-sources'
            ? set.view.key
            : '';
  return {
    schema: set.kind === 'schema' ? set.schema : undefined,
    name: display,
    key: `<${set.kind}${arg ? ` ${arg}` : ''}>`,
    display,
    set,
  };
}

/** The set in words: `every table in schema app`. */
export function describeSet(set: RelationSet): string {
  switch (set.kind) {
    case 'database':
      return 'every table of the database';
    case 'schema':
      return `every table in schema ${quoteIdent(set.schema)}`;
    case 'system':
      return 'every system catalog';
    case 'clustered':
      return 'every table clustered before';
    case 'domain-users':
      return `every table with a column of ${set.domain.replace(/^public\./, '')}`;
    case 'default-partition':
      return `the default partition of ${set.parent.display}, if it has one`;
    case 'view-sources':
      return `every relation the query of ${set.view.display} reads`;
  }
}

/**
 * Whether a relation (`schema.name`) may belong to the set, judged from its name alone: exact for
 * `database`, `schema` and `system`; the others need the schema (and count as possible).
 */
export function setMayContain(set: RelationSet, key: string): boolean {
  const schema = key.slice(0, key.indexOf('.'));
  switch (set.kind) {
    case 'database':
      return true;
    case 'schema':
      return schema === set.schema;
    case 'system':
      return schema === 'pg_catalog';
    case 'default-partition':
      return key !== set.parent.key;
    default:
      return true;
  }
}

export function relationRef(rangeVar: AnyNode, defaultSchema: string): RelationRef | undefined {
  if (!rangeVar?.relname) return undefined;
  const schema: string | undefined = rangeVar.schemaname;
  const name: string = rangeVar.relname;
  return {
    schema,
    name,
    key: `${schema ?? defaultSchema}.${name}`,
    display: schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name),
    location: typeof rangeVar.location === 'number' && rangeVar.location >= 0 ? rangeVar.location : undefined,
  };
}

/**
 * The relations a query reads (FROM, JOIN, subqueries, the CTEs' own queries), once each, in order of
 * appearance: Postgres opens each of them while analysing the query. An unqualified name that a WITH
 * clause of the query defines is that CTE, not a table; the INTO target of SELECT INTO is written, not read.
 */
export function queryRelations(query: unknown, defaultSchema: string): RelationRef[] {
  // one walk: CTE names and relation names are told apart afterwards
  let ctes: Set<string> | undefined;
  const rangeVars: AnyNode[] = [];
  walk(query, (kind, body) => {
    if (kind === 'IntoClause') return false;
    if (kind === 'CommonTableExpr') {
      if (typeof body.ctename === 'string') {
        ctes ??= new Set();
        ctes.add(body.ctename);
      }
      return true;
    }
    if (kind !== 'RangeVar') return true;
    rangeVars.push(body);
    return false;
  });
  if (rangeVars.length === 0) return [];
  const found: RelationRef[] = [];
  for (const body of rangeVars) {
    if (!body.schemaname && ctes?.has(body.relname)) continue;
    const r = relationRef(body, defaultSchema);
    if (r) found.push(r);
  }
  // walk's order is not the text's (UNION branches): sort, so a table read twice points at its first mention
  found.sort((a, b) => (a.location ?? 0) - (b.location ?? 0));
  const byKey = new Map<string, RelationRef>();
  for (const r of found) if (!byKey.has(r.key)) byKey.set(r.key, r);
  return [...byKey.values()];
}

/** A relation named by a list of names (`DROP INDEX s.i`). */
export function relationFromNames(list: string[], defaultSchema: string): RelationRef | undefined {
  if (list.length === 0) return undefined;
  const name = list[list.length - 1]!;
  const schema = list.length > 1 ? list[list.length - 2] : undefined;
  return relationRef({ schemaname: schema, relname: name }, defaultSchema);
}

const SAFE_IDENT = /^[a-z_][a-z0-9_$]*$/;
/** Quotes an identifier only when Postgres needs it (keywords are not checked: rare in names). */
/**
 * Keywords Postgres does not take as a table or column name unquoted (its "reserved" and "reserved,
 * can be function or type" classes): `user`, `order`, `group` … must be quoted in generated SQL.
 */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate ' +
    'collation column concurrently constraint create cross current_catalog current_date current_role ' +
    'current_schema current_time current_timestamp current_user default deferrable desc distinct do else ' +
    'end except false fetch for foreign freeze from full grant group having ilike in initially inner ' +
    'intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not ' +
    'notnull null offset on only or order outer overlaps placing primary references returning right select ' +
    'session_user similar some symmetric system_user table tablesample then to trailing true union unique ' +
    'user using variadic verbose when where window with'
  ).split(' '),
);

export function quoteIdent(name: string): string {
  return SAFE_IDENT.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export type StatementNode = Node;
