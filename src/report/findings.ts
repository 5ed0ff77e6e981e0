/**
 * Helpers shared by the CI formats (compact, sarif, github, gitlab, junit, markdown): rule metadata
 * by id, one-line prose, and paths as CI systems want them.
 */

import { createRequire } from 'node:module';
import type { Diagnostic, Hazard, Severity, Verdict } from '../diagnostics.js';
import { defaultSeverity } from '../rules/define.js';
import { allRules } from '../rules/index.js';
import { proseLines } from './text.js';

export interface RuleInfo {
  id: string;
  summary: string;
  /** absent for the engine's own findings */
  docsUrl?: string;
  verdict?: Verdict;
  hazard?: Hazard;
  defaultSeverity: Severity;
}

/** The engine's own findings have no rule file; CI formats still want a line describing them. */
const ENGINE_RULES: Record<string, string> = {
  'parse-error': 'The statement is not valid Postgres SQL',
  'unknown-rule': 'An ignore directive names a rule pgkeel does not know',
  'unused-ignore': 'An ignore directive suppresses nothing',
};

let byId: Map<string, RuleInfo> | undefined;

/** What a report says about the rule behind a finding; unknown ids (plugins, future engine findings) get a stub. */
export function ruleInfo(id: string, docsUrl?: string): RuleInfo {
  byId ??= new Map(
    allRules.map((r) => [
      r.id,
      {
        id: r.id,
        summary: r.summary,
        verdict: r.verdict,
        hazard: r.hazard,
        defaultSeverity: defaultSeverity(r),
      },
    ]),
  );
  const known = byId.get(id);
  if (known) return { ...known, ...(docsUrl != null && { docsUrl }) };
  return {
    id,
    summary: ENGINE_RULES[id] ?? id,
    defaultSeverity: 'error',
    ...(docsUrl != null && { docsUrl }),
  };
}

/** Prose on one line, terminal-safe: line breaks and surrounding blanks collapse to one space. */
export function oneLine(s: string): string {
  return proseLines(s)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}

/** Prose made safe to print but keeping its lines (`\n` only). */
export function safeLines(s: string): string {
  return proseLines(s).join('\n');
}

/** A path as CI systems match it against the repository: forward slashes, no leading `./`. */
export function portablePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(?:\.\/)+/, '');
}

/**
 * A finding's identity across runs, for formats whose fingerprint must be unique in the whole
 * report: the file's path plus the engine's per-file fingerprint (rule + statement text). Findings
 * without one (none today) fall back to rule + position, stable only while the file is unchanged.
 */
export function findingKey(path: string, d: Diagnostic): string {
  return `${portablePath(path)}\0${d.fingerprint ?? `${d.rule}@${d.line}:${d.column}`}`;
}

const require = createRequire(import.meta.url);
let crypto: typeof import('node:crypto') | undefined;

/** Required on first use: node:crypto costs every lint ~10 ms of start-up, and only CI formats hash. */
export function hashHex(algorithm: 'md5' | 'sha256', text: string): string {
  crypto ??= require('node:crypto') as typeof import('node:crypto');
  return crypto.createHash(algorithm).update(text).digest('hex');
}
