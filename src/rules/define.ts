/**
 * The rule format: one file per rule holding its metadata, its documentation, its examples (which
 * are its tests) and its check. `scripts/generate.ts` discovers rule files; nothing is registered by hand.
 */

import type * as Zod from 'zod';
import type { StatementFacts } from '../analyze/analyze.js';
import type { RelationRef } from '../analyze/ast.js';
import type { Action } from '../analyze/classify.js';
import type { RunnerModel } from '../analyze/runners.js';
import { blockedWorkloads, type LockMode } from '../catalog/locks.js';
import type { OperationId, RelationRole } from '../catalog/operations.js';
import type { RunnerName } from '../config/types.js';
import type { Fix, FixSafety, Hazard, LockInfo, PlanProposal, Severity, Verdict } from '../diagnostics.js';
import type { SourceFile } from '../parse/parse.js';
import { HAZARDS } from './hazards.js';
import { deparse, quoteIdent } from './sql.js';

/**
 * Rules whose advice `pgkeel fix` carries out in every step it writes (each sets its own timeouts):
 * the plan does not use their fixes.
 */
export const DONE_BY_PLAN_STEPS: readonly string[] = ['lock-timeout-missing', 'statement-timeout-missing'];

/** Migration tools whose way of doing the safe thing a rule page may describe. */
export const TOOLS = [
  'prisma',
  'drizzle',
  'knex',
  'typeorm',
  'sequelize',
  'node-pg-migrate',
  'alembic',
  'django',
  'rails',
] as const;
export type Tool = (typeof TOOLS)[number];

export interface RuleDocs {
  /** which lock, on what, what it blocks, for how long (markdown) */
  problem: string;
  /** the safe sequence as real SQL (markdown) */
  solution: string;
  /** the same solution in migration tools, where they differ from plain SQL (markdown) */
  tools?: Partial<Record<Tool, string>>;
}

export interface RuleExample {
  /** SQL on which the rule must report (at least once) */
  bad?: string;
  /** SQL on which the rule must stay silent */
  ok?: string;
  /** for `bad`: the SQL after applying every fix the rule offers; it must lint clean for this rule */
  fixed?: string;
  /** Postgres versions the example holds for (inclusive); all supported versions when absent */
  pg?: { min?: number; max?: number };
  runner?: RunnerName;
  /** the rule's options for this example (validated against the rule's option schemas by the tests) */
  options?: Record<string, unknown>;
  /** one line for the docs: what the example shows */
  title?: string;

  // How the version matrix (`npm run test:pg-matrix`) runs the example on real Postgres; not shown
  // in the docs. An example without `setup` gets a generic one: each table it references but does
  // not create, with the columns it mentions and a few rows.

  /**
   * SQL run on an empty database before the example, for what the matrix cannot guess from the
   * example itself (a constraint from an earlier migration, a partitioned table, an enum, a table
   * read without naming its columns)
   */
  setup?: string;
  /**
   * The example is an error the rule predicts: Postgres must refuse it with a message matching this
   * ("refused as expected"; the matrix fails if Postgres accepts it). Not for setup problems.
   */
  refuses?: RegExp;
  /**
   * For a statement that runs outside a transaction block: SQL a second session runs in an open
   * transaction to make it wait while its locks are read from pg_locks (default: derived from the
   * analyzer's claims; a statement it claims no lock for needs one to be observed)
   */
  stall?: string;
  /** a tablespace the example moves tables to (the matrix makes it, as the catalog probes' one) */
  tablespace?: string;
  /**
   * Claims the analyzer makes conservatively for this example (as a catalog probe's
   * `conservative`): a mismatch is expected on the versions given, and the matrix fails when it no
   * longer occurs there
   */
  conservative?: ConservativeClaim[];
}

/** A known difference between the analyzer's claim and what Postgres does (see `RuleExample.conservative`). */
export interface ConservativeClaim {
  /** matches the matrix's mismatch line (`scan on public.t: claimed full scan, observed no scan`) */
  match: RegExp;
  /** why the analyzer claims more than Postgres does */
  why: string;
  /** the Postgres versions it occurs on (inclusive); all when absent */
  min?: number;
  max?: number;
}

/** The zod namespace, as handed to option schemas. */
export type ZodNamespace = typeof Zod;

/**
 * One option of a rule. The schema is a function of the zod namespace rather than a zod object:
 * loading zod costs ~100 ms, so rule files must not import it; it is loaded (and the schema built)
 * only when a config sets options, or when docs are rendered.
 */
