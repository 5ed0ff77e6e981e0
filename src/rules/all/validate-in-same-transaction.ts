import { blockSummary } from '../../catalog/locks.js';
import { defineRule } from '../define.js';
import { ORDERS_NOT_VALID } from '../example-setups.js';

export default defineRule({
  id: 'validate-in-same-transaction',
  equivalents: {
    squawk: ['constraint-missing-not-valid'],
    strongMigrations: ['validate_foreign_key', 'validate_check_constraint'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  plan: 'VALIDATE runs in a later transaction than the ADD … NOT VALID (a long step never shares a transaction with a lock that blocks traffic), with a lock_timeout of its own and no statement_timeout.',
  summary:
    'VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID scans under the lock NOT VALID was meant to release.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`NOT VALID\` is useful only because the lock it needs is released quickly. Postgres keeps every lock until
the end of the transaction, so when \`VALIDATE CONSTRAINT\` runs in the same transaction as the \`ADD CONSTRAINT … NOT
VALID\`, the table is still held with the ADD's lock — ACCESS EXCLUSIVE for a CHECK or NOT NULL constraint (no reads,
no writes), SHARE ROW EXCLUSIVE on both tables for a foreign key (no writes) — for the whole validation scan. That
is exactly what adding the constraint without NOT VALID would have done.

Migration tools often wrap each file in a transaction without saying so (Prisma, Knex, Rails, Django, Alembic, …):
two statements in one migration file are then one transaction.`,
    solution: `Commit between the two steps: put \`VALIDATE CONSTRAINT\` in the next migration (or after \`COMMIT\`).
Validation alone takes SHARE UPDATE EXCLUSIVE (plus ROW SHARE on the referenced table of a foreign key), which lets
reads and writes through.

\`\`\`sql
-- migration 1
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;

-- migration 2
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
\`\`\``,
    tools: {
      prisma:
        'Prisma runs each `migration.sql` as one transaction: move the VALIDATE into a new migration directory.',
      drizzle:
        '`drizzle-kit migrate` applies all pending migrations in one transaction: a VALIDATE in the next migration still shares it unless applied in a later run.',
      knex: '`migrate:latest` runs all pending migrations in one transaction, so moving the VALIDATE to the next migration is not enough: also export `config = { transaction: false }` from it (or apply it with a separate `migrate:up`).',
      typeorm:
        "Put the VALIDATE in the next migration and run with `migrationsTransactionMode: 'each'`; in the default `all` mode every pending migration shares one transaction.",
      sequelize:
        'Migrations are not wrapped in a transaction, so separate `queryInterface.sequelize.query()` calls already commit between the two; keep them out of one `queryInterface.sequelize.transaction()`.',
      'node-pg-migrate':
        "All pending migrations share one transaction by default: call `pgm.noTransaction()` in the VALIDATE's migration, or run with `--no-single-transaction`.",
      alembic:
        'Put the VALIDATE in the next revision with `transaction_per_migration=True` in `context.configure()` (by default all pending revisions share one transaction), or run it inside `with op.get_context().autocommit_block():`.',
      django:
        'Put the VALIDATE in a separate migration (for a CHECK: `ValidateConstraint` after `AddConstraintNotValid`, from `django.contrib.postgres.operations`), or set `atomic = False` on the migration.',
      rails:
        '`validate_foreign_key` / `validate_check_constraint` in a separate migration, or use `disable_ddl_transaction!`.',
    },
  },
  examples: [
    {
      title: 'a foreign key added NOT VALID and validated in one explicit transaction',
      bad: 'BEGIN;\nALTER TABLE app_email ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES app_user (id) NOT VALID;\nALTER TABLE app_email VALIDATE CONSTRAINT fk_user;\nCOMMIT;',
    },
    {
      title: 'a CHECK added and validated in one Prisma migration: the file is one transaction',
      bad: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;',
      runner: 'prisma',
    },
    {
      title: 'a NOT NULL constraint added NOT VALID and validated in one transaction',
      bad: 'BEGIN;\nALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nCOMMIT;',
      pg: { min: 18 },
    },
    {
      title: 'each statement commits on its own',
      ok: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;',
    },
    {
      title: 'a COMMIT between the two steps',
      ok: 'BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;\nCOMMIT;\nBEGIN;\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;\nCOMMIT;',
    },
    {
      title: 'validating a constraint added by an earlier migration',
      ok: 'ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;',
      runner: 'prisma',
      setup: ORDERS_NOT_VALID,
    },
  ],
  check(facts, ctx) {
    const tx = facts.transaction;
    if (!tx || tx.notValidAdded.size === 0) return;
    for (const action of facts.actions) {
      if (action.op !== 'validate-constraint' && action.op !== 'validate-foreign-key') continue;
      const table = action.relations.table!;
      if (!action.constraint || !tx.notValidAdded.has(`${table.key}|${action.constraint}`)) continue;
      if (facts.isNew(table)) continue;
      const held = tx.heldLocks.get(table.key);
      if (!held) continue;
      const referenced = action.relations.referenced;
      const refHeld =
        referenced && referenced.key !== table.key ? tx.heldLocks.get(referenced.key) : undefined;
      const locks =
        refHeld && referenced
          ? refHeld.mode === held.mode
            ? `${held.mode} on ${table.display} and ${referenced.display} is`
            : `${held.mode} on ${table.display} and ${refHeld.mode} on ${referenced.display} are`
          : `${held.mode} on ${table.display} is`;
      const runner = tx.explicit ? '' : ` (${facts.runner.name} runs the whole file as one transaction)`;
      ctx.report({
        statement: facts,
        location: action.location ?? table.location,
        message: `VALIDATE CONSTRAINT "${action.constraint}" runs in the transaction that added it NOT VALID${runner}: ${locks} still held during the validation scan, which ${blockSummary(held.mode)}.`,
        help: tx.explicit
          ? 'COMMIT after adding the constraint NOT VALID and validate it in a new transaction; on its own, VALIDATE lets reads and writes through.'
          : 'Move VALIDATE CONSTRAINT to the next migration, so that this one commits and releases its lock first.',
        lock: { mode: held.mode, relation: table.display },
      });
    }
  },
});
