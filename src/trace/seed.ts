/**
 * `--seed-rows N`: fills the empty tables a migration touches with N generated rows, so that the scans,
 * rewrites and index builds a trace observes have something to read. Values come from each
 * column's type in the catalog; foreign keys point at rows of the referenced table (seeded first
 * when a NOT NULL key needs it). Best effort: a table whose rows cannot be made up (an unknown
 * NOT NULL type, a CHECK the values miss, a unique boolean, …) is reported and left as it was.
 */

import type { Row, TraceEngine } from './engine.js';

export interface SeedOutcome {
  /** tables filled, `schema.name`, with the rows added */
  seeded: { table: string; rows: number }[];
  /** tables that could not be filled, with why */
  failed: { table: string; reason: string }[];
}

/**
 * The most rows `--seed-rows` adds per table. A million rows make scans and rewrites take seconds
 * (PGlite rewrites a 4-column table of them in ~20 s), which is what seeding is for; more only
 * approaches the statement timeout and fills memory (PGlite keeps its database in memory).
 */
export const MAX_SEED_ROWS = 1_000_000;

export interface SeedOptions {
  /** the session is inside a transaction block already (a rollback-only trace): use savepoints only */
  inTransaction?: boolean;
}

interface Table {
  oid: string;
  key: string;
  /** quoted `schema.name` */
  sql: string;
  nonEmpty: boolean;
}

interface Column {
  name: string;
  notNull: boolean;
  hasDefault: boolean;
  identity: boolean;
  generated: boolean;
  /** `format_type`, e.g. `character varying(20)` */
  type: string;
  /** the type's (or a domain's base type's) name and category */
  base: string;
  category: string;
  enumType?: string;
  domain: boolean;
}

interface ForeignKey {
  table: string;
  referenced: string;
  columns: string[];
  referencedColumns: string[];
}

/**
 * Seeds the tables (`schema.name`) that exist and are empty; others are left alone (the migration
 * creates them, or they have rows already).
 */
export async function seedTables(
  engine: TraceEngine,
  tables: readonly string[],
  rows: number,
  options: SeedOptions = {},
): Promise<SeedOutcome> {
  const outcome: SeedOutcome = { seeded: [], failed: [] };
  if (rows <= 0 || tables.length === 0) return outcome;
  const found = await lookupTables(engine, tables);
  if (found.size === 0) return outcome;
  const fks = await foreignKeys(
    engine,
    [...found.values()].map((t) => t.oid),
  );
  const columnsByTable = new Map<string, Column[]>();
  // referenced tables are looked up so that keys can point at their rows; an empty one is seeded
  // too when a NOT NULL key needs a row there
  const want = new Map([...found.values()].map((t) => [t.oid, t]));
  const required = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const unknown = new Set<string>();
    for (const t of want.values()) {
      if (!columnsByTable.has(t.oid)) columnsByTable.set(t.oid, await columnsOf(engine, t.oid));
      const cols = columnsByTable.get(t.oid)!;
      for (const fk of fks.filter((f) => f.table === t.oid)) {
        if (!want.has(fk.referenced)) unknown.add(fk.referenced);
        if (fk.columns.some((c) => cols.find((x) => x.name === c)?.notNull)) required.add(fk.referenced);
      }
    }
    if (unknown.size === 0) break;
    for (const t of await lookupOids(engine, [...unknown])) want.set(t.oid, t);
    fks.push(...(await foreignKeys(engine, [...unknown])));
  }
  // referenced tables first, so their rows exist when the referencing rows pick one
  const order = topological([...want.values()], fks);
  const requested = new Set([...found.values()].map((t) => t.oid));

  const own = !options.inTransaction;
  if (own) await engine.exec('BEGIN');
  try {
    // user triggers (audit, denormalisation) are not what is traced; replica mode skips them
    const replica = await attempt(engine, 'SET LOCAL session_replication_role = replica');
    for (const t of order) {
      // rows are only needed where there are none: a table that has some already shows its scans
      if (t.nonEmpty || !(requested.has(t.oid) || required.has(t.oid))) continue;
      const columns = columnsByTable.get(t.oid) ?? (await columnsOf(engine, t.oid));
      const insert = insertSql(
        t,
        columns,
        fks.filter((f) => f.table === t.oid),
        want,
        rows,
      );
      if (typeof insert !== 'string') {
        outcome.failed.push({ table: t.key, reason: insert.reason });
        continue;
      }
      const error = await attemptWithSavepoint(engine, insert);
      if (error === undefined) outcome.seeded.push({ table: t.key, rows });
      else outcome.failed.push({ table: t.key, reason: error });
    }
    if (replica) await attempt(engine, 'SET LOCAL session_replication_role = DEFAULT');
    if (own) await engine.exec('COMMIT');
  } catch (e) {
    if (own) await engine.exec('ROLLBACK').catch(() => {});
    throw e;
  }
  return outcome;
}

