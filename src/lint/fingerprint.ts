/**
 * Stable identities for findings, for baselines and for CI systems that track findings across runs
 * (SARIF partialFingerprints, GitLab Code Quality). A finding is identified by its rule and the
 * text of its statement with whitespace collapsed, not by line numbers, so editing other statements
 * of the file, or re-indenting this one, keeps it; changing the statement itself makes it new.
 */

import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostics.js';

/** `rule` + the statement's normalised text, hashed: 16 hex digits. */
export function statementFingerprint(rule: string, statementText: string): string {
  const normalized = statementText.replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(rule).update('\0').update(normalized).digest('hex').slice(0, 16);
}

/**
 * Makes fingerprints unique within a file: the second finding with the same rule and statement text
 * (a statement repeated in one migration) gets `…:2`, in file order.
 */
export function disambiguateFingerprints(diagnostics: readonly Diagnostic[]): void {
  let seen: Map<string, number> | undefined;
  for (const d of diagnostics) {
    if (d.fingerprint === undefined) continue;
    seen ??= new Map();
    const n = (seen.get(d.fingerprint) ?? 0) + 1;
    seen.set(d.fingerprint, n);
    if (n > 1) d.fingerprint = `${d.fingerprint}:${n}`;
  }
}
