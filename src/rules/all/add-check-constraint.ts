import { appendNotValid, defineRule, onExistingTables } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'add-check-constraint',
  equivalents: {
    squawk: ['constraint-missing-not-valid'],
    eugene: ['E1'],
    strongMigrations: ['add_check_constraint'],
  },
  verdict: 'alternative',
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
      knex: 'Use `knex.raw()` for both statements; put the VALIDATE in the next migration.',
      alembic: `\`op.execute("ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID")\`, then
\`op.execute("ALTER TABLE … VALIDATE CONSTRAINT …")\` in the next migration.`,
      django: `\`AddConstraint\` with a \`CheckConstraint\` validates immediately; use \`RunSQL\` with NOT VALID, and a
second migration with \`RunSQL("ALTER TABLE … VALIDATE CONSTRAINT …")\`.`,
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
      });
    }
  },
});
