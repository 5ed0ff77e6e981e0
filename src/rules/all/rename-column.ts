import type { StatementFacts } from '../../analyze/analyze.js';
import type { RelationRef } from '../../analyze/ast.js';
import { statementOf } from '../../analyze/nodes.js';
import type { PlanProposal } from '../../diagnostics.js';
import { defineRule } from '../define.js';
import { backfillStep } from '../recipes.js';
import { deparse, quoteIdent } from '../sql.js';

export default defineRule({
  id: 'rename-column',
  equivalents: {
    squawk: ['renaming-column'],
    strongMigrations: ['rename_column'],
  },
  hazard: 'breaks-clients',
  verdict: 'alternative',
  plan: 'expand/contract, only with `--unsafe` and where the earlier migrations give the column’s type: the new column is added; after a deploy that writes both columns it is backfilled from the old one in committed batches; after a deploy that reads only the new one the old column is dropped. Unsafe: the new column gets the type, not the default, NOT NULL, constraints, indexes, privileges or position of the old one.',
  summary:
    'Renaming a column breaks every running client that still uses the old name; add, sync and switch instead.',
  on: ['RenameStmt'],
  docs: {
    problem: `\`ALTER TABLE … RENAME COLUMN\` needs only a brief ACCESS EXCLUSIVE lock, but once it commits every query
of the running application that names the old column fails (*column does not exist*) — and ORMs that list every
column in their SELECTs and INSERTs fail on all queries of the table. Old and new application code always overlap
during a deploy, so there is no moment at which the rename is safe for both.`,
    solution: `Treat a rename as adding a column, then removing one (expand / contract), with the two kept in sync in
between:

1. add the new column (nullable, no default);
2. keep both columns equal on every write — a trigger, or writing both from the application;
3. backfill the new column from the old one in batches;
4. deploy code that reads and writes only the new column;
5. drop the trigger and the old column.

\`\`\`sql
ALTER TABLE users ADD COLUMN full_name text;
CREATE FUNCTION users_sync_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.full_name := coalesce(NEW.full_name, NEW.name);
    NEW.name := coalesce(NEW.name, NEW.full_name);
  ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
    NEW.full_name := NEW.name;
  ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
    NEW.name := NEW.full_name;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_sync_full_name BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_sync_full_name();
-- backfill, one short transaction per key range:
UPDATE users SET full_name = name WHERE id >= 0 AND id < 1000 AND full_name IS DISTINCT FROM name;
-- after the deploy that only uses full_name:
DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION users_sync_full_name();
ALTER TABLE users DROP COLUMN name;
\`\`\`

If only the name in the code should change, rename the field in the ORM and keep the column's name.`,
    tools: {
      prisma: 'Rename the field and keep the column with `@map("old_name")`: Prisma generates no SQL.',
      drizzle: 'Rename the TypeScript property and keep the column name string: `fullName: text("name")`.',
      typeorm: 'Rename the property and keep `@Column({ name: "old_name" })`.',
      sequelize: 'Rename the attribute and keep `field: "old_name"`.',
      django:
        'Rename the field with `db_column="old_name"` (no SQL), or follow the steps above with `RunPython` for the backfill.',
      rails:
        '`alias_attribute :new_name, :old_name` renames in code only; for the column itself follow the steps above and list the old column in `ignored_columns` before dropping it.',
      alembic:
        'Follow the steps above: `op.add_column`, an `op.execute` for the trigger, a batched backfill, then `op.drop_column` in a later migration.',
    },
  },
  examples: [
    { bad: 'ALTER TABLE "table_name" RENAME COLUMN "column_name" TO "new_column_name";' },
    { bad: 'ALTER TABLE users RENAME name TO full_name;', runner: 'prisma' },
    {
      title: 'the earlier migrations give the column’s type: `pgkeel fix --unsafe` plans expand/contract',
      bad: 'ALTER TABLE users RENAME COLUMN name TO full_name;',
      setup: 'CREATE TABLE users (id bigint PRIMARY KEY, name text);',
    },
    {
      title: 'a table created in the same migration has no clients yet',
      ok: 'CREATE TABLE users (name text);\nALTER TABLE users RENAME COLUMN name TO full_name;',
    },
    {
      title: 'neither has a column added earlier in the same migration',
      ok: 'ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE users RENAME COLUMN nick TO nickname;',
    },
    {
      title: 'renaming a constraint does not affect queries',
      ok: 'ALTER TABLE users RENAME CONSTRAINT a TO b;',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'rename-column') continue;
      const table = action.relations.table!;
      if (facts.isNew(table) || !action.column) continue;
      // a column this migration added has no readers yet
      if (facts.isNewColumn(table, action.column)) continue;
      const from = quoteIdent(action.column);
      const to = quoteIdent(statementOf(facts, 'RenameStmt')?.newname ?? '');
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Renaming ${table.display}.${from} to ${to} breaks every running client that still uses ${from}: its queries fail until it is redeployed.`,
        help: `Add ${to} as a new column, keep it in sync with ${from} (trigger or dual writes), backfill it in batches, switch the code to ${to}, then drop ${from}. Or rename the field in the ORM only and keep the column.`,
        plan: () => expandContract(facts, table, action.column!),
      });
    }
  },
});

/** Add the new column, backfill it after the dual-write deploy, drop the old one after the switch. */
function expandContract(facts: StatementFacts, table: RelationRef, column: string): PlanProposal | undefined {
  const newName = statementOf(facts, 'RenameStmt')?.newname;
  const typeName = facts.state.columnTypes.get(table.key)?.get(column);
  if (!newName || !typeName || facts.statement.embeddedIn) return undefined;
  const rename = statementOf(facts, 'RenameStmt')!;
  const add = deparse({
    AlterTableStmt: {
      relation: rename.relation,
      objtype: 'OBJECT_TABLE',
      cmds: [
        { AlterTableCmd: { subtype: 'AT_AddColumn', def: { ColumnDef: { colname: newName, typeName } } } },
      ],
    },
  });
  const from = quoteIdent(column);
  const to = quoteIdent(newName);
  return {
    title: `Add ${to}, backfill it while the application writes both, switch reads, drop ${from}`,
    // the new column is not the old one renamed: its default, constraints and indexes are not carried
    safety: 'unsafe',
    steps: [
      { sql: add },
      {
        sql: backfillStep(table, newName, from),
        batches: true,
        deployBefore: `the application writes both ${from} and ${to} on every insert and update.`,
      },
      {
        sql: `ALTER TABLE ${table.display} DROP COLUMN ${from}`,
        deployBefore: `the application reads ${to} and no longer uses ${from}.`,
      },
    ],
  };
}
