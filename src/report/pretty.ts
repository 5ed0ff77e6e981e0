/**
 * The human-readable report. Findings are grouped by statement: one code frame per statement, the
 * locks it takes once, then each finding on it with what to do instead and a preview of its fix.
 * The Postgres version and runner the advice assumed are stated before the first finding and in
 * the summary, under a per-rule table.
 *
 * Output is bounded per finding: a frame shows at most a few lines, each cut to the width around
 * the finding, so neither huge statements nor minified one-line files flood the terminal, and the
 * cost of a finding does not depend on the size of its file.
 */
import pc from 'picocolors';
import { LOCK_MODES, WORKLOADS } from '../catalog/locks.js';
import type {
  Diagnostic,
  FileResult,
  Fix,
  LintSummary,
  Severity,
  TextEdit,
  Verdict,
} from '../diagnostics.js';
import { hazardLabel } from '../rules/hazards.js';
import { AssumptionTally } from './assumptions.js';
import { SourceLines } from './lines.js';
import {
  byPosition,
  type Reporter,
  type RuleCount,
  reportSummary,
  type Sink,
  Tally,
  type Totals,
} from './reporter.js';
import { inlineValue as oneLine, proseLines, renderRange, snapToChar, truncate } from './text.js';

export interface PrettyOptions {
  /** emit ANSI colors (and terminal hyperlinks); when false the output contains no escape codes at all */
  color: boolean;
  /** also list every file (clean ones too) with its Postgres version, runner and statement count */
  verbose?: boolean;
  /** terminal width in columns (default 100): code, fix previews and the rule table are cut to fit */
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
const MIN_WIDTH = 40;
/** Lines of a statement shown in full; longer ones show the head and tail around `⋮`. */
const FRAME_MAX_LINES = 5;
const FRAME_HEAD = 3;
const FRAME_TAIL = 1;
/** Characters kept left of a finding when its line has to be cut. */
const LEAD = 24;
/** Unchanged characters kept on either side of an edit in the fix preview of a very long line. */
const FIX_CONTEXT = 160;
/** Characters a fix preview keeps visible after the first change before it shifts its window right. */
const FIX_AFTER = 16;
const FIX_MAX_LINES = 8;
const FIX_HEAD = 5;
const FIX_TAIL = 2;
const FIX_MAX_HUNKS = 5;
/** Lines longer than this are never treated as unchanged, which keeps the preview's diff cheap. */
const COMPARE_CAP = 4096;
/** How many identical leading/trailing lines the preview drops before giving up. */
const TRIM_CAP = 64;
/** Blanks scanned at either end of a line when deciding whether a marker covers all of it. */
const BLANK_SCAN_CAP = 256;
/** Help texts and fix previews remembered for "shown once": beyond this, new ones are all shown. */
const SHOWN_CAP = 10_000;

const NOTE_INDENT = '        ';

/** Streams the pretty report; see `formatPretty` for a string. */
export function createPrettyReporter(options: PrettyOptions, write: Sink): Reporter {
  const r = new PrettyRenderer(options);
  const tally = new Tally();
  const settings = new AssumptionTally();
  // the settings stated above the first finding; later files that differ say so above their own
  let stated: string | undefined;
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
      const assumed = assumedOf(settings.add(result));
      if (options.verbose) emit('file-line', r.fileLine(result, assumed));
      if (result.diagnostics.length === 0) return;
      let intro = '';
      if (stated === undefined) {
        stated = assumed.key;
        // verbose file lines already name each file's settings
        if (!options.verbose) emit('block', r.assumedLine(assumed));
      } else if (assumed.key !== stated && !options.verbose) {
        intro = r.assumedLine(assumed, result.path);
      }
      // one index per file: every frame is then O(log lines + what it prints)
      const lines = new SourceLines(result.source);
      for (const group of byStatement(byPosition(result.diagnostics))) {
        emit('block', intro + r.group(result, lines, group));
        intro = '';
      }
    },
    finish(totals?: Totals) {
      const parts: string[] = [];
      const rules = tally.ruleCounts();
      if (rules.length > 0) parts.push(r.ruleTable(rules));
      if (r.omitted > 0) parts.push(r.omittedNote());
      if (tally.files > 0) parts.push(r.settingsSummary(settings));
      parts.push(r.summaryLine(tally, tally.totals(totals)));
      write((last === 'none' ? '' : '\n') + parts.join(''));
    },
  };
}

