import { appendNotValid, defineRule, onExistingTables, validateLaterPlan } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'add-check-constraint',
  equivalents: {
    squawk: ['constraint-missing-not-valid'],
    eugene: ['E1'],
    strongMigrations: ['add_check_constraint'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'the fix adds the constraint NOT VALID and leaves VALIDATE CONSTRAINT to a later migration: until then existing rows are not checked.',
  },
  plan: 'a named constraint is added NOT VALID (a brief lock), then validated by `VALIDATE CONSTRAINT` in a later transaction, which lets reads and writes through: the same validated constraint results. An unnamed CHECK gets no plan (its name is Postgres’ choice); its NOT VALID edit is unsafe.',
  summary:
    'Adding a CHECK constraint scans the whole table under ACCESS EXCLUSIVE; add it NOT VALID, then VALIDATE.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ADD CONSTRAINT … CHECK (…)\` takes ACCESS EXCLUSIVE on the table and, while holding
it, reads every row to prove the condition. Reads and writes wait for the whole scan.`,
    solution: `Add the constraint \`NOT VALID\`: Postgres then only checks new and updated rows, and the ACCESS EXCLUSIVE
lock is brief. Prove the existing rows afterwards with \`VALIDATE CONSTRAINT\`, which takes SHARE UPDATE
EXCLUSIVE — reads and writes continue — and must run in a later transaction, or the first lock is still held.

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
-- in a separate transaction / migration:
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
\`\`\``,
    tools: {
      prisma:
        'schema.prisma cannot declare CHECK constraints: create an empty migration with `prisma migrate dev --create-only`, write the `ADD CONSTRAINT … NOT VALID` into its `migration.sql`, and put the VALIDATE in a second migration directory (each file is applied as its own transaction).',
      drizzle:
        "`check()` in the table's extra config generates a plain `ADD CONSTRAINT … CHECK`: append `NOT VALID` in the generated SQL and put the VALIDATE in a custom migration (`drizzle-kit generate --custom`). `drizzle-kit migrate` applies all pending migrations in one transaction, so apply the two in separate runs.",
      knex: "`table.check()` has no NOT VALID: use `knex.raw()` for both statements. `migrate:latest` wraps all pending migrations in one transaction, so export `config = { transaction: false }` from the VALIDATE's migration (or apply it with a separate `migrate:up`).",
      typeorm:
        "`@Check()` generates the constraint without NOT VALID: write `queryRunner.query('ALTER TABLE … ADD CONSTRAINT … NOT VALID')` and the VALIDATE in a later migration, with `migrationsTransactionMode: 'each'` — in the default `all` mode every pending migration shares one transaction.",
      sequelize:
        "`queryInterface.addConstraint(table, { type: 'check', … })` cannot add NOT VALID: run both statements with `queryInterface.sequelize.query()`. Migrations are not wrapped in a transaction, so each statement commits on its own.",
      'node-pg-migrate':
        "`pgm.addConstraint(table, name, { check: … })` validates at once: use `pgm.sql('ALTER TABLE … ADD CONSTRAINT … NOT VALID')`. All pending migrations share one transaction by default, so give the VALIDATE migration `pgm.noTransaction()` (or run with `--no-single-transaction`).",
      alembic:
        '`op.execute("ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID")`, then `op.execute("ALTER TABLE … VALIDATE CONSTRAINT …")` in the next revision. The default `env.py` runs all pending revisions in one transaction: pass `transaction_per_migration=True` to `context.configure()`.',
      django:
        'Use `AddConstraintNotValid` (from `django.contrib.postgres.operations`, Django 4.0+) instead of `AddConstraint`, and `ValidateConstraint` in a separate migration: in the same migration both run in one transaction.',
      rails:
        '`add_check_constraint :orders, "amount > 0", name: "…", validate: false`, then `validate_check_constraint` in the next migration.',
    },
  },
  examples: [
    {
      bad: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);',
      fixed: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;',
    },
    {
      title: 'a column added with a CHECK scans the table too',
      bad: 'ALTER TABLE orders ADD COLUMN amount int CHECK (amount > 0);',
    },
    { ok: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;' },
    { ok: 'CREATE TABLE orders (amount int);\nALTER TABLE orders ADD CONSTRAINT c CHECK (amount > 0);' },
  ],
  check(facts, ctx) {
    for (const { action, table, mode } of onExistingTables(facts, 'add-check')) {
      const name = action.constraint ? `"${action.constraint}" ` : '';
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Adding CHECK constraint ${name}reads every row while it ${lockClause(mode, table.display)}.`,
        help: 'Add it NOT VALID (a brief lock), then run VALIDATE CONSTRAINT in a separate transaction: it only takes SHARE UPDATE EXCLUSIVE.',
        lock: { mode, relation: table.display },
        // appending NOT VALID is only exact when the statement is just this constraint
        fix: appendNotValid(facts, action, 'Add the constraint NOT VALID'),
        plan: validateLaterPlan(
          facts,
          action,
          'Add the constraint NOT VALID, then validate it in a later transaction',
          ctx.file.sql,
        ),
      });
    }
  },
});
