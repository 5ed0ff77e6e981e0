import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';
import { columnLabel, replaceTypeFix, writtenColumnTypes } from './prefer-text-over-char.js';

export default defineRule({
  id: 'prefer-text-over-varchar',
  equivalents: { squawk: ['prefer-text-field'] },
  hazard: 'schema-design',
  verdict: 'safe',
  fixSafety: {
    level: 'unsafe',
    why: 'the column loses its length limit.',
  },
  recommended: false,
  summary:
    'A varchar(n) limit can only be tightened with a table rewrite; text with a CHECK constraint evolves without one.',
  on: ['CreateStmt', 'CreateForeignTableStmt', 'AlterTableStmt'],
  docs: {
    problem: `The length limit of \`varchar(n)\` is part of the column's type. Raising it (\`varchar(100)\` →
\`varchar(200)\`, or dropping it) is a catalog-only change since PG 9.2, but it still takes ACCESS EXCLUSIVE
on the table for a moment; **lowering** it, or turning it into any other rule, is a type change that rewrites
the whole table and its indexes under ACCESS EXCLUSIVE (see \`change-column-type\`).

A limit written as a CHECK constraint on a \`text\` column can be replaced without a rewrite: the new
constraint is added \`NOT VALID\` (a brief lock) and validated under SHARE UPDATE EXCLUSIVE, which blocks no reads
or writes. \`text\` and \`varchar\` are stored the same way, so nothing else changes.

This is a preference (opt-in): many schemas use \`varchar(n)\` happily and only ever raise limits.`,
    solution: `Declare the column as \`text\` and put the limit in a CHECK:

\`\`\`sql
CREATE TABLE users (
  email text NOT NULL CHECK (char_length(email) <= 320)
);
\`\`\`

Changing the limit later, without a rewrite and without blocking writes for long:

\`\`\`sql
ALTER TABLE users ADD CONSTRAINT users_email_length CHECK (char_length(email) <= 254) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_length;
ALTER TABLE users DROP CONSTRAINT users_email_check;
\`\`\`

The fix rewrites a \`varchar(n)\` column of a table created in this migration to \`text CHECK (char_length(col) <= n)\`.
It offers nothing on an existing table — a CHECK added along with ADD COLUMN makes Postgres scan the table
under ACCESS EXCLUSIVE — nor for arrays: add the column as \`text\` and the constraint \`NOT VALID\` in two
statements there.`,
    tools: {
      prisma: '`String` is `text`; `@db.VarChar(n)` is what is reported.',
      drizzle:
        "`varchar('email', { length: 320 })` → `text('email')` with a `check()` in the table's extra config.",
      knex: "`table.string('email')` is `varchar(255)`: use `table.text('email')` and add the limit as a CHECK with `knex.raw()`.",
      typeorm:
        "`@Column()` on a string property is `character varying` without a limit (not reported); `length: n` makes it `varchar(n)`: use `type: 'text'` and a `@Check()`.",
      sequelize:
        '`DataTypes.STRING` is `varchar(255)`: use `DataTypes.TEXT` and put the limit in a CHECK constraint (model `validate` rules are not enforced by the database).',
      alembic: '`sa.String(320)` → `sa.Text()` with a `sa.CheckConstraint("char_length(email) <= 320")`.',
      django:
        '`CharField` requires `max_length` and maps to `varchar(n)`; a `TextField` with a `CheckConstraint` (e.g. on `Length("email")` in `Meta.constraints`) is the text form.',
      rails:
        '`t.string` without `limit:` is `varchar` without a limit already (not reported); `t.text` is `text`.',
    },
  },
  examples: [
    {
      bad: 'CREATE TABLE t (c varchar(100) NOT NULL);',
      fixed: 'CREATE TABLE t (c text CHECK (char_length(c) <= 100) NOT NULL);',
    },
    {
      title: 'every spelling',
      bad: 'CREATE TABLE t (a VarChar(255), "B" character varying(10), c pg_catalog.varchar(5));',
      fixed:
        'CREATE TABLE t (a text CHECK (char_length(a) <= 255), "B" text CHECK (char_length("B") <= 10), c text CHECK (char_length(c) <= 5));',
    },
    {
      title: 'on an existing table there is no one-statement fix',
      bad: 'ALTER TABLE "foo_table" ADD COLUMN "foo_column" varchar(256) NULL;',
    },
    {
      title: 'varchar without a limit is text by another name',
      ok: 'CREATE TABLE IF NOT EXISTS foo_table (bar_col varchar, baz text);',
    },
    {
      ok: 'CREATE TABLE core_bar (id bigint, bravo text NOT NULL);\nALTER TABLE core_bar ADD CONSTRAINT text_size CHECK (length(bravo) <= 100);',
    },
  ],
  check(facts, ctx) {
    for (const c of writtenColumnTypes(facts)) {
      if (c.type.name !== 'varchar' || c.type.typmods.length === 0) continue;
      const n = c.type.typmods[0]!;
      const fixable =
        c.type.arrayDims === 0 && (c.where === 'create' || (c.where === 'add' && facts.isNew(c.table)));
      const col = quoteIdent(c.column);
      ctx.report({
        statement: facts,
        location: c.typeName.location,
        message: `${columnLabel(c)} is varchar(${n}): lowering or changing that limit later rewrites the table; a CHECK on a text column can be changed without a rewrite.`,
        help: `Use text with CHECK (char_length(${col}) <= ${n})${c.where === 'create' ? '' : ', added NOT VALID and validated in a separate statement on an existing table'}.`,
        fix: fixable
          ? replaceTypeFix(
              ctx,
              facts,
              c.typeName,
              `text CHECK (char_length(${col}) <= ${n})`,
              'Use text with a CHECK constraint',
            )
          : undefined,
      });
    }
  },
});
