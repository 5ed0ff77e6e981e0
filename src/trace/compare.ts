/**
 * What the catalog claims a statement does, per relation, and how that compares with what a real
 * Postgres did. Shared by `pgsafe trace` and the version matrix.
 */

import type { StatementFacts } from '../analyze/analyze.js';
import type { LockMode } from '../catalog/locks.js';
import type { Observation } from './observe.js';

export interface Claim {
  /** `schema.name`, as the analyzer resolves it */
  relation: string;
  mode: LockMode;
  rewrite: boolean;
  scan: boolean;
  indexBuild: boolean;
}

export type MismatchKind = 'lock-mode' | 'unclaimed-lock' | 'missing-lock' | 'rewrite' | 'scan';

export interface Mismatch {
  kind: MismatchKind;
  relation: string;
  claimed: string;
  observed: string;
}

/** The analyzer's claims for one statement: the strongest lock per relation, and what happens to each. */
export function claimsFor(facts: StatementFacts): Claim[] {
  const claims = new Map<string, Claim>();
  for (const l of facts.locks) {
    claims.set(l.relation.key, {
      relation: l.relation.key,
      mode: l.mode,
      rewrite: false,
      scan: false,
      indexBuild: false,
    });
  }
  for (const a of facts.actions) {
    const target = a.relations[a.facts.target ?? 'table'];
    const claim = target && claims.get(target.key);
    if (!claim) continue;
    claim.rewrite ||= a.facts.rewrite;
    claim.scan ||= a.facts.scan;
    claim.indexBuild ||= a.facts.indexBuild;
  }
  return [...claims.values()];
}

const TABLE_LIKE = new Set(['table', 'partitioned table', 'materialized view']);

/**
 * Mismatches between claims and an observation. Locks are compared on table-like relations (index
 * and sequence locks follow from the table's); a rewrite, a validation scan or an index build all
 * read the table, so each of them accounts for an observed sequential scan.
 */
export function compare(claims: Claim[], observed: Observation): Mismatch[] {
  const out: Mismatch[] = [];
  const claimed = new Map(claims.map((c) => [c.relation, c]));
  if (observed.locks) {
    const seen = new Set<string>();
    for (const lock of observed.locks) {
      const claim = claimed.get(lock.relation);
      if (claim) {
        seen.add(lock.relation);
        if (claim.mode !== lock.mode) {
          out.push({ kind: 'lock-mode', relation: lock.relation, claimed: claim.mode, observed: lock.mode });
        }
      } else if (TABLE_LIKE.has(lock.kind)) {
        out.push({
          kind: 'unclaimed-lock',
          relation: lock.relation,
          claimed: 'no lock',
          observed: lock.mode,
        });
      }
    }
    for (const c of claims) {
      // a claimed lock on a relation that does not exist (created by this statement, or a typo) is not checkable
      if (!seen.has(c.relation) && observed.ok) {
        out.push({ kind: 'missing-lock', relation: c.relation, claimed: c.mode, observed: 'no lock' });
      }
    }
  }
  for (const c of claims) {
    const rewritten = observed.rewritten.includes(c.relation);
    if (rewritten !== c.rewrite) {
      out.push({
        kind: 'rewrite',
        relation: c.relation,
        claimed: c.rewrite ? 'rewrite' : 'no rewrite',
        observed: rewritten ? 'rewrite' : 'no rewrite',
      });
    }
    if (observed.seqScans) {
      const scanned = observed.seqScans.includes(c.relation);
      const expected = c.scan || c.rewrite || c.indexBuild;
      if (scanned !== expected) {
        out.push({
          kind: 'scan',
          relation: c.relation,
          claimed: expected ? 'full scan' : 'no scan',
          observed: scanned ? 'full scan' : 'no scan',
        });
      }
    }
  }
  return out;
}
