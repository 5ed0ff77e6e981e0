/**
 * The version matrix, part 3: `pgkeel fix`'s plans proven on real Postgres.
 *
 * Rule examples: for every bad example whose plan (`planMigration`, safe fixes only) differs from
 * it, database A gets the example's setup (or the generic one of `examples.ts`) and then the
 * example as its runner runs it; database B (a fresh schema) the same setup and then the plan, unit
 * by unit (BEGIN, SET LOCAL timeouts, steps, COMMIT; or each step on its own). The two schemas, read
 * from the catalogs and compared by name, must be equal (same result), and while the plan runs each
 * step is observed: one that rewrites, scans or builds an index on a table that existed before must
 * not hold (or run in a transaction that holds) a lock that blocks application reads or writes,
 * unless the plan itself says there is no online path (`step.blocking`).
 *
 * Corpora (`PG_MATRIX_CORPORA`, default /work/shared/corpora: each directory of plain `.sql`
 * migrations): two databases, A and B, of the same engine get the corpus's history up to its last
 * 20 migrations, then walk those in order, in lockstep: a migration whose plan is unchanged runs in
 * both; one whose plan changed runs in A, its plan in B (after a few rows in every empty table of
 * both, best effort), and the schemas are compared. Only differences that appeared with that
 * migration count (a difference left by an earlier one is not its fault, and is reported there).
 * The plan in B is watched as the examples' are. Corpora run on PGlite, PG 11 and PG 18 by default
 * (two fresh databases per corpus, each with the whole history: ~35 s a server, ~70 s PGlite);
 * `PG_MATRIX_FIX_CORPORA=all` (or a list, `pglite,16`, or `none`) chooses.
 *
 * Each example or migration ends as: proven (equal and safe), no online path (equal, and safe but for
 * the steps the plan itself marks blocking: `step.blocking`, no online path on this version), not
 * proven (it could not be set up, or the original migration fails: the reason), FAILED (a schema or
 * row-count difference, a plan step that fails, an unmarked step doing long work under a lock that
 * blocks the application). Steps outside a transaction block are checked to run there; their locks
 * are not watched (the catalog probes trace those statements).
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Analyzer, copySchema, type KnownSchema } from '../../src/analyze/analyze.js';
import type { AnyNode } from '../../src/analyze/ast.js';
import { schemaAfter } from '../../src/analyze/history.js';
import { runnerModel } from '../../src/analyze/runners.js';
import { blocksApplication } from '../../src/catalog/locks.js';
import type { RunnerName } from '../../src/config/types.js';
import { type MigrationPlan, type PlanUnit, planMigration, timeoutSettings } from '../../src/fix/plan.js';
import { parseSql } from '../../src/parse/parse.js';
import { allRules } from '../../src/rules/index.js';
import type { TraceEngine } from '../../src/trace/engine.js';
import { type Observation, type ObservedLock, Observer } from '../../src/trace/observe.js';
import { ensureTablespace, freshSchema, statementsOf } from './db.js';
import { genericSetup } from './examples.js';

export type ProofStatus = 'proven' | 'no online path' | 'not proven' | 'FAILED';

export interface Proof {
  /** `rule#i bad (title)` or `corpus/file` */
  id: string;
  status: ProofStatus;
  /** why not proven; which steps have no online path */
  reason?: string;
  /** what failed: schema differences, a failing step, an unsafe lock */
  failures: string[];
  /** plan steps that ran outside a transaction block, as they must (their locks are not watched) */
  outside?: number;
}

export interface CorpusProof {
  corpus: string;
  runner: RunnerName;
  /** migrations looked at (the last ones of the corpus) */
  migrations: number;
  /** findings on them */
  findings: number;
  /** of them, those whose plan changed */
  plans: number;
  proofs: Proof[];
  /** the corpus could not be set up at all */
  notRun?: string;
  /** history statements Postgres refused (skipped; A and B skipped the same ones) */
  historyErrors: number;
  firstHistoryError?: string;
}

export interface FixProofRun {
  examples: Proof[];
  corpora: CorpusProof[];
  /** why the corpora did not run on this engine */
  corporaSkipped?: string;
}

