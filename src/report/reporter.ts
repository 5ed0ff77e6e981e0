import type { FileResult, Hazard, LintSummary } from '../diagnostics.js';

/** Receives output as it is produced, e.g. `(s) => process.stdout.write(s)`. */
export type Sink = (chunk: string) => void;

export type Totals = Pick<LintSummary, 'errorCount' | 'warningCount' | 'infoCount'>;

/**
 * Streams a report: the CLI can hand over each file as soon as it is linted, so output starts
 * before the last file is done and a run over many files never holds the whole report in memory.
 */
export interface Reporter {
  /** Reports one file; files appear in the order they are given. */
  file(result: FileResult): void;
  /**
   * Ends the report (summary line, closing brackets). Counts default to the diagnostics seen;
   * pass the LintSummary's counts when they are authoritative.
   */
  finish(totals?: Totals): void;
}

/** One rule's findings in a report, for a per-rule table. */
export interface RuleCount {
  rule: string;
  count: number;
  errors: number;
  warnings: number;
  infos: number;
  /** findings that come with a fix */
  fixable: number;
  /** the rule's page, from the first of its findings that has one */
  docsUrl?: string;
  /** the kind of danger, from the first of its findings that has one (none for the engine's own) */
  hazard?: Hazard;
}

/** Tallies what a reporter has seen, for its summary. */
export class Tally {
  files = 0;
  filesWithProblems = 0;
  statements = 0;
  errorCount = 0;
  warningCount = 0;
  infoCount = 0;
  /** per rule id, in the order rules were first seen */
  readonly rules = new Map<string, RuleCount>();

  add(result: FileResult): void {
    this.files++;
    this.statements += result.statementCount;
    if (result.diagnostics.length > 0) this.filesWithProblems++;
    for (const d of result.diagnostics) {
      let rule = this.rules.get(d.rule);
      if (!rule) {
        rule = { rule: d.rule, count: 0, errors: 0, warnings: 0, infos: 0, fixable: 0 };
        this.rules.set(d.rule, rule);
      }
      rule.count++;
      if (d.fix) rule.fixable++;
      if (rule.docsUrl === undefined && d.docsUrl) rule.docsUrl = d.docsUrl;
      if (rule.hazard === undefined && d.hazard) rule.hazard = d.hazard;
      if (d.severity === 'error') {
        this.errorCount++;
        rule.errors++;
      } else if (d.severity === 'warning') {
        this.warningCount++;
        rule.warnings++;
      } else {
        this.infoCount++;
        rule.infos++;
      }
    }
  }

  /** Rules by number of findings, most first; ties by id, so the order does not depend on file order. */
  ruleCounts(): RuleCount[] {
    return [...this.rules.values()].sort(
      (a, b) => b.count - a.count || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
    );
  }

  totals(override?: Totals): Totals {
    return (
      override ?? { errorCount: this.errorCount, warningCount: this.warningCount, infoCount: this.infoCount }
    );
  }
}

/** Drives a streaming reporter over a finished summary. */
export function reportSummary(reporter: Reporter, summary: LintSummary): void {
  for (const file of summary.files) reporter.file(file);
  reporter.finish(summary);
}

/** Diagnostics in file order; ties keep the engine's order (Array.prototype.sort is stable). */
export function byPosition<T extends { start: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.start - b.start);
}
