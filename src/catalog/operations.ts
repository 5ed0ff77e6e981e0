import type { LockMode } from './locks.js';

/**
 * What each kind of DDL/DML does to the relations it touches, per Postgres major version:
 * the lock it takes on which relation, whether it rewrites or scans the table, builds an index,
 * and whether it may run inside a transaction block. Rules, `explain`, the guide and the trace
 * comparison all read this table; nothing else states these facts.
 */

/** Which relation of the statement a lock is taken on. */
export type RelationRole =
  /** the table being altered / indexed / written */
  | 'table'
  /** the table a foreign key points to */
  | 'referenced'
  /** the index being built / dropped / reindexed */
  | 'index'
  /** the partitioned table of an ATTACH/DETACH/PARTITION OF */
  | 'parent'
  /** the partition being attached / detached */
  | 'partition'
  /** the parent's default partition, whose partition constraint changes when another partition leaves */
  | 'default-partition';

export interface LockEffect {
  on: RelationRole;
  mode: LockMode;
}

export interface OperationFacts {
  id: OperationId;
  /** short description, e.g. "ADD COLUMN with a volatile DEFAULT" */
  title: string;
  locks: LockEffect[];
  /** the table is rewritten (new relfilenode) while the lock is held */
  rewrite: boolean;
  /** every row is read while the lock is held (validation) */
  scan: boolean;
  /** an index is built while the lock is held */
  indexBuild: boolean;
  /** the relation that is rewritten, scanned or indexed, when not the `table` (ATTACH PARTITION scans the partition) */
  target?: RelationRole;
  /**
   * the target gets a new, empty file (TRUNCATE): its relfilenode changes in O(1), which is not a
   * rewrite and does not make the lock last longer on a bigger table
   */
  newFile?: boolean;
  /** another relation the plan may read in full while the lock is held (a foreign key check is a join) */
  alsoReads?: RelationRole;
  /** Postgres refuses to run it inside a transaction block */
  noTransactionBlock: boolean;
  /** the operation does not exist on this version */
  unsupported?: boolean;
  /** a version-specific remark worth showing */
  note?: string;
  /** a known Postgres bug in some minor releases of this major that corrupts the result */
  corruptingBug?: string;
  /**
   * ALTER TYPE … ADD VALUE: a value added to an enum type created in the same transaction can be
   * used before that transaction commits (values added to older types never can)
   */
  newValueUsableWhenTypeIsNew?: boolean;
}

/** How long the strongest lock is held, derived from the facts. */
export function lockDuration(f: OperationFacts): 'brief' | 'table-size' {
  return f.rewrite || f.scan || f.indexBuild ? 'table-size' : 'brief';
}

type Facts = Omit<OperationFacts, 'id'>;
interface Entry {
  base: Facts;
  /** overrides for version ranges, inclusive; checked in order, first match wins */
  versions?: { from?: number; until?: number; facts: Partial<Facts> }[];
}

const AE: LockMode = 'ACCESS EXCLUSIVE';
const SUE: LockMode = 'SHARE UPDATE EXCLUSIVE';
const SRE: LockMode = 'SHARE ROW EXCLUSIVE';

function op(title: string, locks: LockEffect[], more: Partial<Facts> = {}): Facts {
  return { title, locks, rewrite: false, scan: false, indexBuild: false, noTransactionBlock: false, ...more };
}
const onTable = (mode: LockMode): LockEffect[] => [{ on: 'table', mode }];

