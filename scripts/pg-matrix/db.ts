/** Small database helpers shared by the version matrix's parts. */

import { parseSql } from '../../src/parse/parse.js';
import type { TraceEngine } from '../../src/trace/engine.js';
import type { Observation } from '../../src/trace/observe.js';

/** The statements of a script, as text, for running one at a time. */
export function statementsOf(sql: string): string[] {
  const { statements, errors } = parseSql(sql);
  if (errors.length) throw new Error(`does not parse: ${errors[0]!.message}`);
  return statements.map((s) => s.text);
}

/** Drops everything the previous probe made: the public schema and every other user schema. */
export async function freshSchema(engine: TraceEngine): Promise<void> {
  await engine.exec('RESET ALL');
  const schemas = await engine.query(
    `SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public')
       AND nspname NOT LIKE 'pg\\_%'`,
  );
  const drop = schemas.map((r) => `DROP SCHEMA "${String(r.nspname)}" CASCADE;`).join(' ');
  await engine.exec(`${drop} DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;`);
}

/** User relations that exist now: locks on anything else were taken on relations a statement created. */
export async function existingRelations(engine: TraceEngine): Promise<Set<string>> {
  const rows = await engine.query(
    `SELECT n.nspname || '.' || c.relname AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  return new Set(rows.map((r) => String(r.r)));
}

/** Nobody can have waited for a relation that did not exist before the statement: its locks are not compared. */
export function withoutNewRelations(o: Observation, existing: Set<string>): Observation {
  return o.locks ? { ...o, locks: o.locks.filter((l) => existing.has(l.relation)) } : o;
}

/**
 * Makes a tablespace `name` (in place, inside the data directory) unless it exists; tablespaces
 * outlive the schemas. Returns why it could not, if it could not.
 */
export async function ensureTablespace(engine: TraceEngine, name: string): Promise<string | undefined> {
  const rows = await engine.query(
    `SELECT 1 FROM pg_tablespace WHERE spcname = '${name.replace(/'/g, "''")}'`,
  );
  if (rows.length) return undefined;
  try {
    await engine.exec('SET allow_in_place_tablespaces = on');
    await engine.exec(`CREATE TABLESPACE "${name.replace(/"/g, '""')}" LOCATION ''`);
    await engine.exec('RESET allow_in_place_tablespaces');
    return undefined;
  } catch (e) {
    return `no second tablespace: ${(e as Error).message}`;
  }
}
