/** `explain`'s output formats, behind one streaming interface like lint's reporters. */

import type { ExplainedFile, ExplainReport } from './explain.js';
import { formatExplainJson } from './json.js';
import { fileMarkdown } from './markdown.js';
import { ExplainPrettyRenderer } from './pretty.js';

export const EXPLAIN_FORMATS = ['pretty', 'json', 'markdown'] as const;
export type ExplainFormat = (typeof EXPLAIN_FORMATS)[number];

export interface ExplainFormatOptions {
  /** pgkeel's version (json) */
  toolVersion: string;
  /** ANSI colours (pretty); default false */
  color?: boolean;
  /** widest statement line (pretty) */
  maxWidth?: number;
}

export interface ExplainReporter {
  file(file: ExplainedFile): void;
  finish(): void;
}

export function isExplainFormat(name: string): name is ExplainFormat {
  return (EXPLAIN_FORMATS as readonly string[]).includes(name);
}

/** Pretty and markdown output stream file by file; JSON is written whole at the end. */
export function createExplainReporter(
  format: ExplainFormat,
  options: ExplainFormatOptions,
  write: (chunk: string) => void,
): ExplainReporter {
  const files: ExplainedFile[] = [];
  if (format === 'json') {
    return {
      file: (f) => files.push(f),
      finish: () => write(formatExplainJson({ files }, { toolVersion: options.toolVersion })),
    };
  }
  if (format === 'markdown') {
    return {
      file(f) {
        write((files.length > 0 ? '\n' : '') + fileMarkdown(f));
        files.push(f);
      },
      finish() {
        if (files.length === 0) write('_No files explained._\n');
      },
    };
  }
  const r = new ExplainPrettyRenderer({ color: options.color ?? false, maxWidth: options.maxWidth });
  return {
    file(f) {
      write((files.length > 0 ? '\n' : '') + r.file(f));
      files.push(f);
    },
    finish: () => write(`${files.length > 0 ? '\n' : ''}${r.summary(files)}`),
  };
}

export function formatExplain(
  format: ExplainFormat,
  report: ExplainReport,
  options: ExplainFormatOptions,
): string {
  const chunks: string[] = [];
  const reporter = createExplainReporter(format, options, (s) => chunks.push(s));
  for (const f of report.files) reporter.file(f);
  reporter.finish();
  return chunks.join('');
}

export {
  type ExplainedAction,
  type ExplainedBody,
  type ExplainedFile,
  type ExplainedLock,
  type ExplainedStatement,
  type ExplainedTransaction,
  type ExplainedUnknown,
  type ExplainFilesOptions,
  type ExplainOptions,
  type ExplainReport,
  explainFiles,
  explainSql,
  explainSqlSync,
  type HeldLock,
  type LockOrigin,
} from './explain.js';
export { EXPLAIN_JSON_VERSION, formatExplainJson } from './json.js';
export { formatExplainMarkdown } from './markdown.js';
export { type ExplainPrettyOptions, ExplainPrettyRenderer } from './pretty.js';
