/**
 * `explain` for people: per statement, what it does, the transaction it runs in, and per lock the
 * mode, what it blocks and lets through, the work done under it and when it is released.
 */

import pc from 'picocolors';
import type { LockMode } from '../catalog/locks.js';
import { pgVersionLabel, runnerLabel } from '../report/assumptions.js';
import { inlineValue as oneLine, proseLines, sanitizeInline, truncate } from '../report/text.js';
import {
  type ExplainedBody,
  type ExplainedFile,
  type ExplainedLock,
  type ExplainedStatement,
  withEmbedded,
} from './explain.js';

export interface ExplainPrettyOptions {
  /** ANSI colours; when false the output has no escape codes */
  color: boolean;
  /** widest line printed for a statement's first line (default 100) */
  maxWidth?: number;
}

type Colors = ReturnType<typeof pc.createColors>;

const LABEL_WIDTH = 8;
/** indentation of each level of embedded statements */
const NEST = 4;
const DEFAULT_WIDTH = 100;

/** Statements whose own line says all there is to say when they take no locks. */
const SELF_EXPLAINING = new Set(['TransactionStmt', 'VariableSetStmt', 'VariableShowStmt']);

export class ExplainPrettyRenderer {
  private readonly c: Colors;
  private readonly width: number;

  constructor(options: ExplainPrettyOptions) {
    this.c = pc.createColors(options.color);
    this.width = Math.max(40, Math.trunc(options.maxWidth ?? DEFAULT_WIDTH));
  }

  file(file: ExplainedFile): string {
    const c = this.c;
    const count = file.statements.length;
    const facts = c.dim(
      `${oneLine(pgVersionLabel(file.pgVersion, file.pgVersionFrom))} · ${oneLine(runnerLabel(file.runner, file.runnerFrom))}${file.noTransaction ? ' (no transaction)' : ''} · ${plural(count, 'statement')}`,
    );
    const out = [`${c.bold(oneLine(file.path))}  ${facts}`];
    for (const p of file.inputProblems ?? [])
      out.push(
        ...this.labelled(
          p.severity,
          proseLines(p.line > 1 || p.column > 1 ? `line ${p.line}:${p.column}: ${p.message}` : p.message),
          p.severity === 'error' ? c.red : c.yellow,
        ),
      );
    if (count === 0 && !file.unreadable) out.push(`  ${c.dim('no statements')}`);
    for (const s of file.statements) out.push('', ...this.statement(s));
    return `${out.join('\n')}\n`;
  }

  /** `depth` > 0: a statement of a DO block or function, shown indented under the one running it */
  statement(s: ExplainedStatement, depth = 0): string[] {
    const c = this.c;
    const where = depth > 0 ? `line ${s.line}:${s.column}` : `line ${s.line}`;
    const width = this.width - NEST * depth;
    const out = [`${c.bold(where)}  ${firstLine(s.sql, width - where.length - 2)}`];
    if (s.error !== undefined) {
      out.push(
        ...this.labelled('error', proseLines(`Postgres cannot parse this statement: ${s.error}`), c.red),
      );
      return out;
    }
    const titles = countTitles(s.actions.map((a) => a.title));
    if (titles.length > 0) out.push(...this.labelled('does', [titles.join('; ')]));
    if (s.conditional)
      out.push(
        ...this.labelled('when', [
          c.dim('only under a condition (IF, CASE, a loop or an exception handler)'),
        ]),
      );
    const runs = s.embedded ?? [];
    const interesting = s.locks.length > 0 || s.heldFromEarlier.length > 0 || s.kind === 'TransactionStmt';
    if (interesting) out.push(...this.labelled('in', [this.transactionText(s)]));
    for (const l of s.locks) out.push(...this.labelled('lock', this.lockLines(s, l)));
    if (
      s.locks.length === 0 &&
      s.actions.length === 0 &&
      runs.length === 0 &&
      !SELF_EXPLAINING.has(s.kind ?? '')
    ) {
      out.push(...this.labelled('lock', [c.dim(`none that pgkeel knows of (${oneLine(s.kind ?? '?')})`)]));
    } else if (s.locks.length === 0 && s.actions.length > 0) {
      out.push(...this.labelled('lock', [c.dim('no lock on an existing relation')]));
    }
    for (const h of s.heldFromEarlier) {
      out.push(
        ...this.labelled('still', [
          `holds ${this.mode(h.mode)} on ${c.bold(oneLine(h.display))} (locked since line ${h.since.line}) — ${h.summary}`,
        ]),
      );
    }
    if (s.locks.length > 0) out.push(...this.labelled('timeout', this.timeoutText(s).split('\n')));
    for (const n of s.notes) out.push(...this.labelled('note', proseLines(n)));
    for (const b of runs) out.push(...this.body(b, depth));
    return out;
  }

