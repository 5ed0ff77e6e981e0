import { defineRule, lockOn } from '../define.js';
import { quoteIdent } from '../sql.js';

export default defineRule({
  id: 'drop-column',
  equivalents: {
    squawk: ['ban-drop-column'],
    strongMigrations: ['remove_column'],
  },
  verdict: 'alternative',
  summary:
    'Dropping a column breaks every running client that still reads or writes it; stop using it in the code first.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … DROP COLUMN\` only marks the column dropped (no rewrite), under a brief ACCESS EXCLUSIVE
lock on the table. The danger is the application: once it commits, every query of the running code that names the
column fails (*column does not exist*). ORMs are worse — most load the table's columns when the process starts and
then list all of them in every SELECT, INSERT and UPDATE, so *every* query on the table fails until each process
is restarted with code that no longer knows the column. \`CASCADE\` also silently drops the views, indexes and
constraints that use the column. The data is gone: there is no undo short of a restore.`,
    solution: `Contract in two deploys: first ship code that neither reads nor writes the column (and tell the ORM to forget
it), then drop it in a later migration.

\`\`\`sql
-- deploy 1: the code stops using users.legacy_flag (no SQL)
-- deploy 2, once every process runs that code:
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN legacy_flag;
\`\`\`

If the column is NOT NULL without a default, make it nullable (or give it a default) in deploy 1, so that the new
code's INSERTs, which no longer set it, still succeed.`,
    tools: {
      rails: `Add the column to \`self.ignored_columns += ["legacy_flag"]\` on the model and deploy; then \`remove_column\`
in the next migration, and remove the \`ignored_columns\` entry after that.`,
      django: `Remove the field from the model, but make the generated migration state-only:
\`SeparateDatabaseAndState(state_operations=[RemoveField(...)], database_operations=[])\`; run the real
\`RemoveField\` (or \`RunSQL("ALTER TABLE … DROP COLUMN …")\`) in a migration of the next deploy.`,
      prisma: `Prisma's client names every field in its queries: remove the field from \`schema.prisma\` and deploy the
regenerated client first; generate and apply the \`DROP COLUMN\` migration in the next deploy.`,
      drizzle:
        'Remove the column from the schema and deploy that code first; generate and run the `DROP COLUMN` migration in the next deploy.',
      typeorm:
        'Remove the property from the entity and deploy; drop the column in a migration of the next deploy (TypeORM selects every mapped column).',
      sequelize:
        'Remove the attribute from the model and deploy; `removeColumn` in a migration of the next deploy.',
    },
  },
  examples: [
    { bad: 'ALTER TABLE "bar_tbl" DROP COLUMN "foo_col" CASCADE;' },
    { bad: 'ALTER TABLE users DROP COLUMN IF EXISTS legacy_flag;' },
    {
      title: 'a table created in the same migration has no clients yet',
      ok: 'CREATE TABLE users (id bigint, legacy_flag boolean);\nALTER TABLE users DROP COLUMN legacy_flag;',
    },
    {
      title: 'neither has a column added earlier in the same migration',
      ok: 'ALTER TABLE users ADD COLUMN tmp int;\nALTER TABLE users DROP COLUMN tmp;',
    },
    { ok: 'ALTER TABLE users ADD COLUMN nickname text;' },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'drop-column' || !action.column) continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      // a column this migration added has no readers yet
      if (facts.isNewColumn(table, action.column)) continue;
      const column = `${table.display}.${quoteIdent(action.column)}`;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Dropping ${column} breaks every running client that still reads or writes it — with most ORMs, every query on ${table.display} — until it is redeployed; the data is lost.`,
        help: `Deploy code that no longer uses ${quoteIdent(action.column)} first (tell the ORM to ignore the column), then drop it in a later migration.`,
        lock: { mode: lockOn(action), relation: table.display },
      });
    }
  },
});