export interface RuleOption<S extends Zod.ZodType = Zod.ZodType> {
  schema: (z: ZodNamespace) => S;
  /** the value when the config does not set the option; documented on the rule's page */
  default: Zod.output<S>;
  /** one or two sentences for the rule's page: what it changes */
  description: string;
  /** the type as the rule's page names it, when the schema's JSON type says too little (`interval`) */
  type?: string;
}

export type RuleOptionSpecs = Record<string, RuleOption>;

export interface Equivalents {
  squawk?: string[];
  eugene?: string[];
  strongMigrations?: string[];
}

export interface RuleMeta {
  /** kebab-case, stable */
  id: string;
  equivalents?: Equivalents;
  /**
   * the kind of danger the rule's findings are about (see rules/hazards.ts): it decides the default
   * severity, and the verdict must fit it (schema-design: `safe`; any other: `unsafe` or `alternative`)
   */
  hazard: Hazard;
  verdict: Verdict;
  /** only where the hazard's default severity is wrong for this rule, with `severityReason` */
  severity?: Severity;
  /** why the rule's severity differs from its hazard's default (one sentence) */
  severityReason?: string;
  /**
   * the class of the rule's fixes (a fix may state its own) and why, for the rule page; required
   * when an example has a `fixed` form
   */
  fixSafety?: { level: FixSafety; why: string };
  /**
   * what `pgkeel fix` does about the rule's findings when no in-place edit can say it (steps across
   * transactions or an application deploy), and why the result is the same; for the rule page.
   * Required when the rule reports a `plan`, or when the plan's steps resolve every bad example
   */
  plan?: string;
  /**
   * why a finding of this rule does not stop a fix that brings it (`lint --fix` leaves out fixes that
   * bring new findings): set only for findings about the server rather than the statement's choice
   */
  ignoredByFixCheck?: string;
  /** in the `recommended` preset (default true); opt-in rules only run with `all` or when enabled */
  recommended?: boolean;
  /** one sentence */
  summary: string;
  docs: RuleDocs;
  examples: RuleExample[];
  /** statement kinds (`AlterTableStmt`, …) the rule looks at; every statement when omitted */
  on?: string[];
  /** options a config may set as `["warn", { name: value }]`, read through `ctx.options` */
  options?: RuleOptionSpecs;
}

export interface ReportDescriptor {
  statement: StatementFacts;
  /** char range to highlight; the action's AST location or the statement when omitted */
  at?: { start: number; end: number };
  /** an AST location (relative to the statement) to highlight from */
  location?: number;
  message: string;
  help?: string;
  lock?: { mode: LockMode; relation: string };
  fix?: Fix;
  /**
   * the safe sequence for `pgkeel fix` where the fix's edit cannot say it (a VALIDATE in a later
   * transaction, an application deploy between steps); called only when planning
   */
  plan?: () => PlanProposal | undefined;
}

export interface RuleContext<Options = Readonly<Record<string, unknown>>> {
  file: SourceFile;
  pgVersion: number;
  runner: RunnerModel;
  /**
   * linting for `pgkeel fix`: statements are analysed as if each ran outside a transaction block
   * (the plan decides the transactions), and `plan` thunks of reports are called
   */
  planning: boolean;
  /** the rule's options: the configured values over the declared defaults */
  options: Options;
  report(d: ReportDescriptor): void;
  /**
   * Whether an ignore directive suppresses this rule on the statement (the directive counts as used).
   * For rules that report one finding on behalf of many statements, so that ignoring the rule before
   * one statement leaves the others reported.
   */
  ignored(facts: StatementFacts): boolean;
}

export interface RuleVisitor {
  statement?(facts: StatementFacts): void;
  /** after the last statement of the file */
  end?(): void;
}

export interface Rule extends RuleMeta {
  /** called once per file; per-file state lives in the closure */
  create(ctx: RuleContext): RuleVisitor;
}

/** Option name → its zod schema type: what `defineRule` infers from a rule's `options`. */
type SchemaMap = Record<string, Zod.ZodType>;

/** The typed values a rule reads through `ctx.options`. */
export type OptionValues<S extends SchemaMap> = { readonly [K in keyof S]: Zod.output<S[K]> };

/** A severity other than the hazard's default comes with its reason; neither is given otherwise. */
export type SeverityOverride =
  | { severity?: never; severityReason?: never }
  | { severity: Severity; severityReason: string };

