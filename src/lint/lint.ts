/**
 * The lint pipeline for one file: parse (chunk by chunk) → analyze → rules → suppressions.
 * Single pass: each statement's AST is dropped once its rules have run.
 */

import { Analyzer, type StatementFacts } from '../analyze/analyze.js';
import { runnerModel } from '../analyze/runners.js';
import { parseInterval } from '../config/interval.js';
import { didYouMean } from '../config/suggest.js';
import { DEFAULT_PG_VERSION, type Preset, type RuleSetting, type RunnerName } from '../config/types.js';
import type { Diagnostic, FileResult, Severity } from '../diagnostics.js';
import { loadParser, openSource, type SourceFile, type Statement } from '../parse/parse.js';
import { type EmbeddedIn, EmbeddedSql } from '../parse/plpgsql.js';
import {
  defaultSeverity,
  lockInfo,
  type ReportDescriptor,
  type Rule,
  type RuleContext,
  type RuleVisitor,
  resolveOptions,
} from '../rules/define.js';
import { allRules } from '../rules/index.js';
import { SQUAWK_RULE_IDS } from '../rules/peers.js';
import { ruleDocsUrl } from '../rules/urls.js';
import { disambiguateFingerprints, statementFingerprint } from './fingerprint.js';
import {
  type Directive,
  misspelledDirectives,
  parseDirectives,
  type RuleNames,
  suppresses,
} from './suppressions.js';

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
}

export interface ActiveRule {
  rule: Rule;
  severity: Severity;
  /** the rule's options: the configured values over its defaults */
  options: Readonly<Record<string, unknown>>;
}

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

const ruleNamesCache = new WeakMap<readonly Rule[], RuleNames>();
function ruleNames(rules: readonly Rule[]): RuleNames {
  let names = ruleNamesCache.get(rules);
  if (names) return names;
  const ids = new Set(rules.map((r) => r.id));
  const bySquawk = new Map<string, string[]>();
  for (const r of rules) {
    for (const s of r.equivalents?.squawk ?? []) bySquawk.set(s, [...(bySquawk.get(s) ?? []), r.id]);
  }
  names = {
    pgkeel: (n) => (ids.has(n) ? n : undefined),
    squawk: (n) => bySquawk.get(n) ?? (SQUAWK_RULE_IDS.has(n) ? [] : undefined),
    known: { pgkeel: [...ids], squawk: [...new Set([...bySquawk.keys(), ...SQUAWK_RULE_IDS])] },
  };
  ruleNamesCache.set(rules, names);
  return names;
}

/** Lints SQL text. Loads the parser on first use. */
export async function lintSql(sql: string, options: LintOptions = {}): Promise<FileResult> {
  await loadParser();
  return lintSqlSync(sql, options);
}

