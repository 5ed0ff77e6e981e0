import { names } from '../../analyze/ast.js';
import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';

/** `'it''s'` */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export default defineRule({
  id: 'rename-enum-value',
  equivalents: {
    strongMigrations: ['rename_enum_value'],
  },
  hazard: 'breaks-clients',
  verdict: 'alternative',
  summary:
    'Renaming an enum value breaks every running client that still sends or expects the old label; add the new value and migrate instead.',
  on: ['AlterEnumStmt', 'CreateEnumStmt'],
  docs: {
    problem: `\`ALTER TYPE … RENAME VALUE\` is a quick catalog change, but once it commits every query of the running application
that still uses the old label fails (*invalid input value for enum*) — INSERTs, UPDATEs and WHERE clauses alike — and
code that maps the labels it reads (ORM enums, \`switch\` statements) meets a value it does not know. Stored rows
change label at once, so old and new code cannot both be right during a deploy.`,
    solution: `Expand / contract: add the new label, make the code accept both, move the rows, then stop using the old label.

\`\`\`sql
ALTER TYPE order_status ADD VALUE 'cancelled';  -- commit before using it
-- deploy code that reads both labels and writes 'cancelled'; then, in batches:
UPDATE orders SET status = 'cancelled'
WHERE id IN (SELECT id FROM orders WHERE status = 'canceled' LIMIT 10000);
\`\`\`

Postgres cannot drop an enum value: the old label stays in the type, unused. If that matters, store the labels as
\`text\` with a CHECK constraint (or in a lookup table) instead of an enum.`,
    tools: {
      prisma:
        'Prisma does not detect renames: a renamed enum member becomes a recreated type (`…_new`, `ALTER COLUMN … TYPE … USING`, drop the old), which rewrites the table and fails on rows holding the old label. Add the new member instead; to rename only in code, keep the stored label with `@map("canceled")` on the member.',
      drizzle:
        'When a value disappears from a `pgEnum` array, drizzle-kit casts the columns to `text`, recreates the type and casts back, rewriting those tables: add the new value to the array and keep the old one.',
      typeorm:
        'Changing an `enum` makes `migration:generate` recreate the type (`…_old`, new type, `USING col::text::…`), rewriting the table: add the value with `queryRunner.query("ALTER TYPE … ADD VALUE …")`; to rename only in code, keep the stored string as the TypeScript enum member\'s value.',
      'node-pg-migrate':
        '`pgm.renameTypeValue()` generates this statement: add the new label with `pgm.addTypeValue()` (in a `pgm.noTransaction()` migration) and move the rows instead.',
      rails:
        "`rename_enum_value` (Rails 7.1+) generates this statement. Add the value with `add_enum_value`, update the model's `enum` mapping to accept both, and backfill with `update_all` in batches.",
    },
  },
  examples: [
    { bad: "ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';" },
    {
      title: 'a type created in the same migration has no clients yet',
      ok: "CREATE TYPE mood AS ENUM ('sad', 'happy');\nALTER TYPE mood RENAME VALUE 'sad' TO 'blue';",
    },
    { ok: "ALTER TYPE order_status ADD VALUE 'cancelled';" },
  ],
  create(ctx) {
    const created = new Set<string>();
    return {
      statement(facts) {
        const create = statementOf(facts, 'CreateEnumStmt');
        if (create) {
          created.add(names(create.typeName).join('.'));
          return;
        }
        const s = statementOf(facts, 'AlterEnumStmt');
        if (!s || s.oldVal === undefined || s.newVal === undefined) return;
        const type = names(s.typeName);
        if (created.has(type.join('.'))) return;
        const from = literal(String(s.oldVal));
        const to = literal(String(s.newVal));
        ctx.report({
          statement: facts,
          message: `Renaming ${from} to ${to} in enum ${type.map(quoteIdent).join('.')} breaks every running client that still sends or expects ${from}, until it is redeployed.`,
          help: `ADD VALUE ${to} instead, deploy code that accepts both labels and writes ${to}, then update the rows in batches.`,
        });
      },
    };
  },
});
