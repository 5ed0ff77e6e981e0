/**
 * `pgkeel fix`'s plan for one migration. Each unsafe statement becomes its safe sequence (the rules'
 * fixes, or their plans where an edit cannot say it), and the steps are grouped into units: each
 * one transaction or autocommit, with one timeout class, split where Postgres requires it (a step
 * that cannot run in a transaction block) and where safety does (a long step after a lock that
 * blocks traffic: NOT VALID then VALIDATE), and at the deploy boundaries of expand/contract.
 * Layouts (fix/layouts.ts) write the units out for the runner that applies them.
 */

import { Analyzer, copySchema, type KnownSchema, type StatementFacts } from '../analyze/analyze.js';
import { quoteIdent } from '../analyze/ast.js';
import { asNode } from '../analyze/nodes.js';
import { runnerModel } from '../analyze/runners.js';
import { transactionControl } from '../analyze/transaction-control.js';
import { blocksApplication, type LockMode } from '../catalog/locks.js';
import type { RunnerName } from '../config/types.js';
import type { Diagnostic, FixSafety, ProposedStep } from '../diagnostics.js';
import { type LintOptions, lintSqlSync } from '../lint/lint.js';
import { openSource, type Statement } from '../parse/parse.js';
import { commitsInBody, EmbeddedSql } from '../parse/plpgsql.js';
import { DONE_BY_PLAN_STEPS } from '../rules/define.js';
import { allRules } from '../rules/index.js';
import { LONG_LOCK_TIMEOUT } from '../rules/recipes.js';
import { blank } from '../sources/detect.js';

/**
 * How a step may wait for its lock and how long it may run:
 * - `none`: it locks nothing that existed before the migration;
 * - `brief`: a lock on an existing table, held briefly: a short lock_timeout, so that waiting for it
 *   never queues traffic for long;
 * - `long`: a scan, build or backfill under a lock that lets traffic through (CREATE INDEX
 *   CONCURRENTLY, VALIDATE, batched UPDATE): no statement_timeout (a short one kills it), and a
 *   lock_timeout of its own (a concurrent build waits for every older transaction).
 */
export type TimeoutClass = 'none' | 'brief' | 'long';

/** The settings each class runs with. */
export const TIMEOUT_SETTINGS: Record<
  Exclude<TimeoutClass, 'none'>,
  { lockTimeout: string; statementTimeout?: string }
> = {
  brief: { lockTimeout: '2s' },
  long: { lockTimeout: LONG_LOCK_TIMEOUT, statementTimeout: '0' },
};

export interface PlanStep {
  /** one statement, without its `;` */
  sql: string;
  /** comments written before the original statement, carried with its first step */
  comments?: string;
  /** index of the original statement it comes from */
  origin: number;
  /** the plan changed or added it (not the original statement's text) */
  changed: boolean;
  timeout: TimeoutClass;
  /** Postgres refuses it inside a transaction block */
  outsideTransaction: boolean;
  /**
   * it holds a lock that blocks application queries for a time that grows with the table: the plan
   * found no online path for it (why, one sentence)
   */
  blocking?: string;
  /** the application must change before it runs */
  deployBefore?: string;
  /** a batched backfill that commits as it goes (see ProposedStep.batches) */
  batches?: boolean;
  /** opens a transaction the next `continue` steps join (see ProposedStep.transaction) */
  together?: 'begin' | 'continue';
  /** what it did must be committed before the next step (an enum value added: using it earlier fails) */
  commitAfter?: boolean;
  /** keys of the relations it locks */
  relations: string[];
  /** the top-level statement's kind (`DropStmt`, …) */
  kind: string;
  /** the relations that existed before the migration which it locks: the mode, and whether it blocks traffic */
  existingLocks: { key: string; relation: string; mode: LockMode; blocksTraffic: boolean }[];
  /**
   * a CREATE INDEX CONCURRENTLY of an index no earlier migration made: a failed attempt leaves it
   * INVALID, and a rerun must drop it first (its name as written, schema-qualified like its table)
   */
  buildsNewIndex?: string;
}