async function attempt(engine: TraceEngine, sql: string): Promise<boolean> {
  return (await attemptWithSavepoint(engine, sql)) === undefined;
}

/** Runs `sql` so that its failure does not abort the surrounding transaction; returns the error. */
async function attemptWithSavepoint(engine: TraceEngine, sql: string): Promise<string | undefined> {
  await engine.exec('SAVEPOINT pgkeel_seed');
  try {
    await engine.exec(sql);
    await engine.exec('RELEASE SAVEPOINT pgkeel_seed');
    return undefined;
  } catch (e) {
    await engine.exec('ROLLBACK TO SAVEPOINT pgkeel_seed');
    await engine.exec('RELEASE SAVEPOINT pgkeel_seed');
    return (e as Error).message;
  }
}

export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

const TABLE_COLUMNS = 'c.oid::text AS oid, n.nspname AS schema, c.relname AS name';

async function lookupTables(engine: TraceEngine, keys: readonly string[]): Promise<Map<string, Table>> {
  const pairs = keys.map((k) => {
    const dot = k.indexOf('.');
    return `(${literal(k.slice(0, dot))}, ${literal(k.slice(dot + 1))})`;
  });
  const rows = await engine.query(
    `SELECT ${TABLE_COLUMNS} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND (n.nspname, c.relname) IN (${pairs.join(', ')})`,
  );
  return toTables(engine, rows);
}

async function lookupOids(engine: TraceEngine, oids: readonly string[]): Promise<Table[]> {
  if (oids.length === 0) return [];
  const rows = await engine.query(
    `SELECT ${TABLE_COLUMNS} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND c.oid IN (${oids.map((o) => `${Number(o)}`).join(', ')})`,
  );
  return [...(await toTables(engine, rows)).values()];
}

async function toTables(engine: TraceEngine, rows: Row[]): Promise<Map<string, Table>> {
  const out = new Map<string, Table>();
  for (const r of rows) {
    const key = `${r.schema}.${r.name}`;
    const sql = `${ident(String(r.schema))}.${ident(String(r.name))}`;
    const nonEmpty = (await engine.query(`SELECT EXISTS (SELECT 1 FROM ${sql}) AS x`))[0]?.x === true;
    out.set(key, { oid: String(r.oid), key, sql, nonEmpty });
  }
  return out;
}

