import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';

export default defineRule({
  id: 'drop-database',
  equivalents: {
    squawk: ['ban-drop-database'],
  },
  hazard: 'loses-data',
  verdict: 'unsafe',
  summary: 'DROP DATABASE deletes a whole database; it does not belong in a migration.',
  on: ['DropdbStmt'],
  docs: {
    problem: `\`DROP DATABASE\` removes the database and every table in it, irrecoverably, and cannot run in a transaction
block. It fails while anyone is connected — or, with \`WITH (FORCE)\` (PG 13+), terminates their sessions. A
migration runs against the production database as well as development ones: a statement that empties a
database there is never what a schema change means.`,
    solution: `Keep database creation and removal out of migrations. Drop a database by hand or from provisioning tooling,
after a backup, once nothing connects to it:

\`\`\`sql
-- run manually, not from a migration
DROP DATABASE old_reports;
\`\`\``,
    tools: {
      prisma:
        '`prisma migrate reset` (and `migrate dev` when it wants a reset) drops the database: keep them to development databases and never point them at production.',
      sequelize:
        '`npx sequelize-cli db:drop` drops the configured database: a development command, not something a migration or deploy script should run.',
      rails:
        'Use `bin/rails db:drop` outside migrations; Rails refuses it on a database whose environment is marked production unless `DISABLE_DATABASE_ENVIRONMENT_CHECK=1` is set.',
    },
  },
  examples: [
    {
      bad: 'DROP DATABASE "table_name";',
      // DROP DATABASE runs outside a transaction block; a lock on its pg_database row stops it at its
      // last step (it takes no lock on any relation of the database the migration runs in)
      stall: `SELECT 1 FROM pg_database WHERE datname = 'table_name' FOR UPDATE`,
    },
    {
      bad: 'DROP DATABASE IF EXISTS "table_name";',
      setup: 'DROP DATABASE IF EXISTS table_name;\nCREATE DATABASE table_name;',
      stall: `SELECT 1 FROM pg_database WHERE datname = 'table_name' FOR UPDATE`,
    },
    {
      bad: 'DROP DATABASE old_reports WITH (FORCE);',
      pg: { min: 13 },
      stall: `SELECT 1 FROM pg_database WHERE datname = 'old_reports' FOR UPDATE`,
    },
    { ok: 'DROP TABLE IF EXISTS old_reports;' },
  ],
  check(facts, ctx) {
    const stmt = statementOf(facts, 'DropdbStmt');
    if (!stmt) return;
    ctx.report({
      statement: facts,
      message: `DROP DATABASE ${quoteIdent(String(stmt.dbname ?? ''))} deletes the whole database and all its data; a migration would do the same in production.`,
      help: 'Remove this statement from the migration; drop databases manually, after a backup.',
    });
  },
});
