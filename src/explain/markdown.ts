/**
 * `explain --format markdown`: a GitHub-flavoured table per file, one row per lock, with notes
 * below it — small enough for a pull-request comment.
 */

import { settingSource } from '../report/assumptions.js';
import {
  type ExplainedFile,
  type ExplainedLock,
  type ExplainedStatement,
  type ExplainReport,
  withEmbedded,
} from './explain.js';
import { plural } from './pretty.js';

const STATEMENT_WIDTH = 80;
const HEADER = ['line', 'statement', 'relation', 'lock', 'effect', 'work under the lock', 'held until'];

export function formatExplainMarkdown(report: ExplainReport): string {
  if (report.files.length === 0) return '_No files explained._\n';
  return report.files.map(fileMarkdown).join('\n');
}

export function fileMarkdown(f: ExplainedFile): string {
  const out = [`### ${code(f.path)}`, ''];
  out.push(
    `PostgreSQL ${f.pgVersion}${settingSource(f.pgVersionFrom, 'pgVersion')} · runner ${code(f.runner)}${settingSource(f.runnerFrom, 'runner')}${f.noTransaction ? ' (no transaction)' : ''} · ${plural(f.statements.length, 'statement')}`,
    '',
  );
  for (const p of f.inputProblems ?? [])
    out.push(`**${p.severity}** (line ${p.line}:${p.column}): ${oneLine(p.message)}`, '');
  if (f.unreadable) return `${out.join('\n')}`;
  if (f.statements.length === 0) return `${out.join('\n')}_No statements._\n`;
  out.push(row(HEADER), `|${HEADER.map((_, i) => (i === 0 ? '---:' : '---')).join('|')}|`);
  const notes: string[] = [];
  for (const top of f.statements) {
    out.push(...statementRows(top, 0));
    for (const s of withEmbedded(top)) {
      for (const h of s.heldFromEarlier) {
        notes.push(
          `line ${s.line}: the transaction still holds ${h.mode} on ${code(h.display)}, locked since line ${h.since.line} (${h.summary}).`,
        );
      }
      for (const n of s.notes) notes.push(`line ${s.line}: ${n}`);
    }
  }
  if (notes.length > 0) out.push('', ...notes.map((n) => `- ${oneLine(n)}`));
  return `${out.join('\n')}\n`;
}

/** The statement's rows, then those of the statements it runs (a DO block's, a called function's), marked `↳`. */
function statementRows(s: ExplainedStatement, depth: number): string[] {
  const sql = code(statementHead(s.sql));
  const at = depth === 0 ? String(s.line) : `${'↳'.repeat(depth)} ${s.line}:${s.column}`;
  const inner: string[] = [];
  for (const b of s.embedded ?? []) {
    for (const e of b.statements) inner.push(...statementRows(e, depth + 1));
    for (const u of b.notStaticallyKnown) {
      const where = `${'↳'.repeat(depth + 1)} ${u.line}:${u.column}`;
      inner.push(
        row([where, code(statementHead(u.sql)), '', '?', `not statically known: ${u.reason}`, '', '']),
      );
    }
  }
  if (s.error !== undefined) return [row([at, sql, '', '', `parse error: ${s.error}`, '', ''])];
  const runs = (s.embedded?.length ?? 0) > 0;
  if (s.locks.length === 0)
    return [row([at, sql, '', '—', runs ? 'runs the statements below' : '', '', '']), ...inner];
  const own = s.locks.map((l, i) =>
    row([
      i === 0 ? at : '',
      i === 0 ? sql : '',
      relation(l),
      `**${l.mode}**`,
      l.summary,
      work(l),
      heldUntil(s),
    ]),
  );
  return [...own, ...inner];
}

function relation(l: ExplainedLock): string {
  const tags: string[] = [];
  if (l.newInTransaction) tags.push('new, same transaction');
  else if (l.isNew) tags.push('new');
  if (l.alreadyHeld) tags.push(l.heldSince ? `already held since line ${l.heldSince.line}` : 'already held');
  return code(l.display) + (tags.length > 0 ? ` (${tags.join('; ')})` : '');
}

function work(l: ExplainedLock): string {
  const parts: string[] = [];
  if (l.rewrite) parts.push('rewrite');
  if (l.scan) parts.push('full scan');
  if (l.indexBuild) parts.push('index build');
  if (l.duration === 'brief') return parts.length > 0 ? `${parts.join(', ')}, brief` : 'brief';
  const size = l.set
    ? 'the size of its tables'
    : l.sizeOf && l.sizeOf !== l.relation
      ? `the size of ${code(l.sizeOf)}`
      : 'table size';
  return `${parts.join(', ')}${parts.length > 0 ? ': ' : ''}proportional to ${size}`;
}

function heldUntil(s: ExplainedStatement): string {
  const t = s.transaction;
  if (!t) return 'end of statement';
  if (t.openedBy === 'block') return `end of the statement (line ${t.start?.line ?? '?'})`;
  if (t.end) return `COMMIT (line ${t.end.line})`;
  return t.openedBy === 'runner' ? 'the runner’s COMMIT' : 'end of transaction';
}

function statementHead(sql: string): string {
  const nl = sql.indexOf('\n');
  let head = (nl < 0 ? sql : sql.slice(0, nl)).trimEnd();
  let cut = nl >= 0;
  if ([...head].length > STATEMENT_WIDTH) {
    head = [...head].slice(0, STATEMENT_WIDTH - 1).join('');
    cut = true;
  }
  return cut ? `${head} …` : head;
}

/** A table row: pipes escaped, line breaks flattened, so every row has exactly the header's cells. */
function row(cells: string[]): string {
  return `| ${cells.map((c) => oneLine(c).replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** An inline code span that survives backticks in the text (CommonMark: a longer fence). */
function code(text: string): string {
  const t = oneLine(text);
  const longest = Math.max(0, ...[...t.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

function oneLine(s: string): string {
  // control characters would break the table or the terminal showing the raw text
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return s.replace(/\r?\n|\r/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}
