/**
 * The lint pipeline for one file: parse (chunk by chunk) → directives → analyze and dispatch to the
 * rules → suppressions. Single pass: each statement's AST is dropped once its rules have run.
 */

import { Analyzer, type KnownSchema, type MigrationState, type StatementFacts } from '../analyze/analyze.js';
import { runnerModel } from '../analyze/runners.js';
import { parseInterval } from '../config/interval.js';
import { DEFAULT_PG_VERSION, type Preset, type RuleSetting, type RunnerName } from '../config/types.js';
import type { FileResult, Severity } from '../diagnostics.js';
import { loadParser, openSource, type SourceFile, type Statement } from '../parse/parse.js';
import { EmbeddedSql } from '../parse/plpgsql.js';
import { defaultSeverity, type Rule, resolveOptions } from '../rules/define.js';
import { allRules } from '../rules/index.js';
import { Directives, ruleNames } from './directives.js';
import { type ActiveRule, RuleDispatch } from './dispatch.js';
import { Findings } from './findings.js';

export interface LintOptions {
  /** target Postgres major version (default 18) */
  pgVersion?: number;
  /** how the migration is run (default `psql`: no implicit transaction) */
  runner?: RunnerName;
  /** the file opts out of the runner's transaction (goose NO TRANSACTION, …) */
  noTransaction?: boolean;
  presets?: Preset[];
  rules?: Record<string, RuleSetting>;
  /** timeouts in effect before the migration starts, as Postgres intervals (`"2s"`) */
  timeouts?: { lockTimeout?: string; statementTimeout?: string };
  /** display path */
  path?: string;
  /** the rules to choose from (default: every built-in rule) */
  ruleSet?: readonly Rule[];
  /** run only these rules, whatever presets and `rules` say (`--rule`) */
  only?: readonly string[];
  /** run these rules too, opt-in ones included (`--enable`) */
  enable?: readonly string[];
  /** never run these rules (`--disable`; wins over `only` and `enable`) */
  disable?: readonly string[];
  /** the schema the earlier migrations of the file's history leave (see analyze/history.ts); moved in */
  schema?: KnownSchema;
  /** called with the analyzer's final state, e.g. to hand the schema to the next migration */
  onAnalyzed?: (state: MigrationState) => void;
  /** called with each top-level statement's facts, before its rules run */
  onFacts?: (facts: StatementFacts) => void;
  /**
   * lint for `pgkeel fix`: every statement as if it ran alone outside a transaction block (the plan
   * decides the transactions), so fixes that need one are offered, and rules' plans are made
   */
  planning?: boolean;
}

export type { ActiveRule };

/**
 * Resolves presets, per-rule settings and the `only` / `enable` / `disable` focus into the rules
 * that run, with their severities and options. `presets: []` means no preset: only rules set to
 * "warn" or "error" run.
 */
export function activeRules(
  options: Pick<LintOptions, 'presets' | 'rules' | 'ruleSet' | 'only' | 'enable' | 'disable'>,
): ActiveRule[] {
  const presets = options.presets ?? ['recommended'];
  const all = presets.includes('all');
  const recommended = all || presets.includes('recommended');
  const out: ActiveRule[] = [];
  for (const rule of options.ruleSet ?? allRules) {
    if (options.disable?.includes(rule.id)) continue;
    const setting = options.rules?.[rule.id];
    const level = Array.isArray(setting) ? setting[0] : setting;
    const configured = Array.isArray(setting) ? setting[1] : undefined;
    // a rule named by --rule or --enable runs at its configured severity when it has one
    const severity: Severity =
      level === 'warn' ? 'warning' : level === 'error' ? 'error' : defaultSeverity(rule);
    let on: boolean;
    if (options.only) on = options.only.includes(rule.id);
    else if (options.enable?.includes(rule.id)) on = true;
    else if (level === 'off') on = false;
    else if (level === 'warn' || level === 'error') on = true;
    else on = all || (recommended && rule.recommended !== false);
    if (on) out.push({ rule, severity, options: resolveOptions(rule, configured) });
  }
  return out;
}

