/**
 * Watches one statement run in a real Postgres and records what it did: the relation locks its
 * transaction acquired (pg_locks of our own backend), the relations it rewrote (relfilenode
 * changed) and the tables it read in full (pg_stat_xact_user_tables.seq_scan grew).
 */

import { LOCK_MODES, type LockMode, PG_LOCKS_NAME } from '../catalog/locks.js';
import type { Row, TraceEngine } from './engine.js';

export type RelationKind =
  | 'table'
  | 'partitioned table'
  | 'index'
  | 'sequence'
  | 'view'
  | 'materialized view'
  | 'other';

export interface ObservedLock {
  /** `schema.name` */
  relation: string;
  kind: RelationKind;
  mode: LockMode;
}

export interface Observation {
  sql: string;
  ok: boolean;
  error?: string;
  durationMs: number;
  /**
   * locks the statement acquired, strongest mode per relation (user relations only); undefined when
   * they could not be observed (a statement that cannot run in a transaction block, on an engine
   * without a second session)
   */
  locks?: ObservedLock[];
  /** relations whose relfilenode changed: rewritten tables, rebuilt indexes */
  rewritten: string[];
  /** tables read in full while the statement ran; undefined when not observable */
  seqScans?: string[];
  /** the statement ran inside a transaction block we opened or the migration opened */
  inTransaction: boolean;
}

const MODE_BY_PG_NAME = new Map<string, LockMode>(LOCK_MODES.map((m) => [PG_LOCKS_NAME[m], m]));
const KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'partitioned table',
  i: 'index',
  I: 'index',
  S: 'sequence',
  v: 'view',
  m: 'materialized view',
};

/** The lock mode of a `pg_locks.mode` value (`AccessExclusiveLock` …); undefined for other lock kinds. */
export const lockModeOf = (pgName: unknown): LockMode | undefined => MODE_BY_PG_NAME.get(String(pgName));

/** What a `pg_class.relkind` is. */
export const relationKindOf = (relkind: unknown): RelationKind => KINDS[String(relkind)] ?? 'other';

/** User relations: not in system schemas. */
const USER_RELATIONS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/** a relation the statement dropped has no pg_class row any more: it is named from before the statement */
const LOCKS_SQL = `SELECT l.relation::text AS oid, n.nspname || '.' || c.relname AS relation, c.relkind AS kind, l.mode AS mode
  FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE l.locktype = 'relation' AND l.granted AND l.pid = $PID AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND (c.oid IS NULL OR ${USER_RELATIONS})`;

const FILENODES_SQL = `SELECT c.oid::text AS oid, n.nspname || '.' || c.relname AS relation, c.relkind AS kind, c.relfilenode::text AS node
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'i', 'm', 'p', 'I', 't', 'v') AND ${USER_RELATIONS}`;

const SCANS_SQL = `SELECT relid::text AS oid, schemaname || '.' || relname AS relation, seq_scan::text AS n
  FROM pg_stat_xact_user_tables`;

/** Strongest mode per relation. */
export function strongestPerRelation(locks: ObservedLock[]): ObservedLock[] {
  const by = new Map<string, ObservedLock>();
  for (const l of locks) {
    const seen = by.get(l.relation);
    if (!seen || LOCK_MODES.indexOf(l.mode) > LOCK_MODES.indexOf(seen.mode)) by.set(l.relation, l);
  }
  return [...by.values()].sort((a, b) => a.relation.localeCompare(b.relation));
}

export class Observer {
  private pid: number | undefined;
  /** the migration opened a transaction block that is still open */
  private inMigrationTransaction = false;

  constructor(readonly engine: TraceEngine) {}

  /** a transaction block opened with `transactionControl: 'begin'` is open (a failed statement ends it) */
  get inTransaction(): boolean {
    return this.inMigrationTransaction;
  }

  /** the session is a new one (a new connection, a new database): nothing known of the old one holds */
  forget(): void {
    this.pid = undefined;
    this.inMigrationTransaction = false;
  }

  private async myPid(): Promise<number> {
    this.pid ??= await this.engine.backendPid();
    return this.pid;
  }

  /**
   * Relation locks this session holds. `namesBefore` (oid → name before the statement) names a
   * relation the statement renamed or dropped as the statement's text does.
   */
  async locksHeld(namesBefore?: Map<string, { relation: string; kind?: string }>): Promise<ObservedLock[]> {
    const rows = await this.engine.query(LOCKS_SQL.replace('$PID', String(await this.myPid())));
    return rows.flatMap((r) => {
      const mode = lockModeOf(r.mode);
      const before = namesBefore?.get(String(r.oid));
      if (!mode || (!before && r.relation == null)) return [];
      const relation = before?.relation ?? String(r.relation);
      return [{ relation, kind: relationKindOf(r.kind ?? before?.kind), mode }];
    });
  }

  private async filenodes(): Promise<Map<string, { relation: string; kind: string; node: string }>> {
    const rows = await this.engine.query(FILENODES_SQL);
    return new Map(
      rows.map((r: Row) => [
        String(r.oid),
        { relation: String(r.relation), kind: String(r.kind), node: String(r.node) },
      ]),
    );
  }

  private async scans(): Promise<Map<string, { relation: string; n: number }>> {
    const rows = await this.engine.query(SCANS_SQL);
    return new Map(rows.map((r: Row) => [String(r.oid), { relation: String(r.relation), n: Number(r.n) }]));
  }