const ENTRIES = {
  // ── columns ────────────────────────────────────────────────────────────────
  'add-column': { base: op('ADD COLUMN without a default', onTable(AE)) },
  'add-column-not-null': {
    base: op('ADD COLUMN … NOT NULL without a default', onTable(AE), {
      scan: true,
      note: 'Every existing row is checked for the NULL it would get: it fails unless the table is empty.',
    }),
  },
  'add-column-default': {
    base: op('ADD COLUMN with a non-volatile DEFAULT', onTable(AE), {
      note: 'Since PG 11 the default is stored in the catalog; existing rows are not touched.',
    }),
    versions: [{ until: 10, facts: { rewrite: true, note: 'Before PG 11 every row is rewritten.' } }],
  },
  'add-column-volatile-default': {
    base: op('ADD COLUMN with a volatile DEFAULT', onTable(AE), { rewrite: true }),
  },
  'add-column-serial': {
    base: op('ADD COLUMN of a serial type', onTable(AE), {
      rewrite: true,
      note: 'nextval() is volatile: every existing row gets its own value.',
    }),
  },
  'add-column-identity': {
    base: op('ADD COLUMN … GENERATED AS IDENTITY', onTable(AE), { rewrite: true }),
  },
  'add-column-generated-stored': {
    base: op('ADD COLUMN … GENERATED ALWAYS AS (…) STORED', onTable(AE), { rewrite: true }),
  },
  'add-column-domain-check': {
    base: op('ADD COLUMN of a domain type with constraints (CHECK or NOT NULL)', onTable(AE), {
      rewrite: true,
      note: 'The value of every existing row (NULL, or the DEFAULT) is checked against the domain by rewriting the table.',
    }),
  },
  'drop-column': {
    base: op('DROP COLUMN', onTable(AE), { note: 'The column is only marked dropped; no rewrite.' }),
  },
  'alter-column-type': { base: op('ALTER COLUMN … TYPE (rewriting)', onTable(AE), { rewrite: true }) },
  'alter-column-type-coercible': {
    base: op('ALTER COLUMN … TYPE (binary-coercible)', onTable(AE), {
      note: 'The type change needs no rewrite, but CHECK constraints on the column are re-verified.',
    }),
  },
  'set-not-null': {
    base: op('ALTER COLUMN … SET NOT NULL', onTable(AE), { scan: true }),
  },
  'set-not-null-proven': {
    base: op('ALTER COLUMN … SET NOT NULL with a validated CHECK (col IS NOT NULL)', onTable(AE), {
      note: 'A validated CHECK constraint proves the column has no NULLs, so the scan is skipped.',
    }),
    versions: [{ until: 11, facts: { scan: true, note: 'Before PG 12 the CHECK constraint is not used.' } }],
  },
  'drop-not-null': { base: op('ALTER COLUMN … DROP NOT NULL', onTable(AE)) },
  'set-default': { base: op('ALTER COLUMN … SET/DROP DEFAULT', onTable(AE)) },
  'set-expression': {
    base: op('ALTER COLUMN … SET EXPRESSION AS (…)', onTable(AE), {
      rewrite: true,
      note: 'The stored generated column is computed anew for every row: the table is rewritten.',
    }),
    versions: [
      { until: 16, facts: { unsupported: true, note: 'ALTER COLUMN … SET EXPRESSION exists since PG 17.' } },
    ],
  },
  'rename-column': { base: op('RENAME COLUMN', onTable(AE)) },

  // ── constraints ────────────────────────────────────────────────────────────
  'add-check': { base: op('ADD CONSTRAINT … CHECK', onTable(AE), { scan: true }) },
  'add-check-not-valid': { base: op('ADD CONSTRAINT … CHECK … NOT VALID', onTable(AE)) },
  'add-not-null-constraint': {
    base: op('ADD CONSTRAINT … NOT NULL', onTable(AE), { scan: true }),
    versions: [
      { until: 17, facts: { unsupported: true, note: 'Named NOT NULL constraints exist since PG 18.' } },
    ],
  },
  'add-not-null-constraint-not-valid': {
    base: op('ADD CONSTRAINT … NOT NULL … NOT VALID', onTable(AE)),
    versions: [{ until: 17, facts: { unsupported: true, note: 'NOT NULL … NOT VALID exists since PG 18.' } }],
  },
  'add-foreign-key': {
    base: op(
      'ADD FOREIGN KEY',
      [
        { on: 'table', mode: SRE },
        { on: 'referenced', mode: SRE },
      ],
      { scan: true, alsoReads: 'referenced' },
    ),
  },
  'add-foreign-key-not-valid': {
    base: op('ADD FOREIGN KEY … NOT VALID', [
      { on: 'table', mode: SRE },
      { on: 'referenced', mode: SRE },
    ]),
  },
  'add-foreign-key-new-column': {
    base: op(
      'ADD COLUMN … REFERENCES (no DEFAULT)',
      [
        { on: 'table', mode: SRE },
        { on: 'referenced', mode: SRE },
      ],
      {
        note: 'The new column is NULL in every row, so Postgres marks the foreign key valid without checking them.',
      },
    ),
  },
  'validate-constraint': {
    base: op('VALIDATE CONSTRAINT (CHECK)', onTable(SUE), { scan: true }),
  },
  'validate-foreign-key': {
    base: op(
      'VALIDATE CONSTRAINT (FOREIGN KEY)',
      [
        { on: 'table', mode: SUE },
        { on: 'referenced', mode: 'ROW SHARE' },
      ],
      { scan: true, alsoReads: 'referenced' },
    ),
  },
  // PG 18: a NOT ENFORCED foreign key (the only kind ALTER CONSTRAINT can enforce) made ENFORCED is
  // checked in full, like ADD FOREIGN KEY, but under ALTER CONSTRAINT's ACCESS EXCLUSIVE
  'enforce-foreign-key': {
    base: op(
      'ALTER CONSTRAINT … ENFORCED (FOREIGN KEY)',
      [
        { on: 'table', mode: AE },
        { on: 'referenced', mode: SRE },
      ],
      { scan: true, alsoReads: 'referenced' },
    ),
    versions: [
      { until: 17, facts: { unsupported: true, note: 'ENFORCED / NOT ENFORCED exists since PG 18.' } },
    ],
  },
  'add-unique': { base: op('ADD CONSTRAINT … UNIQUE', onTable(AE), { indexBuild: true }) },
  'add-primary-key': {
    base: op('ADD PRIMARY KEY', onTable(AE), {
      indexBuild: true,
      note: 'Columns not yet NOT NULL are also scanned to set NOT NULL.',
    }),
  },
  'add-unique-using-index': { base: op('ADD CONSTRAINT … UNIQUE USING INDEX', onTable(AE)) },
  'add-primary-key-using-index': {
    base: op('ADD PRIMARY KEY USING INDEX', onTable(AE), {
      scan: true,
      note: 'Columns that are not already NOT NULL are scanned under the lock to set NOT NULL; brief when all are.',
    }),
  },
  'add-exclusion': { base: op('ADD CONSTRAINT … EXCLUDE', onTable(AE), { indexBuild: true }) },
  'drop-constraint': { base: op('DROP CONSTRAINT', onTable(AE)) },
  'drop-foreign-key': {
    base: op('DROP CONSTRAINT (FOREIGN KEY)', [
      { on: 'table', mode: AE },
      { on: 'referenced', mode: AE },
    ]),
  },
  'rename-constraint': { base: op('RENAME CONSTRAINT', onTable(AE)) },

  // ── indexes ────────────────────────────────────────────────────────────────
  'create-index': { base: op('CREATE INDEX', onTable('SHARE'), { indexBuild: true }) },
  'create-index-concurrently': {
    base: op('CREATE INDEX CONCURRENTLY', onTable(SUE), {
      indexBuild: true,
      noTransactionBlock: true,
      note: 'Waits for every transaction with an older snapshot, on any table; a failure leaves an INVALID index.',
    }),
    versions: [
      {
        from: 14,
        until: 14,
        facts: {
          note: 'PG 14.0–14.3 can silently corrupt indexes built CONCURRENTLY; upgrade to 14.4+.',
          corruptingBug: 'PostgreSQL 14.0–14.3 (fixed in 14.4)',
        },
      },
    ],
  },
  'drop-index': {
    base: op('DROP INDEX', [
      { on: 'table', mode: AE },
      { on: 'index', mode: AE },
    ]),
  },
  'drop-index-concurrently': {
    base: op(
      'DROP INDEX CONCURRENTLY',
      [
        { on: 'table', mode: SUE },
        { on: 'index', mode: AE },
      ],
      { noTransactionBlock: true },
    ),
  },
  reindex: {
    base: op(
      'REINDEX',
      [
        { on: 'table', mode: 'SHARE' },
        { on: 'index', mode: AE },
      ],
      { indexBuild: true },
    ),
  },
  'rename-index': {
    base: op('ALTER INDEX … RENAME', [{ on: 'index', mode: SUE }], {
      note: 'Since PG 12 renaming an index takes SHARE UPDATE EXCLUSIVE on it: queries using it go on.',
    }),
    versions: [
      {
        until: 11,
        facts: {
          locks: [{ on: 'index', mode: AE }],
          note: 'Before PG 12 renaming an index takes ACCESS EXCLUSIVE on it: queries that would use it wait.',
        },
      },
    ],
  },
  'alter-index-set': {
    base: op(
      'ALTER INDEX … SET / RESET (storage parameters), ALTER COLUMN … SET STATISTICS',
      [{ on: 'index', mode: SUE }],
      {
        note: 'fillfactor, deduplicate_items, fastupdate, gin_pending_list_limit, pages_per_range, autosummarize and statistics targets take SHARE UPDATE EXCLUSIVE on the index: queries using it go on; the index is not rebuilt.',
      },
    ),
  },
  'reindex-multiple': {
    base: op(
      'REINDEX SCHEMA / DATABASE / SYSTEM',
      [
        { on: 'table', mode: 'SHARE' },
        { on: 'index', mode: AE },
      ],
      {
        indexBuild: true,
        noTransactionBlock: true,
        note: 'Each table is reindexed in a transaction of its own: SHARE on the table (writes wait) and ACCESS EXCLUSIVE on each of its indexes while they are rebuilt, one table after another.',
      },
    ),
  },
  'reindex-concurrently': {
    base: op(
      'REINDEX CONCURRENTLY',
      [
        { on: 'table', mode: SUE },
        { on: 'index', mode: SUE },
      ],
      { indexBuild: true, noTransactionBlock: true },
    ),
    versions: [
      { until: 11, facts: { unsupported: true, note: 'REINDEX CONCURRENTLY exists since PG 12.' } },
      {
        from: 14,
        until: 14,
        facts: {
          note: 'PG 14.0–14.3 can silently corrupt indexes rebuilt CONCURRENTLY; upgrade to 14.4+.',
          corruptingBug: 'PostgreSQL 14.0–14.3 (fixed in 14.4)',
        },
      },
    ],
  },

  // ── tables ─────────────────────────────────────────────────────────────────
  'create-table': { base: op('CREATE TABLE', []) },
  'create-table-with-foreign-key': {
    base: op('CREATE TABLE with a FOREIGN KEY to an existing table', [{ on: 'referenced', mode: SRE }]),
  },
  'create-table-partition-of': {
    base: op('CREATE TABLE … PARTITION OF', [{ on: 'parent', mode: AE }]),
  },
  'drop-table': { base: op('DROP TABLE', onTable(AE)) },
  'rename-table': { base: op('RENAME TABLE', onTable(AE)) },
  truncate: {
    base: op('TRUNCATE', onTable(AE), {
      newFile: true,
      note: 'The table gets a new, empty file: quick however big it is, but the lock queues and blocks everything.',
    }),
  },
  'vacuum-full': { base: op('VACUUM FULL', onTable(AE), { rewrite: true, noTransactionBlock: true }) },
  vacuum: { base: op('VACUUM', onTable(SUE), { noTransactionBlock: true }) },
  analyze: { base: op('ANALYZE', onTable(SUE), { note: 'Reads a sample of the rows, not all of them.' }) },
  comment: { base: op('COMMENT ON a table or column', onTable(SUE)) },
  cluster: { base: op('CLUSTER', onTable(AE), { rewrite: true }) },
  'cluster-all': {
    base: op('CLUSTER without a table', onTable(AE), {
      rewrite: true,
      noTransactionBlock: true,
      note: 'Re-clusters every table clustered on an index before, each in a transaction of its own under ACCESS EXCLUSIVE.',
    }),
  },
  'set-tablespace': { base: op('SET TABLESPACE', onTable(AE), { rewrite: true }) },
  'set-access-method': {
    base: op('SET ACCESS METHOD', onTable(AE), {
      rewrite: true,
      note: 'Every row is copied into the new access method’s storage (setting the method the table already has does nothing).',
    }),
    versions: [
      {
        until: 14,
        facts: { unsupported: true, note: 'ALTER TABLE … SET ACCESS METHOD exists since PG 15.' },
      },
    ],
  },
  'set-logged': { base: op('SET LOGGED / UNLOGGED', onTable(AE), { rewrite: true }) },
  'attach-partition': {
    base: op(
      'ATTACH PARTITION',
      [
        { on: 'parent', mode: SUE },
        { on: 'partition', mode: AE },
      ],
      {
        scan: true,
        target: 'partition',
        note: 'The partition is scanned unless a CHECK constraint proves the bound.',
      },
    ),
    versions: [
      {
        until: 11,
        facts: {
          locks: [
            { on: 'parent', mode: AE },
            { on: 'partition', mode: AE },
          ],
        },
      },
    ],
  },
  'check-default-partition': {
    base: op(
      'rows of the default partition checked against a new partition’s bound',
      [{ on: 'partition', mode: AE }],
      {
        scan: true,
        target: 'partition',
        note: 'A new partition’s rows must not be in the default partition: Postgres reads all of it under the lock.',
      },
    ),
  },
  'detach-partition': {
    base: op('DETACH PARTITION', [
      { on: 'parent', mode: AE },
      { on: 'partition', mode: AE },
      // its partition constraint now covers the detached partition's bound
      { on: 'default-partition', mode: AE },
    ]),
    versions: [
      {
        until: 13,
        facts: {
          locks: [
            { on: 'parent', mode: AE },
            { on: 'partition', mode: SUE },
            { on: 'default-partition', mode: AE },
          ],
        },
      },
    ],
  },
  'detach-partition-concurrently': {
    base: op(
      'DETACH PARTITION CONCURRENTLY',
      [
        { on: 'parent', mode: SUE },
        // SUE in the first transaction; the second, after waiting for every user of the parent, takes AE
        { on: 'partition', mode: AE },
      ],
      { noTransactionBlock: true },
    ),
    versions: [
      { until: 13, facts: { unsupported: true, note: 'DETACH … CONCURRENTLY exists since PG 14.' } },
    ],
  },
  'create-trigger': { base: op('CREATE TRIGGER', onTable(SRE)) },
  'drop-trigger': { base: op('DROP TRIGGER', onTable(AE)) },
  // the view's rows (a materialized view's file) go with it; the tables it reads are not locked
  'drop-view': { base: op('DROP VIEW / DROP MATERIALIZED VIEW', onTable(AE)) },
  'refresh-materialized-view': {
    base: op('REFRESH MATERIALIZED VIEW', onTable(AE), { rewrite: true }),
  },
  'refresh-materialized-view-concurrently': {
    base: op('REFRESH MATERIALIZED VIEW CONCURRENTLY', onTable('EXCLUSIVE'), {
      scan: true,
      note: 'Needs a unique index on the view. The new rows are diffed against the old ones and applied in place (no new file).',
    }),
  },
  // the new table or view is this statement's own; what it costs others is the read of its sources,
  // one action per source table (`table`), under ACCESS SHARE: writes continue, ACCESS EXCLUSIVE waits
  'create-table-as': {
    base: op('CREATE TABLE AS / SELECT INTO', onTable('ACCESS SHARE'), {
      scan: true,
      note: 'The query runs to fill the new table: each table it reads is locked ACCESS SHARE and read in full (as the plan reads it) until the transaction ends.',
    }),
  },
  'create-materialized-view': {
    base: op('CREATE MATERIALIZED VIEW', onTable('ACCESS SHARE'), {
      scan: true,
      note: 'The query runs to fill the view: each table it reads is locked ACCESS SHARE and read in full (as the plan reads it) until the transaction ends.',
    }),
  },
  'create-table-as-no-data': {
    base: op('CREATE TABLE AS / MATERIALIZED VIEW … WITH NO DATA', onTable('ACCESS SHARE'), {
      note: 'The query is only analysed, not run: its tables are locked ACCESS SHARE but not read.',
    }),
  },
  'alter-table': { base: op('ALTER TABLE (other)', onTable(AE)) },
  'alter-table-set-statistics': {
    base: op(
      'ALTER COLUMN … SET STATISTICS / SET (n_distinct …), CLUSTER ON, SET WITHOUT CLUSTER',
      onTable(SUE),
      {
        note: 'Only planner statistics and maintenance settings change: reads and writes continue.',
      },
    ),
  },
  'set-storage-parameters': {
    base: op('ALTER TABLE … SET / RESET (storage parameters)', onTable(SUE), {
      note: 'fillfactor, autovacuum_*, toast_tuple_target, parallel_workers and the vacuum settings take SHARE UPDATE EXCLUSIVE: reads and writes continue. Existing rows are not rewritten.',
    }),
  },
  'set-storage-parameters-exclusive': {
    base: op('ALTER TABLE … SET / RESET (user_catalog_table)', onTable(AE), {
      note: 'user_catalog_table takes ACCESS EXCLUSIVE, unlike the other storage parameters.',
    }),
  },
  // the child takes the parent's columns and constraints: the parent must not change meanwhile
  inherit: {
    base: op('ALTER TABLE … INHERIT', [
      { on: 'table', mode: AE },
      { on: 'parent', mode: SUE },
    ]),
  },
  'no-inherit': {
    base: op('ALTER TABLE … NO INHERIT', [
      { on: 'table', mode: AE },
      { on: 'parent', mode: 'ACCESS SHARE' },
    ]),
  },
  'enable-disable-trigger': {
    base: op('ALTER TABLE … ENABLE / DISABLE [ALWAYS | REPLICA] TRIGGER', onTable(SRE), {
      note: 'SHARE ROW EXCLUSIVE blocks writes, not reads, and is brief.',
    }),
  },
  'lock-table': { base: op('LOCK TABLE', onTable(AE)) },

  // ── types ──────────────────────────────────────────────────────────────────
  'alter-type-add-value': {
    base: op('ALTER TYPE … ADD VALUE', [], {
      note: 'The new value cannot be used until the transaction that added it commits.',
    }),
    versions: [
      {
        until: 11,
        facts: { noTransactionBlock: true, note: 'Not allowed in a transaction block before PG 12.' },
      },
    ],
  },
  // Postgres lets a transaction extend an enum it created itself on every version: no index outside
  // the transaction can hold the type's values, so a rollback loses nothing (AlterEnum)
  'alter-type-add-value-new-type': {
    base: op('ALTER TYPE … ADD VALUE on an enum created in the same transaction', [], {
      note: 'The enum type is new in this transaction: the value may be added inside it and used at once.',
      newValueUsableWhenTypeIsNew: true,
    }),
    versions: [
      {
        from: 12,
        until: 16,
        facts: {
          newValueUsableWhenTypeIsNew: false,
          note: 'The value may be added in the transaction that created the enum, but not used before it commits (allowed again since PG 17).',
        },
      },
    ],
  },

  // ── domains ────────────────────────────────────────────────────────────────
  // ALTER DOMAIN checks the values of every column of the domain (or of a domain derived from it),
  // in every table, while holding SHARE on each of those tables: writes wait, reads continue.
  'alter-domain-add-check': {
    base: op('ALTER DOMAIN … ADD CONSTRAINT … CHECK', onTable('SHARE'), {
      scan: true,
      note: 'Every table with a column of the domain is locked SHARE (writes wait) and read in full.',
    }),
  },
  'alter-domain-add-check-not-valid': {
    base: op('ALTER DOMAIN … ADD CONSTRAINT … CHECK … NOT VALID', [], {
      note: 'Only values written from now on are checked: no table is locked or read.',
    }),
  },
  'alter-domain-set-not-null': {
    base: op('ALTER DOMAIN … SET NOT NULL', onTable('SHARE'), {
      scan: true,
      note: 'Every table with a column of the domain is locked SHARE (writes wait) and read in full; NOT NULL on a domain cannot be NOT VALID.',
    }),
  },
  'alter-domain-add-not-null': {
    base: op('ALTER DOMAIN … ADD CONSTRAINT … NOT NULL', onTable('SHARE'), {
      scan: true,
      note: 'The same as SET NOT NULL: every table with a column of the domain is locked SHARE and read in full; it cannot be NOT VALID.',
    }),
    versions: [
      {
        until: 16,
        facts: { unsupported: true, note: 'ALTER DOMAIN … ADD CONSTRAINT … NOT NULL exists since PG 17.' },
      },
    ],
  },
  'alter-domain-validate-constraint': {
    base: op('ALTER DOMAIN … VALIDATE CONSTRAINT', onTable('SHARE'), {
      scan: true,
      note: 'Unlike ALTER TABLE … VALIDATE CONSTRAINT, it locks every table with a column of the domain SHARE: writes wait for the whole scan.',
    }),
  },

  // ── data ───────────────────────────────────────────────────────────────────
  update: {
    base: op('UPDATE', onTable('ROW EXCLUSIVE'), { note: 'Updated rows stay locked until commit.' }),
  },
  delete: {
    base: op('DELETE', onTable('ROW EXCLUSIVE'), { note: 'Deleted rows stay locked until commit.' }),
  },
  insert: { base: op('INSERT', onTable('ROW EXCLUSIVE')) },
  merge: {
    base: op('MERGE', onTable('ROW EXCLUSIVE'), { note: 'Changed rows stay locked until commit.' }),
    versions: [{ until: 14, facts: { unsupported: true, note: 'MERGE exists since PG 15.' } }],
  },
  // every relation a statement reads besides the one it writes: FROM, JOIN, USING, subqueries, CTEs,
  // INSERT … SELECT, a view's query, the query a materialized view is refreshed from
  read: {
    base: op('reads it (FROM, JOIN, subquery, a view’s query)', onTable('ACCESS SHARE'), {
      note: 'Read under ACCESS SHARE until the transaction ends: only ACCESS EXCLUSIVE (ALTER TABLE, DROP, VACUUM FULL …) waits for it.',
    }),
  },
} satisfies Record<string, Entry>;

