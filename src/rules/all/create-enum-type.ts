import type { AnyNode } from '../../analyze/ast.js';
import { names } from '../../analyze/ast.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'create-enum-type',
  equivalents: { eugene: ['W13'] },
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
    const stmt = (facts.statement.node as AnyNode).CreateEnumStmt;
    if (!stmt) return;
    const name = names(stmt.typeName).join('.');
    ctx.report({
      statement: facts,
      message: `Enum type ${name} cannot lose a value or reorder its values later without a new type and a rewrite of every table that uses it.`,
      help: 'Consider a lookup table with a foreign key, or a text column with a CHECK constraint, which can change without rewriting tables.',
    });
  },
});
