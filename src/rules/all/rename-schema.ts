import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';

export default defineRule({
  id: 'rename-schema',
  equivalents: {
    strongMigrations: ['rename_schema'],
  },
  hazard: 'breaks-clients',
  verdict: 'alternative',
  summary:
    'Renaming a schema breaks every running client that names it or has it in its search_path; keep the old name working.',
  on: ['RenameStmt', 'CreateSchemaStmt'],
  docs: {
    problem: `\`ALTER SCHEMA … RENAME TO\` is a quick catalog change, but once it commits every query that qualifies a name
with the old schema fails (*schema does not exist* / *relation does not exist*), and so does every unqualified
query of a session whose \`search_path\` lists the old schema — roles and databases configured with
\`ALTER ROLE … SET search_path\`, connection strings, pooled sessions. The running application keeps using the old
name until it is redeployed. Functions and views whose bodies are stored as text (SQL and PL/pgSQL functions) break
too, even after the deploy.`,
    solution: `Expand / contract: make the new name usable alongside the old one, switch the clients, then remove the old one.
Usually the simplest path is not to rename at all and change the name only where it is configured.

If the schema must be renamed, keep the old name answering in the same transaction — a schema of updatable views
over the renamed tables — until every client uses the new name:

\`\`\`sql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER SCHEMA billing RENAME TO invoicing;
CREATE SCHEMA billing;
CREATE VIEW billing.invoices AS SELECT * FROM invoicing.invoices;  -- one per table
COMMIT;
-- once no client (nor search_path setting) uses "billing":
DROP SCHEMA billing CASCADE;
\`\`\``,
    tools: {
      prisma:
        'Prisma takes the schema from the `?schema=` connection parameter (or `@@schema` with `multiSchema`) and qualifies its queries with it: deploy clients configured with the new name while the old name still answers.',
      drizzle:
        "`pgSchema('billing')` qualifies every query and migration: change it in the deploy that follows the rename, with views answering under the old name in between.",
      knex: 'Update `searchPath` in the Knex config and every `withSchema()` call in the deploy that follows the rename.',
      typeorm:
        'The `schema` of the DataSource and of `@Entity({ schema })` is written into every query: change it in the deploy after the rename.',
      sequelize:
        'The `schema` option of models and of `queryInterface` table names is written into every query: change it in the deploy after the rename.',
      alembic:
        'Update `__table_args__ = {"schema": …}` / `MetaData(schema=…)` and `version_table_schema` in `env.py` if the `alembic_version` table lives in the renamed schema.',
      django:
        'Update the `search_path` in `OPTIONS` (or each `db_table`) to include the new schema before renaming.',
      rails:
        'Point `schema_search_path` (database.yml) at both schemas, deploy, then rename; strong_migrations flags `rename_schema`.',
    },
  },
  examples: [
    { bad: 'ALTER SCHEMA billing RENAME TO invoicing;' },
    {
      title: 'a schema created in the same migration has no clients yet',
      ok: 'CREATE SCHEMA staging;\nALTER SCHEMA staging RENAME TO imports;',
    },
    { ok: 'ALTER TABLE billing.invoices RENAME CONSTRAINT a TO b;' },
  ],
  create(ctx) {
    const created = new Set<string>();
    return {
      statement(facts) {
        const schema = statementOf(facts, 'CreateSchemaStmt')?.schemaname;
        if (schema) {
          created.add(schema);
          return;
        }
        const s = statementOf(facts, 'RenameStmt');
        if (s?.renameType !== 'OBJECT_SCHEMA') return;
        const from = String(s.subname ?? '');
        const to = String(s.newname ?? '');
        if (created.has(from)) {
          created.delete(from);
          created.add(to);
          return;
        }
        ctx.report({
          statement: facts,
          message: `Renaming schema ${quoteIdent(from)} to ${quoteIdent(to)} breaks every running client that names ${quoteIdent(from)} or has it in its search_path, until it is redeployed.`,
          help: `Keep ${quoteIdent(from)} usable (a schema of views over ${quoteIdent(to)}'s tables, created in the same transaction) until every client and search_path setting uses ${quoteIdent(to)}; or do not rename it.`,
        });
      },
    };
  },
});
