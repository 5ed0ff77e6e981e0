/**
 * SARIF 2.1.0, the format code-scanning services read (GitHub code scanning, Azure DevOps, IDE
 * viewers). One run; results stream as files are linted, and `tool` (whose `rules` lists the rules
 * the results name, indexed by `ruleIndex`) follows them, which JSON's unordered objects allow.
 */

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import type { Diagnostic, FileResult, Severity } from '../diagnostics.js';
import { LineIndex } from '../parse/positions.js';
import { REPOSITORY_URL } from '../rules/urls.js';
import { assumptionsLabel } from './assumptions.js';
import { findingKey, hashHex, portablePath, ruleInfo, safeLines } from './findings.js';
import { byPosition, type Reporter, type Sink } from './reporter.js';

export interface SarifOptions {
  /** pgkeel's version, reported as `tool.driver.version` */
  toolVersion: string;
}

/** The OASIS address of the schema (errata 01), which OASIS keeps stable. */
export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** The key of pgkeel's partial fingerprint; bump the version if what is hashed changes. */
export const SARIF_FINGERPRINT_KEY = 'pgkeel/v1';

const LEVELS: Record<Severity, Sarif.Result.level> = { error: 'error', warning: 'warning', info: 'note' };

/** A file's location: relative paths against the checkout root (`%SRCROOT%`), absolute ones as file URIs. */
function artifactLocation(path: string): Sarif.ArtifactLocation {
  const p = portablePath(path);
  if (isAbsolute(path) || /^[a-zA-Z]:\//.test(p)) return { uri: pathToFileURL(path).href };
  // each segment percent-encoded, so `#`, `?`, `%`, spaces and a `:` in the first segment stay path text
  return { uri: p.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function region(d: { line: number; column: number; endLine: number; endColumn: number }): Sarif.Region {
  return { startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn };
}

function fixes(file: FileResult, d: Diagnostic, lines: () => LineIndex): Sarif.Fix[] | undefined {
  if (!d.fix) return undefined;
  const replacements = d.fix.edits.map((e): Sarif.Replacement => {
    const from = lines().position(e.start);
    const to = lines().position(e.end);
    return {
      deletedRegion: region({ line: from.line, column: from.column, endLine: to.line, endColumn: to.column }),
      insertedContent: { text: e.text },
    };
  });
  return [
    {
      description: { text: safeLines(d.fix.title) },
      artifactChanges: [{ artifactLocation: artifactLocation(file.path), replacements }],
    },
  ];
}

export function createSarifReporter(options: SarifOptions, write: Sink): Reporter {
  const rules: Sarif.ReportingDescriptor[] = [];
  const ruleIndex = new Map<string, number>();
  let started = false;
  let results = 0;
  const start = () => {
    if (started) return;
    started = true;
    write(
      `{\n  "$schema": ${JSON.stringify(SARIF_SCHEMA_URI)},\n  "version": "2.1.0",\n  "runs": [\n    {\n` +
        `      "columnKind": "utf16CodeUnits",\n      "results": [`,
    );
  };
  const indexOf = (d: Diagnostic): number => {
    let i = ruleIndex.get(d.rule);
    if (i === undefined) {
      i = rules.length;
      ruleIndex.set(d.rule, i);
      rules.push(descriptor(d));
    }
    return i;
  };
  return {
    file(result) {
      start();
      let index: LineIndex | undefined;
      const lines = () => {
        index ??= new LineIndex(result.source);
        return index;
      };
      let out = '';
      const assumed = assumptionsLabel(result);
      for (const d of byPosition(result.diagnostics)) {
        const r: Sarif.Result = {
          ruleId: d.rule,
          ruleIndex: indexOf(d),
          level: LEVELS[d.severity],
          message: {
            text: safeLines(`${d.message}\n${d.help ? `${d.help}\n` : ''}Assumed: ${assumed}.`),
          },
          locations: [
            { physicalLocation: { artifactLocation: artifactLocation(result.path), region: region(d) } },
          ],
          // the kind of danger (a rule's; none for the engine's own findings), and the settings the
          // advice depends on, for tools that filter or group by them
          properties: {
            ...(d.hazard != null && { hazard: d.hazard }),
            pgVersion: result.pgVersion,
            runner: result.runner,
          },
          partialFingerprints: {
            [SARIF_FINGERPRINT_KEY]: hashHex('sha256', findingKey(result.path, d)).slice(0, 32),
          },
        };
        const f = fixes(result, d, lines);
        if (f) r.fixes = f;
        out += `${results++ === 0 ? '' : ','}\n        ${JSON.stringify(r)}`;
      }
      if (out) write(out);
    },
    finish() {
      start();
      const tool: Sarif.Tool = {
        driver: {
          name: 'pgkeel',
          version: options.toolVersion,
          ...(/^\d+\.\d+\.\d+/.test(options.toolVersion) && { semanticVersion: options.toolVersion }),
          informationUri: REPOSITORY_URL,
          rules,
        },
      };
      const toolJson = JSON.stringify(tool, null, 2).replace(/\n/g, '\n      ');
      write(`${results > 0 ? '\n      ' : ''}],\n      "tool": ${toolJson}\n    }\n  ]\n}\n`);
    },
  };
}

/** A rule's metadata; the severity a configuration gave it is on each result, the rule's default here. */
function descriptor(d: Diagnostic): Sarif.ReportingDescriptor {
  const info = ruleInfo(d.rule, d.docsUrl);
  return {
    id: info.id,
    shortDescription: { text: info.summary },
    ...(info.docsUrl != null && { helpUri: info.docsUrl }),
    defaultConfiguration: { level: LEVELS[info.defaultSeverity] },
    properties: {
      tags: [
        'postgres',
        'migrations',
        ...(info.verdict ? [info.verdict] : []),
        ...(info.hazard ? [info.hazard] : []),
      ],
    },
  };
}