/** Writes the whole report to `write`, a chunk per statement with findings. */
export function writePretty(summary: LintSummary, options: PrettyOptions, write: Sink): void {
  reportSummary(createPrettyReporter(options, write), summary);
}

export function formatPretty(summary: LintSummary, options: PrettyOptions): string {
  const chunks: string[] = [];
  writePretty(summary, options, (s) => chunks.push(s));
  return chunks.join('');
}

/**
 * Findings (in file order) grouped by statement, groups in the order of their first finding.
 * Findings tied to no statement (index < 0: file-level and directive findings) stay on their own.
 */
function byStatement(sorted: readonly Diagnostic[]): Diagnostic[][] {
  const groups: Diagnostic[][] = [];
  const index = new Map<number, Diagnostic[]>();
  for (const d of sorted) {
    const known = d.statement >= 0 ? index.get(d.statement) : undefined;
    if (known) {
      known.push(d);
      continue;
    }
    const group = [d];
    groups.push(group);
    if (d.statement >= 0) index.set(d.statement, group);
  }
  return groups;
}

// ── settings ──────────────────────────────────────────────────────────────────

/** A file's Postgres version and runner as printed, with where each came from. */
interface Assumed {
  pg: string;
  runner: string;
  key: string;
}

/** Terminal-safe (config paths come from the user), and a key to compare files by. */
function assumedOf(labels: { pg: string; runner: string }): Assumed {
  const pg = oneLine(labels.pg);
  const runner = oneLine(labels.runner);
  return { pg, runner, key: `${pg}\n${runner}` };
}

// ── rendering ─────────────────────────────────────────────────────────────────

interface FrameRow {
  line: number;
  /** offsets to underline on this line */
  mark?: [number, number];
}

class PrettyRenderer {
  private readonly c: Colors;
  private readonly color: boolean;
  private readonly width: number;
  private readonly verbose: boolean;
  private readonly shownHelp = new Set<string>();
  private readonly shownFixes = new Set<string>();
  /** help texts and fix previews left out because they were shown before */
  omitted = 0;

  constructor(options: PrettyOptions) {
    this.c = pc.createColors(options.color);
    this.color = options.color;
    this.width = Math.max(MIN_WIDTH, Math.trunc(options.maxWidth ?? DEFAULT_WIDTH) || DEFAULT_WIDTH);
    this.verbose = options.verbose ?? false;
  }

  private severityPaint(severity: Severity): Paint {
    const c = this.c;
    if (severity === 'error') return c.red;
    if (severity === 'warning') return c.yellow;
    if (severity === 'info') return c.blue;
    return (s) => s;
  }

  /** A terminal hyperlink (OSC 8) when colors are on; terminals without support show the text. */
  private link(text: string, url: string | undefined): string {
    // only printable ASCII may go inside the escape sequence
    if (!this.color || !url || !/^https?:\/\/[\x21-\x7e]+$/.test(url)) return text;
    return `\x1b]8;;${url}\x1b\\${text}\x1b]8;;\x1b\\`;
  }

