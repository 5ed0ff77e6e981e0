/**
 * The version matrix, part 2: every rule example (bad and ok) traced on an engine, statement by
 * statement, the way its runner would run it, and the analyzer's lock claims compared with what
 * Postgres did. Tables an example references without creating them are made up from the example
 * (its columns, as int or text, with rows), or taken from `test/pg/rule-example-setups.ts`.
 */

import { Analyzer } from '../../src/analyze/analyze.js';
import { type AnyNode, as, names, walk } from '../../src/analyze/ast.js';
import { runnerModel } from '../../src/analyze/runners.js';
import type { RunnerName } from '../../src/config/types.js';
import { parseSql } from '../../src/parse/parse.js';
import { allRules } from '../../src/rules/index.js';
import { claimsFor, compare } from '../../src/trace/compare.js';
import type { TraceEngine } from '../../src/trace/engine.js';
import type { Observer } from '../../src/trace/observe.js';
import { teachSchema } from '../../src/trace/schema.js';
import { RULE_EXAMPLE_SETUPS } from '../../test/pg/rule-example-setups.js';
import { existingRelations, freshSchema, statementsOf, withoutNewRelations } from './db.js';

export interface ExampleResult {
  /** `<rule>#<index> bad|ok` */
  id: string;
  /** every statement ran (or stopped where Postgres must refuse it) */
  traced: boolean;
  reason?: string;
  mismatches: string[];
}

// ─── generic setup ────────────────────────────────────────────────────────────

const TEXT_COLUMN = /^(status.*|name|full_name|email|note|code|ref|field_name|column_name|tier|nick.*)$/i;

interface TableNeed {
  schema: string | undefined;
  name: string;
  columns: Set<string>;
  /** columns the example adds itself */
  added: Set<string>;
  /** columns a foreign key points at: made the primary key */
  key: Set<string>;
}

const qualified = (schema: string | undefined, name: string) => (schema ? `${schema}.${name}` : name);
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const sqlName = (schema: string | undefined, name: string) =>
  schema ? `${quote(schema)}.${quote(name)}` : quote(name);

/**
 * SQL creating what `sql` uses but does not create: tables with the columns it mentions (int, or
 * text for names that look textual), a primary key where a foreign key points, indexes it drops or
 * rebuilds, enum types it extends, schemas; `rows` rows in each table.
 */
