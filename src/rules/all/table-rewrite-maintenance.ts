import type { StatementFacts } from '../../analyze/analyze.js';
import { type AnyNode, as } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { operationFacts } from '../../catalog/operations.js';
import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

const WHAT: Record<string, string> = {
  'vacuum-full': 'VACUUM FULL',
  cluster: 'CLUSTER',
  'set-tablespace': 'SET TABLESPACE',
  'set-logged': 'SET LOGGED / UNLOGGED',
};

export default defineRule({
  id: 'table-rewrite-maintenance',
  equivalents: {
    squawk: ['prefer-repack'],
    eugene: ['E10'],
  },
  verdict: 'alternative',
  summary:
    'VACUUM FULL, CLUSTER, SET TABLESPACE and SET LOGGED/UNLOGGED rewrite the whole table under ACCESS EXCLUSIVE; use pg_repack or pg_squeeze.',
  on: ['VacuumStmt', 'ClusterStmt', 'AlterTableStmt'],
  docs: {
    problem: `\`VACUUM FULL\`, \`CLUSTER\`, \`ALTER TABLE … SET TABLESPACE\` and \`ALTER TABLE … SET LOGGED\` / \`SET UNLOGGED\` copy
every row of the table (and rebuild its indexes) into a new file while holding ACCESS EXCLUSIVE on it. Every query
on the table — plain SELECTs included — waits for the whole copy, which takes as long as the table is big.`,
    solution: `Do the rewrite online with an extension that copies the table in the background and only takes ACCESS EXCLUSIVE
for the final swap:

- [pg_repack](https://reorg.github.io/pg_repack/) replaces \`VACUUM FULL\` and \`CLUSTER\` (\`--order-by\`), and moves a
  table to another tablespace (\`--tablespace\`);
- [pg_squeeze](https://github.com/cybertec-postgresql/pg_squeeze) does the same from inside the server.

\`\`\`sh
pg_repack --dbname=app --table=public.orders            # instead of VACUUM FULL orders
pg_repack --dbname=app --table=public.orders --order-by=created_at   # instead of CLUSTER
\`\`\`

Neither is part of a migration: run them as an operations task. \`SET LOGGED\` / \`SET UNLOGGED\` have no online
equivalent; run them in a quiet period with a short \`lock_timeout\`, or create the table with the persistence it
needs from the start. To only reclaim space for reuse, plain \`VACUUM\` is enough and takes no blocking lock.`,
    tools: {
      'node-pg-migrate':
        "There is no helper: `pgm.sql('VACUUM FULL …')` also fails inside the migration’s transaction (VACUUM cannot run in a transaction block). Keep these out of migrations and run pg_repack as an operations task.",
      sequelize:
        "There is no helper for these: a `queryInterface.sequelize.query('VACUUM FULL …')` in a migration blocks the table for the whole copy. Run pg_repack as an operations task instead.",
      rails:
        'Keep `execute "VACUUM FULL …"` / `"CLUSTER …"` out of migrations (VACUUM also needs `disable_ddl_transaction!`): run pg_repack as an operations task.',
      django:
        'Keep `RunSQL("VACUUM FULL …")` out of migrations (VACUUM also needs `atomic = False`): run pg_repack as an operations task.',
    },
  },
  examples: [
    { bad: 'VACUUM FULL orders;' },
    { bad: 'VACUUM (FULL, ANALYZE) orders;' },
    {
      title: 'CLUSTER rewrites the table in index order',
      bad: 'CLUSTER orders USING orders_created_at_idx;',
    },
    { bad: 'ALTER TABLE orders SET TABLESPACE archive;' },
    { bad: 'ALTER TABLE events SET LOGGED;' },
    { bad: 'ALTER TABLE events SET UNLOGGED;' },
    { title: 'without a table, CLUSTER re-clusters every table clustered before', bad: 'CLUSTER;' },
    { title: 'a database-wide VACUUM FULL', bad: 'VACUUM FULL;' },
    { ok: 'VACUUM orders;' },
    { ok: 'VACUUM;' },
    { pg: { min: 12 }, ok: 'VACUUM (FULL false) orders;' },
    { ok: 'VACUUM ANALYZE orders;' },
    {
      title: 'a table created in this migration is empty',
      ok: 'CREATE TABLE events (id bigint);\nALTER TABLE events SET UNLOGGED;',
    },
  ],
  check(facts, ctx) {
    const whole = wholeDatabase(facts);
    if (whole) {
      // no relation named: every table it covers is rewritten in turn, each under the catalog's lock
      const mode = lockOn({ facts: operationFacts(whole.op, facts.pgVersion) } as Action);
      ctx.report({
        statement: facts,
        message: `${whole.what} rewrites ${whole.scope} one after another; each ${lockClause(mode, 'it')} while it is copied.`,
        help: 'Do it online with pg_repack or pg_squeeze, outside the migration, table by table.',
      });
      return;
    }
    for (const action of facts.actions) {
      const what =
        action.op === 'set-logged'
          ? action.node?.subtype === 'AT_SetUnLogged'
            ? 'SET UNLOGGED'
            : 'SET LOGGED'
          : WHAT[action.op];
      const table = action.relations.table;
      if (!what || !table || !action.facts.rewrite || facts.isNew(table)) continue;
      const mode = lockOn(action);
      const online =
        action.op === 'set-logged'
          ? 'There is no online equivalent: run it in a quiet period with a short lock_timeout.'
          : 'Do it online with pg_repack or pg_squeeze, outside the migration: they copy the table in the background and only lock it for the swap.';
      ctx.report({
        statement: facts,
        location: action.location,
        message: `${what} rewrites ${table.display} and rebuilds its indexes while it ${lockClause(mode, table.display)}, for as long as the copy takes.`,
        help: online,
        lock: { mode, relation: table.display },
      });
    }
  },
});

/** `CLUSTER;` and `VACUUM FULL;` name no table: the classifier has no relation to give them. */
function wholeDatabase(
  facts: StatementFacts,
): { op: 'cluster' | 'vacuum-full'; what: string; scope: string } | undefined {
  const node = facts.statement.node as AnyNode;
  const cluster = as(node, 'ClusterStmt');
  if (cluster && !cluster.relation)
    return { op: 'cluster', what: 'CLUSTER', scope: 'every table of the database that was clustered before' };
  const vacuum = as(node, 'VacuumStmt');
  if (vacuum?.is_vacuumcmd && !vacuum.rels?.length && fullOption(vacuum.options))
    return { op: 'vacuum-full', what: 'VACUUM FULL', scope: 'every table of the database' };
  return undefined;
}

/** `FULL` in VACUUM's options (`VACUUM FULL`, `(FULL)`, `(FULL true)`), read like Postgres' defGetBoolean. */
function fullOption(options: AnyNode[] | undefined): boolean {
  const def = (options ?? [])
    .map((o: AnyNode) => as(o, 'DefElem'))
    .find((d: AnyNode) => d?.defname === 'full');
  if (!def) return false;
  if (def.arg === undefined) return true;
  const int = as(def.arg, 'Integer');
  if (int) return (int.ival ?? 0) !== 0;
  const v = String(as(def.arg, 'String')?.sval ?? as(def.arg, 'Boolean')?.boolval ?? 'true').toLowerCase();
  return !['false', 'off', 'f', 'no', 'n', '0'].includes(v);
}
