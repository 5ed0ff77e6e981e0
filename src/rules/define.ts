/**
 * The rule format: one file per rule holding its metadata, its documentation, its examples (which
 * are its tests) and its check. `scripts/generate.ts` discovers rule files; nothing is registered by hand.
 */

import type { StatementFacts } from '../analyze/analyze.js';
import type { RelationRef } from '../analyze/ast.js';
import type { Action } from '../analyze/classify.js';
import type { RunnerModel } from '../analyze/runners.js';
import { blockedWorkloads, type LockMode } from '../catalog/locks.js';
import type { OperationId, RelationRole } from '../catalog/operations.js';
import type { RunnerName } from '../config/types.js';
import type { Fix, LockInfo, Severity, Verdict } from '../diagnostics.js';
import type { SourceFile } from '../parse/parse.js';

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
  /** one line for the docs: what the example shows */
  title?: string;
}

export interface Equivalents {
  squawk?: string[];
  eugene?: string[];
  strongMigrations?: string[];
}

export interface RuleMeta {
  /** kebab-case, stable */
  id: string;
  equivalents?: Equivalents;
  verdict: Verdict;
  /** defaults: unsafe/alternative → error, safe → warning */
  severity?: Severity;
  /** in the `recommended` preset (default true); opt-in rules only run with `all` or when enabled */
  recommended?: boolean;
  /** one sentence */
  summary: string;
  docs: RuleDocs;
  examples: RuleExample[];
  /** statement kinds (`AlterTableStmt`, …) the rule looks at; every statement when omitted */
  on?: string[];
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
}

export interface RuleContext {
  file: SourceFile;
  pgVersion: number;
  runner: RunnerModel;
  report(d: ReportDescriptor): void;
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

export type RuleDefinition = RuleMeta &
  ({ check(facts: StatementFacts, ctx: RuleContext): void } | { create(ctx: RuleContext): RuleVisitor });

export function defineRule(def: RuleDefinition): Rule {
  if ('create' in def) return def;
  const { check, ...meta } = def;
  return { ...meta, create: (ctx) => ({ statement: (facts) => check(facts, ctx) }) };
}

export function defaultSeverity(rule: RuleMeta): Severity {
  return rule.severity ?? (rule.verdict === 'safe' ? 'warning' : 'error');
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
  return replaceStatement(facts, title, `${facts.statement.text} NOT VALID`);
}

/** Replace a statement's text (its `;` stays) — the usual shape of a fix. */
export function replaceStatement(facts: StatementFacts, title: string, text: string): Fix {
  return { title, edits: [{ start: facts.statement.start, end: facts.statement.end, text }] };
}
