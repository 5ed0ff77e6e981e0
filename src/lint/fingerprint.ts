/**
 * Stable identities for findings, for baselines and for CI systems that track findings across runs
 * (SARIF partialFingerprints, GitLab Code Quality). A finding is identified by its rule and the
 * text of its statement with whitespace collapsed, not by line numbers, so editing other statements
 * of the file, or re-indenting this one, keeps it; changing the statement itself makes it new.
 */

import type { Diagnostic } from '../diagnostics.js';

/** `rule` + the statement's normalised text, hashed: 16 hex digits. */
export function statementFingerprint(rule: string, statementText: string): string {
  return hash64(`${rule}\0${statementText.replace(/\s+/g, ' ').trim()}`);
}

/**
 * A 64-bit hash in hex, from two 32-bit FNV-1a-style lanes with different multipliers. It only has
 * to tell findings apart, not resist an attacker; node:crypto would cost every lint ~10 ms to load.
 */
function hash64(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  // final avalanche, so that similar texts differ in every hex digit
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 = Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b);
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  h2 ^= h2 >>> 16;
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
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
