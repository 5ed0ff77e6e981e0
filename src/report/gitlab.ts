/**
 * GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues in the
 * subset of the Code Climate format GitLab reads, shown in the merge request widget and diff.
 */

import type { Diagnostic, FileResult } from '../diagnostics.js';
import { assumptionsLabel } from './assumptions.js';
import { findingKey, hashHex, portablePath, safeLines } from './findings.js';
import { byPosition, type Reporter, type Sink } from './reporter.js';

export type CodeQualitySeverity = 'info' | 'minor' | 'major' | 'critical' | 'blocker';

export interface CodeQualityIssue {
  type: 'issue';
  check_name: string;
  description: string;
  content?: { body: string };
  categories: string[];
  severity: CodeQualitySeverity;
  fingerprint: string;
  location: { path: string; lines: { begin: number; end: number } };
}

/** Errors with no safe alternative rank above those with one; GitLab sorts the widget by severity. */
export function codeQualitySeverity(d: Diagnostic): CodeQualitySeverity {
  if (d.severity === 'error') return d.verdict === 'unsafe' ? 'critical' : 'major';
  return d.severity === 'warning' ? 'minor' : 'info';
}

function issue(path: string, d: Diagnostic, fingerprint: string, assumed: string): CodeQualityIssue {
  const body = [
    d.help && safeLines(d.help),
    `Assumed: ${safeLines(assumed)}`,
    d.docsUrl && `[Rule documentation](${d.docsUrl})`,
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    type: 'issue',
    check_name: d.rule,
    description: safeLines(d.message),
    ...(body && { content: { body } }),
    // Code Climate's category for code that may misbehave; a lock taken on a live table is that
    categories: ['Bug Risk'],
    severity: codeQualitySeverity(d),
    fingerprint,
    location: { path: portablePath(path), lines: { begin: d.line, end: d.endLine } },
  };
}

export function createGitlabReporter(write: Sink): Reporter {
  // GitLab requires fingerprints unique in the report; the same file given twice would repeat them
  const seen = new Set<string>();
  let count = 0;
  return {
    file(result: FileResult) {
      let out = '';
      const assumed = assumptionsLabel(result);
      for (const d of byPosition(result.diagnostics)) {
        // MD5 hex is GitLab's convention for fingerprints (and all it needs: identity, not secrecy)
        let fingerprint = hashHex('md5', findingKey(result.path, d));
        for (let n = 2; seen.has(fingerprint); n++) {
          fingerprint = hashHex('md5', `${findingKey(result.path, d)}\0${n}`);
        }
        seen.add(fingerprint);
        const json = JSON.stringify(issue(result.path, d, fingerprint, assumed), null, 2).replace(
          /\n/g,
          '\n  ',
        );
        out += `${count++ === 0 ? '[' : ','}\n  ${json}`;
      }
      if (out) write(out);
    },
    finish() {
      write(count === 0 ? '[]\n' : '\n]\n');
    },
  };
}