export type OperationId = keyof typeof ENTRIES;

export const OPERATION_IDS = Object.keys(ENTRIES) as OperationId[];

/** Oldest major version whose behaviour the catalog tells apart; older ones behave like it. */
export const OLDEST_MODELLED_VERSION = 10;

const cache = new Map<string, OperationFacts>();

/** The facts of an operation on a Postgres major version. */
export function operationFacts(id: OperationId, pgVersion: number): OperationFacts {
  const key = `${id}@${pgVersion}`;
  let facts = cache.get(key);
  if (facts) return facts;
  const entry: Entry = ENTRIES[id];
  const v = Math.max(pgVersion, OLDEST_MODELLED_VERSION);
  const override = entry.versions?.find(
    (r) => (r.from ?? 0) <= v && v <= (r.until ?? Number.POSITIVE_INFINITY),
  );
  facts = { id, ...entry.base, ...override?.facts };
  cache.set(key, facts);
  return facts;
}

/**
 * Table storage parameters by the lock their SET / RESET takes (reloptions.c gives each parameter a
 * lock mode; ALTER TABLE takes the strongest of those it names). `toast.` parameters count as their
 * heap namesakes. Views' options (security_barrier, check_option, security_invoker) take ACCESS EXCLUSIVE.
 */
const SHARE_UPDATE_EXCLUSIVE_PARAMETERS = new Set([
  'fillfactor',
  'toast_tuple_target',
  'parallel_workers',
  'log_autovacuum_min_duration',
  'vacuum_index_cleanup',
  'vacuum_truncate',
  'vacuum_max_eager_freeze_failure_rate',
]);
const ACCESS_EXCLUSIVE_PARAMETERS = new Set(['user_catalog_table']);