/** As `lintSql`, once `loadParser()` has resolved. */
export function lintSqlSync(sql: string, options: LintOptions = {}): FileResult {
  const pgVersion = options.pgVersion ?? DEFAULT_PG_VERSION;
  const runner = runnerModel(options.runner ?? 'psql');
  const file = openSource(sql);
  const diagnostics: Diagnostic[] = [];
  const rules = activeRules(options);
  const names = ruleNames(options.ruleSet ?? allRules);
  const directives = parseDirectives(file.comments);
  const fileDirectives = directives.filter((d) => d.scope === 'file');
  const stmtDirectives = directives.filter((d) => d.scope === 'statement');
  let nextDirective = 0;
  /** statement-scope directives by statement index, so findings reported later (from `end()`) are suppressed too */
  const directivesByStatement = new Map<number, Directive[]>();

  const toDiagnostic = (
    rule: string,
    severity: Severity,
    start: number,
    end: number,
    statement: number,
    rest: Partial<Diagnostic>,
  ): Diagnostic => {
    const s = file.position(start);
    const e = file.position(end);
    return {
      rule,
      severity,
      message: '',
      ...rest,
      start,
      end,
      line: s.line,
      column: s.column,
      endLine: e.line,
      endColumn: e.column,
      statement,
    };
  };

  const analyzer = new Analyzer({
    pgVersion,
    runner,
    noTransaction: options.noTransaction,
    statementCount: file.statementCount,
    lockTimeoutMs: timeoutMs(options.timeouts?.lockTimeout),
    statementTimeoutMs: timeoutMs(options.timeouts?.statementTimeout),
  });

  const visitors = rules.map(({ rule, severity, options: ruleOptions }) => {
    const ctx: RuleContext = {
      file,
      pgVersion,
      runner,
      options: ruleOptions,
      report: (d) => report(rule, severity, d),
      ignored: (facts) => ignored(rule.id, facts.statement.index),
    };
    return { rule, visitor: rule.create(ctx) };
  });

  /** Whether a directive suppresses `ruleId` on statement `index`; marks the directive used. */
  function ignored(ruleId: string, index: number): boolean {
    const here = directivesByStatement.get(index);
    if (here) {
      for (const dir of here) {
        if (dir.scope === 'statement' && dir.statement !== index) continue;
        if (suppresses(dir, ruleId, names)) return true;
      }
    }
    for (const dir of fileDirectives) {
      if (dir.scope === 'statement' && dir.statement !== index) continue;
      if (suppresses(dir, ruleId, names)) return true;
    }
    return false;
  }

  function report(rule: Rule, severity: Severity, d: ReportDescriptor): void {
    const stmt = d.statement.statement;
    if (ignored(rule.id, stmt.index)) return;
    let { start, end } = d.at ?? { start: stmt.start, end: stmt.end };
    if (!d.at && d.location !== undefined && d.location >= 0) {
      start = Math.max(stmt.start, Math.min(stmt.end, file.offsetOf(stmt, d.location)));
    }
    // a fix written for a top-level statement is rarely right inside a DO block or function body
    // (CONCURRENTLY cannot run there, for one): embedded findings offer none
    const inside = stmt.embeddedIn;
    diagnostics.push(
      toDiagnostic(rule.id, severity, start, end, stmt.index, {
        verdict: rule.verdict,
        message: inside ? `${d.message} ${whereEmbedded(file, inside)}` : d.message,
        ...(d.help
          ? { help: inside && NEEDS_OWN_STATEMENT.test(d.help) ? `${d.help} ${EMBEDDED_HELP}` : d.help }
          : {}),
        ...(d.lock ? { lock: lockInfo(d.lock.mode, d.lock.relation) } : {}),
        ...(d.fix && !inside ? { fix: d.fix } : {}),
        docsUrl: ruleDocsUrl(rule.id),
        fingerprint: statementFingerprint(rule.id, stmt.text),
      }),
    );
  }

  /** A bug in one rule must not cost the user the rest of the report: it becomes a finding of its own. */
  function failed(what: string, stmt: { index: number; start: number; end: number } | undefined, e: unknown) {
    const at = stmt ?? { index: -1, start: 0, end: 0 };
    diagnostics.push(
      toDiagnostic('internal-error', 'error', at.start, at.end, at.index, {
        message: `pgkeel failed in ${what}${stmt ? ' on this statement' : ''}: ${(e as Error)?.message ?? e}`,
        help: 'This is a bug in pgkeel; please report it with this statement. The other checks still ran.',
      }),
    );
  }

  /**
   * DO blocks run their statements right away; a function's statements run where it is called, so
   * its body is linted at its first call in the file, in the caller's state.
   */
  const embedded = new EmbeddedSql(file, { oncePerFunction: true });

  /**
   * The visitors that look at each statement kind, found once per kind: filtering ~60 rules on every
   * statement was a measurable share of linting thousands of files.
   */
  const byKind = new Map<string, { rule: Rule; visitor: RuleVisitor }[]>();
  const visitorsOf = (kind: string) => {
    let list = byKind.get(kind);
    if (!list) {
      list = [];
      for (const { rule, visitor } of visitors) {
        if (!visitor.statement || (rule.on && !rule.on.includes(kind))) continue;
        list.push({ rule, visitor });
      }
      byKind.set(kind, list);
    }
    return list;
  };

  // try/catch around each step, not a helper taking a closure: closures made for every statement
  // and rule were a measurable cost
  function lintStatement(stmt: Statement, depth: number): void {
    let facts: StatementFacts;
    try {
      facts = analyzer.analyze(stmt);
    } catch (e) {
      failed('the analyzer', stmt, e);
      return;
    }
    const list = visitorsOf(stmt.kind);
    for (let i = 0; i < list.length; i++) {
      const { rule, visitor } = list[i]!;
      try {
        visitor.statement!(facts);
      } catch (e) {
        failed(`rule ${rule.id}`, stmt, e);
      }
    }
    try {
      analyzer.apply(facts);
    } catch (e) {
      failed('the analyzer', stmt, e);
    }
    embedded.run(stmt, depth, analyzer, lintStatement);
  }

  let statementCount = 0;
  for (const item of file.items()) {
    statementCount++;
    if (item.type === 'error') {
      diagnostics.push(
        toDiagnostic(
          'parse-error',
          'error',
          item.at,
          Math.min(item.end, nextTokenEnd(file, item.at)),
          item.index,
          {
            message: `Postgres cannot parse this statement: ${item.message}`,
            fingerprint: statementFingerprint('parse-error', file.sql.slice(item.start, item.end)),
            help: 'Fix the syntax; the other statements of the file were still checked.',
          },
        ),
      );
      continue;
    }
    // directives in or before this statement apply to it
    const here: Directive[] = [];
    while (nextDirective < stmtDirectives.length && stmtDirectives[nextDirective]!.comment.start < item.end) {
      const d = stmtDirectives[nextDirective++]!;
      d.statement = item.index;
      here.push(d);
    }
    if (here.length > 0) directivesByStatement.set(item.index, here);
    lintStatement(item, 0);
  }
  for (const { rule, visitor } of visitors) {
    if (!visitor.end) continue;
    try {
      visitor.end();
    } catch (e) {
      failed(`rule ${rule.id}`, undefined, e);
    }
  }
  analyzer.finish();

  const activeIds = new Set(rules.map((r) => r.rule.id));
  checkDirectives(directives, names, activeIds, (rule, d, message) => {
    diagnostics.push(
      toDiagnostic(rule, 'warning', d.comment.start, d.comment.end, d.statement ?? -1, { message }),
    );
  });
  for (const m of misspelledDirectives(file.comments)) {
    const message = m.suggestion
      ? `Unknown directive \`${m.written}\`; did you mean \`${m.suggestion}\`? It suppresses nothing as written.`
      : `Unknown directive \`${m.written}\`${m.note ? `: ${m.note}` : ''}. It suppresses nothing as written.`;
    diagnostics.push(
      toDiagnostic('unknown-directive', 'warning', m.comment.start, m.comment.end, -1, {
        message,
        help:
          m.suggestion === 'pgkeel-ignore-file'
            ? '`-- pgkeel-ignore-file rule-id -- reason` ignores a rule in the whole file.'
            : '`-- pgkeel-ignore rule-id -- reason` before a statement ignores a rule for that statement; `-- pgkeel-ignore-file rule-id` for the whole file.',
      }),
    );
  }

  diagnostics.sort((a, b) => a.start - b.start || a.end - b.end);
  disambiguateFingerprints(diagnostics);
  return {
    path: options.path ?? '<input>',
    source: sql,
    diagnostics,
    statementCount,
    pgVersion,
    runner: runner.name,
    // lintFiles replaces these with the flag, config file or detection they came from
    pgVersionFrom:
      options.pgVersion === undefined ? { from: 'default' } : { from: 'flag', detail: 'pgVersion' },
    runnerFrom: options.runner === undefined ? { from: 'default' } : { from: 'flag', detail: 'runner' },
  };
}

