import { names } from '../../analyze/ast.js';
import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'create-enum-type',
  equivalents: { eugene: ['W13'] },
  hazard: 'schema-design',
  verdict: 'safe',
  recommended: false,
  summary:
    'An enum type is hard to change later: values cannot be removed, and reordering needs a new type and a table rewrite.',
  on: ['CreateEnumStmt'],
  docs: {
    problem: `\`CREATE TYPE … AS ENUM\` itself is harmless, but the type is hard to evolve. \`ALTER TYPE … ADD VALUE\` and
\`RENAME VALUE\` exist, but a value cannot be removed, and the order of values (which ORDER BY and comparisons use) is
fixed when they are added. Removing a value means creating a new type and converting every column that uses it
with \`ALTER COLUMN … TYPE … USING\`, which rewrites each of those tables under ACCESS EXCLUSIVE. Extra data about
a value (a label, whether it is still in use) has nowhere to go.`,
    solution: `Use a lookup table and a foreign key, or a \`text\` column with a CHECK constraint; both can change
without rewriting the tables that use them.

\`\`\`sql
CREATE TABLE document_types (name text PRIMARY KEY);
INSERT INTO document_types VALUES ('invoice'), ('receipt'), ('other');
CREATE TABLE documents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL REFERENCES document_types (name)
);

-- or, for a short list that rarely changes:
CREATE TABLE documents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL CONSTRAINT documents_type_check CHECK (type IN ('invoice', 'receipt', 'other'))
);
\`\`\`

A CHECK is changed by adding the new one \`NOT VALID\`, validating it, and dropping the old one — no rewrite.`,
    tools: {
      prisma:
        'An `enum` in the schema is a Postgres enum type: use a `String` field (with a CHECK added in `migration.sql`) or a relation to a lookup model.',
      drizzle:
        '`pgEnum()` creates an enum type: use `text()` with a `check()` constraint, or a lookup table.',
      knex: "`table.enu('type', [...])` already makes a text column with a CHECK; `{ useNative: true, enumName }` is what creates an enum type.",
      typeorm:
        "`@Column({ type: 'enum', enum: … })` creates an enum type: use `type: 'text'` with a `@Check(…)` on the entity, or a relation to a lookup entity.",
      sequelize:
        "`DataTypes.ENUM(...)` creates an enum type: use `DataTypes.TEXT` with a CHECK constraint (`queryInterface.addConstraint(table, { type: 'check', … })`) or a lookup table.",
      'node-pg-migrate':
        "`pgm.createType(name, values)` creates an enum: use a `text` column with `check: \"type IN ('invoice', 'receipt')\"`, or a lookup table and `references`.",
      alembic:
        '`sa.Enum(...)` creates an enum type on Postgres: `sa.Enum(..., native_enum=False, create_constraint=True)` makes a VARCHAR with a CHECK instead.',
      django:
        '`choices` creates no database type; add a `CheckConstraint` if the database must enforce the list.',
      rails:
        '`create_enum` / `t.enum` create an enum type: use a string column with `add_check_constraint` (or a lookup table); Rails’ `enum` attribute works with either.',
    },
  },
  examples: [
    { bad: "CREATE TYPE document_type AS ENUM ('invoice', 'receipt', 'other');" },
    {
      title: 'a lookup table instead',
      ok: "CREATE TABLE document_types (name text PRIMARY KEY);\nINSERT INTO document_types VALUES ('invoice'), ('receipt');",
    },
    { title: 'adding a value to an existing enum', ok: "ALTER TYPE document_type ADD VALUE 'memo';" },
  ],
  check(facts, ctx) {
    const stmt = statementOf(facts, 'CreateEnumStmt');
    if (!stmt) return;
    const name = names(stmt.typeName).join('.');
    ctx.report({
      statement: facts,
      message: `Enum type ${name} cannot lose a value or reorder its values later without a new type and a rewrite of every table that uses it.`,
      help: 'Consider a lookup table with a foreign key, or a text column with a CHECK constraint, which can change without rewriting tables.',
    });
  },
});
