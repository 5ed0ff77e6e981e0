/**
 * The human-readable report: one block per finding with a code frame, the lock it takes, what to
 * do instead and a preview of the fix, then a one-line summary.
 *
 * Output is bounded per finding: a frame shows at most a few lines, each cut to `maxWidth` columns
 * around the finding, so neither huge statements nor minified one-line files flood the terminal,
 * and the cost of a finding does not depend on the size of its file.
 */
import pc from 'picocolors';
import type {
  Diagnostic,
  FileResult,
  Fix,
  LintSummary,
  Severity,
  TextEdit,
  Verdict,
} from '../diagnostics.js';
import { SourceLines } from './lines.js';
import { byPosition, type Reporter, reportSummary, type Sink, Tally, type Totals } from './reporter.js';
import { proseLines, renderRange, sanitizeInline, snapToChar } from './text.js';

export interface PrettyOptions {
  /** emit ANSI colors; when false the output contains no escape codes at all */
  color: boolean;
  /** also list every file (clean ones too) with its Postgres version, runner and statement count */
  verbose?: boolean;
  /** widest code line printed, in columns (default 100); longer lines are cut around the finding */
  maxWidth?: number;
}

type Colors = ReturnType<typeof pc.createColors>;
type Paint = (s: string) => string;

export const VERDICT_LABELS: Record<Verdict, string> = {
  unsafe: 'unsafe',
  alternative: 'safe alternative',
  safe: 'advice',
};

const DEFAULT_WIDTH = 100;
/** Lines of a finding's range shown in full; longer ranges show the head and tail around `⋮`. */
const FRAME_MAX_LINES = 6;
const FRAME_HEAD = 3;
const FRAME_TAIL = 2;
/** Characters kept left of a finding when its line has to be cut. */
const LEAD = 24;
/** Unchanged characters kept on either side of an edit in the fix preview. */
const FIX_CONTEXT = 20;
const FIX_MAX_LINES = 8;
const FIX_HEAD = 5;
const FIX_TAIL = 2;
const FIX_MAX_HUNKS = 5;
/** Lines longer than this are never treated as unchanged, which keeps the preview's diff cheap. */
const COMPARE_CAP = 4096;
/** How many identical leading/trailing lines the preview drops before giving up. */
const TRIM_CAP = 64;
/** Leading whitespace scanned when finding where the last line of a range starts. */
const INDENT_SCAN_CAP = 256;

const NOTE_INDENT = '        ';

/** Streams the pretty report; see `formatPretty` for a string. */
export function createPrettyReporter(options: PrettyOptions, write: Sink): Reporter {
  const r = new PrettyRenderer(options);
  const tally = new Tally();
  // blocks are separated by a blank line, except consecutive one-line file entries in verbose mode
  let last: 'none' | 'block' | 'file-line' = 'none';
  const emit = (kind: 'block' | 'file-line', text: string) => {
    const gap = last === 'none' || (kind === 'file-line' && last === 'file-line') ? '' : '\n';
    write(gap + text);
    last = kind;
  };
  return {
    file(result) {
      tally.add(result);
      if (options.verbose) emit('file-line', r.fileLine(result));
      if (result.diagnostics.length === 0) return;
      // one index per file: every finding's frame is then O(log lines + what it prints)
      const lines = new SourceLines(result.source);
      for (const d of byPosition(result.diagnostics)) emit('block', r.diagnostic(result, lines, d));
    },
    finish(totals?: Totals) {
      write((last === 'none' ? '' : '\n') + r.summaryLine(tally, tally.totals(totals)));
    },
  };
}

/** Writes the whole report to `write`, a chunk per finding. */
export function writePretty(summary: LintSummary, options: PrettyOptions, write: Sink): void {
  reportSummary(createPrettyReporter(options, write), summary);
}

export function formatPretty(summary: LintSummary, options: PrettyOptions): string {
  const chunks: string[] = [];
  writePretty(summary, options, (s) => chunks.push(s));
  return chunks.join('');
}

interface FrameRow {
  line: number;
  inRange: boolean;
  /** offsets to underline on this line */
  mark?: [number, number];
}

class PrettyRenderer {
  private readonly c: Colors;
  private readonly width: number;
  private readonly verbose: boolean;

  constructor(options: PrettyOptions) {
    this.c = pc.createColors(options.color);
    this.width = Math.max(20, Math.trunc(options.maxWidth ?? DEFAULT_WIDTH));
    this.verbose = options.verbose ?? false;
  }

  private severityPaint(severity: Severity): Paint {
    const c = this.c;
    if (severity === 'error') return c.red;
    if (severity === 'warning') return c.yellow;
    if (severity === 'info') return c.blue;
    return (s) => s;
  }

