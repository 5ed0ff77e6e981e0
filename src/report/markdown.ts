/**
 * A pull-request comment: a headline with the counts and the Postgres version and runner the advice
 * assumes, a table per rule, a table per file, and each file's findings folded in <details>.
 * The headline needs every file's counts, so files are collected (without their source text) and
 * the comment is written at `finish`. It is cut to fit GitHub's 65,536-character comment limit.
 */

import type { Diagnostic, FileResult, SettingOrigin, Severity } from '../diagnostics.js';
import { AssumptionTally } from './assumptions.js';
import { oneLine } from './findings.js';
import { byPosition, type Reporter, type Sink, Tally, type Totals } from './reporter.js';

export interface MarkdownOptions {
  /** the longest comment written, in UTF-16 code units (default 60,000: room for a bot's own text) */
  maxLength?: number;
}

export const MARKDOWN_MAX_LENGTH = 60_000;
/** Findings listed per file; the rest are counted. */
const FINDINGS_PER_FILE = 50;
/** Rows of the per-file table; the rest are counted. */
const FILE_ROWS = 100;

interface Finding {
  line: number;
  rule: string;
  severity: Severity;
  message: string;
  help?: string;
  docsUrl?: string;
}

interface FileEntry {
  path: string;
  pgVersion: number;
  runner: string;
  pgVersionFrom?: SettingOrigin;
  runnerFrom?: SettingOrigin;
  counts: Record<Severity, number>;
  findings: Finding[];
}

interface RuleRow {
  docsUrl?: string;
  counts: Record<Severity, number>;
}

