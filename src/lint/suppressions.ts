/**
 * Ignore directives in comments:
 *   -- pgkeel-ignore rule-a, rule-b -- reason     (the statement it precedes or sits in)
 *   -- pgkeel-ignore-file rule-a -- reason        (the whole file)
 * `squawk-ignore` / `squawk-ignore-file` are honoured through each rule's `equivalents.squawk`,
 * so a team switching from squawk keeps its files as they are. Comments that look like a directive
 * but are none (`pgkeel-disable-next-line`, `pgkeel-ingore`) are found by `misspelledDirectives`.
 */

import { editDistance } from '../config/suggest.js';
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

/** A comment that looks like a pgkeel directive but is not one, so it suppresses nothing. */
export interface MisspelledDirective {
  comment: Comment;
  /** the directive as written: `pgkeel-disable-next-line` */
  written: string;
  /** the directive meant, when it is clear */
  suggestion?: 'pgkeel-ignore' | 'pgkeel-ignore-file';
  /** why there is none, when that needs saying */
  note?: string;
}

// what ESLint, Biome and ruff users type, by the part after `pgkeel-`
const STATEMENT_FORMS = new Set([
  'disable-next-line',
  'disable-line',
  'ignore-next-line',
  'ignore-line',
  'ignore-next',
  'ignore-next-statement',
  'disable-next-statement',
  'ignore-statement',
  'noqa',
  'nolint',
]);
const FILE_FORMS = new Set([
  'disable',
  'disable-file',
  'ignore-all',
  'ignorefile',
  'file-ignore',
  'ignore-whole-file',
]);
const LOOKALIKE = /^(pgkeel(?:[-_:][\w-]*|\s+(?:ignore|disable|enable)[\w-]*))/i;

/**
 * Comments starting like a pgkeel directive that `parseDirectives` does not accept: the forms users
 * of other linters try (`pgkeel-disable-next-line`), misspellings, and the wrong case. Each is a
 * finding, because a directive that silently does nothing leaves the author believing it works.
 */
export function misspelledDirectives(comments: Comment[]): MisspelledDirective[] {
  const out: MisspelledDirective[] = [];
  for (const comment of comments) {
    if (DIRECTIVE.test(comment.text)) continue;
    const m = LOOKALIKE.exec(comment.text);
    if (!m) continue;
    const written = m[1]!.replace(/:$/, '');
    // `-- pgkeel: why this is fine` is prose, not an attempted directive
    if (written.toLowerCase() === 'pgkeel') continue;
    const form = written
      .toLowerCase()
      .replace(/^pgkeel[-_\s]+/, '')
      .replaceAll('_', '-');
    if (form === 'ignore') out.push({ comment, written, suggestion: 'pgkeel-ignore' });
    else if (form === 'ignore-file') out.push({ comment, written, suggestion: 'pgkeel-ignore-file' });
    else if (STATEMENT_FORMS.has(form)) out.push({ comment, written, suggestion: 'pgkeel-ignore' });
    else if (FILE_FORMS.has(form)) out.push({ comment, written, suggestion: 'pgkeel-ignore-file' });
    else if (form === 'enable' || form.startsWith('enable-')) {
      out.push({
        comment,
        written,
        note: '`pgkeel-ignore` covers only the statement it precedes or sits in, so there is nothing to re-enable',
      });
    } else {
      // plain edit distance: `closest` treats a shared prefix as a near match, and `pgkeel-ignore` is
      // a prefix of every misspelling of `pgkeel-ignore-file`
      const toStatement = editDistance(form, 'ignore');
      const toFile = editDistance(form, 'ignore-file');
      const best = Math.min(toStatement, toFile);
      if (best <= 3)
        out.push({
          comment,
          written,
          suggestion: toFile < toStatement ? 'pgkeel-ignore-file' : 'pgkeel-ignore',
        });
      else out.push({ comment, written });
    }
  }
  return out;
}

/** Maps rule ids as a directive names them to pgkeel rule ids. */
export interface RuleNames {
  /** pgkeel rule id → itself; unknown → undefined */
  pgkeel(name: string): string | undefined;
  /** squawk rule id → the pgkeel rules it corresponds to; a known squawk id may map to none */
  squawk(name: string): string[] | undefined;
  /** every name each dialect knows, for did-you-mean */
  known: { pgkeel: readonly string[]; squawk: readonly string[] };
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
