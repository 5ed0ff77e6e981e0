import { actionCmd } from '../../analyze/nodes.js';
import { coveredBySet, defineRule, describeSetAction, lockOn } from '../define.js';
import { CLUSTERED_ORDERS } from '../example-setups.js';
import { lockClause } from '../sql.js';

const WHAT: Record<string, string> = {
  'vacuum-full': 'VACUUM FULL',
  cluster: 'CLUSTER',
  'cluster-all': 'CLUSTER',
  'set-tablespace': 'SET TABLESPACE',
  'set-access-method': 'SET ACCESS METHOD',
  'set-logged': 'SET LOGGED / UNLOGGED',
};

export default defineRule({
  id: 'table-rewrite-maintenance',
  equivalents: {
    squawk: ['prefer-repack'],
    eugene: ['E10'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  summary:
    'VACUUM FULL, CLUSTER, SET TABLESPACE, SET ACCESS METHOD and SET LOGGED/UNLOGGED rewrite the whole table under ACCESS EXCLUSIVE; use pg_repack or pg_squeeze.',
  on: ['VacuumStmt', 'ClusterStmt', 'AlterTableStmt'],
  docs: {
    problem: `\`VACUUM FULL\`, \`CLUSTER\`, \`ALTER TABLE … SET TABLESPACE\`, \`ALTER TABLE … SET ACCESS METHOD\` (PG 15+) and
\`ALTER TABLE … SET LOGGED\` / \`SET UNLOGGED\` copy every row of the table (and rebuild its indexes) into a new file
while holding ACCESS EXCLUSIVE on it. Every query on the table — plain SELECTs included — waits for the whole copy,
which takes as long as the table is big. Without a table, \`VACUUM FULL\` does this to every table of the database and
\`CLUSTER\` to every table clustered before, one after another.`,
    solution: `Do the rewrite online with an extension that copies the table in the background and only takes ACCESS EXCLUSIVE
for the final swap:

- [pg_repack](https://reorg.github.io/pg_repack/) replaces \`VACUUM FULL\` and \`CLUSTER\` (\`--order-by\`), and moves a
  table to another tablespace (\`--tablespace\`);
- [pg_squeeze](https://github.com/cybertec-postgresql/pg_squeeze) does the same from inside the server.

\`\`\`sh
pg_repack --dbname=app --table=public.orders            # instead of VACUUM FULL orders
pg_repack --dbname=app --table=public.orders --order-by=created_at   # instead of CLUSTER
\`\`\`

To move a table to another access method, create a new table \`USING\` it, copy the rows in batches while a trigger
keeps it in sync, and swap the names in a short transaction.

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
    {
      bad: 'ALTER TABLE orders SET TABLESPACE archive;',
      tablespace: 'archive',
    },
    {
      bad: 'ALTER TABLE events SET LOGGED;',
      // SET LOGGED rewrites only a table that is UNLOGGED (on a logged one it does nothing)
      setup: `CREATE UNLOGGED TABLE events (id int, at int);
INSERT INTO events SELECT g, g FROM generate_series(1, 10) g;`,
    },
    { bad: 'ALTER TABLE events SET UNLOGGED;' },
    {
      title: 'without a table, CLUSTER re-clusters every table clustered before',
      bad: 'CLUSTER;',
      // CLUSTER without a table reclusters the tables clustered before: a reader of one makes it wait
      // for its lock on it
      setup: CLUSTERED_ORDERS,
      stall: 'LOCK TABLE orders IN ACCESS SHARE MODE',
    },
    {
      title: 'a database-wide VACUUM FULL',
      bad: 'VACUUM FULL;',
      // VACUUM FULL without a table rewrites every table: a reader of one makes it wait for its lock on it
      setup: CLUSTERED_ORDERS,
      stall: 'LOCK TABLE orders IN ACCESS SHARE MODE',
    },
    { ok: 'VACUUM orders;' },
    {
      ok: 'VACUUM;',
      // VACUUM without a table vacuums every table: a session holding SHARE UPDATE EXCLUSIVE on one
      // makes it wait
      setup: CLUSTERED_ORDERS,
      stall: 'LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE',
    },
    { pg: { min: 12 }, ok: 'VACUUM (FULL false) orders;' },
    { ok: 'VACUUM ANALYZE orders;' },
    {
      title: 'a table created in this migration is empty',
      ok: 'CREATE TABLE events (id bigint);\nALTER TABLE events SET UNLOGGED;',
    },
    {
      title: 'SET ACCESS METHOD copies every row into the new table access method',
      pg: { min: 15 },
      bad: 'ALTER TABLE orders SET ACCESS METHOD columnar;',
      // a second table access method (a stand-in for an extension's, with heap's handler)
      setup: `DROP ACCESS METHOD IF EXISTS columnar CASCADE;
CREATE ACCESS METHOD columnar TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE orders (id int, note text);
INSERT INTO orders SELECT g, 'v' || g FROM generate_series(1, 10) g;`,
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      const what =
        action.op === 'set-logged'
          ? actionCmd(action)?.subtype === 'AT_SetUnLogged'
            ? 'SET UNLOGGED'
            : 'SET LOGGED'
          : WHAT[action.op];
      const table = action.relations.table;
      if (!what || !table || !action.facts.rewrite || facts.isNew(table)) continue;
      const mode = lockOn(action);
      // one finding for a set, naming the members already known
      if (coveredBySet(facts, action)) continue;
      if (table.set) {
        // no table named (CLUSTER;, VACUUM FULL;): every table of the set in turn, each under the lock
        ctx.report({
          statement: facts,
          message: `${what} rewrites ${describeSetAction(facts, action)}, one after another; each ${lockClause(mode, 'it')} while it is copied.`,
          help: 'Do it online with pg_repack or pg_squeeze, outside the migration, table by table.',
          lock: { mode, relation: table.display },
        });
        continue;
      }
      const online =
        action.op === 'set-logged'
          ? 'There is no online equivalent: run it in a quiet period with a short lock_timeout.'
          : action.op === 'set-access-method'
            ? 'Create a new table with the new access method, copy the rows in batches while a trigger keeps it in sync, and swap the names in a short transaction.'
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
