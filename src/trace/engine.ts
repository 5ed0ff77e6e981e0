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
  /**
   * What the next migration file sees as a new session: default settings, the initial role, no
   * temporary objects. `inTransaction`: the tracer's rollback-only transaction is open, so only what
   * a transaction block allows. Absent: the tracer resets the session with SQL (DISCARD ALL, or
   * RESET ALL inside a transaction); an engine that sets session settings of its own re-applies them here.
   */
  newSession?(how: { inTransaction: boolean }): Promise<void>;
  /**
   * Counts the times the database was thrown away and started afresh (PGlite, after a statement it
   * had to stop): what was applied before is gone. Absent: never.
   */
  readonly generation?: number;
  /**
   * Why this engine cannot run a statement (its parse tree, `{ Kind: body }`) without breaking:
   * such a statement is reported as not traced instead of run. Absent: it runs whatever it is given.
   */
  refuse?(node: unknown): string | undefined;
  /** a second session on the same database, where supported */
  openObserver?(): Promise<Pick<TraceEngine, 'query' | 'close'>>;
  close(): Promise<void>;
}

/**
 * How long one statement may run on PGlite and on a server of pgkeel's own (`--statement-timeout`):
 * a million seeded rows rewrite in ~20 s on PGlite, and a hung CI job is stopped within a minute.
 * The user's database (`--database-url`) has a default of its own.
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;

export type EngineSpec =
  | {
      kind: 'pglite';
      /** the longest a statement may run (default 60 s; 0: no limit) */
      statementTimeoutMs?: number;
    }
  | {
      kind: 'postgres';
      major: number;
      /** statement_timeout of the session (default 60 s; 0: none) */
      statementTimeoutMs?: number;
    }
  | {
      kind: 'url';
      /** a postgres:// URI or libpq keyword/value pairs */
      url: string;
      allowCommit?: boolean;
      /** ceilings on every session pgkeel opens there (defaults 2 s and 30 s; 0: none) */
      lockTimeoutMs?: number;
      statementTimeoutMs?: number;
    };