  diagnostic(file: FileResult, lines: SourceLines, d: Diagnostic): string {
    const c = this.c;
    const paint = this.severityPaint(d.severity);
    const out: string[] = [];

    let header = `${c.bold(oneLine(file.path))}:${d.line}:${d.column} ${c.bold(paint(oneLine(d.severity)))} ${c.bold(oneLine(d.rule))}`;
    if (d.verdict) header += `  ${c.dim(`[${VERDICT_LABELS[d.verdict] ?? oneLine(d.verdict)}]`)}`;
    // 1-based for people; the JSON report keeps the engine's 0-based index
    if (this.verbose) header += `  ${c.dim(`statement ${d.statement + 1}`)}`;
    out.push(header);
    for (const l of proseLines(d.message)) out.push(l ? `  ${l}` : '');

    out.push('', ...this.frame(lines, d, paint), '');

    const notes: string[] = [];
    if (d.lock) {
      const { mode, relation, blocks } = d.lock;
      let text = `${c.bold(oneLine(mode))} on ${oneLine(relation)}`;
      if (blocks.length > 0) text += ` — blocks ${blocks.map(oneLine).join(', ')}`;
      notes.push(...this.note('lock', [text]));
    }
    if (d.help) notes.push(...this.note('help', proseLines(d.help)));
    if (d.fix) notes.push(...this.fixNote(d.fix, lines));
    if (notes.length > 0) out.push(...notes);
    else out.pop(); // no trailing blank line after the frame when nothing follows it
    return out.join('\n') + '\n';
  }

  private note(label: string, textLines: string[]): string[] {
    return textLines.map((l, i) => {
      const head = i === 0 ? `  ${this.c.cyan(label)}${' '.repeat(6 - label.length)}` : NOTE_INDENT;
      return l ? head + l : head.trimEnd();
    });
  }

  // ── code frame ────────────────────────────────────────────────────────────

  private frame(lines: SourceLines, d: Diagnostic, paint: Paint): string[] {
    const c = this.c;
    const start = lines.clamp(d.start);
    const end = Math.max(start, lines.clamp(d.end));
    const first = lines.lineOf(start);
    // an exclusive end just after a newline belongs to the line it ends, not the next one
    const last = end > start ? lines.lineOf(end - 1) : first;

    const markOf = (line: number): [number, number] | undefined => {
      const lineEnd = lines.end(line);
      if (line === first) {
        const a = Math.min(start, lineEnd);
        return [a, line === last ? Math.max(a, Math.min(end, lineEnd)) : lineEnd];
      }
      if (line === last) {
        const b = Math.min(end, lineEnd);
        return [Math.min(this.indentEnd(lines, line), b), b];
      }
      return undefined;
    };

    const rows: (FrameRow | { elided: number })[] = [];
    if (first > 1) rows.push({ line: first - 1, inRange: false });
    const count = last - first + 1;
    const push = (line: number) => rows.push({ line, inRange: true, mark: markOf(line) });
    if (count <= FRAME_MAX_LINES) {
      for (let l = first; l <= last; l++) push(l);
    } else {
      for (let l = first; l < first + FRAME_HEAD; l++) push(l);
      rows.push({ elided: count - FRAME_HEAD - FRAME_TAIL });
      for (let l = last - FRAME_TAIL + 1; l <= last; l++) push(l);
    }
    if (last < lines.count && !lines.isPhantomLastLine(last + 1))
      rows.push({ line: last + 1, inRange: false });

    const gutter = String(rows.reduce((m, r) => ('line' in r ? Math.max(m, r.line) : m), 1)).length;
    const bar = c.dim('│');
    const blankGutter = `   ${' '.repeat(gutter)} ${bar}`;
    const out: string[] = [];
    for (const row of rows) {
      if (!('line' in row)) {
        out.push(`   ${c.dim('⋮'.padStart(gutter))} ${bar} ${c.dim(`… ${plural(row.elided, 'more line')}`)}`);
        continue;
      }
      const prefix = ` ${row.inRange ? paint('>') : ' '} ${c.dim(String(row.line).padStart(gutter))} ${bar}`;
      const { text, marks } = this.codeLine(lines, row.line, row.mark);
      out.push(text ? `${prefix} ${text}` : prefix);
      if (marks)
        out.push(`${blankGutter} ${' '.repeat(marks[0])}${c.bold(paint('^'.repeat(marks[1] - marks[0])))}`);
    }
    return out;
  }

  /** First non-blank offset of `line`, so the last line of a range is not underlined from column 1. */
  private indentEnd(lines: SourceLines, line: number): number {
    const from = lines.start(line);
    const to = Math.min(lines.end(line), from + INDENT_SCAN_CAP);
    for (let i = from; i < to; i++) {
      const ch = lines.text.charCodeAt(i);
      if (ch !== 32 && ch !== 9) return i;
    }
    return from;
  }

