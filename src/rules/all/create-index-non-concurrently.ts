import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'create-index-non-concurrently',
  equivalents: {
    squawk: ['require-concurrent-index-creation'],
    eugene: ['E6'],
    strongMigrations: ['add_index', 'add_reference'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'the same index, built CONCURRENTLY. A failed build leaves an INVALID index to drop before retrying.',
  },
  summary: 'CREATE INDEX blocks writes to the table for the whole build; use CREATE INDEX CONCURRENTLY.',
  on: ['IndexStmt'],
  docs: {
    problem: `\`CREATE INDEX\` takes a SHARE lock on the table for the whole build: reads go on, but every INSERT,
UPDATE and DELETE waits until the index is complete — minutes on a large table.`,
    solution: `Build it with \`CREATE INDEX CONCURRENTLY\`. It takes SHARE UPDATE EXCLUSIVE, which lets reads and writes
through; it is slower, waits for transactions older than itself (on any table) to finish, and cannot run inside a
transaction block. If it fails it leaves an INVALID index: drop it (\`DROP INDEX CONCURRENTLY\`) and retry —
\`IF NOT EXISTS\` would silently keep the invalid one.

\`\`\`sql
SET statement_timeout = 0;  -- the build may take long
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
\`\`\``,
    tools: {
      prisma:
        'Edit the generated `migration.sql` to add CONCURRENTLY and keep that statement alone in its migration: Prisma runs each migration file as one transaction, where CONCURRENTLY fails.',
      drizzle:
        'drizzle-kit runs migrations in a transaction: apply `CREATE INDEX CONCURRENTLY` with a separate script, or use `.concurrently()` with `drizzle-kit push`.',
      knex: '`knex.raw("CREATE INDEX CONCURRENTLY …")` in a migration exporting `config = { transaction: false }`.',
      typeorm:
        'Set `transaction = false` on the migration and write `CREATE INDEX CONCURRENTLY` in `queryRunner.query(…)`.',
      'node-pg-migrate':
        '`pgm.createIndex(table, cols, { concurrently: true })` in a migration that calls `pgm.noTransaction()` first (node-pg-migrate wraps each migration in a transaction otherwise).',
      sequelize:
        '`queryInterface.addIndex(table, fields, { concurrently: true })`, without a `transaction` option: sequelize-cli runs a migration outside a transaction unless the migration opens one.',
      alembic:
        '`op.create_index(..., postgresql_concurrently=True)` inside `with op.get_context().autocommit_block():`.',
      django: '`AddIndexConcurrently` in a migration with `atomic = False`.',
      rails: `\`add_index :orders, :customer_id, algorithm: :concurrently\` in a migration that declares
\`disable_ddl_transaction!\`. \`add_reference\` (and \`t.references\` in \`change_table\`) also builds an index on the new
column by default, without CONCURRENTLY: write \`add_reference :orders, :customer, index: {algorithm: :concurrently}\`
in a \`disable_ddl_transaction!\` migration.`,
    },
  },
  examples: [
    {
      bad: 'CREATE INDEX orders_customer_id_idx ON orders (customer_id);',
      fixed: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
    },
    {
      bad: 'CREATE UNIQUE INDEX IF NOT EXISTS orders_ref_key ON public.orders USING btree (ref);',
      fixed:
        'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_ref_key ON public.orders USING btree (ref);',
    },
    { ok: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);' },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE orders (customer_id int);\nCREATE INDEX ON orders (customer_id);',
    },
    {
      title: 'CREATE TABLE IF NOT EXISTS may find the table there, full of rows',
      bad: 'CREATE TABLE IF NOT EXISTS orders (customer_id int);\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);',
      fixed:
        'CREATE TABLE IF NOT EXISTS orders (customer_id int);\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
    },
    {
      title: 'unless an earlier statement dropped it',
      ok: 'DROP TABLE IF EXISTS orders;\nCREATE TABLE IF NOT EXISTS orders (customer_id int);\nCREATE INDEX ON orders (customer_id);',
    },
    {
      title: 'a drop that was rolled back proves nothing',
      bad: 'BEGIN;\nDROP TABLE orders;\nROLLBACK;\nCREATE TABLE IF NOT EXISTS orders (customer_id int);\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);',
      fixed:
        'BEGIN;\nDROP TABLE orders;\nROLLBACK;\nCREATE TABLE IF NOT EXISTS orders (customer_id int);\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
      // the table the example drops and rolls back exists, as the file expects on a converged install
      setup: `CREATE TABLE orders (customer_id int);
INSERT INTO orders SELECT g FROM generate_series(1, 10) g;`,
    },
    {
      title: 'what Rails’ `add_reference :orders, :customer` runs: the index is built non-concurrently',
      bad: 'ALTER TABLE "orders" ADD "customer_id" bigint;\nCREATE INDEX "index_orders_on_customer_id" ON "orders" ("customer_id");',
      runner: 'rails',
    },
    {
      title: 'what `add_reference …, index: {algorithm: :concurrently}` with `disable_ddl_transaction!` runs',
      ok: 'ALTER TABLE "orders" ADD "customer_id" bigint;\nCREATE INDEX CONCURRENTLY "index_orders_on_customer_id" ON "orders" ("customer_id");',
    },
    {
      title: 'inside a transaction the fix would fail, so none is offered',
      bad: 'BEGIN;\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);\nCOMMIT;',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'create-index') continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      const text = facts.statement.text;
      const at = /^\s*create\s+(unique\s+)?index\b/i.exec(text);
      const mode = lockOn(action);
      ctx.report({
        statement: facts,
        message: `CREATE INDEX ${lockClause(mode, table.display)} until the index is built.`,
        help: facts.transaction
          ? `Use CREATE INDEX CONCURRENTLY, outside a transaction block${facts.runner.optOut ? ` (${facts.runner.optOut})` : ''}.`
          : 'Use CREATE INDEX CONCURRENTLY: reads and writes continue during the build.',
        lock: { mode, relation: table.display },
        fix:
          at && !facts.transaction
            ? {
                title: 'Build the index concurrently',
                edits: [
                  {
                    start: facts.statement.start + at[0].length,
                    end: facts.statement.start + at[0].length,
                    text: ' CONCURRENTLY',
                  },
                ],
              }
            : undefined,
      });
    }
  },
});