const EMBEDDED_HELP =
  'The statements of a DO block or function run in one transaction, and CONCURRENTLY cannot run there: move the safe sequence out of the block, as top-level statements.';
/** help whose safe sequence cannot run inside a DO block or function */
const NEEDS_OWN_STATEMENT =
  /CONCURRENTLY|later transaction|separate transaction|outside a transaction|own transaction/i;

/** "(inside the DO block on line 3)", "(in function f, called on line 9)" */
function whereEmbedded(file: SourceFile, e: EmbeddedIn): string {
  const line = (at: number) => file.position(at).line;
  if (e.kind === 'do') return `(inside the DO block on line ${line(e.start)})`;
  return `(in function ${e.name}${e.calledAt !== undefined ? `, called on line ${line(e.calledAt)}` : ''})`;
}

function timeoutMs(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseInterval(value);
}

/** End of the token at `at`, to underline a parse error's word rather than the whole statement. */
function nextTokenEnd(file: SourceFile, at: number): number {
  const m = /^[A-Za-z0-9_$]+|^\S/.exec(file.sql.slice(at, at + 200));
  return at + (m ? m[0].length : 0);
}

/** Unknown rule names and directives that suppressed nothing are findings too. */
function checkDirectives(
  directives: Directive[],
  names: RuleNames,
  /** the rules that ran: a directive naming one that did not (turned off, or not in --rule) is not unused */
  active: ReadonlySet<string>,
  emit: (rule: 'unknown-rule' | 'unused-ignore', d: Directive, message: string) => void,
): void {
  for (const d of directives) {
    const known = (n: string) =>
      d.dialect === 'pgkeel' ? names.pgkeel(n) !== undefined : names.squawk(n) !== undefined;
    for (const n of d.names) {
      if (!known(n)) {
        const hint = didYouMean(n, names.known[d.dialect]);
        emit('unknown-rule', d, `Unknown rule "${n}" in ${d.dialect}-ignore${hint}.`);
      }
    }
    // squawk directives naming squawk-only checks legitimately suppress nothing here
    if (d.dialect !== 'pgkeel') continue;
    const unused =
      d.names.length === 0
        ? d.used.size === 0
          ? ['(all rules)']
          : []
        : d.names.filter((n) => known(n) && active.has(names.pgkeel(n)!) && !d.used.has(n));
    if (unused.length > 0) {
      emit(
        'unused-ignore',
        d,
        `This pgkeel-ignore${d.scope === 'file' ? '-file' : ''} suppresses nothing: ${unused.join(', ')}. Remove it.`,
      );
    }
  }
}
