/**
 * The directive pass of one file: its ignore comments (`-- pgkeel-ignore`, `-- squawk-ignore`, their
 * `-file` forms) read before any rule runs, tied to their statements as the statements are reached,
 * asked whether a finding is suppressed, and, once the file is done, their own findings: unknown
 * rule names, directives that suppressed nothing, comments that look like a directive but are none.
 */

import { didYouMean } from '../config/suggest.js';
import type { Comment } from '../parse/lexer.js';
import type { Rule } from '../rules/define.js';
import { SQUAWK_RULE_IDS } from '../rules/peers.js';
import type { Findings } from './findings.js';
import {
  type Directive,
  misspelledDirectives,
  parseDirectives,
  type RuleNames,
  suppresses,
} from './suppressions.js';

export class Directives {
  private readonly all: Directive[];
  private readonly fileScope: Directive[];
  private readonly statementScope: Directive[];
  /** the first statement-scope directive not yet tied to a statement */
  private next = 0;
  /** statement-scope directives by statement index, so findings reported later (from `end()`) are suppressed too */
  private readonly byStatement = new Map<number, Directive[]>();

  constructor(
    private readonly comments: Comment[],
    private readonly names: RuleNames,
  ) {
    this.all = parseDirectives(comments);
    this.fileScope = this.all.filter((d) => d.scope === 'file');
    this.statementScope = this.all.filter((d) => d.scope === 'statement');
  }

  /** Ties the directives in or before statement `index` (which ends at `end`) to it. */
  reach(index: number, end: number): void {
    const pending = this.statementScope;
    let here: Directive[] | undefined;
    while (this.next < pending.length && pending[this.next]!.comment.start < end) {
      const d = pending[this.next++]!;
      d.statement = index;
      if (here) here.push(d);
      else here = [d];
    }
    if (here) this.byStatement.set(index, here);
  }

  /** Whether a directive suppresses `ruleId` on statement `index`; marks the directive used. */
  ignored(ruleId: string, index: number): boolean {
    const here = this.byStatement.get(index);
    if (here) {
      for (const dir of here) {
        if (dir.scope === 'statement' && dir.statement !== index) continue;
        if (suppresses(dir, ruleId, this.names)) return true;
      }
    }
    for (const dir of this.fileScope) {
      if (dir.scope === 'statement' && dir.statement !== index) continue;
      if (suppresses(dir, ruleId, this.names)) return true;
    }
    return false;
  }

  /**
   * The directives' own findings, once every rule has reported: unknown rule names, directives that
   * suppressed nothing, unknown directives.
   * @param active the rules that ran: a directive naming one that did not (turned off, or not in --rule) is not unused
   */
  report(active: ReadonlySet<string>, findings: Findings): void {
    const names = this.names;
    for (const d of this.all) {
      const known = (n: string) =>
        d.dialect === 'pgkeel' ? names.pgkeel(n) !== undefined : names.squawk(n) !== undefined;
      for (const n of d.names) {
        if (!known(n)) {
          const hint = didYouMean(n, names.known[d.dialect]);
          directiveFinding(findings, 'unknown-rule', d, `Unknown rule "${n}" in ${d.dialect}-ignore${hint}.`);
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
        directiveFinding(
          findings,
          'unused-ignore',
          d,
          `This pgkeel-ignore${d.scope === 'file' ? '-file' : ''} suppresses nothing: ${unused.join(', ')}. Remove it.`,
        );
      }
    }
    for (const m of misspelledDirectives(this.comments)) {
      const message = m.suggestion
        ? `Unknown directive \`${m.written}\`; did you mean \`${m.suggestion}\`? It suppresses nothing as written.`
        : `Unknown directive \`${m.written}\`${m.note ? `: ${m.note}` : ''}. It suppresses nothing as written.`;
      findings.add('unknown-directive', 'warning', m.comment.start, m.comment.end, -1, {
        message,
        help:
          m.suggestion === 'pgkeel-ignore-file'
            ? '`-- pgkeel-ignore-file rule-id -- reason` ignores a rule in the whole file.'
            : '`-- pgkeel-ignore rule-id -- reason` before a statement ignores a rule for that statement; `-- pgkeel-ignore-file rule-id` for the whole file.',
      });
    }
  }
}

function directiveFinding(
  findings: Findings,
  rule: 'unknown-rule' | 'unused-ignore',
  d: Directive,
  message: string,
): void {
  findings.add(rule, 'warning', d.comment.start, d.comment.end, d.statement ?? -1, { message });
}

const ruleNamesCache = new WeakMap<readonly Rule[], RuleNames>();

/** The names directives may use for `rules`: their ids, and the squawk rules they correspond to. */
export function ruleNames(rules: readonly Rule[]): RuleNames {
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