  /** A DO block's or called function's statements, indented under the statement that runs them. */
  private body(b: ExplainedBody, depth: number): string[] {
    const c = this.c;
    const what =
      b.kind === 'do'
        ? `the DO block's ${plural(b.statements.length, 'statement')}`
        : `${plural(b.statements.length, 'statement')} of function ${c.bold(oneLine(b.name ?? '?'))} (defined at line ${b.line})`;
    const unknown = b.notStaticallyKnown.length;
    const tail = unknown > 0 ? `, and ${plural(unknown, 'part')} not statically known` : '';
    const out = this.labelled('runs', [`${what}${tail}${b.statements.length + unknown > 0 ? ':' : ''}`]);
    const pad = ' '.repeat(NEST);
    for (const s of b.statements) out.push(...this.statement(s, depth + 1).map((l) => pad + l));
    const width = this.width - NEST * (depth + 1);
    for (const u of b.notStaticallyKnown) {
      const where = `line ${u.line}:${u.column}`;
      out.push(
        pad + `${c.bold(where)}  ${firstLine(u.sql, width - where.length - 2)}`,
        ...this.labelled('unknown', [c.yellow(`not statically known: ${oneLine(u.reason)}`)]).map(
          (l) => pad + l,
        ),
      );
    }
    return out;
  }

  private timeoutText(s: ExplainedStatement): string {
    const c = this.c;
    const lock = s.lockTimeout ? `${ms(s.lockTimeout.ms)} (${s.lockTimeout.source})` : 'none';
    const statement = s.statementTimeout
      ? `${ms(s.statementTimeout.ms)} (${s.statementTimeout.source})`
      : 'none';
    const text = c.dim(`lock_timeout ${lock} · statement_timeout ${statement}`);
    // the lock queue: a statement waiting for a conflicting lock makes every later query wait behind it
    const queued = s.locks.filter((l) => l.blocksApplication && !l.alreadyHeld && !l.newInTransaction);
    if (s.lockTimeout || queued.length === 0) return text;
    const names = queued.map((l) => oneLine(l.display)).join(', ');
    return `${text}\n${c.yellow(`if it has to wait for its lock, queries on ${names} queue behind it`)}`;
  }

  private transactionText(s: ExplainedStatement): string {
    const t = s.transaction;
    if (!t) return 'autocommit: locks are released when the statement ends';
    if (t.openedBy === 'block')
      return `the transaction of the statement on line ${t.start?.line ?? '?'}: locks are held until it ends`;
    const opened = t.openedBy === 'runner' ? 'the runner’s transaction' : `transaction ${t.id}`;
    const from = t.start ? ` (BEGIN at line ${t.start.line})` : '';
    const until = t.end
      ? `COMMIT at line ${t.end.line}`
      : t.openedBy === 'runner'
        ? 'the runner commits'
        : 'it ends';
    return `${opened}${from}: locks are held until ${until}`;
  }

  private lockLines(s: ExplainedStatement, l: ExplainedLock): string[] {
    const c = this.c;
    const tags: string[] = [];
    if (l.newInTransaction) tags.push('created in this transaction: no other session sees it yet');
    else if (l.isNew) tags.push('created earlier in this migration');
    if (l.alreadyHeld && l.heldSince) tags.push(`already held since line ${l.heldSince.line}: no wait`);
    else if (l.alreadyHeld) tags.push('already held: no wait');
    const head = `${this.mode(l.mode)} on ${c.bold(oneLine(l.display))} — ${l.summary}`;
    const lines = [head];
    lines.push(`  ${c.dim('blocks')} ${l.blocks.length > 0 ? l.blocks.join(', ') : 'nothing'}`);
    lines.push(`  ${c.dim('allows')} ${l.allows.length > 0 ? l.allows.join(', ') : 'nothing'}`);
    lines.push(`  ${c.dim('lasts')}  ${this.holdText(s, l)}`);
    for (const t of tags) lines.push(`  ${c.dim(t)}`);
    return lines;
  }

