/**
 * Live-schema knowledge for the analyzer: facts about relations that a migration does not spell out
 * but the database knows, read from the catalog of the engine the migration is traced in.
 */

import type { Analyzer } from '../analyze/analyze.js';
import type { TraceEngine } from './engine.js';

/**
 * What a reader of the live schema knows and the example does not say: the table of each index and
 * the foreign keys (DROP INDEX and VALIDATE of a foreign key lock one more table).
 */
export async function teachSchema(engine: TraceEngine, analyzer: Analyzer): Promise<void> {
  const ref = (schema: string, name: string) => ({
    schema: schema === 'public' ? undefined : schema,
    name,
    key: `${schema}.${name}`,
    display: schema === 'public' ? name : `${schema}.${name}`,
  });
  const indexes =
    await engine.query(`SELECT ni.nspname AS ischema, i.relname AS iname, nt.nspname AS tschema, t.relname AS tname
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace ni ON ni.oid = i.relnamespace
    JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace nt ON nt.oid = t.relnamespace
    WHERE nt.nspname NOT IN ('pg_catalog', 'information_schema') AND nt.nspname NOT LIKE 'pg\\_%'`);
  for (const r of indexes) {
    analyzer.state.indexTables.set(`${r.ischema}.${r.iname}`, ref(String(r.tschema), String(r.tname)));
  }
  const fks =
    await engine.query(`SELECT nt.nspname AS tschema, t.relname AS tname, c.conname, nr.nspname AS rschema,
      r.relname AS rname, c.convalidated AS validated
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace nt ON nt.oid = t.relnamespace
    JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace nr ON nr.oid = r.relnamespace
    WHERE c.contype = 'f'`);
  for (const r of fks) {
    const table = `${r.tschema}.${r.tname}`;
    analyzer.state.constraints.set(`${table}|${r.conname}`, {
      table,
      name: String(r.conname),
      kind: 'foreign-key',
      validated: r.validated === true,
      referenced: ref(String(r.rschema), String(r.rname)),
    });
  }
}
