import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';

export default defineRule({
  id: 'add-column-required',
  equivalents: {
    squawk: ['adding-required-field'],
  },
  // fails on any table with rows; the scan under ACCESS EXCLUSIVE is only on the way to that failure
  hazard: 'fails-deploy',
  verdict: 'alternative',
  summary: 'ADD COLUMN … NOT NULL without a DEFAULT fails on any table that has rows.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `A new column starts out NULL in every existing row, unless it has a DEFAULT. Declaring it \`NOT NULL\` (or
\`PRIMARY KEY\`) without a default therefore fails as soon as the table holds a single row — \`column "…" of relation
"…" contains null values\` — after waiting for ACCESS EXCLUSIVE on the table and reading it. It passes on an empty
development database and breaks the deploy in production.`,
    solution: `Either give the column a default that is not volatile — a constant, \`now()\` — which on PG 11 and later is
stored in the catalog, so existing rows are not rewritten:

\`\`\`sql
ALTER TABLE recipes ADD COLUMN public boolean NOT NULL DEFAULT false;
\`\`\`

or, when existing rows need computed values, add the column nullable, fill it in batches, and make it NOT NULL
afterwards without a long lock (see \`set-not-null\`):

\`\`\`sql
ALTER TABLE recipes ADD COLUMN owner_id bigint;
-- backfill in batches, each its own transaction:
UPDATE recipes SET owner_id = … WHERE id IN (SELECT id FROM recipes WHERE owner_id IS NULL LIMIT 5000);
-- then: CHECK (owner_id IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL (PG 12–17),
--       or ADD CONSTRAINT … NOT NULL owner_id NOT VALID → VALIDATE (PG 18)
\`\`\``,
    tools: {
      prisma:
        'A new required field without `@default` produces this statement (and `prisma migrate dev` asks about it): add `@default(…)` or make the field optional first, backfill, then make it required.',
      drizzle:
        '`.notNull()` without `.default(…)` on a new column makes drizzle-kit generate this statement: add `.default(…)` with a constant, or add the column nullable, backfill it, and add `.notNull()` in a later migration.',
      knex: '`.notNullable()` without `.defaultTo(…)` on a new column: add `.defaultTo(…)` with a constant, or add it `.nullable()` and tighten it later.',
      typeorm:
        'A new `@Column()` is NOT NULL unless it has `nullable: true`: give it a constant `default`, or add it with `nullable: true`, backfill, and tighten it later.',
      sequelize:
        '`queryInterface.addColumn(table, name, { type, allowNull: false })` needs a `defaultValue`; otherwise add it with `allowNull: true`, backfill, and make it NOT NULL later (see `set-not-null`).',
      'node-pg-migrate':
        '`pgm.addColumn(table, { col: { type, notNull: true } })` needs a `default`; otherwise add it without `notNull`, backfill, and tighten it later.',
      alembic:
        '`op.add_column(..., nullable=False)` needs `server_default=`; otherwise add it nullable, backfill, and alter it later.',
      django:
        '`makemigrations` asks for a one-off value for a new non-null field: Django then adds the column with that value as its DEFAULT and drops the default again, which is safe for a constant.',
      rails:
        '`add_column … null: false` needs `default:`; otherwise add it nullable, backfill, then `change_column_null` the safe way.',
    },
  },
  examples: [
    {
      bad: 'ALTER TABLE core_recipe ADD COLUMN foo integer NOT NULL;',
    },
    {
      title: 'a new primary key column has no value for existing rows either',
      bad: 'ALTER TABLE recipes ADD COLUMN code text PRIMARY KEY;',
    },
    {
      title: 'with a constant default',
      ok: 'ALTER TABLE recipe ADD COLUMN public boolean NOT NULL DEFAULT true;',
    },
    { title: 'nullable', ok: 'ALTER TABLE recipe ADD COLUMN public boolean;' },
    {
      title: 'a stored generated column computes its value for every row',
      ok: 'ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (baz * 2) STORED NOT NULL;',
      pg: { min: 12 },
    },
    {
      title: 'identity and serial columns fill themselves',
      ok: 'ALTER TABLE foo ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY NOT NULL;',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE recipes (id bigint);\nALTER TABLE recipes ADD COLUMN name text NOT NULL;',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (!action.op.startsWith('add-column') || !action.detail?.notNullWithoutDefault) continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      const column = action.column ? quoteIdent(action.column) : 'the column';
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Adding NOT NULL column ${column} without a DEFAULT fails if ${table.display} has any rows: they would all get NULL.`,
        help: 'Give the column a non-volatile DEFAULT, or add it nullable, backfill it in batches, then make it NOT NULL the safe way (see set-not-null).',
      });
    }
  },
});