/** A step before the planner has read it: what it classifies is computed from the catalog. */
type StepText = Omit<
  PlanStep,
  'timeout' | 'outsideTransaction' | 'blocking' | 'relations' | 'existingLocks' | 'commitAfter' | 'kind'
>;

export interface PlanUnit {
  /** its steps run in one transaction; otherwise each runs on its own (autocommit) */
  transaction: boolean;
  timeout: TimeoutClass;
  steps: PlanStep[];
  /** an application deploy must come before this unit: what must change */
  deployBefore?: string;
}

/** What the plan did for one finding's statement. */
export interface PlanChange {
  statement: number;
  rule: string;
  title: string;
  safety: FixSafety;
  /** a rule's plan (a sequence across transactions or deploys), not an in-place fix */
  planned: boolean;
}

export interface MigrationPlan {
  path: string;
  pgVersion: number;
  runner: RunnerName;
  units: PlanUnit[];
  /** the fixes and plans used, per statement */
  changes: PlanChange[];
  /** the plan differs from the migration (a statement replaced, a transaction split, a setting moved) */
  changed: boolean;
  /** the migration's findings */
  findings: Diagnostic[];
  /** the findings left on the plan (its annotated SQL, linted): what it could not make safe */
  remaining: Diagnostic[];
  /** unsafe fixes left out because `unsafe` was not set */
  unsafeSkipped: number;
  /** Postgres cannot parse the migration: nothing was planned */
  parseErrors: number;
}

export interface PlanOptions
  extends Pick<
    LintOptions,
    | 'pgVersion'
    | 'runner'
    | 'noTransaction'
    | 'presets'
    | 'rules'
    | 'only'
    | 'enable'
    | 'disable'
    | 'timeouts'
  > {
  path?: string;
  /** the schema the earlier migrations leave (copied, not consumed) */
  schema?: KnownSchema;
  /** use fixes classified unsafe too */
  unsafe?: boolean;
  /** indexes of statements to run as batched backfills, as if marked `-- pgkeel:batch` */
  batch?: ReadonlySet<number>;
  /**
   * false: the migration's own statements, only grouped into steps (`pgkeel run` executes what was
   * written, with the plan's transactions and timeout classes); default true
   */
  rewrite?: boolean;
  /** the analyser's final state of the migration as it is (to hand its schema to the next one) */
  onAnalyzed?: LintOptions['onAnalyzed'];
}

/**
 * Rules whose advice the units themselves carry out (every unit sets its timeouts): their fixes,
 * which add a SET at the top of the file, are not used.
 */
const DONE_BY_UNITS = new Set(DONE_BY_PLAN_STEPS);

const HAZARD_OF = new Map(allRules.map((r) => [r.id, r.hazard]));

