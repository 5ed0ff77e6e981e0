/**
 * Observing a statement that cannot run in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM,
 * DETACH … CONCURRENTLY): its own session cannot read pg_locks while it runs, so a second session
 * does. That session first opens a transaction that makes the statement wait part-way (a writer's
 * lock, an old snapshot, a reader of one relation); while the statement waits, its pid's rows in
 * pg_locks show every lock it holds and the one it is waiting for. Then the second session lets go.
 * A lock on the pg_class row of a relation (SELECT … FROM pg_class … FOR UPDATE) stops a statement at
 * its last step, when it changes or deletes that row, still holding every lock it took.
 */

import type { Row, TraceEngine } from './engine.js';
import {
  lockModeOf,
  type Observation,
  type ObservedLock,
  type RelationKind,
  relationKindOf,
  strongestPerRelation,
} from './observe.js';

const RELATIONS_SQL = `SELECT c.oid::text AS oid, n.nspname || '.' || c.relname AS relation, c.relkind AS kind,
    c.relfilenode::text AS node
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
    AND n.nspname NOT LIKE 'pg\\_temp%'`;

interface RelationInfo {
  relation: string;
  kind: RelationKind;
  node: string;
}

async function relations(engine: Pick<TraceEngine, 'query'>): Promise<Map<string, RelationInfo>> {
  const rows = await engine.query(RELATIONS_SQL);
  return new Map(
    rows.map((r: Row) => [
      String(r.oid),
      { relation: String(r.relation), kind: relationKindOf(r.kind), node: String(r.node) },
    ]),
  );
}

export interface StalledObservation extends Observation {
  /** the statement was seen waiting (the locks are those it held or requested at that moment) */
  stalled: boolean;
  /** the locks it was waiting for when seen */
  waitingFor: ObservedLock[];
}

export interface StallOptions {
  /** SQL the second session runs in its open transaction before the statement starts */
  stall: string[];
  /** give up waiting for the statement to stall after this long (ms) */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `sql` in the engine's session (autocommit) while a second session makes it wait, and
 * returns the locks seen in pg_locks for the statement's backend at the moment it waited (granted
 * and requested: a requested lock is taken the moment the other session lets go). Rewrites are
 * seen through relfilenode changes; sequential scans of another backend are not observable.
 */
export async function observeStalled(
  engine: TraceEngine,
  sql: string,
  options: StallOptions,
): Promise<StalledObservation> {
  if (!engine.openObserver) throw new Error(`${engine.name} has no second session`);
  const pid = await engine.backendPid();
  const watcher = await engine.openObserver();
  const before = await relations(engine);
  let error: string | undefined;
  let done = false;
  let seen: Row[] = [];
  let stalled = false;
  const t0 = performance.now();
  try {
    await watcher.query('BEGIN');
    for (const s of options.stall) await watcher.query(s);
    const running = engine.exec(sql).then(
      () => {
        done = true;
      },
      (e: unknown) => {
        done = true;
        error = (e as Error).message;
      },
    );
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    while (!done && Date.now() < deadline) {
      const rows = await watcher.query(
        `SELECT locktype, relation::text AS oid, mode, granted FROM pg_locks WHERE pid = ${pid}`,
      );
      if (rows.some((r) => r.granted === false || r.granted === 'f')) {
        seen = rows;
        stalled = true;
        break;
      }
      await sleep(2);
    }
    await watcher.query('ROLLBACK');
    await running;
  } finally {
    await watcher.close();
  }
  const durationMs = performance.now() - t0;
  const after = await relations(engine);
  const lockOf = (r: Row): ObservedLock | undefined => {
    const mode = lockModeOf(r.mode);
    const info = before.get(String(r.oid)) ?? after.get(String(r.oid));
    if (r.locktype !== 'relation' || !mode || !info) return undefined;
    return { relation: info.relation, kind: info.kind, mode };
  };
  const locks = seen.flatMap((r) => lockOf(r) ?? []);
  const waitingFor = seen
    .filter((r) => r.granted === false || r.granted === 'f')
    .flatMap((r) => lockOf(r) ?? []);
  const rewritten: string[] = [];
  const byName = new Map([...after.values()].map((a) => [a.relation, a]));
  for (const [oid, b] of before) {
    const a = after.get(oid) ?? byName.get(b.relation);
    // REINDEX CONCURRENTLY swaps in a new index under the old name
    if (a && a.node !== b.node) rewritten.push(b.relation);
  }
  return {
    sql,
    ok: error === undefined,
    error,
    durationMs,
    locks: stalled ? strongestPerRelation(locks) : undefined,
    rewritten: rewritten.sort(),
    inTransaction: false,
    stalled,
    waitingFor,
  };
}
