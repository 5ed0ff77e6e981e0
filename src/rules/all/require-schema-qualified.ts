import type { RangeVar } from '@pgsql/types';
import { names, quoteIdent } from '../../analyze/ast.js';
import { asNode } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'require-schema-qualified',
  equivalents: { squawk: ['require-table-schema'] },
  // which table a name means depends on the search_path; the rule asks for names that do not
  hazard: 'schema-design',
  verdict: 'safe',
  recommended: false,
  summary:
    'Name tables with their schema (app.orders, not orders), so a migration does not depend on the search_path it runs with.',
  on: ['CreateStmt', 'CreateTableAsStmt', 'AlterTableStmt', 'IndexStmt', 'DropStmt'],
  options: {
    allowUnqualified: {
      schema: (z) => z.array(z.string().min(1)),
      default: [],
      description:
        'Table names that may stay unqualified, as Postgres stores them (lower case unless quoted): tables that exist once per schema on purpose, such as a per-tenant table resolved through search_path.',
    },
  },
  docs: {
    problem: `An unqualified table name is resolved through \`search_path\`, which depends on the role, the database,
the connection pool and the migration tool. The same migration can then create a table in another schema than
intended, or alter or drop a same-named table in the first schema on the path — in a multi-schema database that is
a different table than the one the author had in mind.`,
    solution: `Write the schema in every CREATE TABLE, CREATE TABLE AS, ALTER TABLE, CREATE INDEX … ON and DROP TABLE:

\`\`\`sql
CREATE TABLE app.orders (id bigint PRIMARY KEY);
ALTER TABLE app.orders ADD COLUMN note text;
CREATE INDEX CONCURRENTLY orders_note_idx ON app.orders (note);
\`\`\`

Temporary tables live in the session's own schema and are not reported. Tables that are meant to resolve
through \`search_path\` (one per tenant schema, say) can be listed in the \`allowUnqualified\` option:

\`\`\`json
{ "rules": { "require-schema-qualified": ["warn", { "allowUnqualified": ["settings"] }] } }
\`\`\``,
    tools: {
      prisma:
        'Generated `migration.sql` files leave names unqualified and rely on the `?schema=` parameter of the connection URL; with `multiSchema` and `@@schema("app")` Prisma writes qualified names.',
      drizzle:
        'Declare tables with `pgSchema(\'app\').table(…)`; drizzle-kit then writes `"app"."orders"` in the generated SQL.',
      knex: "`knex.schema.withSchema('app').createTable('orders', …)` (and `.alterTable`, `.dropTable`).",
      typeorm:
        "Set `@Entity({ schema: 'app' })` (or `schema` in the DataSource options); generated migrations then qualify the names.",
      sequelize:
        "Pass the table as `{ tableName: 'orders', schema: 'app' }` to `queryInterface.createTable`, `addColumn` and `dropTable`, and set `schema` on models.",
      'node-pg-migrate':
        "Pass names as `{ schema: 'app', name: 'orders' }` to `pgm.createTable`, `pgm.addColumns`, `pgm.createIndex` and `pgm.dropTable`.",
      alembic:
        'Pass `schema=\'app\'` to `op.create_table`, `op.add_column`, `op.create_index` and `op.drop_table`, and set `__table_args__ = {"schema": "app"}` on models.',
      django:
        'Django writes unqualified table names and relies on the connection\'s `search_path`: pin it in the database `OPTIONS` (`"options": "-c search_path=app"`).',
      rails:
        'Pass qualified names: `create_table "app.orders"`, `add_column "app.orders", …`; `schema_search_path` in `database.yml` decides the rest.',
    },
  },
  examples: [
    { bad: 'CREATE TABLE my_table (id int);' },
    { bad: 'CREATE TABLE my_table AS SELECT 1;' },
    { bad: 'ALTER TABLE my_table ADD COLUMN name text;' },
    { bad: 'DROP TABLE my_table;' },
    { bad: 'CREATE INDEX CONCURRENTLY my_table_name_idx ON my_table (name);' },
    {
      ok: 'CREATE TABLE app.my_table (id int);\nALTER TABLE app.my_table ADD COLUMN name text;\nCREATE INDEX CONCURRENTLY my_table_name_idx ON app.my_table (name);\nDROP TABLE app.my_table;',
    },
    {
      title: 'a table listed in allowUnqualified may follow search_path',
      options: { allowUnqualified: ['settings'] },
      ok: 'ALTER TABLE settings ADD COLUMN theme text;',
    },
    {
      title: 'tables not listed in allowUnqualified are still reported',
      options: { allowUnqualified: ['settings'] },
      bad: 'ALTER TABLE settings ADD COLUMN theme text;\nDROP TABLE orders;',
    },
    {
      title: 'temporary tables are not schema-qualified',
      ok: 'CREATE TEMP TABLE temp_mapping_table AS SELECT 1;',
    },
  ],
  check(facts, ctx) {
    const n = facts.statement.node;
    const found: { name: string; location?: number }[] = [];
    const rangeVar = (rv: RangeVar | undefined) => {
      if (!rv?.relname || rv.schemaname || rv.relpersistence === 't') return;
      found.push({ name: rv.relname, location: typeof rv.location === 'number' ? rv.location : undefined });
    };
    switch (facts.statement.kind) {
      case 'CreateStmt':
        rangeVar(asNode(n, 'CreateStmt')?.relation);
        break;
      case 'CreateTableAsStmt':
        if (asNode(n, 'CreateTableAsStmt')?.objtype === 'OBJECT_TABLE')
          rangeVar(asNode(n, 'CreateTableAsStmt')?.into?.rel);
        break;
      case 'AlterTableStmt':
        if (asNode(n, 'AlterTableStmt')?.objtype === 'OBJECT_TABLE')
          rangeVar(asNode(n, 'AlterTableStmt')?.relation);
        break;
      case 'IndexStmt':
        rangeVar(asNode(n, 'IndexStmt')?.relation);
        break;
      case 'DropStmt': {
        const drop = asNode(n, 'DropStmt');
        if (drop?.removeType !== 'OBJECT_TABLE') break;
        for (const obj of drop.objects ?? []) {
          const list = names(asNode(obj, 'List')?.items);
          if (list.length === 1) found.push({ name: list[0]! });
        }
        break;
      }
    }
    for (const f of found) {
      if (ctx.options.allowUnqualified.includes(f.name)) continue;
      ctx.report({
        statement: facts,
        location: f.location,
        message: `Table ${quoteIdent(f.name)} is not schema-qualified: which table this is depends on the search_path the migration runs with.`,
        help: `Write the schema: schema.${quoteIdent(f.name)}.`,
      });
    }
  },
});
