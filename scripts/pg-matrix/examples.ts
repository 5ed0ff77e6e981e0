/**
 * The version matrix, part 2: every rule example (bad and ok) traced on an engine, statement by
 * statement, the way its runner would run it, and the analyzer's lock claims compared with what
 * Postgres did. Tables an example references without creating them are made up from the example
 * (its columns, typed by their names, with rows), or set up by the example itself (`RuleExample.setup`
 * and the matrix's other fields of `RuleExample`, in `src/rules/define.ts`).
 *
 * A statement Postgres refuses in a transaction block runs outside one, as the runner would; on a
 * server a second session makes it wait (`observeStalled`) and reads its locks meanwhile. Each
 * example ends as one of: traced; not observable (such a statement ran where no second session can
 * watch it: PGlite); refused as expected (an error the rule predicts, the example's `refuses`); not
 * traced (it could not be set up or run: the reason is printed).
 */

import { Analyzer } from '../../src/analyze/analyze.js';
import { type AnyNode, as, constValue, names, walk } from '../../src/analyze/ast.js';
import { runnerModel } from '../../src/analyze/runners.js';
import { conflicts, LOCK_MODES, type LockMode } from '../../src/catalog/locks.js';
import type { RunnerName } from '../../src/config/types.js';
import { parseSql } from '../../src/parse/parse.js';
import type { RuleExample } from '../../src/rules/define.js';
import { allRules } from '../../src/rules/index.js';
import { type Claim, claimsFor, compare, type Mismatch } from '../../src/trace/compare.js';
import { observeStalled, type StalledObservation } from '../../src/trace/concurrent.js';
import type { TraceEngine } from '../../src/trace/engine.js';
import type { Observation, Observer } from '../../src/trace/observe.js';
import { teachSchema } from '../../src/trace/schema.js';
import { ensureTablespace, existingRelations, freshSchema, statementsOf, withoutNewRelations } from './db.js';

// ─── generic setup ────────────────────────────────────────────────────────────

const TEXT_COLUMN = /^(status.*|name|full_name|email|note|code|ref|field_name|column_name|tier|nick.*)$/i;
/** names that read as points in time: `created_at`, `closed_at`, `created_ts`, `at`, `date` */
const TIME_COLUMN = /^(at|date)$|_(at|ts|date|time)$/i;
/** names that read as documents: altered to json or jsonb by the examples */
const JSON_COLUMN = /^(payload|data|body|metadata|attributes|props|settings|doc)$/i;
/** names that read as ranges (exclusion constraints use them with `&&`) */
const RANGE_COLUMN = /^(during|period|validity)$|_range$/i;
/** the partition key of a partitioned table the example attaches to or detaches from */
const PARTITION_KEY = 'at';

type ColumnType = 'int' | 'text' | 'timestamptz' | 'jsonb' | 'tstzrange' | 'date';

const columnType = (c: string): ColumnType =>
  TEXT_COLUMN.test(c)
    ? 'text'
    : TIME_COLUMN.test(c)
      ? 'timestamptz'
      : JSON_COLUMN.test(c)
        ? 'jsonb'
        : RANGE_COLUMN.test(c)
          ? 'tstzrange'
          : 'int';

/** row `g` of a column of that type */
const VALUE: Record<ColumnType, string> = {
  int: 'g',
  text: `'v' || g`,
  timestamptz: `timestamptz '2020-01-01' + g * interval '1 day'`,
  jsonb: `jsonb_build_object('n', g)`,
  tstzrange: `tstzrange(timestamptz '2020-01-01' + g * interval '1 day', timestamptz '2020-01-01' + (g + 1) * interval '1 day')`,
  date: `date '2020-01-01' + g`,
};

type Bound = { from: string; to: string } | 'default';

interface TableNeed {
  schema: string | undefined;
  name: string;
  columns: Set<string>;
  /** columns the example adds itself */
  added: Set<string>;
  /** columns a foreign key points at: made the primary key */
  key: Set<string>;
  /** a partitioned table (the example attaches or detaches partitions): the type of its key */
  partitioned?: 'date' | 'int';
  /** a partition of that table: already attached (the example detaches it) or to attach, with its bound */
  partitionOf?: { parent: TableNeed; attached: boolean; bound?: Bound };
}

const qualified = (schema: string | undefined, name: string) => (schema ? `${schema}.${name}` : name);
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const sqlName = (schema: string | undefined, name: string) =>
  schema ? `${quote(schema)}.${quote(name)}` : quote(name);
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `FROM ('2025-01-01') TO ('2026-01-01')` of a partition bound, as SQL, and the key type it implies */
function boundOf(spec: AnyNode): { bound: Bound; type?: 'date' | 'int' } | undefined {
  if (!spec) return undefined;
  if (spec.is_default) return { bound: 'default' };
  const lower = (spec.lowerdatums ?? []).map(constValue);
  const upper = (spec.upperdatums ?? []).map(constValue);
  if (lower.length !== 1 || upper.length !== 1) return undefined;
  const sql = (v: unknown) => (typeof v === 'number' ? String(v) : literal(String(v)));
  return {
    bound: { from: sql(lower[0]), to: sql(upper[0]) },
    type: typeof lower[0] === 'number' ? 'int' : 'date',
  };
}