// ─── schema snapshots ─────────────────────────────────────────────────────────

const USER_SCHEMA = (col: string) =>
  `${col} NOT IN ('pg_catalog', 'information_schema') AND ${col} NOT LIKE 'pg\\_toast%' AND ${col} NOT LIKE 'pg\\_temp%'`;

/** What the schema is, by name: `kind name` → its normalised definition. */
export type Snapshot = Map<string, string>;

/** The user schema read from the catalogs: relations by name, never by oid or attnum. */
export async function snapshot(engine: TraceEngine): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const add = (rows: Record<string, unknown>[]) => {
    for (const r of rows) out.set(String(r.k), String(r.v));
  };
  add(
    await engine.query(
      `SELECT 'relation ' || n.nspname || '.' || c.relname AS k, c.relkind::text || ' persistence=' || c.relpersistence::text AS v
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${USER_SCHEMA('n.nspname')}`,
    ),
  );
  add(
    await engine.query(
      `SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname AS k,
              format_type(a.atttypid, a.atttypmod) || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
                || ' notnull=' || a.attnotnull::text || ' identity=' || a.attidentity::text AS v
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${USER_SCHEMA('n.nspname')}`,
    ),
  );
  add(
    await engine.query(
      `SELECT 'constraint ' || n.nspname || '.' || coalesce(c.relname, t.typname, '-') || '.' || k.conname AS k,
              k.contype::text || ' ' || pg_get_constraintdef(k.oid) || ' validated=' || k.convalidated::text AS v
         FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
         LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
        WHERE ${USER_SCHEMA('n.nspname')}`,
    ),
  );
  add(
    await engine.query(
      `SELECT 'index ' || n.nspname || '.' || c.relname AS k,
              pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid::text || ' unique=' || i.indisunique::text AS v
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${USER_SCHEMA('n.nspname')}`,
    ),
  );
  add(
    await engine.query(
      `SELECT 'sequence ' || n.nspname || '.' || c.relname AS k,
              format_type(s.seqtypid, NULL) || ' start=' || s.seqstart || ' increment=' || s.seqincrement
                || ' min=' || s.seqmin || ' max=' || s.seqmax || ' cycle=' || s.seqcycle::text
                || ' owned=' || coalesce((SELECT t.relname || '.' || a.attname FROM pg_depend d
                     JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 LIMIT 1), '-') AS v
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${USER_SCHEMA('n.nspname')}`,
    ),
  );
  add(
    await engine.query(
      `SELECT 'trigger ' || n.nspname || '.' || c.relname || '.' || g.tgname AS k,
              pg_get_triggerdef(g.oid) || ' enabled=' || g.tgenabled::text AS v
         FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT g.tgisinternal AND ${USER_SCHEMA('n.nspname')}`,
    ),
  );
  // rows too: a plan that loses or adds rows (a rolled-back DROP made real) leaves the same schema
  const tables = await engine.query(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t, n.nspname || '.' || c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND ${USER_SCHEMA('n.nspname')}`,
  );
  for (const t of tables) {
    const [row] = await engine.query(`SELECT count(*)::text AS n FROM ${String(t.t)}`);
    out.set(`rows ${String(t.name)}`, String(row?.n));
  }
  add(
    await engine.query(
      `SELECT 'enum ' || n.nspname || '.' || t.typname AS k,
              string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS v
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE ${USER_SCHEMA('n.nspname')} GROUP BY n.nspname, t.typname`,
    ),
  );
  return out;
}

/** Each difference as one line: `only in A`, `only in B`, or both definitions. */
export function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) out.push(`${k}: only after the migration (${v})`);
    else if (w !== v) out.push(`${k}: migration ${v} | plan ${w}`);
  }
  for (const [k, w] of b) if (!a.has(k)) out.push(`${k}: only after the plan (${w})`);
  return out.sort();
}

// ─── running a migration as its runner would, and a plan unit by unit ──────────

const REFUSED_IN_BLOCK = /cannot (run|be executed) (inside|from) a transaction block/i;

/**
 * Runs `sql` as `runner` does: in its transaction where it opens one (the analyzer's model), a
 * statement Postgres refuses in a transaction block outside it (the transaction so far committed
 * first, as examples.ts runs it). Returns the first error, after which nothing more runs.
 */
export async function runAsRunner(
  engine: TraceEngine,
  sql: string,
  runner: RunnerName,
  pgVersion: number,
): Promise<string | undefined> {
  const parsed = parseSql(sql);
  if (parsed.errors.length) return `does not parse: ${parsed.errors[0]!.message}`;
  const analyzer = new Analyzer({
    pgVersion,
    runner: runnerModel(runner),
    statementCount: parsed.file.statementCount,
  });
  let inTx = false;
  try {
    for (const stmt of parsed.statements) {
      const facts = analyzer.analyze(stmt);
      analyzer.apply(facts);
      const control =
        stmt.kind === 'TransactionStmt' ? (stmt.node as AnyNode).TransactionStmt.kind : undefined;
      if (control) {
        // the file's own BEGIN/COMMIT, inside or in place of the runner's
        const begin = control === 'TRANS_STMT_BEGIN' || control === 'TRANS_STMT_START';
        if (begin && inTx) continue;
        await engine.exec(stmt.text);
        inTx = begin;
        continue;
      }
      if (facts.transaction && !inTx) {
        await engine.exec('BEGIN');
        inTx = true;
      } else if (!facts.transaction && inTx) {
        await engine.exec('COMMIT');
        inTx = false;
      }
      if (!inTx) {
        await engine.exec(stmt.text);
        continue;
      }
      // a savepoint, so that a statement refused in the block can be run outside it instead
      await engine.exec('SAVEPOINT pgkeel_stmt');
      try {
        await engine.exec(stmt.text);
        await engine.exec('RELEASE SAVEPOINT pgkeel_stmt');
      } catch (e) {
        if (!REFUSED_IN_BLOCK.test((e as Error).message)) throw e;
        await engine.exec('ROLLBACK TO SAVEPOINT pgkeel_stmt');
        await engine.exec('COMMIT');
        await engine.exec(stmt.text);
        await engine.exec('BEGIN');
      }
    }
    if (inTx) await engine.exec('COMMIT');
    return undefined;
  } catch (e) {
    await engine.exec('ROLLBACK').catch(() => {});
    return `${(e as Error).message}`;
  } finally {
    await engine.exec('RESET ALL').catch(() => {});
  }
}

interface PlanRun {
  /** a step that failed: the plan does not run */
  error?: string;
  /** steps that did long work under a lock blocking the application */
  unsafe: string[];
  /** steps the plan marks blocking (no online path on this version), and what was seen of them */
  noOnlinePath: string[];
  /** steps whose locks could not be watched (outside a transaction block) */
  unobserved: number;
}

const oneLine = (sql: string, n = 100) => {
  const s = sql.replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n)}…` : s;
};

