import { defineRule, deployFirstPlan, lockOn } from '../define.js';
import { quoteIdent } from '../sql.js';

export default defineRule({
  id: 'drop-not-null',
  equivalents: {
    squawk: ['ban-drop-not-null'],
  },
  hazard: 'breaks-clients',
  verdict: 'alternative',
  plan: 'the same statement, moved after a deploy boundary: it is written to `pgkeel-later/` for a later release, once every reader of the column handles NULL. Statements after it that do not touch the table stay in this release.',
  summary:
    'Dropping NOT NULL lets NULLs into a column that running code assumes is never NULL, and is hard to undo.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ALTER COLUMN … DROP NOT NULL\` is quick (a brief ACCESS EXCLUSIVE lock, no scan), but it
changes a contract every client relies on. As soon as one NULL is written, code that assumed the column is always
set — reports, joins, typed ORM models, other services reading the table — can crash or silently compute wrong
results. It is also irreversible in practice: once NULLs exist, putting \`SET NOT NULL\` back means backfilling
them and a full-table scan under ACCESS EXCLUSIVE (see \`set-not-null\`).

Since PostgreSQL 18 a column's NOT NULL is also a constraint (named \`<table>_<column>_not_null\` unless given a
name), so \`ALTER TABLE … DROP CONSTRAINT users_phone_not_null\` does the same thing.`,
    solution: `Make the readers ready before the writers may write NULL:

1. deploy code in which every reader of the column handles NULL (and the ORM model declares it optional);
2. then drop the constraint, in a later migration;
3. only then deploy code that writes NULL.

\`\`\`sql
-- after every reader handles NULL:
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
\`\`\`

If the goal is only to stop writing the column before dropping it, a \`DEFAULT\` may be enough and keeps the
column NOT NULL.`,
    tools: {
      prisma:
        'Making a field optional (`String?`) generates DROP NOT NULL: deploy code that handles `null` for the field before applying that migration.',
      rails:
        '`change_column_null :users, :phone, true` drops NOT NULL: deploy code that handles `nil` first; consider `change_column_default` instead.',
      django:
        '`null=True` on a field generates DROP NOT NULL: deploy code that handles `None` before running the migration.',
    },
  },
  examples: [
    { bad: 'ALTER TABLE "bar_tbl" ALTER COLUMN "foo_col" DROP NOT NULL;' },
    {
      title: 'a table created in the same migration has no clients yet',
      ok: 'CREATE TABLE users (phone text NOT NULL);\nALTER TABLE users ALTER COLUMN phone DROP NOT NULL;',
    },
    {
      title: 'neither has a column added earlier in the same migration',
      ok: "ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';\nALTER TABLE users ALTER COLUMN phone DROP NOT NULL;",
    },
    { ok: 'ALTER TABLE users ALTER COLUMN phone DROP DEFAULT;' },
    {
      title: 'PG 18: dropping the NOT NULL constraint by its name',
      bad: 'ALTER TABLE users DROP CONSTRAINT users_phone_not_null;',
      pg: { min: 18 },
    },
    {
      title: 'PG 18: a NOT NULL constraint given its own name',
      bad: 'ALTER TABLE users ADD CONSTRAINT phone_required NOT NULL phone;\nALTER TABLE users DROP CONSTRAINT phone_required;',
      pg: { min: 18 },
    },
    {
      title: 'before PG 18 no constraint is a NOT NULL: that name is a CHECK or another constraint',
      ok: 'ALTER TABLE users DROP CONSTRAINT users_phone_not_null;',
      pg: { max: 17 },
    },
    {
      title: 'a CHECK that is only named like a NOT NULL constraint',
      ok: 'ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL) NOT VALID;\nALTER TABLE users DROP CONSTRAINT users_phone_not_null;',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'drop-not-null' || !action.column) continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      if (facts.isNewColumn(table, action.column)) continue;
      const column = `${table.display}.${quoteIdent(action.column)}`;
      const what = action.constraint
        ? `Dropping constraint ${quoteIdent(action.constraint)}, the NOT NULL of ${column},`
        : `Dropping NOT NULL on ${column}`;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `${what} lets NULLs in that running code does not expect, and once they are written NOT NULL cannot come back without a backfill and a full scan.`,
        help: `Deploy code whose every reader of ${quoteIdent(action.column)} handles NULL first; drop the constraint in a later migration.`,
        lock: { mode: lockOn(action), relation: table.display },
        plan: deployFirstPlan(
          facts,
          'Drop NOT NULL in a later release, after the application handles NULL',
          `every reader of ${column} in the application handles NULL.`,
        ),
      });
    }
  },
});
