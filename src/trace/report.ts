/**
 * `trace` output: pretty (per statement, observed next to claimed, ✓ or ✗ with the difference in
 * words) and JSON (docs/trace-format.md).
 */

import cliProgress from 'cli-progress';
import pc from 'picocolors';
import { plural } from '../explain/pretty.js';
import { inlineValue as oneLine, proseLines, sanitizeInline, truncate } from '../report/text.js';
import { type Claim, mismatchText } from './compare.js';
import type {
  TracedBody,
  TracedFile,
  TracedSpan,
  TracedStatement,
  TraceProgress,
  TraceReport,
} from './trace.js';

export const TRACE_FORMATS = ['pretty', 'json'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** Version of the JSON document's schema; changes only when a field is removed, renamed or changes meaning. */
export const TRACE_JSON_VERSION = 1;

export interface TraceFormatOptions {
  toolVersion: string;
  /** ANSI colours (pretty) */
  color?: boolean;
  /** widest statement line (pretty, default 100) */
  maxWidth?: number;
  /** spaces per level, 0 for one line (json, default 2) */
  indent?: number;
}

export interface TraceTotals {
  files: number;
  statements: number;
  /** ran, and Postgres did what the catalog claims */
  matched: number;
  /** ran, and Postgres did something else */
  mismatched: number;
  /** differences, over all statements */
  mismatches: number;
  errors: number;
  notTraced: number;
  notRun: number;
  setupProblems: number;
}

export function traceTotals(files: readonly TracedFile[]): TraceTotals {
  const t: TraceTotals = {
    files: files.length,
    statements: 0,
    matched: 0,
    mismatched: 0,
    mismatches: 0,
    errors: 0,
    notTraced: 0,
    notRun: 0,
    setupProblems: 0,
  };
  for (const f of files) {
    t.setupProblems += f.setup.problems.length;
    for (const s of f.statements) {
      t.statements++;
      t.mismatches += s.mismatches.length;
      if (s.status === 'match') t.matched++;
      else if (s.status === 'mismatch') t.mismatched++;
      else if (s.status === 'error') t.errors++;
      else if (s.status === 'not-traced') t.notTraced++;
      else t.notRun++;
    }
  }
  return t;
}

export interface TraceReporter {
  /** the engine is up (pretty prints it first) */
  engine(engine: TraceReport['engine']): void;
  file(file: TracedFile): void;
  finish(): void;
}

export function createTraceReporter(
  format: TraceFormat,
  options: TraceFormatOptions,
  write: (chunk: string) => void,
): TraceReporter {
  const files: TracedFile[] = [];
  let engine: TraceReport['engine'] = { name: '', majorVersion: 0 };
  if (format === 'json') {
    return {
      engine: (e) => {
        engine = e;
      },
      file: (f) => files.push(f),
      finish: () => write(formatTraceJson({ engine, files }, options)),
    };
  }
  const r = new TracePrettyRenderer(options);
  return {
    engine(e) {
      engine = e;
      write(`${r.engineLine(e)}\n`);
    },
    file(f) {
      write(`\n${r.file(f)}`);
      files.push(f);
    },
    finish: () => write(`\n${r.summary(files, engine)}`),
  };
}

export function formatTrace(format: TraceFormat, report: TraceReport, options: TraceFormatOptions): string {
  const chunks: string[] = [];
  const reporter = createTraceReporter(format, options, (s) => chunks.push(s));
  reporter.engine(report.engine);
  for (const f of report.files) reporter.file(f);
  reporter.finish();
  return chunks.join('');
}

// ── pretty ──────────────────────────────────────────────────────────────────

type Colors = ReturnType<typeof pc.createColors>;

const SETUP_PROBLEMS_SHOWN = 3;
const TABLE_LIKE = new Set(['table', 'partitioned table', 'materialized view']);

interface Row {
  relation: string;
  observed: string;
  claimed: string;
}

export class TracePrettyRenderer {
  private readonly c: Colors;
  private readonly width: number;

  constructor(options: { color?: boolean; maxWidth?: number }) {
    this.c = pc.createColors(options.color ?? false);
    this.width = Math.max(40, Math.trunc(options.maxWidth ?? 100));
  }

  engineLine(engine: TraceReport['engine']): string {
    return this.c.dim(`Tracing on ${oneLine(engine.name)}`);
  }

  file(f: TracedFile): string {
    const c = this.c;
    const out = [
      `${c.bold(oneLine(f.path))}  ${c.dim(`PG ${f.pgVersion} · ${oneLine(f.runner)} · ${plural(f.statements.length, 'statement')}`)}`,
    ];
    const setup: string[] = [];
    if (f.setup.earlier.length > 0) {
      const list =
        f.setup.earlier.length <= 3
          ? f.setup.earlier.map(baseName).join(', ')
          : `${plural(f.setup.earlier.length, 'earlier migration')} (${baseName(f.setup.earlier[0]!)} … ${baseName(f.setup.earlier.at(-1)!)})`;
      setup.push(`applied ${list}`);
    }
    if (f.setup.schema.length > 0) setup.push(`schema ${f.setup.schema.map(oneLine).join(', ')}`);
    if (f.setup.seeded.length > 0) {
      setup.push(`seeded ${f.setup.seeded.map((s) => `${oneLine(s.table)} (${s.rows} rows)`).join(', ')}`);
    }
    if (setup.length > 0) out.push(`  ${c.cyan('setup')}  ${setup.join(' · ')}`);
    if (f.setup.problems.length > 0) {
      out.push(
        `  ${c.yellow('setup')}  ${plural(f.setup.problems.length, 'problem')} (the trace went on):`,
        ...f.setup.problems
          .slice(0, SETUP_PROBLEMS_SHOWN)
          .map((p) => `         ${c.dim(truncate(oneLine(p), this.width - 9))}`),
      );
      if (f.setup.problems.length > SETUP_PROBLEMS_SHOWN)
        out.push(
          `         ${c.dim(`… ${f.setup.problems.length - SETUP_PROBLEMS_SHOWN} more (--format json lists them)`)}`,
        );
    }
    for (const s of f.statements) out.push(...this.statement(s));
    for (const n of f.notes) out.push(`  ${c.cyan('note')}   ${oneLine(n)}`);
    return `${out.join('\n')}\n`;
  }

  statement(s: TracedStatement): string[] {
    const c = this.c;
    const icon =
      s.status === 'match'
        ? c.green('✓')
        : s.status === 'mismatch' || s.status === 'error'
          ? c.red('✗')
          : c.dim('–');
    const where = `line ${s.line}`;
    const time = s.durationMs !== undefined ? `  ${c.dim(duration(s.durationMs))}` : '';
    const room = this.width - where.length - 14;
    const out = [`  ${icon} ${c.bold(where)}  ${firstLine(s.sql, room)}${time}`];
    const indent = '      ';
    if (s.status === 'error') {
      out.push(
        ...proseLines(s.error ?? '').map((l, i) => `${indent}${i === 0 ? c.red('error') : '     '}  ${l}`),
      );
    }
    if (s.status === 'not-traced' || s.status === 'not-run') {
      out.push(
        `${indent}${c.dim(`${s.status === 'not-traced' ? 'not traced' : 'not run'}: ${oneLine(s.reason ?? '')}`)}`,
      );
    }
    const rows = this.rows(s);
    if (rows.length > 0 && (s.status === 'match' || s.status === 'mismatch')) {
      const w1 = Math.max('relation'.length, ...rows.map((r) => r.relation.length));
      const w2 = Math.max('observed'.length, ...rows.map((r) => r.observed.length));
      out.push(`${indent}${c.dim(`${'relation'.padEnd(w1)}  ${'observed'.padEnd(w2)}  claimed`)}`);
      for (const r of rows) {
        const differs = s.mismatches.some((m) => m.relation === r.relation);
        const paint = differs ? c.red : (x: string) => x;
        out.push(`${indent}${r.relation.padEnd(w1)}  ${paint(r.observed.padEnd(w2))}  ${paint(r.claimed)}`);
      }
    }
    for (const b of s.embedded ?? []) out.push(...this.body(b, indent));
    for (const m of s.mismatches) out.push(`${indent}${c.red('✗')} ${oneLine(mismatchText(m))}`);
    for (const u of s.unverified)
      out.push(`${indent}${c.dim(`? ${oneLine(u.relation)}: not checked, ${oneLine(u.reason)}`)}`);
    for (const n of s.notes) out.push(`${indent}${c.dim(oneLine(n))}`);
    return out;
  }

  /** The statements a DO block or called function runs, each with its own claims. */
  private body(b: TracedBody, indent: string): string[] {
    const c = this.c;
    const title =
      b.kind === 'do'
        ? `the DO block's statements (the claims above are theirs):`
        : `function ${oneLine(b.name ?? '?')} (defined at line ${b.line}), whose statements claim:`;
    const out = [`${indent}${c.cyan('runs')}  ${title}`];
    const pad = `${indent}      `;
    const where = (x: TracedSpan) => `line ${x.line}:${x.column}`;
    const w = Math.max(0, ...[...b.statements, ...b.notStaticallyKnown].map((x) => where(x).length));
    const room = Math.max(20, Math.floor((this.width - pad.length - w) / 2));
    const items: TracedSpan[] = [...b.statements, ...b.notStaticallyKnown];
    const heads = new Map(items.map((x) => [x, firstLine(x.sql, room)]));
    const hw = Math.max(0, ...[...heads.values()].map((h) => h.length));
    const head = (x: TracedSpan) => `${pad}${where(x).padEnd(w)}  ${(heads.get(x) ?? '').padEnd(hw)}`;
    for (const x of b.statements) {
      const claims = x.claimed.map((cl) => `${cl.relation} ${claimText(cl)}`).join(', ') || 'nothing claimed';
      const when = x.conditional ? c.dim(' (only under a condition)') : '';
      out.push(`${head(x)}  ${c.dim('→')} ${oneLine(claims)}${when}`);
    }
    for (const u of b.notStaticallyKnown) {
      out.push(`${head(u)}  ${c.yellow(`→ not statically known: ${oneLine(u.reason)}`)}`);
    }
    return out;
  }

  /** One row per relation that matters: claimed, locked like a table, or read in full. */
  private rows(s: TracedStatement): Row[] {
    const claims = new Map(s.claimed.map((c) => [c.relation, c]));
    const locks = new Map((s.observed?.locks ?? []).map((l) => [l.relation, l]));
    const names = new Set<string>(claims.keys());
    for (const l of locks.values()) if (TABLE_LIKE.has(l.kind)) names.add(l.relation);
    for (const r of s.observed?.seqScans ?? []) names.add(r);
    const created = new Set(s.created);
    return [...names].map((relation) => {
      const lock = locks.get(relation);
      const observedWork: string[] = [];
      if (s.observed?.rewritten.includes(relation)) observedWork.push('rewrite');
      if (s.observed?.seqScans?.includes(relation)) observedWork.push('full scan');
      const observedLock = s.observed?.locks === undefined ? 'not observable' : (lock?.mode ?? 'no lock');
      const claim = claims.get(relation);
      return {
        relation: oneLine(relation),
        observed: [observedLock, ...observedWork].join(' · '),
        claimed: claim ? claimText(claim) : created.has(relation) ? '— (created here)' : 'no lock',
      };
    });
  }

  summary(files: readonly TracedFile[], engine: TraceReport['engine']): string {
    const c = this.c;
    const t = traceTotals(files);
    if (t.files === 0) return `${c.dim('No files traced')}\n`;
    const where = `${plural(t.statements, 'statement')} in ${plural(t.files, 'file')} on ${oneLine(engine.name)}`;
    const extra: string[] = [];
    if (t.notTraced > 0) extra.push(`${t.notTraced} not traced`);
    if (t.notRun > 0) extra.push(`${t.notRun} not run`);
    if (t.setupProblems > 0) extra.push(plural(t.setupProblems, 'setup problem'));
    const tail = extra.length > 0 ? ` (${extra.join(', ')})` : '';
    if (t.mismatched === 0 && t.errors === 0) {
      return `${c.green('✓')} ${where}: what Postgres did matches the catalog${tail}\n`;
    }
    const bad: string[] = [];
    if (t.mismatches > 0)
      bad.push(
        `${t.mismatches} ${t.mismatches === 1 ? 'mismatch' : 'mismatches'} in ${plural(t.mismatched, 'statement')}`,
      );
    if (t.errors > 0) bad.push(plural(t.errors, 'error'));
    return `${c.red('✗')} ${c.bold(bad.join(', '))} · ${where}${tail}\n`;
  }
}

function claimText(c: Claim): string {
  const work: string[] = [];
  if (c.rewrite) work.push('rewrite');
  if (c.newFile) work.push('new empty file');
  if (c.scan) work.push('full scan');
  if (c.indexBuild) work.push('index build');
  if (c.mayScan && !c.scan) work.push('may be read');
  return [c.mode, ...work].join(' · ');
}

function duration(msValue: number): string {
  if (msValue >= 1000) return `${(msValue / 1000).toFixed(2)} s`;
  return `${msValue.toFixed(1)} ms`;
}

function firstLine(sql: string, width: number): string {
  const nl = sql.indexOf('\n');
  const head = (nl < 0 ? sql : sql.slice(0, nl)).replace(/\r$/, '').trimEnd();
  const shown = truncate(sanitizeInline(head), Math.max(10, width));
  return nl >= 0 && !shown.endsWith('…') ? `${shown} …` : shown;
}

function baseName(p: string): string {
  return oneLine(p.slice(p.lastIndexOf('/') + 1));
}

// ── json ────────────────────────────────────────────────────────────────────

export function formatTraceJson(
  report: TraceReport,
  options: Pick<TraceFormatOptions, 'toolVersion' | 'indent'>,
): string {
  const doc = {
    version: TRACE_JSON_VERSION,
    tool: { name: 'pgkeel', version: options.toolVersion },
    engine: { name: report.engine.name, majorVersion: report.engine.majorVersion },
    files: report.files.map((f) => ({
      path: f.path,
      runner: f.runner,
      pgVersion: f.pgVersion,
      setup: {
        earlier: [...f.setup.earlier],
        schema: [...f.setup.schema],
        seeded: f.setup.seeded.map((s) => ({ table: s.table, rows: s.rows })),
        problems: [...f.setup.problems],
      },
      notes: [...f.notes],
      statements: f.statements.map(statementJson),
    })),
    summary: traceTotals(report.files),
  };
  return `${JSON.stringify(doc, null, options.indent ?? 2)}\n`;
}

function statementJson(s: TracedStatement) {
  return {
    index: s.index,
    line: s.line,
    column: s.column,
    endLine: s.endLine,
    endColumn: s.endColumn,
    start: s.start,
    end: s.end,
    sql: s.sql,
    ...(s.kind !== undefined ? { kind: s.kind } : {}),
    status: s.status,
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.error !== undefined ? { error: s.error } : {}),
    ...(s.durationMs !== undefined ? { durationMs: Math.round(s.durationMs * 1000) / 1000 } : {}),
    ...(s.inTransaction !== undefined ? { inTransaction: s.inTransaction } : {}),
    created: [...s.created],
    ...(s.observed
      ? {
          observed: {
            ...(s.observed.locks
              ? { locks: s.observed.locks.map((l) => ({ relation: l.relation, kind: l.kind, mode: l.mode })) }
              : {}),
            rewritten: [...s.observed.rewritten],
            ...(s.observed.seqScans ? { seqScans: [...s.observed.seqScans] } : {}),
          },
        }
      : {}),
    claimed: s.claimed.map(claimJson),
    ...(s.embedded ? { embedded: s.embedded.map(bodyJson) } : {}),
    mismatches: s.mismatches.map((m) => ({
      kind: m.kind,
      relation: m.relation,
      claimed: m.claimed,
      observed: m.observed,
      message: mismatchText(m),
    })),
    unverified: s.unverified.map((u) => ({ relation: u.relation, reason: u.reason })),
    notes: [...s.notes],
  };
}

