import { defineRule } from '../define.js';
import { createdTables } from './drop-table.js';

export default defineRule({
  id: 'recreate-table',
  equivalents: {
    strongMigrations: ['create_table'],
  },
  // the rows of the old table go with a statement pair meant to change its shape, not to empty it
  hazard: 'loses-data',
  verdict: 'alternative',
  summary:
    'Dropping a table and creating it again throws its data away, and clients see it missing in between; alter it instead.',
  on: ['DropStmt', 'CreateStmt', 'CreateTableAsStmt'],
  docs: {
    problem: `\`DROP TABLE t\` followed by \`CREATE TABLE t\` — what \`DROP TABLE IF EXISTS\` + \`CREATE TABLE\` scripts and
\`create_table … force: true\` do — silently deletes every row of the existing table. Clients that use the table
fail (*relation does not exist*) between the two statements unless both run in one transaction, and even then they
get an empty table afterwards. The new table also loses everything that was attached to the old one and not
repeated: indexes, grants, triggers, the foreign keys of other tables (dropped by \`CASCADE\`), views.`,
    solution: `Change the existing table in place with \`ALTER TABLE\` (add, alter or drop columns — each with its own safe
recipe), so that the data and dependents stay.

If a fresh table really is needed, build it under a new name, copy the data in batches, and switch names in one
short transaction:

\`\`\`sql
CREATE TABLE settings_new (key text PRIMARY KEY, value jsonb);
INSERT INTO settings_new SELECT key, to_jsonb(value) FROM settings;  -- in batches for big tables
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE settings RENAME TO settings_old;
ALTER TABLE settings_new RENAME TO settings;
COMMIT;
-- later: DROP TABLE settings_old;
\`\`\``,
    tools: {
      knex: "`knex.schema.dropTableIfExists('t')` followed by `createTable('t', …)` is this pattern: change the table with `knex.schema.alterTable()` instead.",
      typeorm:
        'Keep `dropSchema` and `synchronize` off outside development (`dropSchema: true` drops every table when the DataSource initializes); change tables through migrations.',
      sequelize:
        "`sequelize.sync({ force: true })` drops and recreates every model's table: never run it against data you keep; change tables in migrations with `addColumn` / `changeColumn`.",
      django:
        'A migration that deletes a model and creates one with the same table drops the data: edit the model instead, so that Django generates `AlterField` / `AddField`.',
      rails:
        'Do not pass `force: true` to `create_table`; change an existing table with `change_table` / `add_column`.',
    },
  },
  examples: [
    { bad: 'DROP TABLE IF EXISTS settings;\nCREATE TABLE settings (key text PRIMARY KEY, value text);' },
    {
      title: 'a transaction hides the gap, not the data loss',
      bad: 'BEGIN;\nDROP TABLE app.settings CASCADE;\nCREATE TABLE app.settings AS SELECT 1 AS id;\nCOMMIT;',
    },
    { ok: 'DROP TABLE IF EXISTS settings;\nCREATE TABLE settings_v2 (key text PRIMARY KEY);' },
    {
      title: 'a table created in the same migration holds no data anyone uses yet',
      ok: 'CREATE TABLE tmp (id int);\nDROP TABLE tmp;\nCREATE TABLE tmp (id bigint);',
    },
  ],
  create(ctx) {
    const dropped = new Set<string>();
    return {
      statement(facts) {
        for (const table of createdTables(facts)) {
          if (!dropped.delete(table.key)) continue;
          ctx.report({
            statement: facts,
            location: table.location,
            message: `${table.display} was dropped earlier in this migration and is created again: every row of the existing table is lost, and clients see it missing or empty.`,
            help: 'Change the existing table with ALTER TABLE instead; if a fresh table is needed, build it under a new name, copy the data, and swap names in one short transaction.',
          });
        }
        for (const action of facts.actions) {
          if (action.op !== 'drop-table') continue;
          const table = action.relations.table!;
          if (!facts.isNew(table)) dropped.add(table.key);
        }
      },
    };
  },
});