const zero = (): Record<Severity, number> => ({ error: 0, warning: 0, info: 0 });
const total = (c: Record<Severity, number>) => c.error + c.warning + c.info;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Text shown as text: every character Markdown or GitHub could read as markup (HTML, emphasis,
 * links, table pipes, math, @mentions, #references) is backslash-escaped, as CommonMark allows for
 * any ASCII punctuation; line breaks become spaces so a table row stays one line.
 */
export function escapeMarkdown(s: string): string {
  return oneLine(s).replace(/[\\`*_[\]<>#|~&$@:]/g, '\\$&');
}

function link(rule: string, url: string | undefined): string {
  const name = escapeMarkdown(rule);
  return url ? `[${name}](<${url.replace(/[<>\s]/g, encodeURIComponent)}>)` : name;
}

function headline(t: Totals, files: FileEntry[]): string {
  const withFindings = files.filter((f) => f.findings.length > 0).length;
  const problems = [
    t.errorCount > 0 && plural(t.errorCount, 'error'),
    t.warningCount > 0 && plural(t.warningCount, 'warning'),
    t.infoCount > 0 && `${t.infoCount} info`,
  ].filter(Boolean);
  const icon = t.errorCount > 0 ? '❌' : t.warningCount > 0 ? '⚠️' : '✅';
  const what =
    problems.length > 0
      ? `${problems.join(', ')} in ${withFindings} of ${plural(files.length, 'file')}`
      : `no problems in ${plural(files.length, 'file')}`;
  return `## ${icon} pgkeel: ${what}`;
}

function ruleTable(files: FileEntry[]): string {
  const rules = new Map<string, RuleRow>();
  for (const f of files) {
    for (const d of f.findings) {
      const row = rules.get(d.rule) ?? { docsUrl: d.docsUrl, counts: zero() };
      row.counts[d.severity]++;
      rules.set(d.rule, row);
    }
  }
  const rows = [...rules].sort(
    ([a, x], [b, y]) =>
      y.counts.error - x.counts.error || total(y.counts) - total(x.counts) || (a < b ? -1 : 1),
  );
  return [
    '| Rule | Findings | Errors | Warnings | Info |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      ([rule, r]) =>
        `| ${link(rule, r.docsUrl)} | ${total(r.counts)} | ${r.counts.error} | ${r.counts.warning} | ${r.counts.info} |`,
    ),
  ].join('\n');
}

function fileTable(withFindings: FileEntry[]): string {
  const rows = withFindings.slice(0, FILE_ROWS).map((f) => {
    const c = f.counts;
    return `| ${escapeMarkdown(f.path)} | ${c.error} | ${c.warning} | ${c.info} | ${f.pgVersion} | ${escapeMarkdown(f.runner)} |`;
  });
  const more = withFindings.length - rows.length;
  return [
    '| File | Errors | Warnings | Info | Postgres | Runner |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    ...(more > 0 ? ['', `_…and ${plural(more, 'more file')} with findings._`] : []),
  ].join('\n');
}

function fileDetails(f: FileEntry): string {
  const listed = f.findings.slice(0, FINDINGS_PER_FILE);
  const c = f.counts;
  const counts = [
    c.error && plural(c.error, 'error'),
    c.warning && plural(c.warning, 'warning'),
    c.info && `${c.info} info`,
  ]
    .filter(Boolean)
    .join(', ');
  const rows = listed.map(
    (d) =>
      `| ${d.line} | ${d.severity} | ${link(d.rule, d.docsUrl)} | ${escapeMarkdown(d.message)} | ${d.help ? escapeMarkdown(d.help) : ''} |`,
  );
  const more = f.findings.length - listed.length;
  return [
    '<details>',
    `<summary>${escapeHtml(f.path)}: ${counts}</summary>`,
    '',
    '| Line | Severity | Rule | Message | Help |',
    '| ---: | --- | --- | --- | --- |',
    ...rows,
    ...(more > 0 ? ['', `_…and ${plural(more, 'more finding')}._`] : []),
    '',
    '</details>',
  ].join('\n');
}

/** Inside raw HTML (the <summary>), Markdown escapes do not apply: entities do. */
function escapeHtml(s: string): string {
  return oneLine(s).replace(/[&<>"@#]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function createMarkdownReporter(options: MarkdownOptions, write: Sink): Reporter {
  const maxLength = options.maxLength ?? MARKDOWN_MAX_LENGTH;
  const tally = new Tally();
  const files: FileEntry[] = [];
  return {
    file(result: FileResult) {
      tally.add(result);
      const counts = zero();
      const findings = byPosition(result.diagnostics).map((d: Diagnostic): Finding => {
        counts[d.severity]++;
        return {
          line: d.line,
          rule: d.rule,
          severity: d.severity,
          message: d.message,
          ...(d.help != null && { help: d.help }),
          ...(d.docsUrl != null && { docsUrl: d.docsUrl }),
        };
      });
      files.push({
        path: result.path,
        pgVersion: result.pgVersion,
        runner: result.runner,
        ...(result.pgVersionFrom && { pgVersionFrom: result.pgVersionFrom }),
        ...(result.runnerFrom && { runnerFrom: result.runnerFrom }),
        counts,
        findings,
      });
    },
    finish(totals?: Totals) {
      write(renderMarkdown(files, tally.totals(totals), maxLength));
    },
  };
}

function renderMarkdown(files: FileEntry[], totals: Totals, maxLength: number): string {
  const withFindings = files
    .filter((f) => f.findings.length > 0)
    .sort((a, b) => b.counts.error - a.counts.error || total(b.counts) - total(a.counts));
  const settings = new AssumptionTally();
  for (const f of files) settings.add(f);
  const assumptions = files.length === 0 ? '' : `${settings.describe(escapeMarkdown)}.`;
  const head = [headline(totals, files), ...(assumptions ? ['', `Advice assumes ${assumptions}`] : [])].join(
    '\n',
  );
  if (withFindings.length === 0) return `${head}\n`;

  const truncated = (shown: number) =>
    `\n\n> [!NOTE]\n> This comment was shortened to fit; the findings of ${plural(withFindings.length - shown, 'more file')} are not shown. Run \`pgkeel lint\` for the full report.\n`;
  const sections = [head, '### Rules', ruleTable(withFindings), '### Files', fileTable(withFindings)];
  let out = sections.join('\n\n');
  // the note is kept in reserve, so adding it never pushes the comment over the limit
  const reserve = truncated(withFindings.length).length + 20;
  if (out.length + reserve > maxLength) {
    // whole lines only, so no table row is cut in half
    return `${out.slice(0, out.lastIndexOf('\n', maxLength - reserve))}${truncated(0)}`;
  }
  let shown = 0;
  for (const f of withFindings) {
    const block = `\n\n${fileDetails(f)}`;
    if (out.length + block.length + reserve > maxLength) break;
    out += block;
    shown++;
  }
  return shown < withFindings.length ? out + truncated(shown) : `${out}\n`;
}