  /**
   * One statement: the first finding's header, so the block starts with where it is; the frame;
   * the locks it takes (each once); then the first finding's notes and every other finding.
   */
  group(file: FileResult, lines: SourceLines, ds: readonly Diagnostic[]): string {
    const findings = ds.map((d) => this.finding(file, lines, d));
    const out: string[] = [...findings[0]!.header];
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    let worst = ds[0]!.severity;
    for (const d of ds) {
      start = Math.min(start, lines.clamp(d.start));
      end = Math.max(end, lines.clamp(d.end));
      if (d.severity === 'error' || (d.severity === 'warning' && worst === 'info')) worst = d.severity;
    }
    out.push(...this.frame(lines, start, end, this.severityPaint(worst)));

    // each relation once, under the strongest mode the findings name: it blocks all a weaker one does
    const strongest = new Map<string, NonNullable<Diagnostic['lock']>>();
    for (const d of ds) {
      if (!d.lock) continue;
      const seen = strongest.get(d.lock.relation);
      if (!seen || LOCK_MODES.indexOf(d.lock.mode) > LOCK_MODES.indexOf(seen.mode))
        strongest.set(d.lock.relation, d.lock);
    }
    const locks: string[] = [];
    for (const { mode, relation, blocks } of strongest.values()) {
      let text = `${this.c.bold(oneLine(mode))} on ${oneLine(relation)}`;
      // the list of all seven workloads was the longest line of every report, and says no more
      if (blocksEverything(blocks)) text += ' — blocks everything, reads and writes included';
      else if (blocks.length > 0) text += ` — blocks ${blocks.map(oneLine).join(', ')}`;
      locks.push(text);
    }
    if (locks.length > 0) out.push(...this.note('lock', locks));

    out.push(...findings[0]!.notes);
    for (let i = 1; i < findings.length; i++) out.push(...findings[i]!.header, ...findings[i]!.notes);
    return out.join('\n') + '\n';
  }

  /** A finding's header (with its message) and its notes (help, fix). */
  private finding(
    file: FileResult,
    lines: SourceLines,
    d: Diagnostic,
  ): { header: string[]; notes: string[] } {
    const c = this.c;
    const paint = this.severityPaint(d.severity);
    const head: string[] = [];
    const out: string[] = [];
    const rule = this.link(c.bold(oneLine(d.rule)), d.docsUrl);
    let header = `${c.bold(oneLine(file.path))}:${d.line}:${d.column} ${c.bold(paint(oneLine(d.severity)))} ${rule}`;
    // what kind of danger, next to the verdict: `[safe alternative · blocks traffic]`
    const tags = [
      ...(d.verdict ? [VERDICT_LABELS[d.verdict] ?? oneLine(d.verdict)] : []),
      ...(d.hazard ? [oneLine(hazardLabel(d.hazard))] : []),
    ];
    if (tags.length > 0) header += ` ${c.dim(`[${tags.join(' · ')}]`)}`;
    // 1-based for people; the JSON report keeps the engine's 0-based index
    if (this.verbose && d.statement >= 0) header += `  ${c.dim(`statement ${d.statement + 1}`)}`;
    // the message on the header line, as compilers and ruff print it: one line per finding
    const [first, ...more] = proseLines(d.message);
    head.push(first ? `${header}: ${first}` : header);
    for (const l of more) head.push(l ? `  ${l}` : '');
    // help and fix previews repeated word for word (the same advice on the next migration) are
    // shown once: on a long history they were most of the output
    if (d.help) {
      const help = proseLines(d.help);
      const key = help.join('\n');
      if (!this.shownHelp.has(key)) {
        remember(this.shownHelp, key);
        out.push(...this.note('help', help));
      } else this.omitted++;
    }
    if (d.fix) out.push(...this.fixNote(d.fix, lines));
    return { header: head, notes: out };
  }

  private note(label: string, textLines: string[]): string[] {
    return textLines.map((l, i) => {
      const head = i === 0 ? `  ${this.c.cyan(label)}${' '.repeat(6 - label.length)}` : NOTE_INDENT;
      return l ? head + l : head.trimEnd();
    });
  }

  // ── code frame ────────────────────────────────────────────────────────────