export type RuleDefinition<S extends SchemaMap = Record<never, Zod.ZodType>> = Omit<
  RuleMeta,
  'options' | 'severity' | 'severityReason'
> &
  SeverityOverride & {
    options?: { [K in keyof S]: RuleOption<S[K]> };
  } & (
    | { check(facts: StatementFacts, ctx: RuleContext<OptionValues<S>>): void }
    | { create(ctx: RuleContext<OptionValues<S>>): RuleVisitor }
  );

export function defineRule<S extends SchemaMap = Record<never, Zod.ZodType>>(def: RuleDefinition<S>): Rule {
  // the engine hands every rule its own options (defaults merged with the config's), so the
  // narrower context type the rule was written against holds
  if ('create' in def) return def as unknown as Rule;
  const { check, ...meta } = def;
  return {
    ...meta,
    create: (ctx: RuleContext) => ({
      statement: (facts: StatementFacts) => check(facts, ctx as unknown as RuleContext<OptionValues<S>>),
    }),
  } as unknown as Rule;
}

/** A rule's options: the declared defaults, overridden by `given` (already validated by the config). */
export function resolveOptions(
  rule: Pick<RuleMeta, 'options'>,
  given?: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  if (!rule.options) return EMPTY_OPTIONS;
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(rule.options)) out[name] = spec.default;
  if (given) Object.assign(out, given);
  return Object.freeze(out);
}

const EMPTY_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The rule's severity when the config does not set one: its own, else its hazard's. */
export function defaultSeverity(rule: Pick<RuleMeta, 'hazard' | 'severity'>): Severity {
  return rule.severity ?? HAZARDS[rule.hazard].severity;
}

/**
 * The actions of the given operations on tables that existed before this migration, with the lock
 * the catalog says each takes on its table: the loop most rules start with.
 */
export function* onExistingTables(
  facts: StatementFacts,
  ...ops: OperationId[]
): Generator<{ action: Action; table: RelationRef; mode: LockMode }> {
  for (const action of facts.actions) {
    if (!ops.includes(action.op)) continue;
    const table = action.relations.table;
    if (!table || facts.isNew(table)) continue;
    yield { action, table, mode: lockOn(action) };
  }
}

/**
 * The relation a finding names for the lock `action` takes in `role`. An operation on an index locks
 * the index's table too, and that lock is the one the application waits on; when the statement names
 * only the index and neither this file nor the live schema says which table it is on, the table is
 * named after the index ("the table of index x") rather than left out in favour of the index.
 */
/**
 * A statement without a table (`CLUSTER;`, `VACUUM FULL;`, `REINDEX DATABASE`) yields an action on
 * the set and, when the analyzer knows some members but not all, one action per known member. The
 * set's action speaks for them: `describeSetAction` names it with its known members, and
 * `coveredBySet` tells the member actions a rule should not report again.
 */
export function coveredBySet(facts: StatementFacts, action: Action): boolean {
  return (
    !action.relations.table?.set &&
    facts.actions.some((a) => a.op === action.op && a.relations.table?.set !== undefined)
  );
}

/** `every table of the database (orders, users among them)` */
export function describeSetAction(facts: StatementFacts, setAction: Action): string {
  const set = setAction.relations.table!;
  const known = facts.actions
    .filter((a) => a.op === setAction.op && a.relations.table && !a.relations.table.set)
    .map((a) => a.relations.table!.display);
  return known.length > 0 ? `${set.display} (${known.join(', ')} among them)` : set.display;
}

export function lockedRelation(action: Action, role: RelationRole): RelationRef | undefined {
  const relation = action.relations[role];
  const index = action.relations.index;
  if (relation || role !== 'table' || !index) return relation;
  return {
    schema: index.schema,
    name: index.name,
    // not a relation's key: nothing in the state matches it (it is not new, nor held)
    key: `table of ${index.key}`,
    display: `the table of index ${index.display}`,
    location: index.location,
  };
}

/** The lock the catalog says `action` takes on its relation in `role` (the table, by default). */
export function lockOn(action: Action, role: RelationRole = 'table'): LockMode {
  const lock = action.facts.locks.find((l) => l.on === role);
  if (!lock) throw new Error(`catalog: ${action.op} takes no lock on its ${role}`);
  return lock.mode;
}

/** The `lock` field of a diagnostic. */
export function lockInfo(mode: LockMode, relation: string): LockInfo {
  return { mode, relation, blocks: blockedWorkloads(mode).map((w) => w.label) };
}

