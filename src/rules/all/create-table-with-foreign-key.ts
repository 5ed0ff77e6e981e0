import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'create-table-with-foreign-key',
  // writes to the referenced table wait for as long as the migration’s transaction lasts
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  severity: 'info',
  severityReason:
    "The lock ends when the migration's transaction commits, brief when the transaction is short, and lock-timeout-missing reports the wait for it: this is a reminder to keep the transaction short.",
  summary:
    'CREATE TABLE with a FOREIGN KEY briefly takes SHARE ROW EXCLUSIVE on the referenced table, which blocks its writes.',
  on: ['CreateStmt'],
  docs: {
    problem: `A new table is empty, so its foreign keys need no validation — but Postgres adds the foreign key's triggers to the
referenced table, and for that takes SHARE ROW EXCLUSIVE on it: inserts, updates and deletes on the referenced table
wait, and the lock itself waits for any transaction writing to it. The lock is held until the migration's
transaction commits, so it is brief only if the transaction is.`,
    solution: `Nothing to rewrite: keep the transaction short (do not put long data changes after the CREATE TABLE in the same
transaction) and set a \`lock_timeout\`, so a busy referenced table makes the migration retry instead of stalling
its writers.

\`\`\`sql
SET lock_timeout = '2s';
CREATE TABLE order_items (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id)
);
\`\`\``,
    tools: {
      prisma:
        "A relation on a new model makes Prisma add the foreign key with `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY` right after the CREATE TABLE, in the same file and transaction: start `migration.sql` with `SET lock_timeout = '2s';` and keep data changes out of it.",
      drizzle:
        "`drizzle-kit migrate` applies every pending migration in one transaction, so the referenced table stays locked until the last one has run: start the migration with `SET lock_timeout = '2s';--> statement-breakpoint` and keep long data changes out of the same run.",
      knex: '`migrate:latest` runs all pending migrations in one transaction, so the lock lasts until the last of them finishes: start `up` with `await knex.raw("SET lock_timeout = \'2s\'")` and keep data migrations out of the batch.',
      typeorm:
        "In the default `migrationsTransactionMode: 'all'` the lock is held until every pending migration has run: use `'each'`, and start `up()` with `queryRunner.query(\"SET lock_timeout = '2s'\")`.",
      sequelize:
        "`queryInterface.createTable` with `references` runs without a transaction, so the lock ends with the statement; to bound the wait, run it in `queryInterface.sequelize.transaction()` after `SET LOCAL lock_timeout = '2s'`.",
      'node-pg-migrate':
        'All pending migrations share one transaction by default, holding the lock until the end of the run: start with `pgm.sql("SET lock_timeout = \'2s\'")` and consider `--no-single-transaction`.',
      alembic:
        'The default `env.py` applies all pending revisions in one transaction: pass `transaction_per_migration=True` to `context.configure()` and set `lock_timeout` on the connection there.',
      django:
        "Django adds a new model's foreign keys with `ALTER TABLE … ADD CONSTRAINT … DEFERRABLE INITIALLY DEFERRED` at the end of the migration, still inside its transaction: keep `RunPython` data steps out of that migration and start it with `RunSQL(\"SET lock_timeout = '2s'\")`.",
      rails:
        '`t.references :order, foreign_key: true` in `create_table` adds the foreign key in the CREATE TABLE: keep the migration to that table, with `StrongMigrations.lock_timeout` or `execute "SET lock_timeout = \'2s\'"` first.',
    },
  },
  examples: [
    { bad: 'CREATE TABLE order_items (id bigint, order_id bigint REFERENCES orders (id));' },
    {
      bad: 'CREATE TABLE order_items (id bigint, order_id bigint, FOREIGN KEY (order_id) REFERENCES orders (id));',
    },
    { ok: 'CREATE TABLE order_items (id bigint, order_id bigint);' },
    {
      title: 'the referenced table is new too',
      ok: 'CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE TABLE order_items (id bigint, order_id bigint REFERENCES orders (id));',
    },
    {
      title: 'a self-reference locks nothing else',
      ok: 'CREATE TABLE nodes (id bigint PRIMARY KEY, parent_id bigint REFERENCES nodes (id));',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'create-table-with-foreign-key') continue;
      const referenced = action.relations.referenced;
      if (!referenced || facts.isNew(referenced)) continue;
      const mode = lockOn(action, 'referenced');
      ctx.report({
        statement: facts,
        location: action.location,
        message: `The foreign key to ${referenced.display} ${lockClause(mode, referenced.display)} until the transaction commits.`,
        help: 'Keep the transaction short and set a lock_timeout, so a busy referenced table makes the migration retry instead of stalling its writers.',
        lock: { mode, relation: referenced.display },
      });
    }
  },
});