/**
 * User relations now, name → oid: one that existed before the migration is the same oid under the
 * same name (a table dropped and made again is new).
 */
export async function relationOids(engine: TraceEngine): Promise<Map<string, string>> {
  const rows = await engine.query(
    `SELECT n.nspname || '.' || c.relname AS r, c.oid::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA('n.nspname')}`,
  );
  return new Map(rows.map((r) => [String(r.r), String(r.oid)]));
}

/** Index oids of each table now: a new one on a table that existed before was built by the step. */
async function indexesByTable(engine: TraceEngine): Promise<Map<string, string>> {
  const rows = await engine.query(
    `SELECT i.indexrelid::text AS oid, n.nspname || '.' || c.relname AS t
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA('n.nspname')}`,
  );
  return new Map(rows.map((r) => [String(r.oid), String(r.t)]));
}

/**
 * Runs the plan unit by unit as `pgkeel fix` says to, watching each step (or with `observer`
 * undefined, only running it). `existing`: relations there before the migration.
 */
export async function runPlan(
  engine: TraceEngine,
  observer: Observer | undefined,
  plan: MigrationPlan,
  existing: Map<string, string>,
): Promise<PlanRun> {
  const out: PlanRun = { unsafe: [], noOnlinePath: [], unobserved: 0 };
  const exec = async (sql: string) => {
    await engine.exec(sql);
  };
  try {
    for (const [u, unit] of plan.units.entries()) {
      const where = `unit ${u + 1}`;
      if (unit.transaction) {
        if (observer) {
          const o = await observer.run('BEGIN', { transactionControl: 'begin' });
          if (!o.ok) return { ...out, error: `${where}: BEGIN: ${o.error}` };
        } else await exec('BEGIN');
        for (const s of timeoutSettings(unit, 'SET LOCAL')) await exec(s);
      } else for (const s of timeoutSettings(unit, 'SET')) await exec(s);
      for (const step of unit.steps) {
        const error = await runStep(engine, observer, unit, step, existing, out);
        if (error) {
          await engine.exec('ROLLBACK').catch(() => {});
          return { ...out, error: `${where}, step ${oneLine(step.sql)}: ${error}` };
        }
      }
      if (unit.transaction) {
        if (observer) {
          const o = await observer.run('COMMIT', { transactionControl: 'end' });
          if (!o.ok) return { ...out, error: `${where}: COMMIT: ${o.error}` };
        } else await exec('COMMIT');
      } else await exec('RESET lock_timeout; RESET statement_timeout');
    }
    return out;
  } catch (e) {
    await engine.exec('ROLLBACK').catch(() => {});
    return { ...out, error: (e as Error).message };
  } finally {
    await engine.exec('RESET ALL').catch(() => {});
  }
}