/** The plan for one migration's SQL. Call after `loadParser()`. */
export function planMigration(sql: string, options: PlanOptions = {}): MigrationPlan {
  const runner = options.runner ?? 'psql';
  const pgVersion = options.pgVersion ?? 18;
  const path = options.path ?? '<input>';
  const schemaCopy = () => (options.schema ? copySchema(options.schema) : undefined);
  const lintWith: LintOptions = {
    pgVersion,
    runner,
    noTransaction: options.noTransaction,
    presets: options.presets,
    rules: options.rules,
    only: options.only,
    enable: options.enable,
    disable: options.disable,
    timeouts: options.timeouts,
    path,
  };

  // 1. the migration as it is: its findings, its statements and the transaction each runs in
  const statements: { stmt: Statement; transaction: number | undefined }[] = [];
  const original = lintSqlSync(sql, {
    ...lintWith,
    schema: schemaCopy(),
    ...(options.onAnalyzed ? { onAnalyzed: options.onAnalyzed } : {}),
    onFacts: (f) => statements.push({ stmt: f.statement, transaction: f.transaction?.id }),
  });
  const parseErrors = original.diagnostics.filter((d) => d.rule === 'parse-error').length;
  const base = { path, pgVersion, runner, findings: original.diagnostics };
  if (parseErrors > 0) {
    return { ...base, units: [], changes: [], changed: false, remaining: [], unsafeSkipped: 0, parseErrors };
  }

  // 2. the same statements each as if alone outside a transaction: the fixes and plans that need one
  // (what a ROLLBACK undoes blanked out: the planning analyser sees no transactions to roll back)
  const undone = rolledBack(statements);
  let planningSql = sql;
  for (const { stmt } of statements) {
    if (!undone.has(stmt.index)) continue;
    const end = sql[stmt.end] === ';' ? stmt.end + 1 : stmt.end;
    planningSql = blank(planningSql, stmt.start, end);
  }
  const planning =
    options.rewrite === false
      ? undefined
      : lintSqlSync(planningSql, { ...lintWith, schema: schemaCopy(), planning: true });
  // by the original statement whose text holds the finding (blanking renumbers the statements)
  const byStatement = new Map<number, Diagnostic[]>();
  for (const d of planning?.diagnostics ?? []) {
    const at = statementAt(statements, d.start);
    if (at === undefined) continue;
    const list = byStatement.get(at);
    if (list) list.push(d);
    else byStatement.set(at, [d]);
  }

  // 3. the steps: each statement's replacement, or the statement itself
  const changes: PlanChange[] = [];
  let unsafeSkipped = 0;
  const proposed: StepText[] = [];
  let previousEnd = 0;
  let batchesMarked = 0;
  for (const { stmt } of statements) {
    const written = commentsBetween(sql, previousEnd, stmt.start);
    previousEnd = stmt.end;
    // statements the runner is asked to batch (`pgkeel run --batch-unbatched`) carry the directive
    const markBatch =
      options.batch?.has(stmt.index) === true &&
      (stmt.kind === 'UpdateStmt' || stmt.kind === 'DeleteStmt') &&
      !/--\s*pgkeel:batch\b/.test(written ?? '');
    const comments = markBatch ? [written, '-- pgkeel:batch'].filter(Boolean).join('\n') : written;
    if (markBatch) batchesMarked++;
    // what a ROLLBACK undoes never happened: the plan must not commit it
    if (undone.has(stmt.index)) continue;
    if (transactionControl(stmt) || setsTimeout(stmt)) {
      // the units open their own transactions and set their own timeouts
      continue;
    }
    const chosen =
      options.rewrite === false
        ? { steps: [{ sql: stmt.text }], unsafeSkipped: 0 }
        : replacementOf(stmt, byStatement.get(stmt.index) ?? [], options.unsafe === true);
    unsafeSkipped += chosen.unsafeSkipped;
    if (chosen.change) changes.push(chosen.change);
    // `-- pgkeel:batch`: the data change runs in committed batches (pgkeel run), outside a transaction
    const batched = /--\s*pgkeel:batch\b/.test(comments ?? '');
    chosen.steps.forEach((s, i) => {
      proposed.push({
        sql: s.sql,
        ...(i === 0 && comments ? { comments } : {}),
        origin: stmt.index,
        changed: chosen.change !== undefined,
        ...(s.deployBefore ? { deployBefore: s.deployBefore } : {}),
        ...(s.batches || (batched && chosen.steps.length === 1) ? { batches: true } : {}),
        ...(s.transaction ? { together: s.transaction } : {}),
      });
    });
  }

  // 4. what each step locks and for how long, on the schema as it stands before it
  const classified = classifySteps(proposed, pgVersion, schemaCopy());
  const steps = options.rewrite === false ? classified : dropLeftovers(classified);

  // 5. the units
  const transactionOf = new Map(statements.map((s) => [s.stmt.index, s.transaction]));
  const units = groupUnits(contractLast(steps), transactionOf);
  const originalTransactions = new Set(statements.map((s) => s.transaction).filter((t) => t !== undefined));
  const transactionalUnits = units.filter((u) => u.transaction).length;
  // a transaction split in several, or a statement taken out of its transaction
  const split =
    transactionalUnits > originalTransactions.size ||
    units.some(
      (u) =>
        u.deployBefore || (!u.transaction && u.steps.some((s) => transactionOf.get(s.origin) !== undefined)),
    );
  // the units' own timeouts change the file only where it lacked them
  const changed =
    changes.length > 0 ||
    split ||
    batchesMarked > 0 ||
    original.diagnostics.some((d) => DONE_BY_UNITS.has(d.rule));

  // 6. what is left: the plan's own SQL, linted as psql runs it
  const remaining = changed
    ? remainingFindings({ ...base, units }, lintWith, schemaCopy())
    : original.diagnostics;

  return { ...base, units, changes, changed, remaining, unsafeSkipped, parseErrors: 0 };
}

