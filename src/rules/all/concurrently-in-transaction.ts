import type { StatementFacts } from '../../analyze/analyze.js';
import { defineRule } from '../define.js';

/** How the statement's transaction was opened: by a BEGIN in the file, by the runner, or both. */
export function transactionOrigin(facts: StatementFacts): { runner: boolean; explicit: boolean } {
  const tx = facts.transaction;
  if (!tx) return { runner: false, explicit: false };
  // startIndex -1: the runner's transaction from the top of the file; !explicit: one it reopened after a COMMIT
  return { runner: tx.startIndex === -1 || !tx.explicit, explicit: tx.explicit };
}

/** How to get a statement out of its transaction block: one or two sentences for `help`. */
export function leaveTransactionHint(facts: StatementFacts): string {
  const origin = transactionOrigin(facts);
  const steps: string[] = [];
  if (origin.explicit)
    steps.push('end the transaction before it (COMMIT) and open a new one after it if the rest needs one');
  if (origin.runner)
    steps.push(facts.runner.optOut ?? 'run it from a migration that is not wrapped in a transaction');
  const text = steps.join('; and ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

export default defineRule({
  id: 'concurrently-in-transaction',
  equivalents: {
    squawk: ['ban-concurrent-index-creation-in-transaction'],
  },
  hazard: 'fails-deploy',
  verdict: 'alternative',
  plan: 'the statement runs in a step of its own, outside any transaction block (with the no-transaction marker of the runner, or in a file of its own where the runner sends a file as one query); the statements around it keep their transaction.',
  summary:
    'CONCURRENTLY operations, VACUUM and (before PG 12) ALTER TYPE … ADD VALUE fail inside a transaction block.',
  docs: {
    problem: `Some statements refuse to run inside a transaction block: \`CREATE INDEX CONCURRENTLY\`,
\`DROP INDEX CONCURRENTLY\`, \`REINDEX … CONCURRENTLY\`, \`DETACH PARTITION … CONCURRENTLY\`, \`VACUUM\` and, before
PostgreSQL 12, \`ALTER TYPE … ADD VALUE\`. The concurrent ones commit several internal transactions of their own,
which a surrounding transaction would make impossible. Postgres rejects them with
*"… cannot run inside a transaction block"* and the deploy fails.

The transaction is not always visible in the file: many migration tools (Rails, Django, Alembic, Knex,
node-pg-migrate, TypeORM, Flyway, goose, dbmate) wrap every migration in one, and Prisma and golang-migrate send a
file of several statements as a single query, which Postgres runs as one implicit transaction.`,
    solution: `Run the statement on its own, outside any transaction block — in a migration of its own that the tool does
not wrap in a transaction, and with nothing else in that file when the tool sends files as one query.

\`\`\`sql
-- migration 1 (transactional): the brief schema change
ALTER TABLE orders ADD COLUMN customer_id bigint;
-- migration 2 (no transaction): the online index build
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
\`\`\`

In a plain SQL script, end the transaction before the statement and open a new one after it if the rest needs one
(\`COMMIT; CREATE INDEX CONCURRENTLY …; BEGIN;\`).`,
    tools: {
      prisma:
        'Put the statement alone in its own `migration.sql` (a single statement is sent without a transaction), or run it with `prisma db execute` outside `migrate deploy`.',
      drizzle:
        'drizzle-kit migrate runs every migration inside a transaction: run the statement from a separate script.',
      knex: 'Export `config = { transaction: false }` from the migration that runs it.',
      typeorm:
        "Set `transaction = false` on the migration class; that needs `migrationsTransactionMode: 'each'` (or `--transaction each`), since the default `all` mode refuses per-migration overrides.",
      sequelize:
        'Migrations run without a transaction unless you open one: keep the statement outside `queryInterface.sequelize.transaction()`, e.g. `queryInterface.addIndex(table, fields, { concurrently: true })`.',
      'node-pg-migrate': 'Call `pgm.noTransaction()` in the migration.',
      alembic:
        'Wrap the operation in `with op.get_context().autocommit_block():` (e.g. `op.create_index(..., postgresql_concurrently=True)`); Alembic recommends `transaction_per_migration=True` in `context.configure()` alongside it.',
      django:
        'Set `atomic = False` on the Migration class; for indexes use `AddIndexConcurrently` / `RemoveIndexConcurrently` from `django.contrib.postgres.operations`.',
      rails:
        'Call `disable_ddl_transaction!` in the migration; for indexes pass `algorithm: :concurrently` to `add_index` / `remove_index`.',
    },
  },
  examples: [
    {
      bad: 'BEGIN;\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\nCOMMIT;',
    },
    {
      title: 'the runner wraps the file in a transaction',
      bad: 'CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");\nALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";',
      runner: 'transaction-per-file',
    },
    {
      title: 'leaving the runner’s transaction with COMMIT, and opening a new one after',
      ok: 'COMMIT;\nCREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");\nBEGIN;\nALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";',
      runner: 'transaction-per-file',
    },
    { ok: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);' },
    {
      title: 'Prisma sends a one-statement file on its own: no transaction block',
      ok: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
      runner: 'prisma',
    },
    {
      title: 'a second statement makes Prisma’s query one implicit transaction',
      bad: "SET lock_timeout = '10s';\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
      runner: 'prisma',
    },
    {
      title:
        'after a COMMIT in a multi-statement query, the next statements are in a new implicit transaction',
      bad: 'COMMIT;\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
      runner: 'golang-migrate',
    },
    { bad: 'DROP INDEX CONCURRENTLY orders_customer_id_idx;', runner: 'rails' },
    { bad: 'BEGIN;\nREINDEX INDEX CONCURRENTLY orders_customer_id_idx;\nCOMMIT;', pg: { min: 12 } },
    {
      bad: 'BEGIN;\nALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;\nCOMMIT;',
      pg: { min: 14 },
      setup: `CREATE TABLE events (id int, at int) PARTITION BY RANGE (at);
CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM (2020) TO (2021);`,
    },
    { title: 'VACUUM never runs in a transaction block', bad: 'VACUUM ANALYZE orders;', runner: 'django' },
    { title: 'ANALYZE alone may', ok: 'BEGIN;\nANALYZE orders;\nCOMMIT;' },
    {
      title: 'CONCURRENTLY false is a plain REINDEX',
      ok: 'BEGIN;\nREINDEX (CONCURRENTLY false) INDEX orders_customer_id_idx;\nCOMMIT;',
      pg: { min: 14 },
    },
    { bad: "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;", pg: { max: 11 } },
    {
      title: 'allowed in a transaction since PG 12',
      ok: "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;",
      pg: { min: 12 },
    },
    {
      title: 'before PG 12 too, for an enum created in the same transaction',
      ok: "BEGIN;\nCREATE TYPE mood AS ENUM ('sad', 'ok');\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;",
      pg: { max: 11 },
    },
  ],
  check(facts, ctx) {
    if (!facts.transaction) return;
    // unsupported: the statement does not exist on this version, a different problem
    const action = facts.actions.find((a) => a.facts.noTransactionBlock && !a.facts.unsupported);
    if (!action) return;
    const where = transactionOrigin(facts).explicit
      ? 'inside the transaction block opened by BEGIN'
      : facts.runner.multiStatement
        ? `inside the implicit transaction Postgres opens for the multi-statement query ${facts.runner.name} sends`
        : `inside the transaction ${facts.runner.name} wraps the migration in`;
    ctx.report({
      statement: facts,
      message: `${action.facts.title} cannot run inside a transaction block, and this statement runs ${where}: Postgres rejects it and the migration fails.`,
      help: `Run it outside any transaction block. ${leaveTransactionHint(facts)}`,
    });
  },
});