async function runStep(
  engine: TraceEngine,
  observer: Observer | undefined,
  unit: PlanUnit,
  step: PlanUnit['steps'][number],
  before: Map<string, string>,
  out: PlanRun,
): Promise<string | undefined> {
  if (!observer) {
    try {
      await engine.exec(step.sql);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }
  // what the unit's transaction holds already: a long step holds it for its whole run too
  const heldBefore: ObservedLock[] = unit.transaction ? await observer.locksHeld() : [];
  const indexesBefore = await indexesByTable(engine);
  let o = await observer.run(step.sql, { noTransactionBlock: step.outsideTransaction });
  // the observer wraps an autocommit step in a transaction of its own to read its locks: a
  // statement Postgres refuses there runs in autocommit as the plan says (unwatched)
  if (!o.ok && !unit.transaction && REFUSED_IN_BLOCK.test(o.error ?? ''))
    o = await observer.run(step.sql, { noTransactionBlock: true });
  if (!o.ok) return o.error ?? 'failed';
  if (step.outsideTransaction && o.inTransaction) return 'ran inside a transaction block';
  const blocked = await blockedBy(engine, o, step, heldBefore, indexesBefore, before);
  if (step.blocking)
    out.noOnlinePath.push(`${oneLine(step.sql)}: ${blocked ?? `(${step.blocking}: not seen here)`}`);
  else if (blocked) out.unsafe.push(`${oneLine(step.sql)}: ${blocked}`);
  if (o.locks === undefined) out.unobserved++;
  return undefined;
}

/**
 * What a step did under a lock blocking the application: the tables it rewrote, scanned or built an
 * index on (existing before the migration) and the locks held meanwhile; undefined when nothing.
 */
async function blockedBy(
  engine: TraceEngine,
  o: Observation,
  step: PlanUnit['steps'][number],
  heldBefore: ObservedLock[],
  indexesBefore: Map<string, string>,
  before: Map<string, string>,
): Promise<string | undefined> {
  if (o.locks === undefined) {
    // outside a transaction block: its locks are not visible from this session (it ran, as it must)
    return undefined;
  }
  const indexesAfter = await indexesByTable(engine);
  const now = await relationOids(engine);
  const existing = new Set([...before].filter(([name, oid]) => now.get(name) === oid).map(([name]) => name));
  // TRUNCATE gives the table a new, empty file: no work that grows with the table
  const truncates = parseSql(step.sql).statements[0]?.kind === 'TruncateStmt';
  const worked = new Set<string>([
    ...(truncates ? [] : o.rewritten.filter((r) => existing.has(r))),
    ...(o.seqScans ?? []).filter((r) => existing.has(r)),
    ...[...indexesAfter].filter(([oid, t]) => !indexesBefore.has(oid) && existing.has(t)).map(([, t]) => t),
  ]);
  if (worked.size === 0) return undefined;
  const blocking = [...heldBefore, ...o.locks].filter(
    (l) =>
      existing.has(l.relation) &&
      blocksApplication(l.mode) &&
      (l.kind === 'table' || l.kind === 'partitioned table'),
  );
  if (blocking.length === 0) return undefined;
  return `${[...worked].join(', ')} rewritten/scanned/indexed while holding ${blocking
    .map((l) => `${l.mode} on ${l.relation}`)
    .join(', ')}`;
}

const MAX_DIFFERENCES = 12;

function statusOf(run: PlanRun, diff: string[]): Pick<Proof, 'status' | 'reason' | 'failures' | 'outside'> {
  const failures = [
    ...(run.error ? [`the plan fails: ${run.error}`] : []),
    ...run.unsafe.map((u) => `unsafe: ${u}`),
    // a failed step leaves many differences behind it: the first few say enough
    ...diff.slice(0, MAX_DIFFERENCES).map((d) => `schema: ${d}`),
    ...(diff.length > MAX_DIFFERENCES
      ? [`schema: … and ${diff.length - MAX_DIFFERENCES} more difference(s)`]
      : []),
  ];
  const outside = run.unobserved;
  if (failures.length) return { status: 'FAILED', failures, outside };
  if (run.noOnlinePath.length)
    return { status: 'no online path', reason: run.noOnlinePath.join('; '), failures, outside };
  return { status: 'proven', failures, outside };
}

// ─── rule examples ────────────────────────────────────────────────────────────

/** Runs `setup` on a fresh schema; returns why it failed. */
async function setUp(engine: TraceEngine, setup: string): Promise<string | undefined> {
  await freshSchema(engine);
  for (const s of statementsOf(setup)) {
    try {
      await engine.exec(s);
    } catch (e) {
      return `setup failed: ${(e as Error).message} (in ${oneLine(s, 60)})`;
    }
  }
  return undefined;
}

export async function proveRuleExamples(engine: TraceEngine, observer: Observer): Promise<Proof[]> {
  const v = engine.majorVersion;
  const out: Proof[] = [];
  for (const rule of allRules) {
    for (const [i, example] of rule.examples.entries()) {
      if (!example.bad || example.refuses) continue;
      if ((example.pg?.min ?? 0) > v || v > (example.pg?.max ?? 99)) continue;
      const runner = example.runner ?? 'psql';
      const plan = planMigration(example.bad, { pgVersion: v, runner, unsafe: false });
      if (!plan.changed) continue;
      const id = `${rule.id}#${i}${example.title ? ` (${example.title})` : ''}`;
      try {
        out.push({ id, ...(await proveExample(engine, observer, example, runner, plan)) });
      } catch (e) {
        await engine.exec('ROLLBACK').catch(() => {});
        out.push({ id, status: 'not proven', reason: (e as Error).message, failures: [] });
      }
    }
  }
  await freshSchema(engine);
  return out;
}

async function proveExample(
  engine: TraceEngine,
  observer: Observer,
  example: (typeof allRules)[number]['examples'][number],
  runner: RunnerName,
  plan: MigrationPlan,
): Promise<Omit<Proof, 'id'>> {
  const v = engine.majorVersion;
  const bad = example.bad!;
  if (example.tablespace) {
    const missing = await ensureTablespace(engine, example.tablespace);
    if (missing) return { status: 'not proven', reason: missing, failures: [] };
  }
  const setup = (rows: number) => example.setup ?? genericSetup(bad, rows, v);
  // A: with rows; some examples run only on empty tables (ADD COLUMN … NOT NULL without a default)
  let rows = 10;
  let a: Snapshot | undefined;
  let why: string | undefined;
  for (const n of example.setup === undefined ? [10, 0] : [10]) {
    rows = n;
    why = await setUp(engine, setup(n));
    if (why) continue;
    const error = await runAsRunner(engine, bad, runner, v);
    if (error) {
      why = `the migration fails${n ? ' (with rows)' : ''}: ${error}`;
      continue;
    }
    a = await snapshot(engine);
    break;
  }
  if (!a) return { status: 'not proven', reason: why, failures: [] };
  // B: the same setup on a fresh schema, then the plan, watched
  const setupFailed = await setUp(engine, setup(rows));
  if (setupFailed) return { status: 'not proven', reason: setupFailed, failures: [] };
  const run = await runPlan(engine, observer, plan, await relationOids(engine));
  const b = await snapshot(engine);
  const result = statusOf(run, diffSnapshots(a, b));
  return rows === 0 && result.status !== 'FAILED'
    ? { ...result, reason: [result.reason, 'on empty tables only'].filter(Boolean).join('; ') }
    : result;
}

// ─── corpora ──────────────────────────────────────────────────────────────────

/** How many of a corpus's last migrations are planned and proven. */
const WINDOW = 20;

interface Corpus {
  name: string;
  dir: string;
  runner: RunnerName;
  /** migration files in the runner's order */
  files: string[];
  /** what the database has before the first migration (a schema the history assumes) */
  preamble: string;
}

/**
 * The corpora of plain SQL migrations. Prisma and Drizzle corpora are told apart by where their
 * files came from (the `.tsv` beside them); supabase auth (rendered gobuffalo/pop migrations)
 * runs each file in a transaction in a database that has an `auth` schema.
 */
export function findCorpora(root: string): Corpus[] {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return [];
  }
  const out: Corpus[] = [];
  for (const name of names) {
    const dir = join(root, name);
    if (!statSync(dir).isDirectory()) continue;
    // the runner's order: code point order of names (a Prisma folder's name is the file's)
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    if (files.length === 0) continue;
    const tsv = names.find((n) => n.endsWith('.tsv') && name.startsWith(n.slice(0, -4)));
    const sources = tsv ? readFileSync(join(root, tsv), 'utf8') : '';
    const runner: RunnerName = /prisma\/migrations\//.test(sources)
      ? 'prisma'
      : /drizzle/.test(name) || /\/drizzle\//.test(sources)
        ? 'drizzle'
        : 'transaction-per-file';
    const preamble = /supabase-auth/.test(name) ? 'CREATE SCHEMA IF NOT EXISTS auth;' : '';
    out.push({ name, dir, runner, files, preamble });
  }
  return out;
}

