/**
 * The findings of one file as they are made: rule reports, parse errors, internal errors and the
 * directives' own findings, turned into `Diagnostic`s (positions, docs link, fingerprint).
 */

import type { Diagnostic, Severity } from '../diagnostics.js';
import type { ParseError, SourceFile } from '../parse/parse.js';
import type { EmbeddedIn } from '../parse/plpgsql.js';
import { lockInfo, type ReportDescriptor, type Rule } from '../rules/define.js';
import { ruleDocsUrl } from '../rules/urls.js';
import { disambiguateFingerprints, statementFingerprint } from './fingerprint.js';

export class Findings {
  private readonly list: Diagnostic[] = [];

  /** `planning`: reports' `plan` thunks are called (see `LintOptions.planning`) */
  constructor(
    private readonly file: SourceFile,
    private readonly planning = false,
  ) {}

  /** A finding at char range `start`–`end` of statement `statement` (-1: none). */
  add(
    rule: string,
    severity: Severity,
    start: number,
    end: number,
    statement: number,
    rest: Partial<Diagnostic>,
  ): void {
    const s = this.file.position(start);
    const e = this.file.position(end);
    this.list.push({
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
    });
  }

  /** What a rule reported (once its directives have been checked). */
  rule(rule: Rule, severity: Severity, d: ReportDescriptor): void {
    const file = this.file;
    const stmt = d.statement.statement;
    let { start, end } = d.at ?? { start: stmt.start, end: stmt.end };
    if (!d.at && d.location !== undefined && d.location >= 0) {
      start = Math.max(stmt.start, Math.min(stmt.end, file.offsetOf(stmt, d.location)));
    }
    // a fix written for a top-level statement is rarely right inside a DO block or function body
    // (CONCURRENTLY cannot run there, for one): embedded findings offer none
    const inside = stmt.embeddedIn;
    // built here in one object (not through `add`'s spread): rule findings are most of a report
    const s = file.position(start);
    const e = file.position(end);
    const found: Diagnostic = {
      rule: rule.id,
      severity,
      verdict: rule.verdict,
      hazard: rule.hazard,
      message: inside ? `${d.message} ${whereEmbedded(file, inside)}` : d.message,
      start,
      end,
      line: s.line,
      column: s.column,
      endLine: e.line,
      endColumn: e.column,
      statement: stmt.index,
    };
    if (d.help)
      found.help = inside && NEEDS_OWN_STATEMENT.test(d.help) ? `${d.help} ${EMBEDDED_HELP}` : d.help;
    if (d.lock) found.lock = lockInfo(d.lock.mode, d.lock.relation);
    if (d.fix && !inside)
      found.fix = d.fix.safety ? d.fix : { ...d.fix, safety: rule.fixSafety?.level ?? 'unsafe' };
    // a plan replaces the whole top-level statement: a rule's plan for a statement of a DO block
    // or function decides itself whether it can (most return none there)
    if (this.planning && d.plan) {
      const plan = d.plan();
      if (plan) found.plan = plan;
    }
    found.docsUrl = ruleDocsUrl(rule.id);
    found.fingerprint = statementFingerprint(rule.id, stmt.text);
    this.list.push(found);
  }

  /** A statement Postgres cannot parse: its word is underlined, the other statements are still checked. */
  parseError(item: ParseError): void {
    this.add(
      'parse-error',
      'error',
      item.at,
      Math.min(item.end, nextTokenEnd(this.file, item.at)),
      item.index,
      {
        message: `Postgres cannot parse this statement: ${item.message}`,
        fingerprint: statementFingerprint('parse-error', this.file.sql.slice(item.start, item.end)),
        help: 'Fix the syntax; the other statements of the file were still checked.',
      },
    );
  }

  /** A bug in one rule must not cost the user the rest of the report: it becomes a finding of its own. */
  failed(what: string, stmt: { index: number; start: number; end: number } | undefined, e: unknown): void {
    const at = stmt ?? { index: -1, start: 0, end: 0 };
    this.add('internal-error', 'error', at.start, at.end, at.index, {
      message: `pgkeel failed in ${what}${stmt ? ' on this statement' : ''}: ${(e as Error)?.message ?? e}`,
      help: 'This is a bug in pgkeel; please report it with this statement. The other checks still ran.',
    });
  }

  /** Every finding, in file order, with fingerprints made unique. */
  sorted(): Diagnostic[] {
    this.list.sort((a, b) => a.start - b.start || a.end - b.end);
    disambiguateFingerprints(this.list);
    return this.list;
  }
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

/** End of the token at `at`, to underline a parse error's word rather than the whole statement. */
function nextTokenEnd(file: SourceFile, at: number): number {
  const m = /^[A-Za-z0-9_$]+|^\S/.exec(file.sql.slice(at, at + 200));
  return at + (m ? m[0].length : 0);
}
