import { defineRule, onExistingTables } from '../define.js';
import { quoteIdent } from '../sql.js';

export default defineRule({
  id: 'change-column-default',
  equivalents: {
    strongMigrations: ['change_column_default'],
  },
  // the lock is brief: the danger is processes that cached the old default and keep writing it
  hazard: 'breaks-clients',
  verdict: 'alternative',
  recommended: false,
  summary:
    'Changing the DEFAULT of an existing column is quick, but application processes that cached the old default keep writing it.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ALTER COLUMN … SET DEFAULT\` / \`DROP DEFAULT\` only changes the catalog: a brief ACCESS EXCLUSIVE
(see \`lock-timeout-missing\`) and no row is touched. The hazard is in the application. ORMs read column defaults
when they load the schema and keep them in memory; until every process has restarted, some of them still fill in
the old default. With Rails' *partial inserts* (\`partial_inserts\`, on by default before Rails 7), Active Record
leaves unchanged attributes out of the INSERT, so the database applies the **new** default while the model object
in memory holds the **old** one — the record is saved with a value other than the one the code sees, until it is
reloaded.

This rule is not in the \`recommended\` preset: enable it when your ORM caches defaults this way.`,
    solution: `Change defaults in a deploy of their own, and restart (or reload the schema of) every application process
right after the migration. In Rails, turn partial inserts off so that every INSERT sends every column:

\`\`\`ruby
# config/application.rb
config.active_record.partial_inserts = false
\`\`\`

Defaults of a column added in the same migration are not reported: no process knew the column before.`,
    tools: {
      rails:
        '`change_column_default :users, :plan, from: nil, to: "free"` is what this rule sees: set `config.active_record.partial_inserts = false` (Rails ≥ 7; `partial_writes` before), and restart the application after migrating.',
      django:
        '`default=` is applied by Django in Python and never reaches the database; `db_default=` (Django ≥ 5.0) does, and running processes keep the old model definition until they restart.',
      sequelize:
        '`defaultValue` in the model is applied by Sequelize; when only the database default changes (`queryInterface.changeColumn`), update the model in the same deploy.',
    },
  },
  examples: [
    { bad: "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';" },
    {
      title: 'dropping a default changes what new rows get, too',
      bad: 'ALTER TABLE users ALTER COLUMN status DROP DEFAULT;',
    },
    {
      title: 'a column added in the same migration: no process knew its default',
      ok: "ALTER TABLE users ADD COLUMN tier text;\nALTER TABLE users ALTER COLUMN tier SET DEFAULT 'free';",
    },
    {
      title: 'a table created in the same migration',
      ok: "CREATE TABLE plans (name text);\nALTER TABLE plans ALTER COLUMN name SET DEFAULT 'free';",
    },
  ],
  check(facts, ctx) {
    for (const { action, table } of onExistingTables(facts, 'set-default')) {
      if (!action.column || facts.isNewColumn(table, action.column)) continue;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Changing the DEFAULT of ${quoteIdent(action.column)} on ${table.display} takes effect at once, but application processes that cached the old default (Rails with partial inserts, for one) write rows inconsistent with what the code sees until they restart.`,
        help: 'Ship the default change in a deploy of its own and restart the application processes right after it; in Rails, set config.active_record.partial_inserts = false.',
      });
    }
  },
});