/** A few rows in every empty table, the same in A and B (deterministic values), best effort. */
async function seedRows(engine: TraceEngine): Promise<void> {
  const columns = await engine.query(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t, quote_ident(a.attname) AS col,
            format_type(a.atttypid, a.atttypmod) AS type, y.typcategory::text AS cat, y.typtype::text AS typtype,
            a.atttypid::text AS typid, a.attnum
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type y ON y.oid = a.atttypid
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_SCHEMA('n.nspname')}
        AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = ''
      ORDER BY 1, a.attnum`,
  );
  const tables = await engine.query(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_SCHEMA('n.nspname')} ORDER BY 1`,
  );
  const seedValue = (c: Record<string, unknown>): string | undefined => {
    const type = String(c.type);
    if (c.typtype === 'e')
      return `(SELECT enumlabel::${type} FROM pg_enum WHERE enumtypid = ${c.typid} ORDER BY enumsortorder LIMIT 1)`;
    if (/^uuid$/.test(type)) return `('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid`;
    if (/^jsonb?$/.test(type)) return `'{}'::${type}`;
    switch (c.cat) {
      case 'N':
        return `g::${type}`;
      case 'S':
        return `('v' || g)::${type}`;
      case 'B':
        return 'false';
      case 'D':
        return `(timestamp '2020-01-01' + g * interval '1 day')::${type}`;
      case 'A':
        return `'{}'::${type}`;
      default:
        return undefined;
    }
  };
  const pending: string[] = [];
  for (const { t } of tables) {
    const [row] = await engine.query(`SELECT EXISTS (SELECT FROM ${t}) AS has`);
    if (row?.has === true || row?.has === 't') continue;
    const cols = columns.filter((c) => c.t === t);
    const values = cols.map(seedValue);
    if (values.some((x) => x === undefined)) continue;
    const list = cols.length ? `(${cols.map((c) => c.col).join(', ')})` : '';
    pending.push(
      cols.length
        ? `INSERT INTO ${t} ${list} SELECT ${values.join(', ')} FROM generate_series(1, 3) g`
        : `INSERT INTO ${t} SELECT FROM generate_series(1, 3) g`,
    );
  }
  // tables referenced by foreign keys first: retried while some insert succeeds
  for (let pass = 0; pass < 4 && pending.length; pass++) {
    let progress = false;
    for (const sql of [...pending]) {
      try {
        await engine.exec(sql);
        pending.splice(pending.indexOf(sql), 1);
        progress = true;
      } catch {
        // a constraint the deterministic values do not meet: tried again after the other tables
      }
    }
    if (!progress) break;
  }
}