/**
 * The findings on the plan's own SQL, linted as psql runs it — less those about breaking clients on
 * steps that come after a deploy boundary: the deploy is the answer to them.
 */
function remainingFindings(
  plan: Pick<MigrationPlan, 'path' | 'pgVersion' | 'units'>,
  lintWith: LintOptions,
  schema: KnownSchema | undefined,
): Diagnostic[] {
  const { text, unitStarts } = renderPlan(plan);
  const linted = lintSqlSync(text, { ...lintWith, runner: 'psql', noTransaction: false, schema });
  const afterDeploy = (offset: number) => {
    let unit = 0;
    while (unit + 1 < unitStarts.length && unitStarts[unit + 1]! <= offset) unit++;
    return plan.units.slice(0, unit + 1).some((u) => u.deployBefore);
  };
  return linted.diagnostics.filter(
    (d) => !(HAZARD_OF.get(d.rule) === 'breaks-clients' && afterDeploy(d.start)),
  );
}

/** The index of the statement whose text holds `offset` (statements are in file order). */
function statementAt(statements: readonly { stmt: Statement }[], offset: number): number | undefined {
  let lo = 0;
  let hi = statements.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const { stmt } = statements[mid]!;
    if (offset < stmt.start) hi = mid - 1;
    else if (offset > stmt.end) lo = mid + 1;
    else return stmt.index;
  }
  return undefined;
}

/**
 * The statements a ROLLBACK (or ROLLBACK TO SAVEPOINT) of the migration undoes, by index: the plan
 * leaves them out, as Postgres does.
 */
function rolledBack(
  statements: readonly { stmt: Statement; transaction: number | undefined }[],
): Set<number> {
  const undone = new Set<number>();
  const savepoints: { name: string; at: number }[] = [];
  statements.forEach(({ stmt, transaction }, at) => {
    const control = transactionControl(stmt);
    if (!control || transaction === undefined) return;
    const undo = (from: number) => {
      for (let i = from; i < at; i++)
        if (statements[i]!.transaction === transaction) undone.add(statements[i]!.stmt.index);
    };
    if (control.kind === 'savepoint') savepoints.push({ name: control.name, at });
    else if (control.kind === 'release') {
      const i = savepoints.map((p) => p.name).lastIndexOf(control.name);
      if (i >= 0) savepoints.length = i;
    } else if (control.kind === 'rollback-to') {
      const i = savepoints.map((p) => p.name).lastIndexOf(control.name);
      if (i >= 0) {
        undo(savepoints[i]!.at + 1);
        savepoints.length = i + 1;
      }
    } else if (control.kind === 'rollback') {
      undo(0);
      savepoints.length = 0;
    } else if (control.kind === 'commit') savepoints.length = 0;
  });
  return undone;
}

/** Comments in the text between two statements (what a reader wrote about the next one). */
function commentsBetween(sql: string, from: number, to: number): string | undefined {
  const gap = sql.slice(from, to).replace(/^;/, '');
  const lines = gap
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '' && !RUNNER_MARKER.test(l));
  if (lines.length === 0 || !lines.every((l) => /^\s*(--|\/\*|\*)/.test(l))) return undefined;
  return lines.join('\n');
}

/** The runners' own comment lines, which layouts write themselves. */
const RUNNER_MARKER = /^\s*--\s*(\+goose\b|migrate:(up|down)\b)|^\s*-->\s*statement-breakpoint/i;

/** SET / RESET / SET LOCAL of lock_timeout or statement_timeout. */
function setsTimeout(stmt: Statement): boolean {
  const set = asNode(stmt.node, 'VariableSetStmt');
  return set !== undefined && (set.name === 'lock_timeout' || set.name === 'statement_timeout');
}

/**
 * What a statement becomes: the first plan a rule made for it, else its fixes' edits (those inside
 * the statement), else itself. Fixes of schema-design rules are not the plan's business.
 */