/**
 * SQL creating what `sql` uses but does not create: tables with the columns it mentions (int, or
 * text, timestamptz, jsonb, tstzrange for names that read so), a primary key where a foreign key
 * points, partitioned tables and their partitions where it attaches or detaches one, indexes,
 * constraints, views, materialized views, types and databases it drops, renames or rebuilds, enum
 * types it extends (with the labels it names), schemas; `rows` rows in each table. `pgVersion`: a
 * function the example calls that this version lacks comes from its extension (gen_random_uuid:
 * pgcrypto before PG 13, the same volatile function).
 */
export function genericSetup(sql: string, rows: number, pgVersion = 99): string {
  const { statements } = parseSql(sql);
  const tables = new Map<string, TableNeed>();
  const created = new Set<string>();
  const createdTypes = new Set<string>();
  const indexes = new Map<
    string,
    { schema: string | undefined; name: string; table?: TableNeed; unique?: boolean }
  >();
  const enums = new Map<string, Set<string>>();
  const types = new Set<string>();
  const schemas = new Set<string>();
  const views = new Set<string>();
  const matviews = new Map<string, { schema: string | undefined; name: string }>();
  const databases = new Set<string>();
  const createdSchemas = new Set<string>();
  const createdConstraints = new Set<string>();
  const createdDomains = new Set<string>();
  /** domains it alters: the NOT VALID check constraints it validates or drops */
  const domains = new Map<string, Set<string>>();
  const constraints: string[] = [];
  const need = (schema: string | undefined, name: string): TableNeed => {
    const key = qualified(schema, name);
    let t = tables.get(key);
    if (!t) {
      t = { schema, name, columns: new Set(), added: new Set(), key: new Set() };
      tables.set(key, t);
    }
    if (schema) schemas.add(schema);
    return t;
  };
  // a relation the example created before this statement is not needed; one it creates later is
  const rv = (r: AnyNode) =>
    r?.relname && !created.has(qualified(r.schemaname, r.relname))
      ? need(r.schemaname, r.relname)
      : undefined;
  const scratch = (): TableNeed => ({
    schema: undefined,
    name: '',
    columns: new Set(),
    added: new Set(),
    key: new Set(),
  });
  const columnsIn = (node: AnyNode): string[] => {
    const out: string[] = [];
    walk(node, (kind, body) => {
      if (kind === 'ColumnRef') {
        const f = names(body.fields);
        if (f.length) out.push(f[f.length - 1]!);
      } else if (kind === 'IndexElem' && body.name) out.push(body.name);
      else if (kind === 'ResTarget' && body.name) out.push(body.name);
      return true;
    });
    return out;
  };
  /** the tables a query reads, and the columns it names on each (`t.id`, or `id` when it reads one table) */
  const readsIn = (node: AnyNode) => {
    const byAlias = new Map<string, TableNeed>();
    walk(node, (kind, body) => {
      if (kind === 'RangeVar') {
        const t = rv(body);
        if (t) byAlias.set(body.alias?.aliasname ?? body.relname, t);
      }
      return true;
    });
    walk(node, (kind, body) => {
      if (kind !== 'ColumnRef') return true;
      const f = names(body.fields);
      if (f.length >= 2) byAlias.get(f[f.length - 2]!)?.columns.add(f[f.length - 1]!);
      else if (f.length === 1 && byAlias.size === 1) [...byAlias.values()][0]!.columns.add(f[0]!);
      return true;
    });
  };
  const referenced = (con: AnyNode) => {
    if (con?.contype !== 'CONSTR_FOREIGN' || !con.pktable) return;
    const pk = rv(con.pktable) ?? scratch();
    const cols = names(con.pk_attrs);
    for (const k of cols.length ? cols : ['id']) pk.key.add(k);
  };
  const partitioned = (parent: TableNeed, type: 'date' | 'int' | undefined) => {
    parent.partitioned = type ?? parent.partitioned ?? 'date';
    parent.columns.add(PARTITION_KEY);
  };
  for (const stmt of statements) {
    const n = stmt.node as AnyNode;
    switch (stmt.kind) {
      case 'CreateStmt': {
        const s = n.CreateStmt;
        // a table may reference itself
        created.add(qualified(s.relation.schemaname, s.relation.relname));
        if (s.relation.schemaname) schemas.add(s.relation.schemaname);
        walk(s.tableElts, (kind, body) => {
          if (kind === 'Constraint') referenced(body);
          return true;
        });
        for (const parent of s.inhRelations ?? []) {
          const p = rv(as(parent, 'RangeVar'));
          if (p && s.partbound) partitioned(p, boundOf(s.partbound)?.type);
        }
        break;
      }
      case 'CreateTableAsStmt': {
        const s = n.CreateTableAsStmt;
        readsIn(s.query);
        const r = s.into?.rel;
        if (r) {
          created.add(qualified(r.schemaname, r.relname));
          if (r.schemaname) schemas.add(r.schemaname);
        }
        break;
      }
      case 'ViewStmt':
        readsIn(n.ViewStmt.query);
        created.add(qualified(n.ViewStmt.view.schemaname, n.ViewStmt.view.relname));
        break;
      case 'CreateSchemaStmt':
        createdSchemas.add(n.CreateSchemaStmt.schemaname);
        break;
      case 'CreateDomainStmt':
        createdDomains.add(names(n.CreateDomainStmt.domainname).join('.'));
        break;
      case 'AlterDomainStmt': {
        const s = n.AlterDomainStmt;
        const name = names(s.typeName).join('.');
        if (createdDomains.has(name)) break;
        if (names(s.typeName).length > 1) schemas.add(names(s.typeName)[0]!);
        const checks = domains.get(name) ?? new Set<string>();
        if (
          (s.subtype === 'V' || s.subtype === 'X') &&
          s.name &&
          !createdConstraints.has(`${name}|${s.name}`)
        ) {
          checks.add(s.name);
        }
        const con = as(s.def, 'Constraint');
        if (con?.conname) createdConstraints.add(`${name}|${con.conname}`);
        domains.set(name, checks);
        break;
      }
      case 'CreateEnumStmt':
        createdTypes.add(names(n.CreateEnumStmt.typeName).join('.'));
        break;
      case 'IndexStmt': {
        const s = n.IndexStmt;
        const t = rv(s.relation) ?? scratch();
        for (const c of columnsIn(s.indexParams)) t.columns.add(c);
        for (const c of columnsIn(s.indexIncludingParams)) t.columns.add(c);
        if (s.idxname) created.add(qualified(s.relation.schemaname, s.idxname));
        break;
      }
      case 'AlterTableStmt': {
        const s = n.AlterTableStmt;
        const t =
          rv(s.relation) ?? tables.get(qualified(s.relation.schemaname, s.relation.relname)) ?? scratch();
        for (const c of s.cmds ?? []) {
          const cmd = as(c, 'AlterTableCmd');
          if (!cmd) continue;
          if (cmd.subtype === 'AT_AddColumn') {
            const def = as(cmd.def, 'ColumnDef');
            t.added.add(def.colname);
            walk(def.constraints, (kind, body) => {
              if (kind === 'Constraint' && body.contype === 'CONSTR_FOREIGN') referenced(body);
              else if (kind === 'Constraint') for (const col of columnsIn(body.raw_expr)) t.columns.add(col);
              return true;
            });
            continue;
          }
          if (cmd.name && /Column|NotNull|Statistics|ColumnDefault|AlterColumnType/.test(cmd.subtype)) {
            t.columns.add(cmd.name);
          }
          const constraintKey = (name: string) => `${qualified(t.schema, t.name)}|${name}`;
          if (
            cmd.subtype === 'AT_DropConstraint' &&
            cmd.name &&
            !cmd.missing_ok &&
            !createdConstraints.has(constraintKey(cmd.name))
          ) {
            constraints.push(constraintSql(t, cmd.name));
          }
          const con = as(cmd.def, 'Constraint');
          if (con) {
            if (con.conname) createdConstraints.add(constraintKey(con.conname));
            for (const k of names(con.keys)) t.columns.add(k);
            for (const k of names(con.fk_attrs)) t.columns.add(k);
            for (const k of columnsIn(con.raw_expr)) t.columns.add(k);
            for (const k of columnsIn(con.exclusions)) t.columns.add(k);
            referenced(con);
            if (con.contype === 'CONSTR_NOTNULL') for (const k of names(con.keys)) t.columns.add(k);
            // ADD CONSTRAINT … USING INDEX: a unique index the example did not build
            if (con.indexname && !created.has(qualified(t.schema, con.indexname))) {
              indexes.set(qualified(t.schema, con.indexname), {
                schema: t.schema,
                name: con.indexname,
                table: t,
                unique: true,
              });
            }
          }
          if (cmd.subtype === 'AT_AlterColumnType') {
            for (const k of columnsIn(as(cmd.def, 'ColumnDef')?.raw_default)) t.columns.add(k);
          }
          if (cmd.subtype === 'AT_DetachPartition' || cmd.subtype === 'AT_AttachPartition') {
            const pc = as(cmd.def, 'PartitionCmd');
            const b = boundOf(pc?.bound);
            if (t.name) partitioned(t, b?.type);
            const child = rv(pc?.name);
            if (child && t.name) {
              child.partitionOf = {
                parent: t,
                attached: cmd.subtype === 'AT_DetachPartition',
                bound: b?.bound,
              };
            }
          }
        }
        break;
      }
      case 'RenameStmt': {
        const s = n.RenameStmt;
        if (s.renameType === 'OBJECT_SCHEMA') {
          if (!createdSchemas.has(s.subname)) schemas.add(s.subname);
          break;
        }
        const t = rv(s.relation);
        if (!t) break;
        if (s.renameType === 'OBJECT_TABLE') created.add(qualified(s.relation.schemaname, s.newname));
        else if (s.renameType === 'OBJECT_COLUMN') {
          if (!t.added.has(s.subname)) t.columns.add(s.subname);
        } else if (s.renameType === 'OBJECT_TABCONSTRAINT') {
          constraints.push(
            `ALTER TABLE ${sqlName(t.schema, t.name)} ADD CONSTRAINT ${quote(s.subname)} CHECK (true);`,
          );
        }
        break;
      }
      case 'DropStmt': {
        const s = n.DropStmt;
        // DROP INDEX IF EXISTS: the index is made anyway, so that there is something to drop and watch
        if (s.missing_ok && s.removeType !== 'OBJECT_INDEX') break;
        for (const obj of s.objects ?? []) {
          const list = names(as(obj, 'List')?.items ?? as(obj, 'TypeName')?.names);
          const name = list[list.length - 1];
          const schema = list.length > 1 ? list[list.length - 2] : undefined;
          if (!name || created.has(qualified(schema, name)) || createdTypes.has(list.join('.'))) continue;
          if (schema) schemas.add(schema);
          if (s.removeType === 'OBJECT_INDEX') indexes.set(qualified(schema, name), { schema, name });
          else if (s.removeType === 'OBJECT_TABLE') need(schema, name);
          else if (s.removeType === 'OBJECT_VIEW') views.add(sqlName(schema, name));
          else if (s.removeType === 'OBJECT_MATVIEW') matviews.set(qualified(schema, name), { schema, name });
          else if (s.removeType === 'OBJECT_TYPE') types.add(sqlName(schema, name));
        }
        break;
      }
      case 'DropdbStmt':
        if (!n.DropdbStmt.missing_ok) databases.add(n.DropdbStmt.dbname);
        break;
      case 'ReindexStmt': {
        const s = n.ReindexStmt;
        if (s.kind === 'REINDEX_OBJECT_INDEX') {
          const key = qualified(s.relation.schemaname, s.relation.relname);
          if (!created.has(key))
            indexes.set(key, { schema: s.relation.schemaname, name: s.relation.relname });
        } else if (s.kind === 'REINDEX_OBJECT_SCHEMA' && s.name) schemas.add(s.name);
        else if (s.relation) rv(s.relation);
        break;
      }
      case 'CommentStmt': {
        const s = n.CommentStmt;
        const list = names(as(s.object, 'List')?.items);
        if (s.objtype === 'OBJECT_TABLE' && list.length) {
          const name = list[list.length - 1]!;
          rv({ schemaname: list.length > 1 ? list[list.length - 2] : undefined, relname: name });
        } else if (s.objtype === 'OBJECT_COLUMN' && list.length >= 2) {
          const t = rv({
            schemaname: list.length > 2 ? list[list.length - 3] : undefined,
            relname: list[list.length - 2],
          });
          t?.columns.add(list[list.length - 1]!);
        }
        break;
      }
      case 'AlterEnumStmt': {
        const s = n.AlterEnumStmt;
        const name = names(s.typeName).join('.');
        if (createdTypes.has(name)) break;
        const labels = enums.get(name) ?? new Set(['a', 'b']);
        // the labels it renames or puts a new one next to exist already
        if (s.oldVal) labels.add(s.oldVal);
        if (s.newValNeighbor) labels.add(s.newValNeighbor);
        enums.set(name, labels);
        break;
      }
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'InsertStmt': {
        const s = n[stmt.kind];
        const t = rv(s.relation) ?? scratch();
        for (const c of columnsIn(s.targetList ?? s.cols)) t.columns.add(c);
        for (const c of columnsIn(s.whereClause)) t.columns.add(c);
        readsIn(s.selectStmt ?? s.fromClause);
        break;
      }
      case 'MergeStmt': {
        const s = n.MergeStmt;
        const t = rv(s.relation) ?? scratch();
        readsIn(s.sourceRelation);
        const alias = s.relation.alias?.aliasname ?? s.relation.relname;
        walk(s.joinCondition, (kind, body) => {
          const f = kind === 'ColumnRef' ? names(body.fields) : [];
          if (f.length === 2 && f[0] === alias) t.columns.add(f[1]!);
          return true;
        });
        readsIn(s.joinCondition);
        break;
      }
      case 'SelectStmt':
        readsIn(n);
        break;
      case 'LockStmt':
      case 'TruncateStmt':
        walk(n, (kind, body) => {
          if (kind === 'RangeVar') rv(body);
          return true;
        });
        break;
      case 'VacuumStmt':
        for (const r of n.VacuumStmt.rels ?? []) rv(as(r, 'VacuumRelation')?.relation);
        break;
      case 'ClusterStmt': {
        const s = n.ClusterStmt;
        const t = rv(s.relation);
        if (t && s.indexname && !created.has(qualified(t.schema, s.indexname))) {
          indexes.set(qualified(t.schema, s.indexname), { schema: t.schema, name: s.indexname, table: t });
        }
        break;
      }
      case 'RefreshMatViewStmt': {
        const r = n.RefreshMatViewStmt.relation;
        const key = qualified(r.schemaname, r.relname);
        if (!created.has(key)) matviews.set(key, { schema: r.schemaname, name: r.relname });
        if (r.schemaname) schemas.add(r.schemaname);
        break;
      }
    }
  }
  // indexes to create: on the table their name starts with (`orders_customer_id_idx` → orders (customer_id))
  const indexSql: string[] = [];
  for (const ix of indexes.values()) {
    const known =
      ix.table ??
      [...tables.values()].find((t) => ix.name.startsWith(`${t.name}_`) && t.schema === ix.schema);
    const prefix = ix.name.split('_')[0]!;
    // an index named without its table's name (`idx2`) gets a table of its own
    const t = known ?? need(ix.schema, prefix === ix.name ? `${ix.name}_table` : prefix);
    const base = ix.name.replace(/_(idx|key|index)$/, '');
    const column =
      (base.startsWith(`${t.name}_`) ? base.slice(t.name.length + 1) : base.split('_').pop()) || 'id';
    t.columns.add(column);
    indexSql.push(
      `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quote(ix.name)} ON ${sqlName(t.schema, t.name)} (${quote(column)});`,
    );
  }
  const out: string[] = [];
  for (const d of databases) out.push(`DROP DATABASE IF EXISTS ${quote(d)};`, `CREATE DATABASE ${quote(d)};`);
  if (pgVersion < 13 && /gen_random_uuid\s*\(/i.test(sql))
    out.push('CREATE EXTENSION IF NOT EXISTS pgcrypto;');
  for (const s of schemas) out.push(`CREATE SCHEMA IF NOT EXISTS ${quote(s)};`);
  for (const [e, labels] of enums) {
    out.push(`CREATE TYPE ${e} AS ENUM (${[...labels].map(literal).join(', ')});`);
  }
  for (const ty of types) out.push(`CREATE TYPE ${ty} AS ENUM ('a', 'b');`);
  for (const [d, checks] of domains) {
    // a domain over int, used by a table with rows (adding a constraint checks them)
    const [schema, name] = d.includes('.') ? d.split('.') : [undefined, d];
    const domain = sqlName(schema, name!);
    out.push(
      `CREATE DOMAIN ${domain} AS int;`,
      `CREATE TABLE ${sqlName(schema, `${name}_in_use`)} (v ${domain});`,
      `INSERT INTO ${sqlName(schema, `${name}_in_use`)} SELECT g FROM generate_series(1, ${rows}) g;`,
      ...[...checks].map(
        (c) => `ALTER DOMAIN ${domain} ADD CONSTRAINT ${quote(c)} CHECK (VALUE > 0) NOT VALID;`,
      ),
    );
  }
  // a partition has its table's columns, and they theirs
  for (const t of tables.values()) {
    const p = t.partitionOf?.parent;
    if (!p) continue;
    for (const c of t.columns) p.columns.add(c);
    t.columns = p.columns;
  }
  const columnsOf = (t: TableNeed) => {
    const cols = [...new Set([...t.key, ...t.columns])].filter((c) => !t.added.has(c));
    if (cols.length === 0) cols.push(t.added.has('id') ? 'x' : 'id');
    return cols;
  };
  const typeIn = (t: TableNeed, c: string): ColumnType => {
    const keyType = t.partitioned ?? t.partitionOf?.parent.partitioned;
    return c === PARTITION_KEY && keyType ? keyType : columnType(c);
  };
  // partitions the example detaches: one range each, by the year in their name where there is one
  const usedYears = new Set<number>();
  let nextRange = 0;
  const rangeFor = (t: TableNeed): { from: string; to: string } => {
    if (t.partitionOf!.parent.partitioned === 'int') {
      nextRange++;
      return { from: String(nextRange * 1_000_000), to: String((nextRange + 1) * 1_000_000) };
    }
    let year = Number(/(\d{4})/.exec(t.name)?.[1] ?? 2000);
    while (usedYears.has(year)) year++;
    usedYears.add(year);
    return { from: `'${year}-01-01'`, to: `'${year + 1}-01-01'` };
  };
  const ordered = [...tables.values()].sort((a, b) => Number(!!a.partitionOf) - Number(!!b.partitionOf));
  for (const t of ordered) {
    const cols = columnsOf(t);
    const keyCols = [...t.key].filter((c) => cols.includes(c));
    const defs = cols.map((c) => `${quote(c)} ${typeIn(t, c)}`);
    if (keyCols.length && !t.partitioned) defs.push(`PRIMARY KEY (${keyCols.map(quote).join(', ')})`);
    const name = sqlName(t.schema, t.name);
    const part = t.partitionOf;
    if (t.partitioned) {
      out.push(`CREATE TABLE ${name} (${defs.join(', ')}) PARTITION BY RANGE (${quote(PARTITION_KEY)});`);
      continue;
    }
    const bound = part ? (part.bound ?? rangeFor(t)) : undefined;
    if (part?.attached) {
      const range = bound === 'default' ? 'DEFAULT' : `FOR VALUES FROM (${bound!.from}) TO (${bound!.to})`;
      out.push(
        `CREATE TABLE ${name} PARTITION OF ${sqlName(part.parent.schema, part.parent.name)} ${range};`,
      );
    } else out.push(`CREATE TABLE ${name} (${defs.join(', ')});`);
    if (rows > 0) {
      // a partition's rows are inside its bound (a default partition's outside every other one)
      const keyValue =
        bound === undefined
          ? undefined
          : bound === 'default'
            ? part!.parent.partitioned === 'int'
              ? '-1'
              : `'1900-01-01'`
            : bound.from;
      const values = cols.map((c) =>
        c === PARTITION_KEY && keyValue !== undefined ? keyValue : VALUE[typeIn(t, c)],
      );
      out.push(`INSERT INTO ${name} SELECT ${values.join(', ')} FROM generate_series(1, ${rows}) g;`);
    }
  }
  for (const v of views) out.push(`CREATE VIEW ${v} AS SELECT 1 AS id;`);
  for (const m of matviews.values()) {
    const source = sqlName(m.schema, `${m.name}_source`);
    const view = sqlName(m.schema, m.name);
    out.push(
      `CREATE TABLE ${source} (id int);`,
      `INSERT INTO ${source} SELECT g FROM generate_series(1, ${Math.max(rows, 1)}) g;`,
      `CREATE MATERIALIZED VIEW ${view} AS SELECT id FROM ${source};`,
      // REFRESH … CONCURRENTLY needs a unique index
      `CREATE UNIQUE INDEX ON ${view} (id);`,
    );
  }
  out.push(...indexSql, ...constraints);
  return out.join('\n');
}

/** A constraint the example drops: a primary key, unique, foreign key or check by its name's suffix. */
function constraintSql(t: TableNeed, name: string): string {
  const table = sqlName(t.schema, t.name);
  const column = (suffix: string) => {
    const base = name.replace(new RegExp(`_${suffix}$`), '');
    const c = base.startsWith(`${t.name}_`) ? base.slice(t.name.length + 1) : base.split('_').pop()!;
    t.columns.add(c || 'id');
    return quote(c || 'id');
  };
  if (/_pkey$/.test(name))
    return `ALTER TABLE ${table} ADD CONSTRAINT ${quote(name)} PRIMARY KEY (${column('pkey')});`;
  if (/_key$/.test(name))
    return `ALTER TABLE ${table} ADD CONSTRAINT ${quote(name)} UNIQUE (${column('key')});`;
  return `ALTER TABLE ${table} ADD CONSTRAINT ${quote(name)} CHECK (true);`;
}

// ─── tracing ──────────────────────────────────────────────────────────────────

const REFUSED_IN_BLOCK = /cannot (run|be executed) (inside|from) a transaction block/i;

const TABLE_LIKE_KINDS = new Set(['r', 'p', 'm']);

/** The weakest mode that conflicts with `mode`: a session holding it makes a statement taking `mode` wait. */
function weakestConflicting(mode: LockMode): LockMode {
  return LOCK_MODES.find((m) => conflicts(m, mode))!;
}

/**
 * What a second session holds to make a statement that cannot run in a transaction block wait
 * where its locks show in pg_locks, derived from the analyzer's claims: on the last relation it
 * claims, the weakest lock that conflicts with the claimed mode (a table), or that relation's
 * pg_class row (an index: the statement waits where it changes or drops it). `derived` stalls
 * follow from the claim: a statement that does not wait did not take the claimed lock.
 */
async function stallFor(
  engine: TraceEngine,
  claims: Claim[],
): Promise<{ sql: string; derived: boolean } | undefined> {
  // a named relation: a set's members are not known by name here
  const claim = claims.filter((c) => !c.set).at(-1);
  if (!claim) return undefined;
  const [schema, ...rest] = claim.relation.split('.');
  const name = sqlName(schema, rest.join('.'));
  const [row] = await engine.query(
    `SELECT relkind::text AS kind FROM pg_class WHERE oid = to_regclass('${name.replace(/'/g, "''")}')`,
  );
  if (!row) return undefined;
  if (TABLE_LIKE_KINDS.has(String(row.kind))) {
    return { sql: `LOCK TABLE ${name} IN ${weakestConflicting(claim.mode)} MODE`, derived: true };
  }
  return {
    sql: `SELECT 1 FROM pg_class WHERE oid = '${name.replace(/'/g, "''")}'::regclass FOR UPDATE`,
    derived: false,
  };
}

/**
 * Stalls for statements that lock no relation of the database: ALTER TYPE … ADD VALUE writes
 * pg_enum, so a session holding SHARE on it makes the statement wait (as the catalog probe does).
 */
const STALL_BY_KIND: Record<string, string> = {
  AlterEnumStmt: 'LOCK TABLE pg_catalog.pg_enum IN SHARE MODE',
};

interface Traced {
  /** the statement where Postgres stopped the example, and its error */
  failed?: { statement: number; error: string };
  /** why some statement's locks could not be seen */
  unobservable?: string;
  mismatches: string[];
}

async function traceOne(
  engine: TraceEngine,
  observer: Observer,
  sql: string,
  runner: RunnerName,
  setup: string,
  handStall: string | undefined,
): Promise<Traced | { setupFailed: string }> {
  await freshSchema(engine);
  for (const s of statementsOf(setup)) {
    try {
      await engine.exec(s);
    } catch (e) {
      return { setupFailed: `${(e as Error).message} (in ${s.slice(0, 60)})` };
    }
  }
  const parsed = parseSql(sql);
  const analyzer = new Analyzer({
    pgVersion: engine.majorVersion,
    runner: runnerModel(runner),
    statementCount: parsed.file.statementCount,
  });
  await teachSchema(engine, analyzer);
  const mismatches: string[] = [];
  const out: Traced = { mismatches };
  let inTx = false;
  const control = async (text: string, kind: 'begin' | 'end') => {
    const o = await observer.run(text, { transactionControl: kind });
    if (o.ok) inTx = kind === 'begin';
    return o;
  };
  try {
    for (const stmt of parsed.statements) {
      const label = `statement ${stmt.index + 1} (${stmt.text.slice(0, 60)})`;
      const facts = analyzer.analyze(stmt);
      const tKind = stmt.kind === 'TransactionStmt' ? (stmt.node as AnyNode).TransactionStmt.kind : undefined;
      const isBegin = tKind === 'TRANS_STMT_BEGIN' || tKind === 'TRANS_STMT_START';
      // the runner opens and closes transactions the file does not spell out
      if (!isBegin) {
        if (facts.transaction && !inTx) await control('BEGIN', 'begin');
        else if (!facts.transaction && inTx) await control('COMMIT', 'end');
      }
      if (tKind) {
        const o = await control(stmt.text, isBegin ? 'begin' : 'end');
        if (!o.ok)
          return { ...out, failed: { statement: stmt.index + 1, error: `${stmt.text}: ${o.error}` } };
        analyzer.apply(facts);
        continue;
      }
      const noBlock = facts.actions.some((a) => a.facts.noTransactionBlock);
      const existing = await existingRelations(engine);
      const heldBefore = new Set(
        inTx ? (await observer.locksHeld()).map((l) => `${l.relation}|${l.mode}`) : [],
      );
      // a lock the transaction holds already is not taken again; IF EXISTS on a missing relation locks nothing
      const claims = claimsFor(facts).filter(
        (c) =>
          !heldBefore.has(`${c.relation}|${c.mode}`) && (c.set !== undefined || existing.has(c.relation)),
      );
      const wasInTx = inTx;
      let observation: Observation | StalledObservation | undefined;
      if (!(noBlock && !inTx)) {
        observation = await observer.run(stmt.text, { noTransactionBlock: noBlock });
        const refused = !observation.ok && REFUSED_IN_BLOCK.test(observation.error ?? '');
        if (noBlock && wasInTx && observation.ok) {
          mismatches.push(
            `${label}: transaction-block: claimed Postgres refuses it in a transaction block, it ran there`,
          );
        }
        if (refused && !noBlock && facts.actions.length) {
          mismatches.push(
            `${label}: transaction-block: claimed it runs in a transaction block, Postgres refuses it there`,
          );
        }
        if (refused && wasInTx) {
          // Postgres refuses it in the migration's transaction block: traced up to here
          return { ...out, failed: { statement: stmt.index + 1, error: observation.error! } };
        }
        // a statement the analyzer does not know must run outside one: run it as the runner would
        if (refused) observation = undefined;
      }
      if (observation === undefined) {
        // outside a transaction block: locks are seen from a second session while the statement waits for it
        const byKind = STALL_BY_KIND[stmt.kind];
        const stall = handStall
          ? { sql: handStall, derived: false }
          : byKind
            ? { sql: byKind, derived: false }
            : await stallFor(engine, claims);
        if (!engine.openObserver || !stall) {
          observation = await observer.run(stmt.text, { noTransactionBlock: true });
          out.unobservable ??= `${label}: ${
            engine.openObserver
              ? 'runs outside a transaction block and the analyzer claims no lock to make it wait for'
              : 'runs outside a transaction block, and this engine has no second session to watch it'
          }`;
        } else {
          let o: StalledObservation;
          try {
            o = await observeStalled(engine, stmt.text, { stall: statementsOf(stall.sql) });
          } catch (e) {
            return {
              ...out,
              failed: { statement: stmt.index + 1, error: `watching it: ${(e as Error).message}` },
            };
          }
          observation = o;
          if (o.ok && !o.stalled) {
            if (stall.derived) {
              mismatches.push(
                `${label}: stall: it did not wait for a session that ran ${stall.sql}: the claimed lock was not taken`,
              );
            } else out.unobservable ??= `${label}: did not wait for ${stall.sql}`;
          }
        }
      }
      if (!observation.ok) {
        return { ...out, failed: { statement: stmt.index + 1, error: observation.error ?? '' } };
      }
      if (inTx && !observation.inTransaction) inTx = false;
      let found: Mismatch[];
      if ('stalled' in observation) {
        // stopped part-way: the claims on relations it had not locked yet are not checkable
        const seen = new Set((observation.locks ?? []).map((l) => l.relation));
        found = [
          ...compare(claims, { ...observation, locks: undefined }),
          ...compare(
            claims.filter((c) => seen.has(c.relation)),
            withoutNewRelations(observation, existing),
          ).filter((m) => m.kind !== 'rewrite'),
        ];
      } else found = compare(claims, withoutNewRelations(observation, existing));
      for (const m of found) {
        mismatches.push(`${label}: ${m.kind} on ${m.relation}: claimed ${m.claimed}, observed ${m.observed}`);
      }
      analyzer.apply(facts);
    }
    if (inTx) await control('COMMIT', 'end');
  } finally {
    await engine.exec('ROLLBACK').catch(() => {});
  }
  return out;
}

export type ExampleStatus = 'traced' | 'not observable' | 'refused as expected' | 'not traced';

export interface ExampleResult {
  /** `<rule>#<index> bad|ok` */
  id: string;
  status: ExampleStatus;
  /** why it is not observable or not traced; what Postgres said when it refused as expected */
  reason?: string;
  mismatches: string[];
}

function resultOf(
  traced: Traced | { setupFailed: string },
  expect: Pick<RuleExample, 'refuses'>,
): Omit<ExampleResult, 'id'> {
  if ('setupFailed' in traced) {
    return { status: 'not traced', reason: `setup failed: ${traced.setupFailed}`, mismatches: [] };
  }
  const { failed, mismatches } = traced;
  if (expect.refuses) {
    if (failed && expect.refuses.test(failed.error)) {
      return { status: 'refused as expected', reason: failed.error, mismatches };
    }
    if (!failed) {
      return {
        status: 'traced',
        mismatches: [...mismatches, `Postgres accepted it: expected it to refuse it with ${expect.refuses}`],
      };
    }
  }
  if (failed) {
    if (REFUSED_IN_BLOCK.test(failed.error)) {
      // the migration runs it in a transaction block, which Postgres refuses, as the analyzer knows
      return {
        status: 'traced',
        reason: `stopped at statement ${failed.statement}: ${failed.error}`,
        mismatches,
      };
    }
    return {
      status: 'not traced',
      reason: `statement ${failed.statement} failed: ${failed.error}`,
      mismatches,
    };
  }
  if (traced.unobservable) return { status: 'not observable', reason: traced.unobservable, mismatches };
  return { status: 'traced', mismatches };
}

export async function traceRuleExamples(engine: TraceEngine, observer: Observer): Promise<ExampleResult[]> {
  const out: ExampleResult[] = [];
  for (const rule of allRules) {
    for (const [i, example] of rule.examples.entries()) {
      const v = engine.majorVersion;
      if ((example.pg?.min ?? 0) > v || v > (example.pg?.max ?? 99)) continue;
      const sql = (example.bad ?? example.ok)!;
      const id = `${rule.id}#${i} ${example.bad ? 'bad' : 'ok'}`;
      const runner = example.runner ?? 'psql';
      if (example.tablespace) {
        const missing = await ensureTablespace(engine, example.tablespace);
        if (missing) {
          out.push({ id, status: 'not traced', reason: missing, mismatches: [] });
          continue;
        }
      }
      const setup = (rows: number) => example.setup ?? genericSetup(sql, rows, v);
      const attempt = async (rows: number) => {
        try {
          return resultOf(await traceOne(engine, observer, sql, runner, setup(rows), example.stall), example);
        } catch (e) {
          await engine.exec('ROLLBACK').catch(() => {});
          return { status: 'not traced' as const, reason: (e as Error).message, mismatches: [] };
        }
      };
      let result = await attempt(10);
      if (result.status === 'not traced' && example.setup === undefined) {
        // some examples only run on an empty table (ADD COLUMN … NOT NULL without a default)
        const empty = await attempt(0);
        if (empty.status !== 'not traced') {
          result = { ...empty, reason: `on empty tables only (with rows: ${result.reason})` };
        }
      }
      // a claim known to be conservative on some versions: the mismatch it makes is expected there
      for (const c of example.conservative ?? []) {
        if ((c.min ?? 0) > v || v > (c.max ?? 99)) continue;
        const at = result.mismatches.findIndex((m) => c.match.test(m));
        if (at >= 0) result.mismatches.splice(at, 1);
        else if (result.status === 'traced') {
          result.mismatches.push(
            `a known conservative claim (${c.why}) matches Postgres now: drop it from the example's \`conservative\` in src/rules/all/${rule.id}.ts`,
          );
        }
      }
      out.push({ id, ...result });
    }
  }
  return out;
}