  /**
   * One source line in at most `width` columns, cut around `mark` when needed, with the display
   * columns `[from, to)` of the marker (tabs and wide characters accounted for).
   */
  private codeLine(
    lines: SourceLines,
    line: number,
    mark: [number, number] | undefined,
  ): { text: string; marks?: [number, number] } {
    const src = lines.text;
    const lineStart = lines.start(line);
    const lineEnd = lines.end(line);
    const probes = mark ? [mark[0], mark[1]] : [];
    // one column is kept free for a trailing `…`
    let r = renderRange(src, lineStart, lineEnd, this.width - 1, probes);
    let cutLeft = false;
    if (mark && mark[1] > r.end && mark[0] - LEAD > lineStart) {
      // the finding lies (partly) beyond the right edge: start the window just before it
      const from = snapToChar(src, mark[0] - LEAD, lineStart);
      r = renderRange(src, from, lineEnd, this.width - 2, probes);
      cutLeft = true;
    }
    const cutRight = r.end < lineEnd;
    const text = (cutLeft ? '…' : '') + r.text + (cutRight ? '…' : '');
    if (!mark) return { text };
    const off = cutLeft ? 1 : 0;
    const a = off + r.cols[0]!;
    // a finding running past the cut is underlined through the `…`
    const b = mark[1] > r.end ? off + r.width + (cutRight ? 1 : 0) : off + r.cols[1]!;
    return { text, marks: [a, Math.max(b, a + 1)] };
  }

  // ── fix preview ───────────────────────────────────────────────────────────

  private fixNote(fix: Fix, lines: SourceLines): string[] {
    const c = this.c;
    const hunks = toHunks(fix.edits, lines);
    const body: string[] = [];
    for (const hunk of hunks.slice(0, FIX_MAX_HUNKS)) {
      const diff = this.hunkDiff(hunk, lines);
      if (diff.length === 0) continue;
      if (hunks.length > 1) {
        const at = lines.position(hunk.start);
        body.push(c.dim(`at ${at.line}:${at.column}`));
      }
      body.push(...diff);
    }
    if (hunks.length > FIX_MAX_HUNKS) {
      body.push(c.dim(`… ${plural(hunks.length - FIX_MAX_HUNKS, 'more change')}`));
    }
    const title = proseLines(fix.title);
    if (body.length > 0 && !/[.:]$/.test(title[title.length - 1]!)) title[title.length - 1] += ':';
    return this.note('fix', [...title, ...body]);
  }

  /**
   * The lines a hunk touches, before (`-`) and after (`+`). Lines it leaves as they were are
   * dropped, so inserting a statement above another shows only the inserted lines, and a change
   * inside a line shows that line before and after.
   */
  private hunkDiff(hunk: Hunk, lines: SourceLines): string[] {
    const src = lines.text;
    const s = hunk.start;
    const e = hunk.end;
    const first = lines.lineOf(s);
    const last = lines.lineOf(e);
    const firstStart = lines.start(first);
    const lastEnd = Math.max(e, lines.end(last));
    // lines too long for the screen keep only a little unchanged text around the change
    const room = this.width - 2;
    const from =
      lines.end(first) - firstStart > room
        ? snapToChar(src, Math.max(firstStart, s - FIX_CONTEXT), firstStart)
        : firstStart;
    const to =
      lastEnd - lines.start(last) > room
        ? Math.max(e, snapToChar(src, Math.min(lastEnd, e + FIX_CONTEXT), e))
        : lastEnd;
    const cutLeft = from > firstStart ? '…' : '';
    const cutRight = to < lastEnd ? '…' : '';

    const beforeCount = last - first + 1;
    const before = (i: number): PreviewLine => {
      const line = first + i;
      const a = i === 0 ? from : lines.start(line);
      const b = i === beforeCount - 1 ? to : lines.end(line);
      return previewLine(src, a, b, i === 0 ? cutLeft : '', i === beforeCount - 1 ? cutRight : '');
    };
    let afterText = cutLeft + src.slice(from, s);
    let at = s;
    for (const edit of hunk.edits) {
      afterText += src.slice(at, edit.start) + edit.text;
      at = edit.end;
    }
    afterText += src.slice(at, to) + cutRight;
    const afterLines = afterText.split('\n').map((l, i, all) => {
      const t = i < all.length - 1 && l.endsWith('\r') ? l.slice(0, -1) : l;
      return previewLine(t, 0, t.length, '', '');
    });
    const afterCount = afterLines.length;
    const after = (i: number) => afterLines[i]!;

    let lead = 0;
    while (lead < TRIM_CAP && lead < beforeCount && lead < afterCount && same(before(lead), after(lead)))
      lead++;
    let tail = 0;
    while (
      tail < TRIM_CAP &&
      tail < beforeCount - lead &&
      tail < afterCount - lead &&
      same(before(beforeCount - 1 - tail), after(afterCount - 1 - tail))
    ) {
      tail++;
    }
    return [
      ...this.side('-', this.c.red, lead, beforeCount - tail, before),
      ...this.side('+', this.c.green, lead, afterCount - tail, after),
    ];
  }

