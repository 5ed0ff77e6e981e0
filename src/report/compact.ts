/**
 * One line per finding, `path:line:col: severity rule message`, for editors' error parsers, grep and
 * `wc -l`. Nothing else is printed, not even a summary: every line is a finding, and a clean run
 * prints nothing (the exit code says whether there were errors).
 */

import type { FileResult } from '../diagnostics.js';
import { oneLine } from './findings.js';
import { byPosition, type Reporter, type Sink } from './reporter.js';
import { sanitizeInline } from './text.js';

export function createCompactReporter(write: Sink): Reporter {
  return {
    file(result: FileResult) {
      if (result.diagnostics.length === 0) return;
      // a newline in a path would split the finding; show it as a visible ␊ instead
      const path = sanitizeInline(result.path).replace(/\n/g, '\u240a');
      let out = '';
      for (const d of byPosition(result.diagnostics)) {
        out += `${path}:${d.line}:${d.column}: ${d.severity} ${d.rule} ${oneLine(d.message)}\n`;
      }
      write(out);
    },
    finish() {},
  };
}