function claimJson(c: Claim) {
  return {
    relation: c.relation,
    mode: c.mode,
    rewrite: c.rewrite,
    scan: c.scan,
    indexBuild: c.indexBuild,
    ...(c.newFile ? { newFile: true } : {}),
    ...(c.mayScan ? { mayScan: true } : {}),
  };
}

function spanJson(x: TracedSpan) {
  return {
    line: x.line,
    column: x.column,
    endLine: x.endLine,
    endColumn: x.endColumn,
    start: x.start,
    end: x.end,
    sql: x.sql,
  };
}

function bodyJson(b: TracedBody) {
  return {
    kind: b.kind,
    ...(b.name !== undefined ? { name: b.name } : {}),
    line: b.line,
    column: b.column,
    statements: b.statements.map((x) => ({
      ...spanJson(x),
      kind: x.kind,
      ...(x.conditional ? { conditional: true } : {}),
      claimed: x.claimed.map(claimJson),
    })),
    notStaticallyKnown: b.notStaticallyKnown.map((u) => ({ ...spanJson(u), reason: u.reason })),
  };
}

// ── progress ────────────────────────────────────────────────────────────────

/**
 * A progress bar on stderr for multi-file traces: files done and the statement being traced.
 * Shown only on a terminal; the report itself goes to stdout.
 */