export function genericSetup(sql: string, rows: number): string {
  const { statements } = parseSql(sql);
  const tables = new Map<string, TableNeed>();
  const created = new Set<string>();
  const indexes = new Map<string, { schema: string | undefined; name: string }>();
  const enums = new Set<string>();
  const schemas = new Set<string>();
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
  for (const stmt of statements) {
    const n = stmt.node as AnyNode;
    switch (stmt.kind) {
      case 'CreateStmt': {
        const s = n.CreateStmt;
        walk(s.tableElts, (kind, body) => {
          if (kind === 'Constraint' && body.contype === 'CONSTR_FOREIGN' && body.pktable) {
            const pk = rv(body.pktable) ?? scratch();
            const cols = names(body.pk_attrs);
            for (const c of cols.length ? cols : ['id']) pk.key.add(c);
          }
          return true;
        });
        created.add(qualified(s.relation.schemaname, s.relation.relname));
        break;
      }
      case 'ViewStmt':
        walk(n.ViewStmt.query, (kind, body) => {
          if (kind === 'RangeVar') rv(body);
          return true;
        });
        created.add(qualified(n.ViewStmt.view.schemaname, n.ViewStmt.view.relname));
        break;
      case 'IndexStmt': {
        const s = n.IndexStmt;
        const t = rv(s.relation) ?? scratch();
        for (const c of columnsIn(s.indexParams)) t.columns.add(c);
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
              if (kind === 'Constraint' && body.contype === 'CONSTR_FOREIGN' && body.pktable) {
                const pk = rv(body.pktable) ?? scratch();
                const cols = names(body.pk_attrs);
                for (const k of cols.length ? cols : ['id']) pk.key.add(k);
              } else if (kind === 'Constraint')
                for (const col of columnsIn(body.raw_expr)) t.columns.add(col);
              return true;
            });
            continue;
          }
          if (cmd.name && /Column|NotNull|Statistics|ColumnDefault|AlterColumnType/.test(cmd.subtype)) {
            t.columns.add(cmd.name);
          }
          const con = as(cmd.def, 'Constraint');
          if (con) {
            for (const k of names(con.keys)) t.columns.add(k);
            for (const k of names(con.fk_attrs)) t.columns.add(k);
            for (const k of columnsIn(con.raw_expr)) t.columns.add(k);
            if (con.contype === 'CONSTR_FOREIGN' && con.pktable) {
              const pk = rv(con.pktable) ?? scratch();
              const cols = names(con.pk_attrs);
              for (const k of cols.length ? cols : ['id']) pk.key.add(k);
            }
            if (con.contype === 'CONSTR_NOTNULL') for (const k of names(con.keys)) t.columns.add(k);
          }
          if (cmd.subtype === 'AT_AlterColumnType') {
            for (const k of columnsIn(as(cmd.def, 'ColumnDef')?.raw_default)) t.columns.add(k);
          }
          if (cmd.subtype === 'AT_DetachPartition' || cmd.subtype === 'AT_AttachPartition') {
            rv(as(cmd.def, 'PartitionCmd')?.name);
          }
        }
        break;
      }
      case 'RenameStmt': {
        const s = n.RenameStmt;
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
        if (s.removeType !== 'OBJECT_INDEX' || s.missing_ok) break;
        for (const obj of s.objects ?? []) {
          const list = names(as(obj, 'List')?.items);
          const name = list[list.length - 1]!;
          const schema = list.length > 1 ? list[list.length - 2] : undefined;
          if (!created.has(qualified(schema, name))) indexes.set(qualified(schema, name), { schema, name });
        }
        break;
      }
      case 'ReindexStmt': {
        const s = n.ReindexStmt;
        if (s.kind === 'REINDEX_OBJECT_INDEX') {
          indexes.set(qualified(s.relation.schemaname, s.relation.relname), {
            schema: s.relation.schemaname,
            name: s.relation.relname,
          });
        } else rv(s.relation);
        break;
      }
      case 'AlterEnumStmt':
        enums.add(names(n.AlterEnumStmt.typeName).join('.'));
        break;
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'InsertStmt': {
        const s = n[stmt.kind];
        const t = rv(s.relation) ?? scratch();
        for (const c of columnsIn(s.targetList ?? s.cols)) t.columns.add(c);
        for (const c of columnsIn(s.whereClause)) t.columns.add(c);
        walk(s.selectStmt ?? s.fromClause, (kind, body) => {
          if (kind === 'RangeVar') rv(body);
          return true;
        });
        break;
      }
      case 'SelectStmt':
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
      case 'ClusterStmt':
      case 'RefreshMatViewStmt':
        rv(n[stmt.kind].relation);
        break;
    }
  }
  // indexes to create: on the table their name starts with (`orders_customer_id_idx` → orders (customer_id))
  const indexSql: string[] = [];
  for (const ix of indexes.values()) {
    const known = [...tables.values()].find(
      (t) => ix.name.startsWith(`${t.name}_`) && t.schema === ix.schema,
    );
    const tableName = known?.name ?? ix.name.split('_')[0]!;
    const t = known ?? need(ix.schema, tableName);
    const column = ix.name.slice(tableName.length + 1).replace(/_(idx|key|index)$/, '') || 'id';
    t.columns.add(column);
    indexSql.push(`CREATE INDEX ${quote(ix.name)} ON ${sqlName(ix.schema, tableName)} (${quote(column)});`);
  }
  const out: string[] = [];
  for (const s of schemas) out.push(`CREATE SCHEMA IF NOT EXISTS ${quote(s)};`);
  for (const e of enums) out.push(`CREATE TYPE ${e} AS ENUM ('a', 'b');`);
  for (const t of tables.values()) {
    const cols = [...new Set([...t.key, ...t.columns])].filter((c) => !t.added.has(c));
    if (cols.length === 0) cols.push(t.added.has('id') ? 'x' : 'id');
    const type = (c: string) => (TEXT_COLUMN.test(c) ? 'text' : 'int');
    const keyCols = [...t.key].filter((c) => cols.includes(c));
    const defs = cols.map((c) => `${quote(c)} ${type(c)}`);
    if (keyCols.length) defs.push(`PRIMARY KEY (${keyCols.map(quote).join(', ')})`);
    out.push(`CREATE TABLE ${sqlName(t.schema, t.name)} (${defs.join(', ')});`);
    if (rows > 0) {
      const values = cols.map((c) => (type(c) === 'text' ? `'v' || g` : 'g'));
      out.push(
        `INSERT INTO ${sqlName(t.schema, t.name)} SELECT ${values.join(', ')} FROM generate_series(1, ${rows}) g;`,
      );
    }
  }
  out.push(...indexSql, ...constraints);
  return out.join('\n');
}

