/** The embedded default: PGlite, real Postgres compiled to wasm, in this process. */

import type { TraceEngine } from '../engine.js';

export async function startPglite(): Promise<TraceEngine> {
  // loaded on demand: PGlite is large and only `trace` needs it
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  const version = await db.query<{ v: string; full: string }>(
    "select current_setting('server_version_num') as v, current_setting('server_version') as full",
  );
  const row = version.rows[0]!;
  return {
    name: `PGlite (PostgreSQL ${row.full})`,
    majorVersion: Math.floor(Number(row.v) / 10000),
    canObserveConcurrently: false,
    query: async (sql) => (await db.query(sql)).rows as Record<string, unknown>[],
    exec: async (sql) => {
      await db.exec(sql);
    },
    backendPid: async () =>
      Number((await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid),
    close: () => db.close(),
  };
}