/** Empties every user table of both databases (a migration that fails on the seeded rows is retried without). */
async function truncateAll(engine: TraceEngine): Promise<void> {
  const rows = await engine.query(
    `SELECT string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', ') AS list
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA('n.nspname')}`,
  );
  const list = rows[0]?.list;
  if (list) await engine.exec(`TRUNCATE ${String(list)} CASCADE`);
}

/** Applies a history migration with plain statements: the whole file at once, else statement by statement. */
async function applyHistory(engine: TraceEngine, sql: string): Promise<string[]> {
  try {
    await engine.exec(sql);
    return [];
  } catch {
    await engine.exec('ROLLBACK').catch(() => {});
  }
  const errors: string[] = [];
  for (const s of statementsOf(sql)) {
    try {
      await engine.exec(s);
    } catch (e) {
      errors.push(`${(e as Error).message} (in ${oneLine(s, 60)})`);
    }
  }
  return errors;
}

/**
 * One corpus on two fresh databases of the engine `start` makes (they are closed here).
 */
export async function proveCorpus(
  corpus: Corpus,
  start: () => Promise<TraceEngine>,
  pgVersion: number,
): Promise<CorpusProof> {
  const result: CorpusProof = {
    corpus: corpus.name,
    runner: corpus.runner,
    migrations: 0,
    findings: 0,
    plans: 0,
    proofs: [],
    historyErrors: 0,
  };
  const cut = Math.max(0, corpus.files.length - WINDOW);
  const read = (f: string) => readFileSync(join(corpus.dir, f), 'utf8');
  const model = runnerModel(corpus.runner);
  let schema: KnownSchema | undefined;
  const engines: TraceEngine[] = [];
  /** where it stopped, should it stop */
  let stage = 'starting the databases';
  try {
    const a = await start();
    engines.push(a);
    const b = await start();
    engines.push(b);
    const observer = new Observer(b);
    for (const e of engines) {
      if (corpus.preamble) await e.exec(corpus.preamble);
      // gen_random_uuid() is core from PG 13, pgcrypto's before (as the generic setup does)
      if (pgVersion < 13) await e.exec('CREATE EXTENSION IF NOT EXISTS pgcrypto');
    }
    // PGlite starts afresh after a statement it had to stop: the history would be gone
    const generations = engines.map((e) => e.generation ?? 0);
    const restarted = () => engines.some((e, i) => (e.generation ?? 0) !== generations[i]);
    for (const f of corpus.files.slice(0, cut)) {
      stage = `history ${f}`;
      const sql = read(f);
      const errors = await applyHistory(a, sql);
      await applyHistory(b, sql);
      result.historyErrors += errors.length;
      if (errors.length && !result.firstHistoryError) result.firstHistoryError = `${f}: ${errors[0]}`;
      schema = schemaAfter(sql, { pgVersion, runner: model, schema });
    }
    for (const f of corpus.files.slice(cut)) {
      if (restarted()) throw new Error('the database was started afresh (a statement ran too long)');
      stage = f;
      const sql = read(f);
      result.migrations++;
      const plan = planMigration(sql, {
        pgVersion,
        runner: corpus.runner,
        unsafe: false,
        path: f,
        ...(schema ? { schema: copySchema(schema) } : {}),
      });
      result.findings += plan.findings.length;
      schema = schemaAfter(sql, { pgVersion, runner: model, schema });
      const id = `${corpus.name}/${f}`;
      stage = `${f} (original, unchanged plan)`;
      if (!plan.changed) {
        const error = await runAsRunner(a, sql, corpus.runner, pgVersion);
        await runAsRunner(b, sql, corpus.runner, pgVersion);
        if (error) result.firstHistoryError ??= `${f}: ${error}`;
        continue;
      }
      result.plans++;
      stage = `${f} (seeding)`;
      const before = diffSnapshots(await snapshot(a), await snapshot(b));
      await seedRows(a);
      await seedRows(b);
      stage = `${f} (the migration)`;
      let error = await runAsRunner(a, sql, corpus.runner, pgVersion);
      let emptied = false;
      if (error) {
        // with rows it may fail where an empty table would not (a required column without a default)
        await truncateAll(a);
        await truncateAll(b);
        emptied = true;
        error = await runAsRunner(a, sql, corpus.runner, pgVersion);
      }
      if (error) {
        // B stays as A is (the runner rolled the migration back, or a later diff shows it)
        result.proofs.push({
          id,
          status: 'not proven',
          reason: `the migration fails: ${error}`,
          failures: [],
        });
        continue;
      }
      stage = `${f} (the plan)`;
      const run = await runPlan(b, observer, plan, await relationOids(b));
      stage = `${f} (comparing)`;
      const seen = new Set(before);
      const diff = diffSnapshots(await snapshot(a), await snapshot(b)).filter((d) => !seen.has(d));
      const proof: Proof = { id, ...statusOf(run, diff) };
      const notes = [
        proof.reason,
        emptied ? 'on empty tables only' : undefined,
        before.length
          ? `A and B differed before it: ${before.length} difference(s), e.g. ${before[0]}`
          : undefined,
      ].filter(Boolean);
      if (notes.length) proof.reason = notes.join('; ');
      result.proofs.push(proof);
    }
  } catch (e) {
    result.notRun = `${stage}: ${(e as Error).message}`;
  } finally {
    await Promise.all(engines.map((e) => e.close().catch(() => {})));
  }
  return result;
}