/**
 * Append NOT VALID to a constraint: exact only when the statement is an ALTER TABLE whose single
 * subcommand is that ADD CONSTRAINT (not a column's inline constraint).
 */
export function appendNotValid(facts: StatementFacts, action: Action, title: string): Fix | undefined {
  const stmt = (facts.statement.node as { AlterTableStmt?: { cmds: unknown[] } }).AlterTableStmt;
  if (action.column || stmt?.cmds.length !== 1) return undefined;
  // the constraint stays unvalidated until a later VALIDATE the fix does not add: not the same schema
  return { ...replaceStatement(facts, title, `${facts.statement.text} NOT VALID`), safety: 'unsafe' };
}

/**
 * The plan for a constraint added validated: NOT VALID (a brief lock), then VALIDATE CONSTRAINT,
 * which the planner puts in a later transaction — the same validated constraint results. Exact only
 * where `appendNotValid` is, and when the constraint's name is known: written, or (foreign keys)
 * Postgres' default, which the plan then spells out.
 */
export function validateLaterPlan(
  facts: StatementFacts,
  action: Action,
  title: string,
  source: string,
  defaultName?: string,
): (() => PlanProposal | undefined) | undefined {
  const stmt = (facts.statement.node as { AlterTableStmt?: { cmds: unknown[] } }).AlterTableStmt;
  if (action.column || stmt?.cmds.length !== 1) return undefined;
  const name = action.constraint ?? defaultName;
  const table = action.relations.table;
  if (!name || !table) return undefined;
  const inside = facts.statement.embeddedIn;
  if (inside) {
    // a DO block that always runs it (Drizzle wraps foreign keys in one, to skip existing ones):
    // the block with NOT VALID, then the VALIDATE; a rerun validates what an earlier run added
    if (inside.kind !== 'do' || inside.conditional || !action.constraint) return undefined;
    const host = source.slice(inside.start, inside.end);
    const at = facts.statement.end - inside.start;
    return () => ({
      title,
      safety: 'safe',
      steps: [
        { sql: `${host.slice(0, at)} NOT VALID${host.slice(at)}` },
        { sql: `ALTER TABLE ${table.display} VALIDATE CONSTRAINT ${quoteIdent(name)}` },
      ],
    });
  }
  return () => {
    let add = `${facts.statement.text} NOT VALID`;
    if (!action.constraint) {
      const node = structuredClone(facts.statement.node) as {
        AlterTableStmt: { cmds: { AlterTableCmd: { def: { Constraint: Record<string, unknown> } } }[] };
      };
      const con = node.AlterTableStmt.cmds[0]?.AlterTableCmd.def?.Constraint;
      if (!con) return undefined;
      con.conname = name;
      con.skip_validation = true;
      con.initially_valid = false;
      add = deparse(node);
    }
    return {
      title,
      safety: 'safe',
      steps: [{ sql: add }, { sql: `ALTER TABLE ${table.display} VALIDATE CONSTRAINT ${quoteIdent(name)}` }],
    };
  };
}

/**
 * The plan for a statement that breaks the clients still using what it removes: the same statement,
 * after a deploy of the application that no longer uses it (the contract step of expand/contract).
 */
export function deployFirstPlan(
  facts: StatementFacts,
  title: string,
  deploy: string,
): (() => PlanProposal) | undefined {
  // inside a DO block or function the statement cannot be moved on its own
  if (facts.statement.embeddedIn) return undefined;
  return () => ({ title, safety: 'safe', steps: [{ sql: facts.statement.text, deployBefore: deploy }] });
}

/**
 * Replace a statement's text (its `;` stays) — the usual shape of a fix. The edit is trimmed to what
 * changes (the common start and end left out), so previews, `--fix-dry-run` and editors show the
 * real change: ` CONCURRENTLY` inserted, not the whole statement rewritten.
 */
export function replaceStatement(facts: StatementFacts, title: string, text: string): Fix {
  const { start, end, text: old } = facts.statement;
  let head = 0;
  const most = Math.min(old.length, text.length);
  while (head < most && old.charCodeAt(head) === text.charCodeAt(head)) head++;
  let tail = 0;
  while (
    tail < most - head &&
    old.charCodeAt(old.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)
  )
    tail++;
  return {
    title,
    edits: [{ start: start + head, end: end - tail, text: text.slice(head, text.length - tail) }],
  };
}