function replacementOf(
  stmt: Statement,
  diagnostics: readonly Diagnostic[],
  unsafe: boolean,
): { steps: ProposedStep[]; change?: PlanChange; unsafeSkipped: number } {
  let unsafeSkipped = 0;
  const usable = diagnostics.filter((d) => {
    if (DONE_BY_UNITS.has(d.rule) || HAZARD_OF.get(d.rule) === 'schema-design') return false;
    const safety = d.plan?.safety ?? d.fix?.safety;
    if (!d.plan && !d.fix?.edits.length) return false;
    if (safety !== 'safe' && !unsafe) {
      unsafeSkipped++;
      return false;
    }
    return true;
  });
  const planned = usable.find((d) => d.plan);
  if (planned?.plan) {
    const p = planned.plan;
    return {
      steps: p.steps,
      change: { statement: stmt.index, rule: planned.rule, title: p.title, safety: p.safety, planned: true },
      unsafeSkipped,
    };
  }
  const fix = usable.find((d) => d.fix?.edits.every((e) => e.start >= stmt.start && e.end <= stmt.end));
  if (!fix?.fix) return { steps: [{ sql: stmt.text }], unsafeSkipped };
  let text = stmt.text;
  for (const e of [...fix.fix.edits].sort((a, b) => b.start - a.start))
    text = text.slice(0, e.start - stmt.start) + e.text + text.slice(e.end - stmt.start);
  // a BEGIN … COMMIT in the fix's text: its statements must commit together
  const steps: ProposedStep[] = [];
  let open: 'begin' | 'continue' | undefined;
  for (const item of openSource(text).items()) {
    const control = item.type === 'statement' ? transactionControl(item) : undefined;
    if (control?.kind === 'begin') open = 'begin';
    else if (control) open = undefined;
    else {
      steps.push({ sql: text.slice(item.start, item.end).trim(), ...(open ? { transaction: open } : {}) });
      if (open) open = 'continue';
    }
  }
  return {
    steps,
    change: {
      statement: stmt.index,
      rule: fix.rule,
      title: fix.fix.title,
      safety: fix.fix.safety ?? 'unsafe',
      planned: false,
    },
    unsafeSkipped,
  };
}

/**
 * Each step's timeout class, whether it must run outside a transaction block, and whether it still
 * blocks traffic for long — from the catalog's facts, analysed in order on the schema before it.
 */
function classifySteps(
  proposed: readonly StepText[],
  pgVersion: number,
  schema: KnownSchema | undefined,
): PlanStep[] {
  const text = proposed.map((s) => `${s.sql};\n`).join('');
  const source = openSource(text);
  const analyzerFor = (known: KnownSchema | undefined) =>
    new Analyzer({ pgVersion, runner: runnerModel('psql'), planning: true, schema: known });
  let analyzer = analyzerFor(schema);
  const out: PlanStep[] = [];
  const embedded = new EmbeddedSql(source);
  for (const item of source.items()) {
    const step = proposed[item.index];
    if (!step) break;
    if (item.type === 'error') throw new Error(`a planned step does not parse: ${item.message}: ${step.sql}`);
    if (step.deployBefore) {
      // a later release: what this migration created before the boundary exists, and has users
      analyzer.finish();
      analyzer = analyzerFor(analyzer.state.leave());
    }
    // the statement and those its DO block or called functions run
    const all: StatementFacts[] = [];
    const one = (stmt: Statement, depth: number): void => {
      const facts = analyzer.analyze(stmt);
      all.push(facts);
      analyzer.apply(facts);
      embedded.run(stmt, depth, analyzer, one);
    };
    one(item, 0);
    const index = newConcurrentIndex(all[0]!);
    // an enum value can be used only once the transaction that added it has committed
    const commitAfter = all.some((f) =>
      f.actions.some(
        (a) =>
          a.op === 'alter-type-add-value' ||
          (a.op === 'alter-type-add-value-new-type' && !a.facts.newValueUsableWhenTypeIsNew),
      ),
    );
    out.push({
      ...step,
      ...(step.batches || commitsInBody(item)
        ? { timeout: 'long' as const, outsideTransaction: true }
        : mergedFacts(all.map(stepFacts))),
      relations: all.flatMap((f) => f.locks.map((l) => l.relation.key)),
      kind: item.kind,
      existingLocks: all.flatMap((f) =>
        f.locks
          .filter((l) => !l.isNew)
          .map((l) => ({
            key: l.relation.key,
            relation: l.relation.display,
            mode: l.mode,
            blocksTraffic: blocksApplication(l.mode),
          })),
      ),
      ...(index ? { buildsNewIndex: index } : {}),
      ...(commitAfter ? { commitAfter } : {}),
    });
  }
  analyzer.finish();
  return out;
}