  private side(
    sign: string,
    paint: Paint,
    from: number,
    to: number,
    get: (i: number) => PreviewLine,
  ): string[] {
    const show = (i: number) => {
      const text = this.previewText(get(i));
      return paint(text ? `${sign} ${text}` : sign);
    };
    const out: string[] = [];
    if (to - from <= FIX_MAX_LINES) {
      for (let i = from; i < to; i++) out.push(show(i));
      return out;
    }
    for (let i = from; i < from + FIX_HEAD; i++) out.push(show(i));
    out.push(this.c.dim(`  … ${plural(to - from - FIX_HEAD - FIX_TAIL, 'more line')}`));
    for (let i = to - FIX_TAIL; i < to; i++) out.push(show(i));
    return out;
  }

  private previewText(line: PreviewLine): string {
    const width = this.width - 2; // room for the `+ ` sign
    const r = renderRange(line.text, 0, line.text.length, width - 1);
    return r.end < line.text.length || !line.complete ? r.text + '…' : r.text;
  }

  // ── per-file line and summary ─────────────────────────────────────────────

  fileLine(file: FileResult): string {
    const c = this.c;
    const t = new Tally();
    t.add(file);
    const facts = c.dim(
      `PG ${file.pgVersion} · ${oneLine(file.runner)} · ${plural(file.statementCount, 'statement')}`,
    );
    const status = file.diagnostics.length === 0 ? c.green('✓ no problems') : problemCounts(t);
    return `${c.bold(oneLine(file.path))}  ${facts}  ${status}\n`;
  }

  summaryLine(tally: Tally, totals: Totals): string {
    const c = this.c;
    const statements = `(${plural(tally.statements, 'statement')})`;
    if (tally.files === 0) return `${c.dim('No files checked')}\n`;
    const problems = problemCounts(totals);
    if (!problems) return `${c.green('✓')} No problems in ${plural(tally.files, 'file')} ${statements}\n`;
    const where =
      tally.filesWithProblems === tally.files
        ? plural(tally.files, 'file')
        : `${tally.filesWithProblems} of ${plural(tally.files, 'file')}`;
    const icon = totals.errorCount > 0 ? c.red('✖') : c.yellow('⚠');
    return `${icon} ${c.bold(problems)} in ${where} ${statements}\n`;
  }
}

/** Edits on the same lines, previewed together so that their combined effect is shown once. */
interface Hunk {
  start: number;
  end: number;
  edits: TextEdit[];
}

function toHunks(edits: readonly TextEdit[], lines: SourceLines): Hunk[] {
  const hunks: Hunk[] = [];
  for (const edit of byPosition(edits)) {
    const start = lines.clamp(edit.start);
    const end = Math.max(start, lines.clamp(edit.end));
    const clamped = { start, end, text: edit.text };
    const prev = hunks[hunks.length - 1];
    // overlapping edits are malformed; previewing them apart at least shows each one
    const joins =
      prev !== undefined &&
      start >= prev.end &&
      start - prev.end <= COMPARE_CAP &&
      lines.lineOf(start) === lines.lineOf(prev.end);
    if (joins) {
      prev.edits.push(clamped);
      prev.end = end;
    } else {
      hunks.push({ start, end, edits: [clamped] });
    }
  }
  return hunks;
}

interface PreviewLine {
  /** the line, or only its head when it is too long to compare */
  text: string;
  complete: boolean;
}

function previewLine(src: string, from: number, to: number, left: string, right: string): PreviewLine {
  if (to - from <= COMPARE_CAP) return { text: left + src.slice(from, to) + right, complete: true };
  return { text: left + src.slice(from, snapToChar(src, from + COMPARE_CAP, from)), complete: false };
}

function same(a: PreviewLine, b: PreviewLine): boolean {
  return a.complete && b.complete && a.text === b.text;
}

function problemCounts(t: Totals): string {
  const parts: string[] = [];
  if (t.errorCount > 0) parts.push(plural(t.errorCount, 'error'));
  if (t.warningCount > 0) parts.push(plural(t.warningCount, 'warning'));
  if (t.infoCount > 0) parts.push(plural(t.infoCount, 'info'));
  return parts.join(', ');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A value printed inside one line: controls made visible, line breaks included. */
function oneLine(s: string): string {
  return sanitizeInline(String(s)).replace(/\n/g, '␊');
}
