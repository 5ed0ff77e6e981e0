import type { StatementFacts } from '../../analyze/analyze.js';
import { names } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { actionConstraint } from '../../analyze/nodes.js';
import { blockSummary } from '../../catalog/locks.js';
import { appendNotValid, defineRule, lockOn, type RuleContext, validateLaterPlan } from '../define.js';
import { defaultConstraintName } from '../sql.js';

export default defineRule({
  id: 'add-foreign-key',
  equivalents: {
    squawk: ['adding-foreign-key-constraint', 'constraint-missing-not-valid'],
    eugene: ['E1'],
    strongMigrations: ['add_foreign_key', 'add_reference'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'the fix adds the foreign key NOT VALID and leaves VALIDATE CONSTRAINT to a later migration: until then existing rows are not checked.',
  },
  plan: 'the foreign key is added NOT VALID under its name (Postgres’ default name spelled out when it had none), then validated in a later transaction, which takes only SHARE UPDATE EXCLUSIVE on the table and ROW SHARE on the referenced one: the same validated foreign key results.',
  summary:
    'Adding a FOREIGN KEY checks every row while blocking writes to both tables; add it NOT VALID, then VALIDATE.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY\` (and \`ADD COLUMN … DEFAULT … REFERENCES\`) takes SHARE ROW EXCLUSIVE
on the referencing table **and** on the referenced one, then looks up every existing row of the referencing table
in the referenced table before it lets go. Until then no INSERT, UPDATE or DELETE gets through on either table —
and the referenced table is often the busiest one (\`users\`, \`accounts\`).`,
    solution: `Add the foreign key \`NOT VALID\`: Postgres records it and enforces it for new and changed rows at once,
but skips the check of existing rows, so the lock on both tables is brief. Then check the existing rows with
\`VALIDATE CONSTRAINT\`, which takes only SHARE UPDATE EXCLUSIVE on the referencing table and ROW SHARE on the
referenced one: reads and writes carry on during the scan. Run it in a later transaction — in the same one, the
locks of the first step are still held.

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
  FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- next migration / transaction:
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
\`\`\`

A new column without a DEFAULT is NULL in every row, so \`ADD COLUMN … REFERENCES\` checks nothing and its locks
are brief. With a DEFAULT every row is checked, and it cannot be written NOT VALID: add the column first and the
constraint separately as above. A table created earlier in the same migration is empty and needs none of this.`,
    tools: {
      prisma: `Prisma emits \`ADD CONSTRAINT … FOREIGN KEY … ON DELETE … ON UPDATE …\`: append \`NOT VALID\` in the generated
\`migration.sql\` and put \`VALIDATE CONSTRAINT\` in the next migration (one file is one transaction).`,
      drizzle:
        'Edit the generated SQL: append `NOT VALID` to the `ADD CONSTRAINT … FOREIGN KEY`, and validate in a later migration, applied in a later `drizzle-kit migrate` run (one run applies all pending migrations in one transaction).',
      knex: 'Use `knex.raw()` for `ADD CONSTRAINT … FOREIGN KEY … NOT VALID`; `table.foreign()` always validates. VALIDATE in the next migration, with `config = { transaction: false }` exported from it (`migrate:latest` runs all pending migrations in one transaction).',
      typeorm:
        'Write the `ADD CONSTRAINT … NOT VALID` with `queryRunner.query()`; generated migrations always validate.',
      'node-pg-migrate':
        'Write `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY … NOT VALID` with `pgm.sql()`, and the VALIDATE with `pgm.sql()` in a later migration, which calls `pgm.noTransaction()` (all pending migrations share one transaction by default).',
      sequelize:
        "`queryInterface.addConstraint(table, { type: 'foreign key', … })` and `addColumn` with `references` always validate: run `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY … NOT VALID` with `queryInterface.sequelize.query()`, and the VALIDATE in a later migration.",
      alembic: `\`op.execute("ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY … NOT VALID")\` (\`op.create_foreign_key\` always
validates), then \`op.execute("ALTER TABLE … VALIDATE CONSTRAINT …")\` in the next revision, with \`transaction_per_migration=True\` in
\`context.configure()\` (by default all pending revisions share one transaction).`,
      django: `Django's \`ForeignKey\` validates at once: use \`SeparateDatabaseAndState\` with \`RunSQL\` for the NOT VALID
constraint and a second migration for \`VALIDATE CONSTRAINT\`.`,
      rails: `\`add_foreign_key :orders, :customers, validate: false\`, then \`validate_foreign_key :orders, :customers\` in the
next migration. \`add_reference :orders, :customer, foreign_key: true\` adds the column, a non-concurrent index and a
validated foreign key: write \`add_reference :orders, :customer, index: {algorithm: :concurrently}, foreign_key: {validate: false}\`
in a migration with \`disable_ddl_transaction!\`, then \`validate_foreign_key :orders, :customers\` in the next one.`,
    },
  },
  examples: [
    {
      bad: 'ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);',
      fixed:
        'ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;',
    },
    {
      title: 'the fix is the same inside a transaction; validate in a later one',
      bad: 'BEGIN;\nALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers;\nCOMMIT;',
      fixed:
        'BEGIN;\nALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;\nCOMMIT;',
    },
    {
      title: 'what Rails’ `add_reference :orders, :customer, foreign_key: true` runs',
      bad: 'ALTER TABLE "orders" ADD "customer_id" bigint;\nCREATE INDEX "index_orders_on_customer_id" ON "orders" ("customer_id");\nALTER TABLE "orders" ADD CONSTRAINT "fk_rails_3a5b9c1d2e" FOREIGN KEY ("customer_id") REFERENCES "customers" ("id");',
      fixed:
        'ALTER TABLE "orders" ADD "customer_id" bigint;\nCREATE INDEX "index_orders_on_customer_id" ON "orders" ("customer_id");\nALTER TABLE "orders" ADD CONSTRAINT "fk_rails_3a5b9c1d2e" FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") NOT VALID;',
      runner: 'rails',
    },
    {
      title:
        'what `add_reference …, index: {algorithm: :concurrently}, foreign_key: {validate: false}` runs, then `validate_foreign_key`',
      ok: 'ALTER TABLE "orders" ADD "customer_id" bigint;\nCREATE INDEX CONCURRENTLY "index_orders_on_customer_id" ON "orders" ("customer_id");\nALTER TABLE "orders" ADD CONSTRAINT "fk_rails_3a5b9c1d2e" FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") NOT VALID;\nALTER TABLE "orders" VALIDATE CONSTRAINT "fk_rails_3a5b9c1d2e";',
    },
    {
      title: 'enforcing a NOT ENFORCED foreign key checks every row under ACCESS EXCLUSIVE',
      pg: { min: 18 },
      setup: `CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT ENFORCED;`,
      bad: 'ALTER TABLE orders ALTER CONSTRAINT orders_customer_id_fkey ENFORCED;',
    },
    {
      title: 'a new column with a DEFAULT and REFERENCES cannot be NOT VALID: add the constraint separately',
      bad: 'ALTER TABLE emails ADD COLUMN user_id bigint DEFAULT 1 REFERENCES users (id);',
    },
    {
      title: 'a new column without a DEFAULT is NULL everywhere: nothing to check',
      ok: 'ALTER TABLE emails ADD COLUMN user_id bigint REFERENCES users (id);',
    },
    {
      title: 'NOT VALID, then VALIDATE in a separate transaction',
      ok: 'ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;',
    },
    {
      title: 'a referencing table created in the same migration is empty',
      ok: 'CREATE TABLE emails (id bigint, user_id bigint);\nALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);',
    },
    {
      title: 'a table created IF NOT EXISTS may be an existing one, with rows to check',
      bad: 'CREATE TABLE IF NOT EXISTS emails (id bigint, user_id bigint);\nALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);',
      fixed:
        'CREATE TABLE IF NOT EXISTS emails (id bigint, user_id bigint);\nALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op === 'enforce-foreign-key') {
        reportEnforce(facts, action, ctx);
        continue;
      }
      if (action.op !== 'add-foreign-key') continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      const referenced = action.relations.referenced;
      const mode = lockOn(action);
      const refMode = action.facts.locks.find((l) => l.on === 'referenced')?.mode;
      const name = action.constraint ? `"${action.constraint}" ` : '';
      const both =
        referenced && refMode && referenced.key !== table.key
          ? refMode === mode
            ? `takes ${mode} on ${table.display} and on ${referenced.display}, which ${blockSummary(mode)} on both`
            : `takes ${mode} on ${table.display} and ${refMode} on ${referenced.display}`
          : `takes ${mode} on ${table.display}, which ${blockSummary(mode)}`;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Adding FOREIGN KEY ${name}checks every existing row of ${table.display} while it ${both}.`,
        help: action.column
          ? 'Add the column on its own, then the constraint with ADD CONSTRAINT … FOREIGN KEY … NOT VALID (a brief lock), and run VALIDATE CONSTRAINT in a later transaction.'
          : 'Add it NOT VALID (a brief lock), then run VALIDATE CONSTRAINT in a later transaction: it lets reads and writes through on both tables.',
        lock: { mode, relation: table.display },
        // appending NOT VALID is only exact when the statement is just this constraint
        fix: appendNotValid(facts, action, 'Add the foreign key NOT VALID'),
        plan: validateLaterPlan(
          facts,
          action,
          'Add the foreign key NOT VALID, then validate it in a later transaction',
          ctx.file.sql,
          fkDefaultName(action),
        ),
      });
    }
  },
});

/** PG 18: ALTER CONSTRAINT … ENFORCED has no NOT VALID form; the online path is a new constraint. */
function reportEnforce(facts: StatementFacts, action: Action, ctx: RuleContext): void {
  const table = action.relations.table!;
  if (facts.isNew(table)) return;
  const referenced = action.relations.referenced;
  const mode = lockOn(action);
  const name = action.constraint ? `"${action.constraint}" ` : '';
  const refMode = lockOn(action, 'referenced');
  const also = referenced ? `, and ${refMode} on ${referenced.display}, which ${blockSummary(refMode)}` : '';
  ctx.report({
    statement: facts,
    location: action.location,
    message: `Enforcing FOREIGN KEY ${name}checks every existing row of ${table.display} while it takes ${mode} on ${table.display}, which ${blockSummary(mode)}${also}.`,
    help: 'Instead add the same foreign key again under a new name with NOT VALID (a brief lock), run VALIDATE CONSTRAINT in a later transaction, then drop the NOT ENFORCED one.',
    lock: { mode, relation: table.display },
  });
}

/** Postgres' name for an unnamed foreign key: `table_col1_col2_fkey`. */
function fkDefaultName(action: Action): string | undefined {
  const con = actionConstraint(action);
  const columns = names(con?.fk_attrs);
  const table = action.relations.table;
  return table && columns.length > 0 ? defaultConstraintName(table.name, columns, 'fkey') : undefined;
}
