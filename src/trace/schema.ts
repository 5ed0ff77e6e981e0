/**
 * Live-schema knowledge for the analyzer: facts about relations that a migration does not spell out
 * but the database knows, read from the catalog of the engine the migration is traced in.
 */

import type { Analyzer } from '../analyze/analyze.js';
import type { TraceEngine } from './engine.js';

/**
 * What a reader of the live schema knows and the example does not say: the table of each index,
 * the foreign keys (DROP INDEX and VALIDATE of a foreign key lock one more table), and the domains:
 * which tables have columns of each (ALTER DOMAIN … ADD CONSTRAINT locks and reads them), which
 * domains derive from which, and which carry CHECK or NOT NULL constraints; the tables of each schema,
 * those clustered on an index and the default partitions (statements that lock relations they do not
 * name: VACUUM, REINDEX SCHEMA, CLUSTER, DETACH PARTITION).
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
      r.relname AS rname, c.convalidated AS validated,
      ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) AS columns
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
      columns: Array.isArray(r.columns) ? r.columns.map(String) : [],
    });
  }
  // what each view and materialized view reads (REFRESH runs the query again; reading a view reads them)
  const views = await engine.query(`SELECT DISTINCT vn.nspname AS vschema, v.relname AS vname,
      sn.nspname AS sschema, s.relname AS sname
    FROM pg_class v JOIN pg_namespace vn ON vn.oid = v.relnamespace
    JOIN pg_rewrite w ON w.ev_class = v.oid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass
    JOIN pg_class s ON s.oid = d.refobjid AND s.oid <> v.oid JOIN pg_namespace sn ON sn.oid = s.relnamespace
    WHERE v.relkind IN ('v', 'm') AND vn.nspname NOT IN ('pg_catalog', 'information_schema')`);
  for (const r of views) {
    const key = `${r.vschema}.${r.vname}`;
    const sources = analyzer.state.viewSources.get(key) ?? [];
    sources.push(ref(String(r.sschema), String(r.sname)));
    analyzer.state.viewSources.set(key, sources);
  }
  const state = analyzer.state;
  const domains = await engine.query(`SELECT dn.nspname AS dschema, d.typname AS dname,
      bn.nspname AS bschema, b.typname AS bname, b.typtype = 'd' AS base_is_domain,
      d.typnotnull OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contypid = d.oid AND k.contype = 'c') AS constrained
    FROM pg_type d JOIN pg_namespace dn ON dn.oid = d.typnamespace
    JOIN pg_type b ON b.oid = d.typbasetype JOIN pg_namespace bn ON bn.oid = b.typnamespace
    WHERE d.typtype = 'd' AND dn.nspname NOT IN ('pg_catalog', 'information_schema')`);
  for (const r of domains) {
    const key = `${r.dschema}.${r.dname}`;
    if (r.base_is_domain === true) state.domainBases.set(key, `${r.bschema}.${r.bname}`);
    if (r.constrained === true) state.domainsWithConstraints.add(key);
  }
  // only relations with storage hold values to check: tables, partitions, materialized views
  const columns = await engine.query(`SELECT dn.nspname AS dschema, d.typname AS dname,
      n.nspname AS tschema, c.relname AS tname, a.attname AS column
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type d ON d.oid = a.atttypid JOIN pg_namespace dn ON dn.oid = d.typnamespace
    WHERE d.typtype = 'd' AND c.relkind IN ('r', 'm') AND a.attnum > 0 AND NOT a.attisdropped`);
  for (const r of columns) {
    const key = `${r.dschema}.${r.dname}`;
    const uses = state.domainColumns.get(key) ?? [];
    uses.push({ table: ref(String(r.tschema), String(r.tname)), column: String(r.column) });
    state.domainColumns.set(key, uses);
  }
  // every table and materialized view (what a database-wide VACUUM or REINDEX SCHEMA goes through),
  // which of them are clustered on an index (CLUSTER without a table), and default partitions
  const tables = await engine.query(`SELECT n.nspname AS tschema, c.relname AS tname,
      EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisclustered) AS clustered
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'`);
  for (const r of tables) {
    const table = ref(String(r.tschema), String(r.tname));
    state.liveTables.set(table.key, table);
    if (r.clustered === true) state.clusteredTables.set(table.key, table);
  }
  const defaults = await engine.query(`SELECT np.nspname AS pschema, p.relname AS pname,
      nd.nspname AS dschema, d.relname AS dname
    FROM pg_partitioned_table pt JOIN pg_class p ON p.oid = pt.partrelid
    JOIN pg_namespace np ON np.oid = p.relnamespace
    JOIN pg_class d ON d.oid = pt.partdefid JOIN pg_namespace nd ON nd.oid = d.relnamespace`);
  for (const r of defaults) {
    state.defaultPartitions.set(`${r.pschema}.${r.pname}`, ref(String(r.dschema), String(r.dname)));
  }
  state.schemaLearned = true;
}
