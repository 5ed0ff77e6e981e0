/**
 * pgkeel's library API. The CLI is a thin layer over these functions.
 *
 *   import { lintSql } from 'pgkeel';
 *   const result = await lintSql('ALTER TABLE t ADD CONSTRAINT u UNIQUE (x);', { pgVersion: 16 });
 */

export { Analyzer, type StatementFacts, type StatementLock, type Transaction } from './analyze/analyze.js';
export type { RelationRef } from './analyze/ast.js';
export type { Action } from './analyze/classify.js';
export { type RunnerModel, runnerModel } from './analyze/runners.js';
export {
  blockedWorkloads,
  blockSummary,
  blocksApplication,
  conflicts,
  LOCK_MODES,
  type LockMode,
  WORKLOADS,
} from './catalog/locks.js';
export {
  lockDuration,
  OPERATION_IDS,
  type OperationFacts,
  type OperationId,
  operationFacts,
} from './catalog/operations.js';
export { ConfigError } from './config/errors.js';
export { defineConfig, loadConfig } from './config/load.js';
export * from './config/types.js';
export type {
  Diagnostic,
  FileResult,
  Fix,
  Hazard,
  LintSummary,
  LockInfo,
  PlanProposal,
  ProposedStep,
  Severity,
  TextEdit,
  Verdict,
} from './diagnostics.js';
export {
  createExplainReporter,
  EXPLAIN_FORMATS,
  EXPLAIN_JSON_VERSION,
  type ExplainedAction,
  type ExplainedBody,
  type ExplainedFile,
  type ExplainedLock,
  type ExplainedStatement,
  type ExplainedUnknown,
  type ExplainFilesOptions,
  type ExplainFormat,
  type ExplainOptions,
  type ExplainReport,
  explainFiles,
  explainSql,
  explainSqlSync,
  formatExplain,
  type HeldLock,
} from './explain/index.js';
export { applyFixes } from './fix/apply.js';
export { type FilePlanResult, type FixPlansOptions, fixPlans } from './fix/fix-files.js';
export { canWriteFor, LayoutError, type LayoutTarget, layoutPlan, type PlanLayout } from './fix/layouts.js';
export {
  type MigrationPlan,
  type PlanChange,
  type PlanOptions,
  type PlanStep,
  type PlanUnit,
  planMigration,
  renderPlanSql,
  TIMEOUT_SETTINGS,
  type TimeoutClass,
} from './fix/plan.js';
export {
  BASELINE_VERSION,
  Baseline,
  type BaselineDocument,
  type BaselineEntry,
  type BaselineFilterResult,
  type BaselineOptions,
  type BaselineWriteResult,
  baselineFingerprint,
  DEFAULT_BASELINE_FILE,
  formatBaseline,
} from './lint/baseline.js';
export { type LintFilesOptions, lintFiles } from './lint/files.js';
export { activeRules, type LintOptions, lintSql, lintSqlSync } from './lint/lint.js';
export { loadParser, type ParseError, parseSql, type SourceFile, type Statement } from './parse/parse.js';
export { createReporter, formatReport, REPORT_FORMATS, type ReportFormat } from './report/index.js';
export {
  defineRule,
  type Rule,
  type RuleContext,
  type RuleExample,
  type RuleOption,
} from './rules/define.js';
export { HAZARDS, type HazardInfo } from './rules/hazards.js';
export { allRules } from './rules/index.js';
export { type AppliedMatcher, createAppliedMatcher } from './sources/applied.js';
export { type ChangedFiles, changedSince } from './sources/changed.js';
export type { ConfiguredInputOptions, SkipReason } from './sources/configured.js';
export { InputError } from './sources/errors.js';
export { type Claim, claimsFor, compare, type Mismatch } from './trace/compare.js';
export type { EngineSpec, TraceEngine } from './trace/engine.js';
export { type StartEngineOptions, startEngine } from './trace/engines/index.js';
export { startPostgres } from './trace/engines/postgres.js';
export { connectUrl } from './trace/engines/url.js';
export { type Observation, Observer } from './trace/observe.js';
export {
  createTraceReporter,
  formatTrace,
  TRACE_FORMATS,
  TRACE_JSON_VERSION,
  type TraceFormat,
} from './trace/report.js';
export {
  type TracedBody,
  type TracedEmbeddedStatement,
  type TracedFile,
  type TracedSpan,
  type TracedStatement,
  TraceEngineError,
  type TraceOptions,
  type TraceReport,
  type TraceSqlOptions,
  traceFiles,
  traceSql,
} from './trace/trace.js';