/** The index a CREATE INDEX CONCURRENTLY builds, when no earlier migration of the history made it. */
function newConcurrentIndex(facts: StatementFacts): string | undefined {
  const build = facts.actions.find((a) => a.op === 'create-index-concurrently');
  const name = asNode(facts.statement.node, 'IndexStmt')?.idxname;
  const table = build?.relations.table;
  if (!build || !name || !table || facts.isNew(table)) return undefined;
  const schema = table.key.slice(0, table.key.lastIndexOf('.'));
  if (facts.state.knownRelations.has(`${schema}.${name}`)) return undefined;
  return concurrentIndexName(facts.statement.node);
}

/** The index a CREATE [UNIQUE] INDEX CONCURRENTLY builds, as SQL names it (schema-qualified like its table). */
export function concurrentIndexName(node: unknown): string | undefined {
  const s = asNode(node, 'IndexStmt');
  if (!s?.concurrent || !s.idxname) return undefined;
  const schema = s.relation?.schemaname;
  return schema ? `${quoteIdent(schema)}.${quoteIdent(s.idxname)}` : quoteIdent(s.idxname);
}

/**
 * Before each concurrent build the plan made (or one written IF NOT EXISTS, which would skip an
 * INVALID leftover and report success), a DROP INDEX CONCURRENTLY IF EXISTS of the same name: a rerun
 * after a failed build then starts clean. No earlier migration made the index, so only a leftover
 * of this migration can be there.
 */
function dropLeftovers(steps: readonly PlanStep[]): PlanStep[] {
  const out: PlanStep[] = [];
  for (const step of steps) {
    if (step.buildsNewIndex && (step.changed || /\bIF\s+NOT\s+EXISTS\b/i.test(step.sql))) {
      out.push({
        sql: `DROP INDEX CONCURRENTLY IF EXISTS ${step.buildsNewIndex}`,
        origin: step.origin,
        changed: true,
        timeout: 'long',
        outsideTransaction: true,
        relations: step.relations,
        existingLocks: step.existingLocks,
        // it drops only a leftover of this very build: for ordering it is part of the build
        kind: step.kind,
        ...(step.comments ? { comments: step.comments } : {}),
        ...(step.deployBefore ? { deployBefore: step.deployBefore } : {}),
      });
      const { comments: _, deployBefore: __, ...rest } = step;
      out.push({ ...rest, changed: true });
    } else out.push(step);
  }
  return out;
}

/** A step that runs several statements (a DO block): the strictest of each. */
function mergedFacts(
  list: readonly Pick<PlanStep, 'timeout' | 'outsideTransaction' | 'blocking'>[],
): Pick<PlanStep, 'timeout' | 'outsideTransaction' | 'blocking'> {
  const blocking = list.find((f) => f.blocking)?.blocking;
  return {
    // a statement that holds a traffic-blocking lock waits for it briefly, even in a long block
    timeout: list.some((f) => f.timeout === 'brief' || f.blocking)
      ? 'brief'
      : list.some((f) => f.timeout === 'long')
        ? 'long'
        : 'none',
    outsideTransaction: list.some((f) => f.outsideTransaction),
    ...(blocking ? { blocking } : {}),
  };
}

const DATA_CHANGES = new Set(['update', 'delete', 'merge']);

