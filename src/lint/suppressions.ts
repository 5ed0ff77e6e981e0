/**
 * Ignore directives in comments:
 *   -- pgkeel-ignore rule-a, rule-b -- reason     (the statement it precedes or sits in)
 *   -- pgkeel-ignore-file rule-a -- reason        (the whole file)
 * `squawk-ignore` / `squawk-ignore-file` are honoured through each rule's `equivalents.squawk`,
 * so a team switching from squawk keeps its files as they are.
 */

import type { Comment } from '../parse/lexer.js';

export interface Directive {
  comment: Comment;
  scope: 'statement' | 'file';
  dialect: 'pgkeel' | 'squawk';
  /** rule names as written; empty = every rule */
  names: string[];
  /** the statement it applies to (statement scope), set while linting */
  statement?: number;
  /** names that suppressed at least one finding ('*' when `names` is empty) */
  used: Set<string>;
}

const DIRECTIVE = /^(pgkeel|squawk)-ignore(-file)?(?=\s|$|:)\s*:?\s*(.*)$/s;

export function parseDirectives(comments: Comment[]): Directive[] {
  const out: Directive[] = [];
  for (const comment of comments) {
    const m = DIRECTIVE.exec(comment.text);
    if (!m) continue;
    // everything after a second `--` is the reason
    const list = m[3]!.split('--')[0]!.trim();
    out.push({
      comment,
      scope: m[2] ? 'file' : 'statement',
      dialect: m[1] as 'pgkeel' | 'squawk',
      names: list === '' ? [] : list.split(/[\s,]+/).filter(Boolean),
      used: new Set(),
    });
  }
  return out;
}

/** Maps rule ids as a directive names them to pgkeel rule ids. */
export interface RuleNames {
  /** pgkeel rule id → itself; unknown → undefined */
  pgkeel(name: string): string | undefined;
  /** squawk rule id → the pgkeel rules it corresponds to; a known squawk id may map to none */
  squawk(name: string): string[] | undefined;
}

/** Whether `directive` suppresses a finding of `ruleId`; records the use. */
export function suppresses(directive: Directive, ruleId: string, names: RuleNames): boolean {
  if (directive.names.length === 0) {
    directive.used.add('*');
    return true;
  }
  for (const name of directive.names) {
    const targets = directive.dialect === 'pgkeel' ? [names.pgkeel(name)] : (names.squawk(name) ?? []);
    if (targets.includes(ruleId)) {
      directive.used.add(name);
      return true;
    }
  }
  return false;
}