/**
 * The operation of `ALTER TABLE … SET / RESET (…)` naming these parameters; undefined when one of
 * them is not a known table parameter (the statement then counts as ALTER TABLE (other)).
 */
export function storageParametersOperation(
  parameters: string[],
): 'set-storage-parameters' | 'set-storage-parameters-exclusive' | undefined {
  let exclusive = false;
  for (const p of parameters) {
    const name = p.toLowerCase();
    if (ACCESS_EXCLUSIVE_PARAMETERS.has(name)) exclusive = true;
    else if (!SHARE_UPDATE_EXCLUSIVE_PARAMETERS.has(name) && !name.startsWith('autovacuum_'))
      return undefined;
  }
  if (parameters.length === 0) return undefined;
  return exclusive ? 'set-storage-parameters-exclusive' : 'set-storage-parameters';
}

/**
 * Since PG 18 a column's NOT NULL is a pg_constraint row, named `<table>_<column>_not_null` when
 * Postgres chose the name (truncated to 63 bytes, with a number appended on a clash); dropping
 * that constraint drops the NOT NULL. Returns the column a constraint name of this pattern stands
 * for (the name as cut, when Postgres cut it), or undefined (before PG 18 such a name can only be a
 * user's CHECK or other constraint).
 */
export function generatedNotNullColumn(
  table: string,
  constraint: string,
  pgVersion: number,
): string | undefined {
  if (pgVersion < 18) return undefined;
  const prefix = `${table}_`;
  const suffix = /_not_null\d*$/.exec(constraint);
  if (!constraint.startsWith(prefix) || !suffix) return undefined;
  const column = constraint.slice(prefix.length, suffix.index);
  return column.length > 0 ? column : undefined;
}