// ─── tracing ──────────────────────────────────────────────────────────────────

async function traceOne(
  engine: TraceEngine,
  observer: Observer,
  sql: string,
  runner: RunnerName,
  setup: string,
): Promise<Omit<ExampleResult, 'id'>> {
  await freshSchema(engine);
  for (const s of statementsOf(setup)) {
    try {
      await engine.exec(s);
    } catch (e) {
      return { traced: false, reason: `setup failed: ${(e as Error).message}`, mismatches: [] };
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
  let inTx = false;
  const control = async (text: string, kind: 'begin' | 'end') => {
    const o = await observer.run(text, { transactionControl: kind });
    if (o.ok) inTx = kind === 'begin';
    return o;
  };
  try {
    for (const stmt of parsed.statements) {
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
        if (!o.ok) return { traced: false, reason: `${stmt.text}: ${o.error}`, mismatches };
        analyzer.apply(facts);
        continue;
      }
      const noBlock = facts.actions.some((a) => a.facts.noTransactionBlock);
      const existing = await existingRelations(engine);
      const heldBefore = new Set(
        inTx ? (await observer.locksHeld()).map((l) => `${l.relation}|${l.mode}`) : [],
      );
      const observation = await observer.run(stmt.text, { noTransactionBlock: noBlock });
      if (!observation.ok) {
        if (noBlock && inTx) {
          // Postgres refuses it in the transaction block, as the analyzer knows: traced up to here
          return {
            traced: true,
            reason: 'stopped where Postgres refuses it in a transaction block',
            mismatches,
          };
        }
        return {
          traced: false,
          reason: `statement ${stmt.index + 1} failed: ${observation.error}`,
          mismatches,
        };
      }
      if (inTx && !observation.inTransaction) inTx = false;
      // a lock the transaction holds already is not taken again; IF EXISTS on a missing relation locks nothing
      const claims = claimsFor(facts).filter(
        (c) => !heldBefore.has(`${c.relation}|${c.mode}`) && existing.has(c.relation),
      );
      for (const m of compare(claims, withoutNewRelations(observation, existing))) {
        mismatches.push(
          `statement ${stmt.index + 1} (${stmt.text.slice(0, 60)}): ${m.kind} on ${m.relation}: claimed ${m.claimed}, observed ${m.observed}`,
        );
      }
      analyzer.apply(facts);
    }
    if (inTx) await control('COMMIT', 'end');
  } finally {
    await engine.exec('ROLLBACK').catch(() => {});
  }
  return { traced: true, mismatches };
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
      const hand = RULE_EXAMPLE_SETUPS[`${rule.id}#${i}`];
      let result = await traceOne(engine, observer, sql, runner, hand ?? genericSetup(sql, 10));
      if (!result.traced && hand === undefined) {
        // some examples only run on an empty table (ADD COLUMN … NOT NULL without a default)
        const empty = await traceOne(engine, observer, sql, runner, genericSetup(sql, 0));
        if (empty.traced) result = { ...empty, reason: `on empty tables only (with rows: ${result.reason})` };
      }
      out.push({ id, ...result });
    }
  }
  return out;
}
