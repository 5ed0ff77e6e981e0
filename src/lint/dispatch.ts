/**
 * Rule dispatch for one file: each active rule's visitor, created once, handed the facts of every
 * statement of the kinds it looks at, then told the file has ended. A rule that throws costs only
 * its own findings: the failure becomes an `internal-error` finding.
 */

import type { StatementFacts } from '../analyze/analyze.js';
import type { RunnerModel } from '../analyze/runners.js';
import type { Severity } from '../diagnostics.js';
import type { SourceFile, Statement } from '../parse/parse.js';
import type { ReportDescriptor, Rule, RuleContext, RuleVisitor } from '../rules/define.js';
import type { Directives } from './directives.js';
import type { Findings } from './findings.js';

/** A rule that runs, with its severity and options (see `activeRules`). */
export interface ActiveRule {
  rule: Rule;
  severity: Severity;
  /** the rule's options: the configured values over its defaults */
  options: Readonly<Record<string, unknown>>;
}

interface Visitor {
  rule: Rule;
  visitor: RuleVisitor;
}

export class RuleDispatch {
  private readonly visitors: Visitor[];
  /**
   * The visitors that look at each statement kind, found once per kind: filtering ~60 rules on every
   * statement was a measurable share of linting thousands of files.
   */
  private readonly byKind = new Map<string, Visitor[]>();

  constructor(
    rules: readonly ActiveRule[],
    env: { file: SourceFile; pgVersion: number; runner: RunnerModel; planning: boolean },
    directives: Directives,
    private readonly findings: Findings,
  ) {
    const report = (rule: Rule, severity: Severity, d: ReportDescriptor) => {
      if (!directives.ignored(rule.id, d.statement.statement.index)) findings.rule(rule, severity, d);
    };
    this.visitors = rules.map(({ rule, severity, options }) => {
      const ctx: RuleContext = {
        file: env.file,
        pgVersion: env.pgVersion,
        runner: env.runner,
        planning: env.planning,
        options,
        report: (d) => report(rule, severity, d),
        ignored: (facts) => directives.ignored(rule.id, facts.statement.index),
      };
      return { rule, visitor: rule.create(ctx) };
    });
  }

  /** Runs the visitors of `stmt`'s kind on its facts. */
  statement(stmt: Statement, facts: StatementFacts): void {
    const list = this.visitorsOf(stmt.kind);
    // try/catch around each call, not a helper taking a closure: closures made for every statement
    // and rule were a measurable cost
    for (let i = 0; i < list.length; i++) {
      const { rule, visitor } = list[i]!;
      try {
        visitor.statement!(facts);
      } catch (e) {
        this.findings.failed(`rule ${rule.id}`, stmt, e);
      }
    }
  }

  /** After the last statement of the file. */
  end(): void {
    for (const { rule, visitor } of this.visitors) {
      if (!visitor.end) continue;
      try {
        visitor.end();
      } catch (e) {
        this.findings.failed(`rule ${rule.id}`, undefined, e);
      }
    }
  }

  private visitorsOf(kind: string): Visitor[] {
    let list = this.byKind.get(kind);
    if (!list) {
      list = [];
      for (const { rule, visitor } of this.visitors) {
        if (!visitor.statement || (rule.on && !rule.on.includes(kind))) continue;
        list.push({ rule, visitor });
      }
      this.byKind.set(kind, list);
    }
    return list;
  }
}