export class TraceProgressBar {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(p: TraceProgress): void {
    if (p.files < 2) return;
    const payload = {
      file: Math.min(p.file + 1, p.files),
      files: p.files,
      name: p.path.slice(p.path.lastIndexOf('/') + 1),
      step:
        p.phase === 'setup'
          ? 'setting up'
          : `statement ${Math.min(p.statement + 1, p.statements)}/${p.statements}`,
    };
    // progress in hundredths of a file, so one long file still moves the bar
    const value = p.file * 100 + (p.statements > 0 ? Math.floor((100 * p.statement) / p.statements) : 0);
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: 'tracing {bar} file {file}/{files} {name} · {step}',
          barsize: 20,
          hideCursor: false,
          clearOnComplete: true,
          linewrap: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.files * 100, value, payload);
    } else this.bar.update(value, payload);
  }

  /**
   * Makes way for output to the same terminal: the bar restores the cursor to where it started when
   * it stops, so it is stopped (and its line cleared) before each write, and drawn anew below.
   */
  clear(sameTerminal: boolean): void {
    if (sameTerminal) this.stop();
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/**
 * Progress where stderr is not a terminal (CI logs, redirected output): a plain line now and then,
 * so a long trace shows that it is alive and where, without flooding the log. Nothing is written
 * for a trace shorter than the interval.
 */
export class TraceProgressLines {
  private last: TraceProgress | undefined;
  private written: string | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly write: (line: string) => void,
    intervalMs = 10_000,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    // progress must not keep the process alive
    this.timer.unref();
  }

  update(p: TraceProgress): void {
    this.last = p;
  }

  /** Writes where the trace is; a line is repeated only when the trace has not moved since */
  tick(): void {
    const p = this.last;
    if (!p) return;
    const where = p.files > 1 ? `file ${Math.min(p.file + 1, p.files)}/${p.files} ${p.path}` : p.path;
    const step =
      p.phase === 'setup'
        ? 'setting up'
        : p.phase === 'done'
          ? `${p.statements}/${p.statements} statements`
          : `statement ${Math.min(p.statement + 1, p.statements)}/${p.statements}`;
    const line = `pgkeel: tracing ${where}: ${step}`;
    this.write(line === this.written ? `${line} (still running)\n` : `${line}\n`);
    this.written = line;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
