/**
 * The machine-readable report. The schema is documented in docs/json-format.md; any change to a
 * field's meaning or a removal bumps JSON_REPORT_VERSION, new optional fields do not.
 */

import type { LockMode } from '../catalog/locks.js';
import type {
  Diagnostic,
  FileResult,
  FixSafety,
  Hazard,
  LintSummary,
  SettingOrigin,
  Severity,
  Verdict,
} from '../diagnostics.js';
import { LineIndex } from '../parse/positions.js';
import { byPosition, type Reporter, reportSummary, type Sink, Tally, type Totals } from './reporter.js';

export const JSON_REPORT_VERSION = 1;

export interface JsonOptions {
  /** pgkeel's version, reported as `tool.version` */
  toolVersion: string;
  /** spaces per indentation level (default 2); 0 prints everything on one line */
  indent?: number;
}

/** Range fields shared by findings and edits. Lines and columns are 1-based; the end is exclusive. */
export interface JsonRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  start: number;
  end: number;
}

export interface JsonEdit extends JsonRange {
  text: string;
}

export interface JsonDiagnostic extends JsonRange {
  rule: string;
  severity: Severity;
  verdict?: Verdict;
  hazard?: Hazard;
  message: string;
  help?: string;
  statement: number;
  /** the rule's documentation page (not for the engine's own findings such as `parse-error`) */
  docsUrl?: string;
  /** stable identity of the finding across runs and unrelated edits (see docs/json-format.md) */
  fingerprint?: string;
  lock?: { mode: LockMode; relation: string; blocks: string[] };
  fix?: { title: string; safety?: FixSafety; edits: JsonEdit[] };
}

export interface JsonFile {
  path: string;
  pgVersion: number;
  runner: string;
  statementCount: number;
  pgVersionFrom?: SettingOrigin;
  runnerFrom?: SettingOrigin;
  diagnostics: JsonDiagnostic[];
  /** with --fix / --fix-dry-run: how many fixes were applied, and (dry run) the fixed text */
  fixesApplied?: number;
  output?: string;
}

export interface JsonSummary {
  fileCount: number;
  errorCount: number;
  warningCount: number;
  infoCount: number;
}

export interface JsonReport {
  version: typeof JSON_REPORT_VERSION;
  tool: { name: 'pgkeel'; version: string };
  files: JsonFile[];
  summary: JsonSummary;
}

export function formatJson(summary: LintSummary, options: JsonOptions): string {
  const chunks: string[] = [];
  writeJson(summary, options, (s) => chunks.push(s));
  return chunks.join('');
}

export function writeJson(summary: LintSummary, options: JsonOptions, write: Sink): void {
  reportSummary(createJsonReporter(options, write), summary);
}

/**
 * Streams the report file by file. The text is exactly `JSON.stringify(report, null, indent)`
 * plus a final newline, so streaming and non-streaming output are byte-identical.
 */
export function createJsonReporter(options: JsonOptions, write: Sink): Reporter {
  const indent = Math.max(0, Math.trunc(options.indent ?? 2));
  const nl = indent > 0 ? '\n' : '';
  const pad = (level: number) => nl + ' '.repeat(indent * level);
  const key = (k: string) => JSON.stringify(k) + (indent > 0 ? ': ' : ':');
  // JSON.stringify escapes newlines inside strings, so every raw newline is layout and can be re-indented
  const nested = (value: unknown, level: number) =>
    JSON.stringify(value, null, indent).replace(/\n/g, pad(level));
  const tool: JsonReport['tool'] = { name: 'pgkeel', version: options.toolVersion };
  const tally = new Tally();
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    write(`{${pad(1)}${key('version')}${JSON_REPORT_VERSION},${pad(1)}${key('tool')}${nested(tool, 1)},`);
    write(`${pad(1)}${key('files')}[`);
  };
  return {
    file(result) {
      start();
      write(`${tally.files > 0 ? ',' : ''}${pad(2)}${nested(jsonFile(result), 2)}`);
      tally.add(result);
    },
    finish(totals?: Totals) {
      start();
      const { errorCount, warningCount, infoCount } = tally.totals(totals);
      const summary: JsonSummary = { fileCount: tally.files, errorCount, warningCount, infoCount };
      write(`${tally.files > 0 ? pad(1) : ''}],${pad(1)}${key('summary')}${nested(summary, 1)}${nl}}\n`);
    },
  };
}

/** One file's entry: only documented keys, optional ones left out rather than `null`. */
export function jsonFile(file: FileResult): JsonFile {
  let index: LineIndex | undefined;
  // built only for files with fixes: edit positions are the one thing not already in the diagnostic
  const lines = () => {
    index ??= new LineIndex(file.source);
    return index;
  };
  return {
    path: file.path,
    pgVersion: file.pgVersion,
    runner: file.runner,
    statementCount: file.statementCount,
    ...(file.pgVersionFrom && { pgVersionFrom: { ...file.pgVersionFrom } }),
    ...(file.runnerFrom && { runnerFrom: { ...file.runnerFrom } }),
    diagnostics: byPosition(file.diagnostics).map((d) => jsonDiagnostic(d, lines)),
    ...(file.fixesApplied !== undefined && { fixesApplied: file.fixesApplied }),
    ...(file.output !== undefined && { output: file.output }),
  };
}

function jsonDiagnostic(d: Diagnostic, lines: () => LineIndex): JsonDiagnostic {
  const out: JsonDiagnostic = {
    rule: d.rule,
    severity: d.severity,
    ...(d.verdict != null && { verdict: d.verdict }),
    ...(d.hazard != null && { hazard: d.hazard }),
    message: d.message,
    ...(d.help != null && { help: d.help }),
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    start: d.start,
    end: d.end,
    statement: d.statement,
  };
  if (d.docsUrl != null) out.docsUrl = d.docsUrl;
  if (d.fingerprint != null) out.fingerprint = d.fingerprint;
  if (d.lock != null) out.lock = { mode: d.lock.mode, relation: d.lock.relation, blocks: [...d.lock.blocks] };
  if (d.fix != null) {
    out.fix = {
      title: d.fix.title,
      ...(d.fix.safety != null && { safety: d.fix.safety }),
      edits: d.fix.edits.map((e) => {
        const from = lines().position(e.start);
        const to = lines().position(e.end);
        return {
          start: e.start,
          end: e.end,
          line: from.line,
          column: from.column,
          endLine: to.line,
          endColumn: to.column,
          text: e.text,
        };
      }),
    };
  }
  return out;
}