/** Lints SQL text. Loads the parser on first use. */
export async function lintSql(sql: string, options: LintOptions = {}): Promise<FileResult> {
  await loadParser();
  return lintSqlSync(sql, options);
}

/**
 * As `lintSql`, once `loadParser()` has resolved. The pipeline: parse → directives → analyze and
 * dispatch to the rules, statement by statement → suppress (each finding as it is reported, then
 * the directives' own findings) → the result.
 */
export function lintSqlSync(sql: string, options: LintOptions = {}): FileResult {
  const pgVersion = options.pgVersion ?? DEFAULT_PG_VERSION;
  const runner = runnerModel(options.runner ?? 'psql');
  // parse: the file is lexed now, its statements parsed chunk by chunk as they are read
  const file = openSource(sql);
  const rules = activeRules(options);
  const directives = new Directives(file.comments, ruleNames(options.ruleSet ?? allRules));
  const planning = options.planning === true;
  const findings = new Findings(file, planning);
  const analyzer = new Analyzer({
    pgVersion,
    runner,
    noTransaction: options.noTransaction,
    statementCount: file.statementCount,
    lockTimeoutMs: timeoutMs(options.timeouts?.lockTimeout),
    statementTimeoutMs: timeoutMs(options.timeouts?.statementTimeout),
    schema: options.schema,
    planning,
  });
  const dispatch = new RuleDispatch(rules, { file, pgVersion, runner, planning }, directives, findings);

  const statementCount = lintStatements(file, analyzer, dispatch, directives, findings, options.onFacts);
  dispatch.end();
  analyzer.finish();
  options.onAnalyzed?.(analyzer.state);
  directives.report(new Set(rules.map((r) => r.rule.id)), findings);

  return {
    path: options.path ?? '<input>',
    source: sql,
    diagnostics: findings.sorted(),
    statementCount,
    pgVersion,
    runner: runner.name,
    // lintFiles replaces these with the flag, config file or detection they came from
    pgVersionFrom:
      options.pgVersion === undefined ? { from: 'default' } : { from: 'flag', detail: 'pgVersion' },
    runnerFrom: options.runner === undefined ? { from: 'default' } : { from: 'flag', detail: 'runner' },
  };
}

/**
 * The single pass over the file's statements: each is analyzed, its rules run, its effects applied,
 * then its AST is dropped. DO blocks run their statements right away; a function's statements run
 * where it is called, so its body is linted at its first call in the file, in the caller's state.
 * Returns the number of statements (parse errors included).
 */
function lintStatements(
  file: SourceFile,
  analyzer: Analyzer,
  dispatch: RuleDispatch,
  directives: Directives,
  findings: Findings,
  onFacts: ((facts: StatementFacts) => void) | undefined,
): number {
  const embedded = new EmbeddedSql(file, { oncePerFunction: true });
  // try/catch around each step, not a helper taking a closure: closures made for every statement
  // were a measurable cost
  const lintStatement = (stmt: Statement, depth: number): void => {
    let facts: StatementFacts;
    try {
      facts = analyzer.analyze(stmt);
    } catch (e) {
      findings.failed('the analyzer', stmt, e);
      return;
    }
    if (onFacts && depth === 0) onFacts(facts);
    dispatch.statement(stmt, facts);
    try {
      analyzer.apply(facts);
    } catch (e) {
      findings.failed('the analyzer', stmt, e);
    }
    embedded.run(stmt, depth, analyzer, lintStatement);
  };

  let count = 0;
  for (const item of file.items()) {
    count++;
    if (item.type === 'error') {
      findings.parseError(item);
      continue;
    }
    // directives in or before this statement apply to it
    directives.reach(item.index, item.end);
    lintStatement(item, 0);
  }
  return count;
}

function timeoutMs(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseInterval(value);
}
