/**
 * One line per finding, `path:line:col: severity rule message`, for editors' error parsers and
 * grep. After the findings, one line that cannot be mistaken for one (as ESLint's compact format
 * ends with its count) says how many there were and which Postgres version and runner the advice
 * assumed; a clean run prints nothing (the exit code says whether there were errors).
 */

import type { FileResult } from '../diagnostics.js';
import { AssumptionTally } from './assumptions.js';
import { oneLine } from './findings.js';
import { byPosition, type Reporter, type Sink, Tally, type Totals } from './reporter.js';
import { sanitizeInline } from './text.js';

export function createCompactReporter(write: Sink): Reporter {
  const tally = new Tally();
  const settings = new AssumptionTally();
  return {
    file(result: FileResult) {
      tally.add(result);
      settings.add(result);
      if (result.diagnostics.length === 0) return;
      // a newline in a path would split the finding; show it as a visible ␊ instead
      const path = sanitizeInline(result.path).replace(/\n/g, '\u240a');
      let out = '';
      for (const d of byPosition(result.diagnostics)) {
        out += `${path}:${d.line}:${d.column}: ${d.severity} ${d.rule} ${oneLine(d.message)}\n`;
      }
      write(out);
    },
    finish(totals?: Totals) {
      const t = tally.totals(totals);
      const count = t.errorCount + t.warningCount + t.infoCount;
      if (count === 0) return;
      const parts = [
        `${t.errorCount} ${t.errorCount === 1 ? 'error' : 'errors'}`,
        `${t.warningCount} ${t.warningCount === 1 ? 'warning' : 'warnings'}`,
        ...(t.infoCount > 0 ? [`${t.infoCount} info`] : []),
      ];
      write(
        `\n${count} ${count === 1 ? 'problem' : 'problems'} (${parts.join(', ')}) · assumed ${oneLine(settings.describe())}\n`,
      );
    },
  };
}
