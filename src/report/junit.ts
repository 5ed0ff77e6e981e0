/**
 * JUnit XML, which most CI systems (GitLab, Jenkins, Azure DevOps, CircleCI) show as test results:
 * one <testsuite> per file, one <testcase> per finding, failing for errors and warnings; a file
 * without findings gets one passing testcase so it shows as checked. Streamed with xmlbuilder2's
 * callback builder, so the root carries no totals (they would have to precede the suites).
 */

import { createRequire } from 'node:module';
import type { Diagnostic, FileResult } from '../diagnostics.js';
import { assumptionsLabel } from './assumptions.js';
import { oneLine, safeLines } from './findings.js';
import { byPosition, type Reporter, type Sink } from './reporter.js';

/**
 * xmlbuilder2 takes ~150 ms to load, which every `pgkeel lint` would pay if it were imported
 * statically: it is loaded only when a JUnit report is asked for.
 */
function loadXmlBuilder(): typeof import('xmlbuilder2') {
  return createRequire(import.meta.url)('xmlbuilder2') as typeof import('xmlbuilder2');
}

/** The name of the passing testcase of a file without findings. */
export const CLEAN_TESTCASE = 'no findings';

function details(path: string, d: Diagnostic, assumed: string): string {
  return [
    `${d.severity} ${d.rule}: ${d.message}`,
    `at ${path}:${d.line}:${d.column}`,
    d.help ?? '',
    `Assumed: ${assumed}`,
    d.docsUrl ?? '',
  ]
    .filter(Boolean)
    .map(safeLines)
    .join('\n');
}

export function createJunitReporter(write: Sink): Reporter {
  // attribute values keep no line breaks (parsers fold them to spaces) and text is made XML-legal:
  // xmlbuilder2 escapes markup but rejects control characters, which sanitizing replaces
  const attr = oneLine;
  const xml = loadXmlBuilder().createCB({
    data: (chunk: string) => write(chunk),
    prettyPrint: true,
    wellFormed: true,
  });
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    xml.dec({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', { name: 'pgkeel' });
  };
  return {
    file(result: FileResult) {
      start();
      const diagnostics = byPosition(result.diagnostics);
      const failures = diagnostics.filter((d) => d.severity !== 'info').length;
      const path = attr(result.path);
      const assumed = assumptionsLabel(result);
      xml.ele('testsuite', {
        name: path,
        tests: String(Math.max(diagnostics.length, 1)),
        failures: String(failures),
        errors: '0',
        skipped: '0',
      });
      if (diagnostics.length === 0) xml.ele('testcase', { name: CLEAN_TESTCASE, classname: path }).up();
      for (const d of diagnostics) {
        xml.ele('testcase', {
          name: `${d.line}:${d.column} ${d.rule}`,
          classname: path,
          file: path,
          line: String(d.line),
        });
        if (d.severity === 'info')
          xml
            .ele('system-out')
            .txt(details(result.path, d, assumed))
            .up();
        else
          xml
            .ele('failure', { message: attr(d.message), type: d.rule })
            .txt(details(result.path, d, assumed))
            .up();
        xml.up();
      }
      xml.up();
    },
    finish() {
      start();
      xml.up().end();
      write('\n');
    },
  };
}
