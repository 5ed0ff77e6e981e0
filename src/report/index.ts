/**
 * Reports: turn a LintSummary into text. Each format is a streaming Reporter; adding one means
 * adding its name to REPORT_FORMATS and a factory to FACTORIES, which the compiler then requires.
 * The CI formats are described in docs/formats.md.
 */
import type { LintSummary } from '../diagnostics.js';
import { createCompactReporter } from './compact.js';
import { createGithubReporter } from './github.js';
import { createGitlabReporter } from './gitlab.js';
import { createJsonReporter } from './json.js';
import { createJunitReporter } from './junit.js';
import { createMarkdownReporter } from './markdown.js';
import { createPrettyReporter } from './pretty.js';
import { type Reporter, reportSummary, type Sink } from './reporter.js';
import { createSarifReporter } from './sarif.js';

export const REPORT_FORMATS = [
  'pretty',
  'json',
  'compact',
  'sarif',
  'github',
  'gitlab',
  'junit',
  'markdown',
] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The union of every format's options; each format reads what it needs. */
export interface ReportOptions {
  /** pgkeel's version (json, sarif) */
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
  compact: (_o, write) => createCompactReporter(write),
  sarif: (o, write) => createSarifReporter({ toolVersion: o.toolVersion }, write),
  github: (_o, write) => createGithubReporter(write),
  gitlab: (_o, write) => createGitlabReporter(write),
  junit: (_o, write) => createJunitReporter(write),
  markdown: (_o, write) => createMarkdownReporter({}, write),
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

export { createCompactReporter } from './compact.js';
export { createGithubReporter } from './github.js';
export { type CodeQualityIssue, type CodeQualitySeverity, createGitlabReporter } from './gitlab.js';
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
export { createJunitReporter } from './junit.js';
export { createMarkdownReporter, type MarkdownOptions } from './markdown.js';
export {
  createPrettyReporter,
  formatPretty,
  type PrettyOptions,
  VERDICT_LABELS,
  writePretty,
} from './pretty.js';
export type { Reporter, Sink, Totals } from './reporter.js';
export { createSarifReporter, SARIF_FINGERPRINT_KEY, SARIF_SCHEMA_URI, type SarifOptions } from './sarif.js';