/** Corpora on this engine? `PG_MATRIX_FIX_CORPORA`: `all`, `none`, or a list (default below). */
export function corporaWanted(label: string): boolean {
  const env = (process.env.PG_MATRIX_FIX_CORPORA ?? DEFAULT_CORPORA_ENGINES).trim();
  if (env === 'all') return true;
  return env
    .split(',')
    .map((s) => s.trim())
    .includes(label);
}

/**
 * The corpora cost ~35 s a server and ~70 s on PGlite (twice the matrix's other parts): by default
 * the oldest and newest server and PGlite, which the other versions have matched so far.
 */
const DEFAULT_CORPORA_ENGINES = 'pglite,11,18';

export const CORPORA_ROOT = process.env.PG_MATRIX_CORPORA ?? '/work/shared/corpora';

/** The whole phase on one engine: the examples on it, the corpora on fresh engines like it. */
export async function proveFixes(
  engine: TraceEngine,
  observer: Observer,
  label: string,
  start: () => Promise<TraceEngine>,
): Promise<FixProofRun> {
  const run: FixProofRun = { examples: await proveRuleExamples(engine, observer), corpora: [] };
  if (!corporaWanted(label)) {
    run.corporaSkipped = process.env.PG_MATRIX_FIX_CORPORA
      ? `not on this engine (PG_MATRIX_FIX_CORPORA=${process.env.PG_MATRIX_FIX_CORPORA})`
      : `by default only on ${DEFAULT_CORPORA_ENGINES}, being slow (~35 s a server): PG_MATRIX_FIX_CORPORA=all runs them everywhere`;
    return run;
  }
  const corpora = findCorpora(CORPORA_ROOT);
  if (corpora.length === 0) run.corporaSkipped = `no corpora of SQL migrations in ${CORPORA_ROOT}`;
  for (const corpus of corpora) {
    process.stderr.write(` [${corpus.name}]`);
    run.corpora.push(await proveCorpus(corpus, start, engine.majorVersion));
  }
  return run;
}
