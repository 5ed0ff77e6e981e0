/**
 * What the catalog claims a statement does, per relation, and how that compares with what a real
 * Postgres did. Shared by `pgkeel trace` and the version matrix.
 */

import type { StatementFacts } from '../analyze/analyze.js';
import { type RelationSet, setMayContain } from '../analyze/ast.js';
import { type LockMode, lockStrength } from '../catalog/locks.js';
import type { RelationRole } from '../catalog/operations.js';
import type { Observation } from './observe.js';

export interface Claim {
  /** `schema.name`, as the analyzer resolves it */
  relation: string;
  mode: LockMode;
  rewrite: boolean;
  scan: boolean;
  indexBuild: boolean;
  /** gets a new, empty file in O(1) (TRUNCATE): a relfilenode change that is not a rewrite */
  newFile?: boolean;
  /** may be read in full, as the plan decides (the referenced table of a foreign key being checked) */
  mayScan?: boolean;
  /**
   * the claim is on relations the statement does not name and the analyzer could not list (`relation`
   * then describes them): an observed lock on a relation that may be in the set is covered by it
   */
  set?: RelationSet;
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
      ...(l.relation.set ? { set: l.relation.set } : {}),
    });
  }
  const claimOn = (a: StatementFacts['actions'][number], role: RelationRole | undefined) => {
    const r = role && a.relations[role];
    return r ? claims.get(r.key) : undefined;
  };
  for (const a of facts.actions) {
    // an index the operation builds anew (REINDEX) gets a new file
    const index = claimOn(a, 'index');
    if (index && a.facts.indexBuild) index.rewrite = true;
    const read = claimOn(a, a.facts.alsoReads);
    if (read) read.mayScan = true;
    const claim = claimOn(a, a.facts.target ?? 'table');
    if (!claim) continue;
    claim.rewrite ||= a.facts.rewrite;
    claim.scan ||= a.facts.scan;
    claim.indexBuild ||= a.facts.indexBuild;
    if (a.facts.newFile) claim.newFile = true;
  }
  return [...claims.values()];
}

/**
 * One claim per relation from several lists (a DO block's statements): the strongest mode, and
 * every kind of work any of them does.
 */
export function mergeClaims(lists: Claim[][]): Claim[] {
  const by = new Map<string, Claim>();
  for (const c of lists.flat()) {
    const seen = by.get(c.relation);
    if (!seen) {
      by.set(c.relation, { ...c });
      continue;
    }
    if (lockStrength(c.mode) > lockStrength(seen.mode)) seen.mode = c.mode;
    seen.rewrite ||= c.rewrite;
    seen.scan ||= c.scan;
    seen.indexBuild ||= c.indexBuild;
    if (c.newFile) seen.newFile = true;
    if (c.mayScan) seen.mayScan = true;
  }
  return [...by.values()];
}

const TABLE_LIKE = new Set(['table', 'partitioned table', 'materialized view', 'view']);

/**
 * Mismatches between claims and an observation. Locks are compared on table-like relations (index
 * and sequence locks follow from the table's); an ACCESS SHARE lock nobody claimed is a plain read
 * of another relation (a view's query, INSERT … SELECT), which the catalog does not model. A
 * validation scan or an index build must read the table; a rewrite may (ALTER TABLE reads the rows,
 * SET TABLESPACE copies blocks, REFRESH runs the view's query); under a lock weaker than SHARE
 * UPDATE EXCLUSIVE a scan is an ordinary query's (UPDATE, DELETE) and not a catalog fact.
 */
export function compare(claims: Claim[], observed: Observation): Mismatch[] {
  const out: Mismatch[] = [];
  const named = claims.filter((c) => !c.set);
  const sets = claims.filter((c) => c.set);
  const claimed = new Map(named.map((c) => [c.relation, c]));
  if (observed.locks) {
    const seen = new Set<string>();
    for (const lock of observed.locks) {
      const claim =
        claimed.get(lock.relation) ??
        // a relation of a set the analyzer could not list: the strongest set claim that may hold it
        (TABLE_LIKE.has(lock.kind) ? sets : [])
          .filter((c) => setMayContain(c.set!, lock.relation))
          .sort((a, b) => lockStrength(b.mode) - lockStrength(a.mode))[0];
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
    for (const c of named) {
      // a claimed lock on a relation that does not exist (created by this statement, or a typo) is not checkable
      if (!seen.has(c.relation) && observed.ok) {
        out.push({ kind: 'missing-lock', relation: c.relation, claimed: c.mode, observed: 'no lock' });
      }
    }
  }
  // a set may be empty, and which of its relations were rewritten or scanned is not known by name
  for (const c of named) {
    const rewritten = observed.rewritten.includes(c.relation);
    if (rewritten !== (c.rewrite || !!c.newFile)) {
      const claimed = c.rewrite ? 'rewrite' : c.newFile ? 'new empty file' : 'no rewrite';
      out.push({
        kind: 'rewrite',
        relation: c.relation,
        claimed,
        observed: rewritten ? 'new relfilenode' : 'no rewrite',
      });
    }
    if (observed.seqScans) {
      const scanned = observed.seqScans.includes(c.relation);
      const required = c.scan || c.indexBuild;
      const allowed =
        required ||
        c.rewrite ||
        c.newFile ||
        c.mayScan ||
        lockStrength(c.mode) < lockStrength('SHARE UPDATE EXCLUSIVE');
      if (scanned ? !allowed : required) {
        out.push({
          kind: 'scan',
          relation: c.relation,
          claimed: required ? 'full scan' : 'no scan',
          observed: scanned ? 'full scan' : 'no scan',
        });
      }
    }
  }
  return out;
}

/** A mismatch in words: what pgkeel claims, what Postgres did. */
export function mismatchText(m: Mismatch): string {
  switch (m.kind) {
    case 'lock-mode':
      return `${m.relation}: the catalog claims ${m.claimed}, Postgres took ${m.observed}`;
    case 'unclaimed-lock':
      return `${m.relation}: Postgres took ${m.observed}, the catalog claims no lock`;
    case 'missing-lock':
      return `${m.relation}: the catalog claims ${m.claimed}, Postgres took no new lock`;
    case 'rewrite':
      return m.claimed === 'rewrite'
        ? `${m.relation}: the catalog claims a rewrite, Postgres did not rewrite it`
        : `${m.relation}: the catalog claims no rewrite, Postgres rewrote it`;
    case 'scan':
      return m.claimed === 'full scan'
        ? `${m.relation}: the catalog claims a full scan (or rewrite, or index build), Postgres did not read the table`
        : `${m.relation}: the catalog claims no scan, Postgres read the whole table`;
    default:
      return `${m.relation}: ${m.kind}: claimed ${m.claimed}, observed ${m.observed}`;
  }
}
