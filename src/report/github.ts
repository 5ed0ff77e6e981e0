/**
 * GitHub Actions workflow commands: one `::error|warning|notice file=…,line=…::message` line per
 * finding, which the runner turns into annotations on the pull request's diff.
 *
 * Hand-written because @actions/core, which has the command builder, exports only functions that
 * write to process.stdout (its Command class and escaping are internal); the test checks this
 * output byte for byte against @actions/core's.
 */

import type { Diagnostic, FileResult, Severity } from '../diagnostics.js';
import { assumptionsLabel } from './assumptions.js';
import { portablePath, safeLines } from './findings.js';
import { byPosition, type Reporter, type Sink } from './reporter.js';

const COMMANDS: Record<Severity, 'error' | 'warning' | 'notice'> = {
  error: 'error',
  warning: 'warning',
  info: 'notice',
};

/** GitHub's escaping of a command's message. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** GitHub's escaping of a property value: also `:` and `,`, which delimit properties. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * The annotation's text: the message, then what to do, the Postgres version and runner the advice
 * assumes (a reviewer sees only the annotation), and where to read more, on their own lines.
 */
export function annotationMessage(d: Diagnostic, assumed?: string): string {
  let text = safeLines(d.message);
  if (d.help) text += `\n\n${safeLines(d.help)}`;
  if (assumed) text += `\n\nAssumed: ${safeLines(assumed)}`;
  if (d.docsUrl) text += `\n\nRule: ${d.docsUrl}`;
  return text;
}

/** One workflow command. Properties are in @actions/core's order, so its output can serve as the reference. */
export function workflowCommand(file: string, d: Diagnostic, assumed?: string): string {
  const props: [string, string][] = [
    ['title', d.rule],
    ['file', safeLines(portablePath(file))],
    ['line', String(d.line)],
    ['endLine', String(d.endLine)],
  ];
  // the runner drops columns (with a warning) when the annotation spans lines
  if (d.endLine === d.line) props.push(['col', String(d.column)], ['endColumn', String(d.endColumn)]);
  const list = props.map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',');
  return `::${COMMANDS[d.severity]} ${list}::${escapeData(annotationMessage(d, assumed))}`;
}

export function createGithubReporter(write: Sink): Reporter {
  return {
    file(result: FileResult) {
      if (result.diagnostics.length === 0) return;
      const assumed = assumptionsLabel(result);
      let out = '';
      for (const d of byPosition(result.diagnostics)) out += `${workflowCommand(result.path, d, assumed)}\n`;
      if (out) write(out);
    },
    finish() {},
  };
}
