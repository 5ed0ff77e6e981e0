/**
 * Reports: turn a LintSummary into text. Each format is a streaming Reporter; adding one (sarif,
 * github, gitlab, markdown are planned) means adding its name to REPORT_FORMATS and a factory to
 * FACTORIES, which the compiler then requires.
 */
import type { LintSummary } from '../diagnostics.js';
import { createJsonReporter } from './json.js';
import { createPrettyReporter } from './pretty.js';
import { type Reporter, reportSummary, type Sink } from './reporter.js';

export const REPORT_FORMATS = ['pretty', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The union of every format's options; each format reads what it needs. */
export interface ReportOptions {
  /** pgkeel's version (json) */
  toolVersion: string;
  /** ANSI colors (pretty); default false */
  color?: boolean;
  /** list every file with its settings (pretty) */
  verbose?: boolean;
  /** widest code line printed, in columns (pretty) */
  maxWidth?: number;
  /** spaces per indentation level, 0 for one line (json) */
  indent?: number;
}

const FACTORIES: Record<ReportFormat, (options: ReportOptions, write: Sink) => Reporter> = {
  pretty: (o, write) =>
    createPrettyReporter({ color: o.color ?? false, verbose: o.verbose, maxWidth: o.maxWidth }, write),
  json: (o, write) => createJsonReporter({ toolVersion: o.toolVersion, indent: o.indent }, write),
};

export function isReportFormat(name: string): name is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(name);
}

/** A reporter to feed file by file as linting progresses; call `finish` at the end. */
export function createReporter(format: ReportFormat, options: ReportOptions, write: Sink): Reporter {
  const factory = FACTORIES[format];
  if (!factory) throw new Error(`unknown report format "${format}" (expected ${REPORT_FORMATS.join(', ')})`);
  return factory(options, write);
}

export function writeReport(
  format: ReportFormat,
  summary: LintSummary,
  options: ReportOptions,
  write: Sink,
): void {
  reportSummary(createReporter(format, options, write), summary);
}

export function formatReport(format: ReportFormat, summary: LintSummary, options: ReportOptions): string {
  const chunks: string[] = [];
  writeReport(format, summary, options, (s) => chunks.push(s));
  return chunks.join('');
}

export {
  createJsonReporter,
  formatJson,
  JSON_REPORT_VERSION,
  type JsonDiagnostic,
  type JsonEdit,
  type JsonFile,
  type JsonOptions,
  type JsonReport,
  type JsonSummary,
  writeJson,
} from './json.js';
export {
  createPrettyReporter,
  formatPretty,
  type PrettyOptions,
  VERDICT_LABELS,
  writePretty,
} from './pretty.js';
export type { Reporter, Sink, Totals } from './reporter.js';
