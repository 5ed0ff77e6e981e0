import { defineRule, onExistingTables } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'primary-key-using-index-nullable',
  equivalents: {
    eugene: ['W14'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  summary:
    'ADD PRIMARY KEY USING INDEX sets NOT NULL on key columns that lack it, reading the whole table under ACCESS EXCLUSIVE.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `Attaching a unique index built with \`CREATE UNIQUE INDEX CONCURRENTLY\` as the primary key
(\`ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …\`) is meant to be a catalog-only swap. But a primary key's
columns must be NOT NULL, and for each key column that is not NOT NULL yet, Postgres sets it — which, like
\`SET NOT NULL\`, reads every row while ACCESS EXCLUSIVE is held. No query, not even a SELECT, gets through until
the scan ends; nothing in the statement hints at it.

pgkeel knows a column is NOT NULL when this migration declared it so or made it so; for an index or columns from an
earlier migration it cannot tell, and reports the statement so that you check.`,
    solution: `Make every key column NOT NULL the cheap way first (see \`set-not-null\`), then attach the index: the
swap is brief once there is nothing left to check.

\`\`\`sql
-- PG 12+: a validated CHECK lets SET NOT NULL skip its scan
ALTER TABLE items ADD CONSTRAINT items_id_not_null CHECK (id IS NOT NULL) NOT VALID;
-- next transaction:
ALTER TABLE items VALIDATE CONSTRAINT items_id_not_null;
-- next transaction:
ALTER TABLE items ALTER COLUMN id SET NOT NULL;
ALTER TABLE items DROP CONSTRAINT items_id_not_null;
CREATE UNIQUE INDEX CONCURRENTLY items_pkey ON items (id);
SET lock_timeout = '2s';
ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;
\`\`\`

On PG 18, \`ADD CONSTRAINT … NOT NULL id NOT VALID\` followed by \`VALIDATE CONSTRAINT\` does the first steps directly.
If the columns already are NOT NULL in the database, suppress the finding with
\`-- pgkeel-ignore primary-key-using-index-nullable\`.`,
    tools: {
      rails: `\`execute "ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey"\` only after
\`change_column_null :items, :id, false\` has run the safe way (a validated check constraint first, see \`set-not-null\`).`,
      django:
        'Run the NOT NULL steps (`RunSQL`, see `set-not-null`) in earlier migrations than the `RunSQL` that attaches the index.',
      alembic:
        'Run the NOT NULL steps with `op.execute()` in earlier revisions than the `op.execute("… PRIMARY KEY USING INDEX …")`.',
      knex: "Run the NOT NULL steps with `knex.raw()` in earlier migrations than `knex.raw('… PRIMARY KEY USING INDEX …')`.",
      sequelize:
        'Run the NOT NULL steps with `queryInterface.sequelize.query()` in earlier migrations than the one that attaches the index.',
      'node-pg-migrate':
        'Run the NOT NULL steps with `pgm.sql()` in earlier migrations; `pgm.addConstraint(table, name, { primaryKey: … })` builds a new index instead of using the one you built, so attach it with `pgm.sql()`.',
    },
  },
  examples: [
    {
      title: 'eugene’s case: nothing says the key column is NOT NULL',
      bad: 'CREATE UNIQUE INDEX CONCURRENTLY items_pkey ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;',
    },
    {
      title: 'the key column was made NOT NULL first: the swap is brief',
      ok: 'ALTER TABLE items ALTER COLUMN id SET NOT NULL;\nCREATE UNIQUE INDEX CONCURRENTLY items_pkey ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE items (id bigint);\nCREATE UNIQUE INDEX items_pkey ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;',
    },
  ],
  check(facts, ctx) {
    for (const { action, table, mode } of onExistingTables(facts, 'add-primary-key-using-index')) {
      if (!action.facts.scan) continue;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `ADD PRIMARY KEY USING INDEX sets NOT NULL on every key column that is not NOT NULL yet, reading all rows while it ${lockClause(mode, table.display)}; pgkeel does not see these columns made NOT NULL.`,
        help: 'Make the key columns NOT NULL first (CHECK … NOT VALID, VALIDATE, then SET NOT NULL, each in its own transaction), then attach the index: the swap is then brief.',
        lock: { mode, relation: table.display },
      });
    }
  },
});