  /**
   * Runs one statement of a migration and observes it.
   * - `transactionControl`: the statement is BEGIN/COMMIT/ROLLBACK of the migration itself;
   * - `noTransactionBlock`: the statement refuses to run inside a transaction block;
   * otherwise, outside a migration transaction, the statement is wrapped in its own transaction
   * (so its locks are still held when pg_locks is read) and committed, as autocommit would.
   */
  async run(
    sql: string,
    kind: { transactionControl?: 'begin' | 'end'; noTransactionBlock?: boolean } = {},
  ): Promise<Observation> {
    if (kind.transactionControl) return this.runTransactionControl(sql, kind.transactionControl);
    if (kind.noTransactionBlock && !this.inMigrationTransaction) return this.runAutocommit(sql);
    const own = !this.inMigrationTransaction;
    if (own) await this.engine.exec('BEGIN');
    try {
      const lockedBefore = own ? [] : await this.locksHeld();
      const nodesBefore = await this.filenodes();
      const scansBefore = await this.scans();
      const t0 = performance.now();
      let error: string | undefined;
      try {
        await this.engine.exec(sql);
      } catch (e) {
        error = (e as Error).message;
      }
      const durationMs = performance.now() - t0;
      // a failed statement aborts the migration's transaction, as it would in production
      if (error !== undefined) return this.failed(sql, error, durationMs);
      let observed: Pick<Observation, 'locks' | 'rewritten' | 'seqScans'>;
      try {
        const held = await this.locksHeld(nodesBefore);
        observed = {
          locks: strongestPerRelation(held.filter((l) => !alreadyHeld(l, lockedBefore))),
          rewritten: changedNodes(nodesBefore, await this.filenodes()),
          seqScans: grownScans(scansBefore, await this.scans()),
        };
      } catch (e) {
        // the statement left the session unable to answer (it set a 1 ms statement_timeout, or
        // ended its own backend): it fails as a statement, and its transaction with it
        return this.failed(
          sql,
          `it ran, but pgkeel could not observe it afterwards: ${(e as Error)?.message ?? e}`,
          durationMs,
        );
      }
      if (own) await this.engine.exec('COMMIT');
      return { sql, ok: true, durationMs, ...observed, inTransaction: true };
    } catch (e) {
      // the session could not even be looked at before the statement, or COMMIT failed
      return this.failed(sql, (e as Error)?.message ?? String(e), 0);
    }
  }

  /**
   * A statement that failed, with its transaction rolled back; a session the statement ended has
   * nothing to roll back, hence the ignored error.
   */
  private async failed(sql: string, error: string, durationMs: number): Promise<Observation> {
    await this.engine.exec('ROLLBACK').catch(() => {});
    this.inMigrationTransaction = false;
    return { sql, ok: false, error, durationMs, rewritten: [], inTransaction: true };
  }

  private async runTransactionControl(sql: string, control: 'begin' | 'end'): Promise<Observation> {
    const t0 = performance.now();
    try {
      await this.engine.exec(sql);
      this.inMigrationTransaction = control === 'begin';
      return {
        sql,
        ok: true,
        durationMs: performance.now() - t0,
        locks: [],
        rewritten: [],
        inTransaction: true,
      };
    } catch (e) {
      return {
        sql,
        ok: false,
        error: (e as Error).message,
        durationMs: performance.now() - t0,
        rewritten: [],
        inTransaction: true,
      };
    }
  }

  /** A statement that cannot run in a transaction block: rewrites are visible, locks and scans are not. */
  private async runAutocommit(sql: string): Promise<Observation> {
    const t0 = performance.now();
    let nodesBefore: Awaited<ReturnType<Observer['filenodes']>>;
    try {
      nodesBefore = await this.filenodes();
      await this.engine.exec(sql);
    } catch (e) {
      return {
        sql,
        ok: false,
        error: (e as Error).message,
        durationMs: performance.now() - t0,
        rewritten: [],
        inTransaction: false,
      };
    }
    const durationMs = performance.now() - t0;
    try {
      const rewritten = changedNodes(nodesBefore, await this.filenodes());
      return { sql, ok: true, durationMs, rewritten, inTransaction: false };
    } catch (e) {
      return {
        sql,
        ok: false,
        error: `it ran, but pgkeel could not observe it afterwards: ${(e as Error)?.message ?? e}`,
        durationMs,
        rewritten: [],
        inTransaction: false,
      };
    }
  }
}

function alreadyHeld(lock: ObservedLock, before: ObservedLock[]): boolean {
  return before.some((b) => b.relation === lock.relation && b.mode === lock.mode);
}

function changedNodes(
  before: Map<string, { relation: string; node: string }>,
  after: Map<string, { relation: string; node: string }>,
): string[] {
  const out: string[] = [];
  const byName = new Map([...after.values()].map((a) => [a.relation, a]));
  for (const [oid, b] of before) {
    const a = after.get(oid);
    if (a && a.node !== b.node) out.push(a.relation);
    // REINDEX CONCURRENTLY swaps in a new index under the old name
    else if (!a && byName.get(b.relation) && byName.get(b.relation)!.node !== b.node) out.push(b.relation);
  }
  return out.sort();
}

function grownScans(
  before: Map<string, { relation: string; n: number }>,
  after: Map<string, { relation: string; n: number }>,
): string[] {
  const out: string[] = [];
  for (const [oid, a] of after) {
    if (a.n > (before.get(oid)?.n ?? 0)) out.push(a.relation);
  }
  return out.sort();
}
