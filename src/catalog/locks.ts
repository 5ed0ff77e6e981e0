/**
 * Postgres' eight table-level lock modes, their conflict matrix (docs: "Table-Level Lock Modes")
 * and what each one blocks in application terms.
 */

export const LOCK_MODES = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;

export type LockMode = (typeof LOCK_MODES)[number];

/** The name Postgres shows in pg_locks.mode, e.g. `AccessExclusiveLock`. */
export const PG_LOCKS_NAME: Record<LockMode, string> = {
  'ACCESS SHARE': 'AccessShareLock',
  'ROW SHARE': 'RowShareLock',
  'ROW EXCLUSIVE': 'RowExclusiveLock',
  'SHARE UPDATE EXCLUSIVE': 'ShareUpdateExclusiveLock',
  SHARE: 'ShareLock',
  'SHARE ROW EXCLUSIVE': 'ShareRowExclusiveLock',
  EXCLUSIVE: 'ExclusiveLock',
  'ACCESS EXCLUSIVE': 'AccessExclusiveLock',
};

/** For each mode, the modes it conflicts with. */
const CONFLICTS: Record<LockMode, readonly LockMode[]> = {
  'ACCESS SHARE': ['ACCESS EXCLUSIVE'],
  'ROW SHARE': ['EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'ROW EXCLUSIVE': ['SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'SHARE UPDATE EXCLUSIVE': [
    'SHARE UPDATE EXCLUSIVE',
    'SHARE',
    'SHARE ROW EXCLUSIVE',
    'EXCLUSIVE',
    'ACCESS EXCLUSIVE',
  ],
  SHARE: ['ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'SHARE ROW EXCLUSIVE': [
    'ROW EXCLUSIVE',
    'SHARE UPDATE EXCLUSIVE',
    'SHARE',
    'SHARE ROW EXCLUSIVE',
    'EXCLUSIVE',
    'ACCESS EXCLUSIVE',
  ],
  EXCLUSIVE: [
    'ROW SHARE',
    'ROW EXCLUSIVE',
    'SHARE UPDATE EXCLUSIVE',
    'SHARE',
    'SHARE ROW EXCLUSIVE',
    'EXCLUSIVE',
    'ACCESS EXCLUSIVE',
  ],
  'ACCESS EXCLUSIVE': LOCK_MODES,
};

export function conflicts(a: LockMode, b: LockMode): boolean {
  return CONFLICTS[a].includes(b);
}

/** Ordering by strength (index in LOCK_MODES); a stronger mode conflicts with a superset. */
export function lockStrength(mode: LockMode): number {
  return LOCK_MODES.indexOf(mode);
}

/**
 * Whether holding `held` means acquiring `wanted` cannot wait: every mode that conflicts with
 * `wanted` already conflicts with something held, so no other session can be holding it.
 * (Strength order is not enough: holding SHARE does not cover SHARE UPDATE EXCLUSIVE.)
 */
export function covers(held: Iterable<LockMode>, wanted: LockMode): boolean {
  const blocked = new Set<LockMode>();
  for (const h of held) for (const m of CONFLICTS[h]) blocked.add(m);
  return CONFLICTS[wanted].every((m) => blocked.has(m));
}

export function strongerLock(a: LockMode | undefined, b: LockMode): LockMode {
  return a === undefined || lockStrength(b) > lockStrength(a) ? b : a;
}

/** What runs against a table, and the lock each kind of work takes. */
export interface Workload {
  id: string;
  /** how users call it */
  label: string;
  lock: LockMode;
  /** true for the queries an application sends; false for maintenance and DDL */
  application: boolean;
}

export const WORKLOADS: readonly Workload[] = [
  { id: 'select', label: 'SELECT', lock: 'ACCESS SHARE', application: true },
  { id: 'select-for-update', label: 'SELECT FOR UPDATE/SHARE', lock: 'ROW SHARE', application: true },
  { id: 'dml', label: 'INSERT/UPDATE/DELETE', lock: 'ROW EXCLUSIVE', application: true },
  { id: 'vacuum', label: 'VACUUM/ANALYZE', lock: 'SHARE UPDATE EXCLUSIVE', application: false },
  {
    id: 'create-index-concurrently',
    label: 'CREATE INDEX CONCURRENTLY',
    lock: 'SHARE UPDATE EXCLUSIVE',
    application: false,
  },
  { id: 'create-index', label: 'CREATE INDEX', lock: 'SHARE', application: false },
  { id: 'ddl', label: 'ALTER TABLE / DDL', lock: 'ACCESS EXCLUSIVE', application: false },
];

/** Workloads that wait while `mode` is held (or queued). */
export function blockedWorkloads(mode: LockMode): Workload[] {
  return WORKLOADS.filter((w) => conflicts(mode, w.lock));
}

/** Whether holding `mode` stalls application queries (reads, locking reads or writes). */
export function blocksApplication(mode: LockMode): boolean {
  return WORKLOADS.some((w) => w.application && conflicts(mode, w.lock));
}

/** A short phrase for messages: "blocks all reads and writes", "blocks writes", … */
export function blockSummary(mode: LockMode): string {
  const blocked = new Set(blockedWorkloads(mode).map((w) => w.id));
  if (blocked.has('select')) return 'blocks all reads and writes';
  if (blocked.has('select-for-update')) return 'blocks writes and SELECT FOR UPDATE';
  if (blocked.has('dml')) return 'blocks writes (INSERT/UPDATE/DELETE)';
  if (blocked.has('vacuum')) return 'lets reads and writes through; blocks VACUUM and other DDL';
  return 'blocks only ACCESS EXCLUSIVE DDL';
}