  /**
   * The lines of `[start, end)`, without surrounding context: the statement is what the findings
   * are about. A line is underlined only where the range covers part of it; under a line it
   * covers whole, carets would say nothing the frame does not, and cost a line each.
   */
  private frame(lines: SourceLines, startAt: number, endAt: number, paint: Paint): string[] {
    // an input that could not be read has no text: an empty frame would only look like a bug
    if (lines.text === '') return [];
    const c = this.c;
    const start = lines.clamp(startAt);
    const end = Math.max(start, lines.clamp(endAt));
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
        return [Math.min(lines.contentStart(line, BLANK_SCAN_CAP), b), b];
      }
      return undefined;
    };
    const partial = (line: number, mark: [number, number]): boolean =>
      mark[1] <= mark[0] ||
      mark[0] > lines.contentStart(line, BLANK_SCAN_CAP) ||
      mark[1] < lines.contentEnd(line, BLANK_SCAN_CAP);

    const rows: (FrameRow | { elided: number })[] = [];
    const count = last - first + 1;
    const push = (line: number) => {
      const mark = markOf(line);
      rows.push(mark && partial(line, mark) ? { line, mark } : { line });
    };
    if (count <= FRAME_MAX_LINES) {
      for (let l = first; l <= last; l++) push(l);
    } else {
      for (let l = first; l < first + FRAME_HEAD; l++) push(l);
      rows.push({ elided: count - FRAME_HEAD - FRAME_TAIL });
      for (let l = last - FRAME_TAIL + 1; l <= last; l++) push(l);
    }

    const gutter = String(last).length;
    const bar = c.dim('│');
    // `  12 │ ` before the code
    const prefixWidth = gutter + 5;
    const blankGutter = `  ${' '.repeat(gutter)} ${bar}`;
    const out: string[] = [];
    for (const row of rows) {
      if (!('line' in row)) {
        out.push(`  ${c.dim('⋮'.padStart(gutter))} ${bar} ${c.dim(`… ${plural(row.elided, 'more line')}`)}`);
        continue;
      }
      const prefix = `  ${c.dim(String(row.line).padStart(gutter))} ${bar}`;
      const { text, marks } = this.codeLine(lines, row.line, row.mark, this.width - prefixWidth);
      out.push(text ? `${prefix} ${text}` : prefix);
      if (marks)
        out.push(`${blankGutter} ${' '.repeat(marks[0])}${c.bold(paint('^'.repeat(marks[1] - marks[0])))}`);
    }
    return out;
  }

  /**
   * One source line in at most `width` columns, cut around `mark` when needed, with the display
   * columns `[from, to)` of the marker (tabs and wide characters accounted for).
   */
  private codeLine(
    lines: SourceLines,
    line: number,
    mark: [number, number] | undefined,
    width: number,
  ): { text: string; marks?: [number, number] } {
    const src = lines.text;
    const lineStart = lines.start(line);
    const lineEnd = lines.end(line);
    const probes = mark ? [mark[0], mark[1]] : [];
    // one column is kept free for a trailing `…`
    let r = renderRange(src, lineStart, lineEnd, width - 1, probes);
    let cutLeft = false;
    if (mark && mark[1] > r.end && mark[0] - LEAD > lineStart) {
      // the finding lies (partly) beyond the right edge: start the window just before it
      const from = snapToChar(src, mark[0] - LEAD, lineStart);
      r = renderRange(src, from, lineEnd, width - 2, probes);
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
    const key = [...title, ...body].join('\n');
    // a fix previewed word for word before is left out (the closing line counts them, the rule table
    // says which rules are fixable): on a long history it was one line per finding that said nothing new
    if (body.length > 0 && this.shownFixes.has(key)) {
      this.omitted++;
      return [];
    }
    remember(this.shownFixes, key);
    if (body.length > 0 && !/[.:]$/.test(title[title.length - 1]!)) title[title.length - 1] += ':';
    return this.note('fix', [...title, ...body]);
  }

  /**
   * The lines a hunk touches, before (`-`) and after (`+`). Lines it leaves as they were are
   * dropped, so inserting a statement above another shows only the inserted lines, and a change
   * inside a line shows that line before and after, cut around where the two first differ.
   */
  private hunkDiff(hunk: Hunk, lines: SourceLines): string[] {
    const src = lines.text;
    const s = hunk.start;
    const e = hunk.end;
    const first = lines.lineOf(s);
    const last = lines.lineOf(e);
    const firstStart = lines.start(first);
    const lastEnd = Math.max(e, lines.end(last));
    // very long lines (minified files) keep only some unchanged text around the change, which
    // bounds the work; the window shown is chosen later, around the first difference
    const from =
      s - firstStart > FIX_CONTEXT
        ? snapToChar(src, Math.max(firstStart, s - FIX_CONTEXT), firstStart)
        : firstStart;
    const to = lastEnd - e > FIX_CONTEXT ? snapToChar(src, e + FIX_CONTEXT, e) : lastEnd;
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
    // the n-th changed line before and the n-th after are previewed from where they first differ
    const diffAt = (i: number): Pair | undefined => {
      const k = i - lead;
      if (k >= beforeCount - tail - lead || k >= afterCount - tail - lead) return undefined;
      const a = before(i).text;
      const b = after(i).text;
      return { at: commonPrefix(a, b), length: Math.max(a.length, b.length) };
    };
    return [
      ...this.side('-', this.c.red, lead, beforeCount - tail, before, diffAt),
      ...this.side('+', this.c.green, lead, afterCount - tail, after, diffAt),
    ];
  }

  private side(
    sign: string,
    paint: Paint,
    from: number,
    to: number,
    get: (i: number) => PreviewLine,
    diffAt: (i: number) => Pair | undefined,
  ): string[] {
    const show = (i: number) => {
      const text = this.previewText(get(i), diffAt(i));
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

  /**
   * A preview line in the columns left after the note's indent and the sign. When it does not fit
   * and its first difference from its counterpart would be off screen, the window starts shortly
   * before that difference; both sides share the text up to it, so they stay aligned.
   */
  private previewText(line: PreviewLine, pair: Pair | undefined): string {
    const width = Math.max(MIN_WIDTH / 2, this.width - NOTE_INDENT.length - 2);
    const t = line.text;
    const r = renderRange(t, 0, t.length, width - 1);
    // a `-`/`+` pair is cut alike when its longer side must be, so the change lines up
    if (r.end >= t.length && line.complete && (!pair || pair.length <= width - 1)) return r.text;
    if (!pair || pair.at + FIX_AFTER <= r.end) return `${r.text}…`;
    // show both ends of the pair when they fit after the change, else a little before it and
    // as much after it as fits; the same start for both sides (counted in characters, which
    // only wide characters make differ from columns)
    const room = width - 2;
    // (a window reaching the end needs no `…` on the right: one more column)
    let start = Math.min(pair.at - LEAD, pair.length - room - 1);
    const after = Math.min(FIX_AFTER, pair.length - pair.at);
    start = Math.max(start, pair.at + after - (after < FIX_AFTER ? room + 1 : room), 1);
    const from = snapToChar(t, start, 0);
    let w = renderRange(t, from, t.length, room + 1);
    if (w.end < t.length || !line.complete) w = renderRange(t, from, t.length, room);
    return `…${w.text}${w.end < t.length || !line.complete ? '…' : ''}`;
  }

  // ── per-file line, settings and summary ─────────────────────────────────────

  /** `Assumed: PG 18 (default — set pgVersion), runner prisma (--runner)`, optionally for one file. */
  assumedLine(a: Assumed, path?: string): string {
    const c = this.c;
    const label = path === undefined ? 'Assumed:' : `Assumed for ${c.bold(oneLine(path))}:`;
    return `${c.dim(label)} ${a.pg}, runner ${a.runner}\n`;
  }

  /** The settings of all files: one of each when they agree, else how many files had each. */
  settingsSummary(s: AssumptionTally): string {
    return `${this.c.dim('Assumed:')} ${s.describe(oneLine)}\n`;
  }

  /**
   * Findings per rule, most frequent first, with each rule's page: the one place every finding's
   * rule is linked in plain text. The links go in a column when it fits; otherwise pages that follow
   * one pattern (`…/docs/rules/<rule>.md`) are given once, by that pattern, and any other on its
   * own line under its row.
   */
  ruleTable(rules: readonly RuleCount[]): string {
    const c = this.c;
    const idWidth = Math.max(4, ...rules.map((r) => Math.min(r.rule.length, 48)));
    // the kind of danger, when some finding has one (the engine's own have none)
    const dangers = rules.map((r) => (r.hazard ? oneLine(hazardLabel(r.hazard)) : ''));
    const dangerWidth = dangers.some(Boolean) ? Math.max(6, ...dangers.map((d) => d.length)) : 0;
    const danger = (text: string) => (dangerWidth > 0 ? `${text.padEnd(dangerWidth)}  ` : '');
    const nums = ['count', 'errors', 'warnings', 'fixable'];
    const head = `${'rule'.padEnd(idWidth)}  ${danger('danger')}${nums.join('  ')}`;
    const links = rules.some((r) => r.docsUrl);
    const urlWidth = Math.max(0, ...rules.map((r) => (r.docsUrl ? r.docsUrl.length : 0)));
    const inline = links && head.length + 2 + urlWidth <= this.width;
    const pattern = inline ? undefined : sharedPagePattern(rules);
    const out = [c.dim(inline ? `${head}  docs` : head)];
    for (const [i, r] of rules.entries()) {
      const id = truncate(oneLine(r.rule), idWidth);
      const values = [r.count, r.errors, r.warnings, r.fixable].map((n, k) =>
        String(n).padStart(nums[k]!.length),
      );
      let row = `${this.link(id, r.docsUrl)}${' '.repeat(Math.max(0, idWidth - id.length))}  ${danger(dangers[i]!)}${values.join('  ')}`;
      const url = r.docsUrl ? oneLine(r.docsUrl) : undefined;
      if (url && inline) row += `  ${this.link(url, r.docsUrl)}`;
      out.push(row);
      // never cut: a link is for copying
      if (url && !inline && !pattern?.matches(r)) out.push(`  ${c.dim(this.link(url, r.docsUrl))}`);
    }
    if (pattern) out.push(c.dim(`rule pages: ${oneLine(pattern.text)}`));
    return `${out.join('\n')}\n\n`;
  }

  omittedNote(): string {
    return `${this.c.dim(`Help and fix previews repeated word for word are shown the first time only (${this.omitted} left out).`)}\n`;
  }

  fileLine(file: FileResult, a: Assumed): string {
    const c = this.c;
    const t = new Tally();
    t.add(file);
    const facts = c.dim(`${a.pg} · ${a.runner} · ${plural(file.statementCount, 'statement')}`);
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

/** Where a changed line and its counterpart first differ, and the longer one's length. */
interface Pair {
  at: number;
  length: number;
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

/** Adds to a "shown once" set unless it is full, so memory stays bounded on any input. */
function remember(set: Set<string>, key: string): void {
  if (set.size < SHOWN_CAP) set.add(key);
}

const ALL_WORKLOADS = WORKLOADS.map((w) => w.label);

/**
 * `https://…/docs/rules/<rule>.md` when the page of every rule with one is its id in the same
 * place; printing the pattern once keeps the table a line per rule on a narrow screen.
 */
function sharedPagePattern(
  rules: readonly RuleCount[],
): { text: string; matches: (r: RuleCount) => boolean } | undefined {
  let prefix: string | undefined;
  for (const r of rules) {
    if (!r.docsUrl) continue;
    const suffix = `${r.rule}.md`;
    if (!r.docsUrl.endsWith(suffix)) return undefined;
    const here = r.docsUrl.slice(0, -suffix.length);
    if (prefix !== undefined && here !== prefix) return undefined;
    prefix = here;
  }
  if (prefix === undefined) return undefined;
  const base = prefix;
  return { text: `${base}<rule>.md`, matches: (r) => r.docsUrl === `${base}${r.rule}.md` };
}

function blocksEverything(blocks: readonly string[]): boolean {
  return ALL_WORKLOADS.every((label) => blocks.includes(label));
}

/** Length of the common start of `a` and `b`, never splitting a surrogate pair. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return snapToChar(a, i, 0);
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