function stepFacts(facts: StatementFacts): Pick<PlanStep, 'timeout' | 'outsideTransaction' | 'blocking'> {
  const outsideTransaction = facts.actions.some((a) => a.facts.noTransactionBlock);
  const existing = facts.locks.filter((l) => !l.isNew);
  if (existing.length === 0) return { timeout: 'none', outsideTransaction };
  // a concurrent build, drop or detach waits for every older transaction: a short lock_timeout
  // cancels it; the lock it ends with on the index or partition is brief, not held while it works
  if (facts.actions.some((a) => a.detail?.concurrently)) return { timeout: 'long', outsideTransaction };
  const long = facts.actions.some((a) => {
    const target = a.relations[a.facts.target ?? 'table'];
    if (target && facts.isNew(target)) return false;
    return a.facts.rewrite || a.facts.scan || a.facts.indexBuild || DATA_CHANGES.has(a.op);
  });
  if (!long) return { timeout: 'brief', outsideTransaction };
  const blocker = existing.find((l) => blocksApplication(l.mode));
  if (!blocker) return { timeout: 'long', outsideTransaction };
  // no online path: wait briefly for the lock, and say that holding it lasts
  return {
    timeout: 'brief',
    outsideTransaction,
    blocking: `holds ${blocker.mode as LockMode} on ${blocker.relation.display} while it ${longWork(facts)}`,
  };
}

function longWork(facts: StatementFacts): string {
  const f = facts.actions.map((a) => a.facts);
  if (f.some((x) => x.rewrite)) return 'rewrites the table';
  if (f.some((x) => x.indexBuild)) return 'builds an index';
  if (f.some((x) => x.scan)) return 'scans the table';
  return 'changes rows';
}

/**
 * A step that waits for a deploy (the contract of expand/contract) moves after the steps that
 * follow it when none of them touches what it locks: they need no deploy and stay in this release.
 */
function contractLast(steps: readonly PlanStep[]): PlanStep[] {
  const out = [...steps];
  for (let i = out.length - 1; i >= 0; i--) {
    const step = out[i]!;
    if (!step.deployBefore) continue;
    const later = out.slice(i + 1).filter((s) => !s.deployBefore);
    // a later drop may need this one first (a type the dropped table uses): the order stays
    if (
      later.length === 0 ||
      later.some((s) => s.kind === 'DropStmt' || s.relations.some((r) => step.relations.includes(r)))
    )
      continue;
    out.splice(i, 1);
    // after the last step that needs no deploy
    let at = out.length;
    while (at > i && out[at - 1]!.deployBefore) at--;
    out.splice(at, 0, step);
  }
  return out;
}

/**
 * Steps into units. A new unit starts where the original transaction changes, where a step cannot
 * run in the transaction block the others run in (and after it), at a deploy boundary, and where the
 * timeout class changes between brief and long: a long step must not run while the transaction
 * holds a lock that blocks traffic (it would hold it for the whole scan), and a brief lock must not
 * be waited for with a long step's patience.
 */
function groupUnits(
  steps: readonly PlanStep[],
  transactionOf: ReadonlyMap<number, number | undefined>,
): PlanUnit[] {
  const units: (PlanUnit & { group: number | undefined })[] = [];
  let current: (PlanUnit & { group: number | undefined }) | undefined;
  for (const step of steps) {
    if (step.together === 'continue' && current) {
      current.transaction = true;
      current.steps.push(step);
      if (current.timeout === 'none' || step.timeout === 'brief') current.timeout = step.timeout;
      continue;
    }
    const group = transactionOf.get(step.origin);
    const transaction = step.together === 'begin' || (group !== undefined && !step.outsideTransaction);
    const classClash =
      current !== undefined &&
      current.timeout !== 'none' &&
      step.timeout !== 'none' &&
      current.timeout !== step.timeout;
    // a step with no online path holds its blocking lock for long: nothing else shares that time
    const alone = step.blocking !== undefined || current?.steps.some((s) => s.blocking) === true;
    // nor does a transaction that blocks traffic on one table wait for a lock on another
    const waitsHolding = current?.transaction === true && waitsWhileBlocking(current.steps, step);
    const committed = current?.steps.at(-1)?.commitAfter === true;
    if (
      !current ||
      current.group !== group ||
      current.transaction !== transaction ||
      step.deployBefore ||
      classClash ||
      alone ||
      waitsHolding ||
      committed
    ) {
      current = {
        group,
        transaction,
        timeout: step.timeout,
        steps: [],
        ...(step.deployBefore ? { deployBefore: step.deployBefore } : {}),
      };
      units.push(current);
    }
    current.steps.push(step);
    if (current.timeout === 'none') current.timeout = step.timeout;
  }
  return units.map(({ group: _, ...unit }) => unit);
}