  private holdText(s: ExplainedStatement, l: ExplainedLock): string {
    const work: string[] = [];
    if (l.rewrite) work.push('rewrites the table');
    if (l.scan) work.push('reads every row');
    if (l.indexBuild) work.push('builds an index');
    const size = l.set
      ? 'the size of its tables'
      : l.sizeOf && l.sizeOf !== l.relation
        ? `the size of ${l.sizeOf}`
        : 'the table’s size';
    let text =
      l.duration === 'table-size'
        ? `${work.length > 0 ? `${work.join(', ')}: ` : ''}for a time proportional to ${size}`
        : 'briefly';
    const t = s.transaction;
    if (!t) text += ', released when the statement ends';
    else if (t.openedBy === 'block')
      text += `, then until the statement on line ${t.start?.line ?? '?'} ends`;
    else if (t.end) text += `, then until COMMIT at line ${t.end.line}`;
    else
      text +=
        t.openedBy === 'runner' ? ', then until the runner commits' : ', then until the transaction ends';
    return text;
  }

  private mode(mode: LockMode): string {
    const c = this.c;
    if (mode === 'ACCESS EXCLUSIVE' || mode === 'EXCLUSIVE') return c.bold(c.red(mode));
    if (mode === 'SHARE' || mode === 'SHARE ROW EXCLUSIVE') return c.bold(c.yellow(mode));
    return c.bold(c.green(mode));
  }

  private labelled(label: string, lines: string[], paint: (s: string) => string = this.c.cyan): string[] {
    return lines.map((l, i) =>
      i === 0
        ? `  ${paint(label)}${' '.repeat(Math.max(1, LABEL_WIDTH - label.length))}${l}`
        : `${' '.repeat(LABEL_WIDTH + 2)}${l}`,
    );
  }

  summary(files: readonly ExplainedFile[]): string {
    const c = this.c;
    let statements = 0;
    let blocking = 0;
    let long = 0;
    let errors = 0;
    for (const f of files) {
      for (const s of f.statements) {
        statements++;
        if (s.error !== undefined) errors++;
        const app = withEmbedded(s).flatMap((e) =>
          e.locks.filter((l) => l.blocksApplication && !l.alreadyHeld && !l.newInTransaction),
        );
        if (app.length > 0) blocking++;
        if (app.some((l) => l.duration === 'table-size')) long++;
      }
    }
    if (files.length === 0) return `${c.dim('No files explained')}\n`;
    const parts = [`${plural(statements, 'statement')} in ${plural(files.length, 'file')}`];
    parts.push(
      blocking === 0
        ? 'none blocks application queries'
        : `${blocking} ${blocking === 1 ? 'blocks' : 'block'} application queries${long > 0 ? ` (${long} for a time proportional to table size)` : ''}`,
    );
    if (errors > 0) parts.push(c.red(plural(errors, 'parse error')));
    const unreadable = files.filter((f) => f.unreadable).length;
    if (unreadable > 0) parts.push(c.red(`${plural(unreadable, 'file')} not read`));
    return `${parts.join(' · ')}\n`;
  }
}

/** `ADD COLUMN ×2; CREATE INDEX` */
function countTitles(titles: string[]): string[] {
  const counts = new Map<string, number>();
  for (const t of titles) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([t, n]) => (n > 1 ? `${oneLine(t)} ×${n}` : oneLine(t)));
}

/** The statement's first line, cut to `width` columns, with `…` when anything is left out. */
export function firstLine(sql: string, width: number): string {
  const nl = sql.indexOf('\n');
  const head = (nl < 0 ? sql : sql.slice(0, nl)).replace(/\r$/, '').trimEnd();
  const more = nl >= 0;
  const shown = truncate(sanitizeInline(head), Math.max(10, width));
  return more && !shown.endsWith('…') ? `${shown} …` : shown;
}

export function ms(n: number): string {
  if (n % 60000 === 0 && n >= 60000) return `${n / 60000}min`;
  if (n % 1000 === 0 && n >= 1000) return `${n / 1000}s`;
  return `${n}ms`;
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