async function columnsOf(engine: TraceEngine, oid: string): Promise<Column[]> {
  // attgenerated exists since PG 12
  const generated = engine.majorVersion >= 12 ? `a.attgenerated <> ''` : 'false';
  const rows = await engine.query(
    `SELECT a.attname AS name, a.attnotnull AS not_null, a.atthasdef AS has_default,
       a.attidentity <> '' AS identity, ${generated} AS generated,
       format_type(a.atttypid, a.atttypmod) AS type,
       COALESCE(b.typname, t.typname) AS base, COALESCE(b.typcategory, t.typcategory) AS category,
       t.typtype = 'd' AS domain,
       CASE WHEN COALESCE(b.typtype, t.typtype) = 'e' THEN COALESCE(b.oid, t.oid)::text END AS enum_oid
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
     WHERE a.attrelid = ${Number(oid)} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
  );
  return rows.map((r) => ({
    name: String(r.name),
    notNull: r.not_null === true,
    hasDefault: r.has_default === true,
    identity: r.identity === true,
    generated: r.generated === true,
    type: String(r.type),
    base: String(r.base),
    category: String(r.category),
    domain: r.domain === true,
    ...(r.enum_oid ? { enumType: String(r.enum_oid) } : {}),
  }));
}

async function foreignKeys(engine: TraceEngine, oids: readonly string[]): Promise<ForeignKey[]> {
  if (oids.length === 0) return [];
  const rows = await engine.query(
    `SELECT con.conrelid::text AS t, con.confrelid::text AS r,
       (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS cols,
       (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS refcols
     FROM pg_constraint con WHERE con.contype = 'f' AND con.conrelid IN (${oids.map((o) => `${Number(o)}`).join(', ')})`,
  );
  return rows.map((r) => ({
    table: String(r.t),
    referenced: String(r.r),
    columns: pgArray(r.cols),
    referencedColumns: pgArray(r.refcols),
  }));
}

/** `name[]` arrive as JS arrays from PGlite and node-postgres, or as `{a,b}` text from some drivers. */
function pgArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string')
    return v
      .replace(/^\{|\}$/g, '')
      .split(',')
      .filter(Boolean)
      .map((s) => s.replace(/^"|"$/g, ''));
  return [];
}

function topological(tables: Table[], fks: ForeignKey[]): Table[] {
  const out: Table[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byOid = new Map(tables.map((t) => [t.oid, t]));
  const visit = (t: Table) => {
    if (state.get(t.oid)) return; // done, or a cycle: its rows will point at whatever exists
    state.set(t.oid, 'visiting');
    for (const fk of fks) {
      if (fk.table !== t.oid || fk.referenced === t.oid) continue;
      const ref = byOid.get(fk.referenced);
      if (ref) visit(ref);
    }
    state.set(t.oid, 'done');
    out.push(t);
  };
  tables.forEach(visit);
  return out;
}

/**
 * `INSERT … SELECT … FROM generate_series(1, N) g` for a table, or why none can be written. Columns
 * with a default, identity or generated columns are left to Postgres.
 */
export function insertSql(
  table: Table,
  columns: Column[],
  fks: ForeignKey[],
  tables: ReadonlyMap<string, Table>,
  rows: number,
): string | { reason: string } {
  const names: string[] = [];
  const values: string[] = [];
  for (const col of columns) {
    if (col.generated || col.identity || col.hasDefault) continue;
    const fk = fks.find((f) => f.columns.includes(col.name));
    let value: string | undefined;
    if (fk) {
      const ref = tables.get(fk.referenced);
      const refCol = fk.referencedColumns[fk.columns.indexOf(col.name)];
      if (ref && refCol) {
        // every column of a composite key from the same referenced row
        const order = fk.referencedColumns.map(ident).join(', ');
        value = `(SELECT r.${ident(refCol)} FROM ${ref.sql} r ORDER BY ${order} LIMIT 1)`;
      } else if (!col.notNull) continue;
      else if (fk.referenced === table.oid) {
        return { reason: `column ${col.name} is a NOT NULL reference to the table itself` };
      }
    }
    value ??= valueFor(col);
    if (value === undefined) {
      if (!col.notNull) continue;
      return { reason: `no value can be generated for NOT NULL column ${col.name} of type ${col.type}` };
    }
    names.push(ident(col.name));
    values.push(value);
  }
  const n = Math.max(0, Math.trunc(rows));
  if (names.length === 0) return `INSERT INTO ${table.sql} SELECT FROM generate_series(1, ${n}) g`;
  return `INSERT INTO ${table.sql} (${names.join(', ')}) SELECT ${values.join(', ')} FROM generate_series(1, ${n}) g`;
}

/** A per-row expression of the column's type, distinct per row where the type allows. */
function valueFor(col: Column): string | undefined {
  const cast = (expr: string) => `(${expr})::${col.type}`;
  if (col.category === 'A') return cast(`'{}'`);
  if (col.enumType !== undefined) {
    return cast(
      `SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = ${Number(col.enumType)} ORDER BY e.enumsortorder LIMIT 1`,
    );
  }
  switch (col.base) {
    case 'int2':
      return cast('g % 32767');
    case 'int4':
    case 'int8':
    case 'oid':
      return cast('g');
    case 'numeric':
    case 'float4':
    case 'float8':
    case 'money':
      return cast('g % 1000');
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'citext':
      // an explicit cast cuts the text to the column's length
      return cast(`'s' || g`);
    case 'bool':
      return cast('g % 2 = 0');
    case 'uuid':
      return cast(`md5(g::text || 'pgkeel')::uuid`);
    case 'date':
      return cast(`date '2000-01-01' + g`);
    case 'timestamp':
    case 'timestamptz':
      return cast(`timestamp '2000-01-01' + g * interval '1 second'`);
    case 'time':
    case 'timetz':
      return cast(`time '00:00' + (g % 86400) * interval '1 second'`);
    case 'interval':
      return cast(`g * interval '1 second'`);
    case 'json':
    case 'jsonb':
      return cast(`'{}'`);
    case 'bytea':
      return cast(`convert_to(g::text, 'UTF8')`);
    case 'inet':
    case 'cidr':
      return cast(`'10.0.0.0'::inet + g`);
    case 'tsvector':
      return cast(`''`);
    default:
      return undefined;
  }
}
