import type { StatementFacts } from '../../analyze/analyze.js';
import { names } from '../../analyze/ast.js';
import { statementOf, walkNodes } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';
import { ORDER_STATUS } from '../example-setups.js';
import { transactionOrigin } from './concurrently-in-transaction.js';

interface Added {
  transaction: number;
  type: string;
  /** undefined only if the parser gave no value */
  value: string | undefined;
  /** the type was created in the same transaction */
  newType: boolean;
}

/** the type's name without its schema: enough to match CREATE TYPE and ALTER TYPE of one migration */
const typeKey = (list: unknown) => names(list).at(-1) ?? '';

export default defineRule({
  id: 'enum-add-value-in-transaction',
  hazard: 'fails-deploy',
  verdict: 'alternative',
  plan: 'the transaction commits right after ALTER TYPE … ADD VALUE: the statements that use the new value run in the next one.',
  summary:
    'A value added with ALTER TYPE … ADD VALUE cannot be used before its transaction commits: the migration fails with "unsafe use of new value".',
  docs: {
    problem: `Since PostgreSQL 12, \`ALTER TYPE … ADD VALUE\` may run inside a transaction block (before 12 it may not at all — see
\`concurrently-in-transaction\`), but the new value cannot be used until that transaction commits. A later statement
of the same transaction that stores or compares the value — an \`UPDATE … SET status = 'archived'\`, a \`DEFAULT\`, a
CHECK or an index predicate — fails with *unsafe use of new value "archived" of enum type …*, and the whole
migration rolls back.

The transaction is not always visible in the file: most migration tools wrap each migration in one.`,
    solution: `Commit the new value before using it: put the \`ADD VALUE\` in a migration of its own (or end the transaction after
it), and the statements that use the value in the next one.

\`\`\`sql
-- migration 1
ALTER TYPE order_status ADD VALUE 'archived';
-- migration 2
UPDATE orders SET status = 'archived' WHERE closed_at < now() - interval '1 year';
\`\`\`

An enum type created in the same transaction is exempt on PostgreSQL 17 and later: its new values can be used at
once. On PostgreSQL 12–16 they cannot either; there, create the type with every value it needs from the start
(\`CREATE TYPE … AS ENUM (…, 'archived')\`) instead of adding one in the same transaction.`,
    tools: {
      prisma:
        'Adding an enum member and using it in the same `prisma migrate dev` (say as a `@default`) produces one `migration.sql` that fails this way: create a migration for the new member first, then a second one that uses it — each file is applied as its own transaction.',
      drizzle:
        'drizzle-kit writes the `ADD VALUE` and the statements using it into one migration, and `drizzle-kit migrate` applies all pending migrations in one transaction: apply the new value in a run of its own before the migration that uses it.',
      knex: '`migrate:latest` runs all pending migrations in one transaction: export `config = { transaction: false }` from the migration with the `ADD VALUE` (run with `knex.raw()`), so that it commits before the next migration uses the value.',
      typeorm:
        'A changed `enum` makes `migration:generate` recreate the type (rename to `…_old`, create, cast the column), not ADD VALUE. Write `queryRunner.query("ALTER TYPE … ADD VALUE …")` in a migration of its own and run with `migrationsTransactionMode: \'each\'`.',
      sequelize:
        'Migrations are not wrapped in a transaction, so an `ADD VALUE` run with `queryInterface.sequelize.query()` commits at once — keep it outside any `queryInterface.sequelize.transaction()` that later uses the value.',
      'node-pg-migrate':
        '`pgm.addTypeValue(type, value)` in a migration that calls `pgm.noTransaction()`: by default all pending migrations share one transaction, so a separate migration alone does not commit the value.',
      alembic:
        'Run the ADD VALUE inside `with op.get_context().autocommit_block():`, which commits it at once; splitting it into its own revision only helps with `transaction_per_migration=True` in `context.configure()`.',
      django: 'Split the `RunSQL("ALTER TYPE … ADD VALUE …")` and the data migration into two migrations.',
      rails:
        'Put `add_enum_value` (or the `execute`) in one migration and the code using the value in the next.',
    },
  },
  examples: [
    {
      pg: { min: 12 },
      bad: "BEGIN;\nALTER TYPE order_status ADD VALUE 'archived';\nUPDATE orders SET status = 'archived' WHERE closed_at < '2020-01-01';\nCOMMIT;",
      setup: ORDER_STATUS,
      // using a value added in the same transaction block: Postgres refuses it, as the rule says
      refuses: /unsafe use of new value "archived"/,
    },
    {
      title: 'inside the runner’s transaction',
      pg: { min: 12 },
      runner: 'rails',
      bad: "ALTER TYPE order_status ADD VALUE 'archived';\nALTER TABLE orders ALTER COLUMN status SET DEFAULT 'archived';",
    },
    {
      title: 'committed before use',
      ok: "ALTER TYPE order_status ADD VALUE 'archived';\nUPDATE orders SET status = 'archived' WHERE closed_at < '2020-01-01';",
      setup: ORDER_STATUS,
    },
    {
      title: 'a later transaction',
      pg: { min: 12 },
      ok: "BEGIN;\nALTER TYPE order_status ADD VALUE 'archived';\nCOMMIT;\nBEGIN;\nUPDATE orders SET status = 'archived';\nCOMMIT;",
    },
    {
      title: 'since PostgreSQL 17, an enum created in the same transaction may use its new values at once',
      pg: { min: 17 },
      ok: "BEGIN;\nCREATE TYPE order_status AS ENUM ('open');\nALTER TYPE order_status ADD VALUE 'archived';\nCREATE TABLE orders (status order_status DEFAULT 'archived');\nCOMMIT;",
    },
    {
      title: 'before PostgreSQL 12 the value may be added and used in the transaction that created the enum',
      pg: { max: 11 },
      ok: "BEGIN;\nCREATE TYPE order_status AS ENUM ('open');\nALTER TYPE order_status ADD VALUE 'archived';\nCREATE TABLE orders (status order_status DEFAULT 'archived');\nCOMMIT;",
    },
    {
      title: 'on PostgreSQL 12–16 not even then',
      pg: { min: 12, max: 16 },
      bad: "BEGIN;\nCREATE TYPE order_status AS ENUM ('open');\nALTER TYPE order_status ADD VALUE 'archived';\nCREATE TABLE orders (status order_status DEFAULT 'archived');\nCOMMIT;",
      // PG 12–16 refuse a value added to an enum created in the same transaction, as the rule says
      refuses: /unsafe use of new value "archived"/,
    },
  ],
  create(ctx) {
    const added: Added[] = [];
    return {
      statement(facts: StatementFacts) {
        const tx = facts.transaction;
        if (!tx) return;
        const addValue = facts.actions.find(
          (a) => a.op === 'alter-type-add-value' || a.op === 'alter-type-add-value-new-type',
        );
        if (addValue) {
          // before PG 12 the ADD VALUE itself fails in a transaction block: concurrently-in-transaction reports it
          if (addValue.facts.noTransactionBlock) return;
          const s = statementOf(facts, 'AlterEnumStmt');
          const newType = addValue.op === 'alter-type-add-value-new-type';
          // a type created in this transaction may use its new values at once, on some versions
          if (!(newType && addValue.facts.newValueUsableWhenTypeIsNew))
            added.push({ transaction: tx.id, type: typeKey(s?.typeName), value: s?.newVal, newType });
          return;
        }
        const pending = added.filter((a) => a.transaction === tx.id);
        if (pending.length === 0) return;
        let hit: { value: Added; location?: number } | undefined;
        walkNodes(facts.statement.node, (kind, body) => {
          if (hit) return false;
          const sval = kind === 'A_Const' ? body?.sval?.sval : undefined;
          if (kind === 'A_Const' && typeof sval === 'string') {
            const value = pending.find((p) => p.value === sval);
            if (value)
              hit = { value, location: typeof body.location === 'number' ? body.location : undefined };
          }
          return true;
        });
        if (!hit) return;
        ctx.report({
          statement: facts,
          location: hit.location,
          message: `'${hit.value.value}' was added to enum ${hit.value.type} earlier in this transaction: using it before the transaction commits fails with "unsafe use of new value"${hit.value.newType ? ` on PostgreSQL ${facts.pgVersion}, although the type was created in the same transaction (allowed since PostgreSQL 17)` : ''}.`,
          help: commitHint(facts),
        });
      },
    };
  },
});

/** How to get the ADD VALUE committed before the statement that uses the value. */
function commitHint(facts: StatementFacts): string {
  const origin = transactionOrigin(facts);
  const steps: string[] = [];
  if (origin.explicit)
    steps.push('end the transaction between the ADD VALUE and this statement (COMMIT; BEGIN;)');
  if (origin.runner)
    steps.push(
      'move the ADD VALUE to a migration of its own that runs before this one: the runner commits each migration',
    );
  const text = `Commit the new value before using it: ${steps.join('; and ')}.`;
  return text;
}