/** `step` must wait for a lock on a table the unit does not hold yet, while the unit blocks traffic on another. */
function waitsWhileBlocking(unit: readonly PlanStep[], step: PlanStep): boolean {
  const held = new Set(unit.flatMap((s) => s.existingLocks.map((l) => l.key)));
  const blocking = unit.flatMap((s) => s.existingLocks.filter((l) => l.blocksTraffic).map((l) => l.key));
  return step.existingLocks.some((l) => !held.has(l.key) && blocking.some((b) => b !== l.key));
}

/**
 * The plan as one annotated SQL script, as psql runs it: each unit headed by a comment (its
 * transaction, its timeout class, a deploy boundary before it), with its timeouts set and, for a
 * transaction, BEGIN … COMMIT around it. This is `pgkeel fix --stdout`.
 */
export function renderPlanSql(plan: Pick<MigrationPlan, 'path' | 'pgVersion' | 'units'>): string {
  return renderPlan(plan).text;
}

/** The script and where each unit starts in it. */
function renderPlan(plan: Pick<MigrationPlan, 'path' | 'pgVersion' | 'units'>): {
  text: string;
  unitStarts: number[];
} {
  const out: string[] = [];
  const unitStarts: number[] = [];
  let length = 0;
  const push = (...lines: string[]) => {
    for (const l of lines) length += l.length + 1;
    out.push(...lines);
  };
  plan.units.forEach((unit, i) => {
    unitStarts.push(length);
    if (unit.deployBefore) {
      push(
        `-- ── deploy boundary ─────────────────────────────────────────────`,
        `-- Deploy the application first: ${unit.deployBefore}`,
        `-- Apply what follows in a later release.`,
      );
    }
    push(`-- step ${i + 1} of ${plan.units.length}: ${unitSummary(unit)}`);
    if (unit.transaction) push('BEGIN;');
    push(...timeoutSettings(unit, unit.transaction ? 'SET LOCAL' : 'SET'));
    for (const step of unit.steps) {
      if (step.comments) push(step.comments);
      if (step.blocking) push(`-- still blocks traffic: ${step.blocking}`);
      push(`${step.sql};`);
    }
    if (unit.transaction) push('COMMIT;');
    push('');
  });
  return { text: out.join('\n'), unitStarts };
}

/** `SET lock_timeout = '2s';` … for a unit's class (nothing for `none`). */
export function timeoutSettings(unit: Pick<PlanUnit, 'timeout'>, set: 'SET' | 'SET LOCAL'): string[] {
  if (unit.timeout === 'none') return [];
  const t = TIMEOUT_SETTINGS[unit.timeout];
  const lines = [`${set} lock_timeout = '${t.lockTimeout}';`];
  if (t.statementTimeout !== undefined) lines.push(`${set} statement_timeout = '${t.statementTimeout}';`);
  return lines;
}

/** "in one transaction", "outside a transaction (Postgres requires it)" or "autocommit" */
export function unitPlacement(unit: PlanUnit): string {
  return unit.transaction
    ? 'in one transaction'
    : unit.steps.some((s) => s.outsideTransaction)
      ? 'outside a transaction (Postgres requires it)'
      : 'autocommit';
}

/** "in one transaction, brief locks (lock_timeout 2s)" */
export function unitSummary(unit: PlanUnit): string {
  const where = unitPlacement(unit);
  const timeout =
    unit.timeout === 'none'
      ? 'locks only new objects'
      : unit.timeout === 'brief'
        ? `brief locks (lock_timeout ${TIMEOUT_SETTINGS.brief.lockTimeout})`
        : `long-running, traffic passes (lock_timeout ${TIMEOUT_SETTINGS.long.lockTimeout}, no statement_timeout)`;
  return `${where}; ${timeout}`;
}
