/**
 * A Postgres to trace migrations in: the embedded PGlite (default), a real server of a chosen
 * major version from npm, or the user's database. One session; statements run in order.
 */

export interface Row {
  [column: string]: unknown;
}

export interface TraceEngine {
  /** e.g. `PGlite (PostgreSQL 18.6)`, `PostgreSQL 16.14`, `postgres://…@host/db` (never a password) */
  readonly name: string;
  /** server major version, from `server_version_num` */
  readonly majorVersion: number;
  /** a second session can watch this one (pg_locks of a statement that cannot run in a transaction) */
  readonly canObserveConcurrently: boolean;
  /**
   * the user's database: nothing may be committed. The tracer wraps the whole migration in one
   * transaction that it rolls back, and reports statements that cannot run in a transaction block as
   * not traced. The engine refuses SQL that would commit or run outside a transaction block.
   */
  readonly rollbackOnly?: boolean;
  /** one statement (or a script of several, without results) in the tracing session */
  query(sql: string): Promise<Row[]>;
  exec(sql: string): Promise<void>;
  /** the session's backend pid, for pg_locks */
  backendPid(): Promise<number>;
  /** a second session on the same database, where supported */
  openObserver?(): Promise<Pick<TraceEngine, 'query' | 'close'>>;
  close(): Promise<void>;
}

export type EngineSpec =
  | { kind: 'pglite' }
  | { kind: 'postgres'; major: number }
  | { kind: 'url'; url: string; allowCommit?: boolean };
