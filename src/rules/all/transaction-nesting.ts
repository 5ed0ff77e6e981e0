import { transactionControl } from '../../analyze/transaction-control.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'transaction-nesting',
  equivalents: {
    squawk: ['transaction-nesting'],
  },
  // a COMMIT too early leaves a half-applied migration that cannot be re-run
  hazard: 'fails-deploy',
  verdict: 'alternative',
  summary:
    'BEGIN inside an open transaction does nothing, and a COMMIT or ROLLBACK inside the runner’s transaction ends it early.',
  on: ['TransactionStmt'],
  docs: {
    problem: `Postgres has one transaction per session; transactions do not nest.

- A \`BEGIN\` inside an open transaction only warns (*there is already a transaction in progress*): the first
  \`COMMIT\` that follows commits everything, outer statements included, and what comes after it runs in
  autocommit — one statement at a time, with no rollback if a later one fails.
- Most migration tools (Rails, Django, Alembic, Knex, Flyway, goose, …) wrap each migration in a transaction of
  their own. A \`COMMIT\` or \`ROLLBACK\` in the file ends *that* transaction early: the statements before it are
  committed (or silently discarded) whatever happens next, the rest of the file runs outside any transaction, and
  if it fails the migration is left half applied and not recorded — rerunning it fails on what was already done.
- A \`COMMIT\` or \`ROLLBACK\` with no transaction open only warns (*there is no transaction in progress*): the
  file's transactions are not where its author thinks they are.`,
    solution: `Let one party own the transaction. With a runner that wraps migrations, write no \`BEGIN\`/\`COMMIT\`
at all; a statement that must run outside a transaction (\`CREATE INDEX CONCURRENTLY\`, …) goes in a migration the
runner does not wrap. With a plain SQL script, pair each \`BEGIN\` with exactly one \`COMMIT\`:

\`\`\`sql
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
\`\`\`

Prisma and golang-migrate send a file as one multi-statement query: there \`BEGIN\` … \`COMMIT\` in the file are the
documented way to control Postgres' implicit transaction and are not reported.`,
    tools: {
      drizzle:
        '`drizzle-kit migrate` wraps all pending migrations in one transaction: a `COMMIT` in a migration ends it early. Remove `BEGIN`/`COMMIT` and run statements that need no transaction from a separate script.',
      knex: 'Remove them from `knex.raw`; export `config = { transaction: false }` instead.',
      typeorm:
        "Remove them from `queryRunner.query()`; set `transaction = false` on the migration (with `migrationsTransactionMode: 'each'`) instead.",
      sequelize:
        'Migrations are not wrapped in a transaction, and on a pool a `BEGIN` sent with `queryInterface.sequelize.query()` may not share a connection with the next statement: use `queryInterface.sequelize.transaction(async (transaction) => …)` and pass `{ transaction }` to each call.',
      'node-pg-migrate': 'Remove them from `pgm.sql()`; call `pgm.noTransaction()` instead.',
      alembic: 'Remove them from `op.execute`; use `with op.get_context().autocommit_block():` instead.',
      django: 'Remove them from `RunSQL`; set `atomic = False` on the migration instead.',
      rails:
        'Remove `BEGIN`/`COMMIT` from `execute` calls; use `disable_ddl_transaction!` for statements that need no transaction.',
    },
  },
  examples: [
    { bad: 'BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;' },
    { title: 'a second COMMIT finds no transaction', bad: 'BEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;' },
    {
      title: 'the runner already wrapped the file in a transaction',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;',
      runner: 'rails',
    },
    {
      title: 'a COMMIT ends the runner’s transaction early',
      bad: 'COMMIT;\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\nBEGIN;\nALTER TABLE orders ADD COLUMN note text;',
      runner: 'transaction-per-file',
    },
    { ok: 'BEGIN;\nSELECT 1;\nCOMMIT;' },
    { ok: 'SELECT 1;', runner: 'transaction-per-file' },
    { ok: 'BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nROLLBACK;' },
    {
      title: 'Prisma’s implicit transaction becomes the explicit one',
      ok: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);',
      runner: 'prisma',
    },
  ],
  create(ctx) {
    /** transactions opened by a BEGIN of the file, by id; the others are the runner's */
    const opened = new Map<number, number>();
    return {
      statement(facts) {
        const control = transactionControl(facts.statement);
        const tx = facts.transaction;
        if (!control) return;
        if (control.kind === 'begin') {
          if (!tx) return;
          if (tx.startIndex === facts.statement.index) {
            opened.set(tx.id, facts.statement.start);
            return;
          }
          const at = opened.get(tx.id);
          if (at !== undefined) {
            ctx.report({
              statement: facts,
              message: `A transaction is already open (BEGIN on line ${ctx.file.position(at).line}): this BEGIN does nothing but warn, and the next COMMIT commits both.`,
              help: 'Remove this BEGIN, or COMMIT the open transaction before it.',
            });
          } else if (!facts.runner.multiStatement) {
            // a multi-statement query's implicit transaction just becomes an explicit one: no nesting
            opened.set(tx.id, facts.statement.start);
            ctx.report({
              statement: facts,
              message: `The ${facts.runner.name} runner already runs this migration in a transaction: this BEGIN does nothing but warn, and a COMMIT in the file would end the runner’s transaction early.`,
              help: `Remove BEGIN/COMMIT from the file and let the runner own the transaction; to run a statement outside it, ${facts.runner.optOut ?? 'use a migration the runner does not wrap in a transaction'}.`,
            });
          } else opened.set(tx.id, facts.statement.start);
          return;
        }
        // PREPARE TRANSACTION and COMMIT / ROLLBACK PREPARED are not about nesting
        if (control.kind !== 'commit' && control.kind !== 'rollback') return;
        const verb = control.kind === 'commit' ? 'COMMIT' : 'ROLLBACK';
        if (!tx) {
          ctx.report({
            statement: facts,
            message: `No transaction is open here: this ${verb} does nothing but warn (there is no transaction in progress), so the statements before it were not in the transaction you expect.`,
            help: `Remove it, or add the BEGIN it belongs to.`,
          });
        } else if (!opened.has(tx.id) && !facts.runner.multiStatement) {
          ctx.report({
            statement: facts,
            message: `This ${verb} ends the transaction the ${facts.runner.name} runner wrapped the migration in: the statements before it are ${verb === 'COMMIT' ? 'committed' : 'discarded'} whatever happens next, and the rest of the file runs outside the runner’s transaction — a failure there leaves the migration half applied.`,
            help: `Split the migration instead: ${facts.runner.optOut ?? 'run the statements that need no transaction from a migration the runner does not wrap'}.`,
          });
        }
      },
    };
  },
});
