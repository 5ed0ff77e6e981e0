import type { ObjectType, RangeVar } from '@pgsql/types';
import type { StatementFacts } from '../../analyze/analyze.js';
import { relationRef } from '../../analyze/ast.js';
import { alterCmds, columnDefOf, constraintOf, statementOf } from '../../analyze/nodes.js';
import type { Fix } from '../../diagnostics.js';
import type { RuleContext } from '../define.js';
import { defineRule } from '../define.js';

/** renames Postgres cannot repeat: the old name is gone */
const RENAMES_NOT_REPEATABLE = new Set<ObjectType | undefined>([
  'OBJECT_TABLE',
  'OBJECT_COLUMN',
  'OBJECT_TABCONSTRAINT',
  'OBJECT_INDEX',
]);

const DROP_KINDS: Record<string, string> = {
  OBJECT_TABLE: 'table',
  OBJECT_INDEX: 'index(?:\\s+concurrently)?',
  OBJECT_TYPE: 'type',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized\\s+view',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_DOMAIN: 'domain',
  OBJECT_SCHEMA: 'schema',
  OBJECT_EXTENSION: 'extension',
  OBJECT_TRIGGER: 'trigger',
  OBJECT_FOREIGN_TABLE: 'foreign\\s+table',
};

/** Insert `text` after the first match of `re` in the statement (a keyword prefix). */
function insertAfter(facts: StatementFacts, re: RegExp, text: string, title: string): Fix | undefined {
  const m = re.exec(facts.statement.text);
  if (!m) return undefined;
  const at = facts.statement.start + m.index + m[0].length;
  return { title, edits: [{ start: at, end: at, text }] };
}

export default defineRule({
  id: 'prefer-robust-statements',
  equivalents: {
    squawk: ['prefer-robust-stmts'],
  },
  // a migration that failed halfway cannot be run again as written
  hazard: 'fails-deploy',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'IF EXISTS / IF NOT EXISTS turn an error into a silent skip: an existing object with another definition is kept without notice.',
  },
  severity: 'warning',
  severityReason: 'Only a re-run after a failure halfway fails; a migration that runs through is unaffected.',
  recommended: false,
  summary:
    'Outside a transaction, write CREATE … IF NOT EXISTS and DROP … IF EXISTS so that a migration that failed halfway can be run again.',
  docs: {
    problem: `A migration whose statements run outside a transaction (one that needs \`CREATE INDEX CONCURRENTLY\`,
a runner that does not wrap migrations, a script without \`BEGIN\`) commits each statement on its own. If it fails
at the fourth statement, the first three stay applied while the migration is not recorded as done; running it again
then fails at the first statement — *relation already exists*, *column does not exist* — and someone has to repair
the database by hand during the deploy.

Inside a transaction none of this applies: a failure rolls everything back, so the rule stays silent there, and on
a file of a single statement, which is atomic on its own. Statements Postgres can repeat without error
(\`SET NOT NULL\`, \`SET DEFAULT\`, \`ENABLE ROW LEVEL SECURITY\`, \`VALIDATE CONSTRAINT\`, …) are not reported.`,
    solution: `Make each statement succeed when its work is already done:

\`\`\`sql
CREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY, body text);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
ALTER TABLE orders DROP COLUMN IF EXISTS legacy;
-- there is no ADD CONSTRAINT IF NOT EXISTS: drop it first
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_note_check;
ALTER TABLE orders ADD CONSTRAINT orders_note_check CHECK (length(note) < 1000) NOT VALID;
-- an interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would keep: drop it first
DROP INDEX CONCURRENTLY IF EXISTS orders_note_idx;
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
\`\`\`

Renames have no IF EXISTS form: run them inside a transaction.`,
    tools: {
      knex: 'In a migration exporting `config = { transaction: false }`, guard steps with `knex.schema.hasTable()` / `hasColumn()` and use `dropTableIfExists()`.',
      typeorm:
        'In a migration with `transaction = false`, use `queryRunner.createTable(table, true)` and `queryRunner.dropTable(name, true)` (the if-(not-)exists flags), and IF (NOT) EXISTS in `queryRunner.query()` SQL.',
      sequelize:
        'Migrations run without a transaction, so every multi-statement migration is exposed. `createTable` already writes `CREATE TABLE IF NOT EXISTS`; for the other steps, wrap the migration in `queryInterface.sequelize.transaction()` (passing `{ transaction }` to each call) so that a failure rolls it all back.',
      'node-pg-migrate':
        'Under `pgm.noTransaction()` pass `ifNotExists: true` to `createTable`, `addColumns` and `createIndex`, and `ifExists: true` to `dropTable`, `dropColumns`, `dropIndex` and `dropConstraint`.',
      alembic:
        'Inside `autocommit_block()`, use `op.create_index(..., postgresql_concurrently=True, if_not_exists=True)` and `op.drop_index(..., if_exists=True)` (recent Alembic versions), or IF (NOT) EXISTS in `op.execute()` SQL.',
      django:
        "In a migration with `atomic = False`, Django's operations have no IF NOT EXISTS: keep such a migration to one operation, or use `RunSQL` with IF (NOT) EXISTS statements.",
      rails:
        'Under `disable_ddl_transaction!`, pass `if_not_exists: true` to `add_index` / `add_column` and `if_exists: true` to `remove_index` (Rails 6.1+).',
    },
  },
  examples: [
    {
      bad: 'SELECT 1;\nALTER TABLE "core_foo" ADD COLUMN "answer_id" integer NULL;',
      fixed: 'SELECT 1;\nALTER TABLE "core_foo" ADD COLUMN IF NOT EXISTS "answer_id" integer NULL;',
    },
    {
      bad: 'CREATE TABLE notes (id bigint);\nDROP TABLE old_notes;',
      fixed: 'CREATE TABLE IF NOT EXISTS notes (id bigint);\nDROP TABLE IF EXISTS old_notes;',
    },
    {
      bad: 'create index idx on items (col);\nDROP INDEX CONCURRENTLY idx2;\ndrop type t;',
      fixed:
        'create index IF NOT EXISTS idx on items (col);\nDROP INDEX CONCURRENTLY IF EXISTS idx2;\ndrop type IF EXISTS t;',
    },
    {
      bad: 'alter table t drop column c;\nALTER TABLE users DROP CONSTRAINT users_email_key;',
      fixed:
        'alter table t drop column IF EXISTS c;\nALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key;',
    },
    {
      title: 'IF NOT EXISTS would keep the INVALID index an interrupted build leaves, so no fix is offered',
      bad: "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);",
    },
    {
      title: 'a constraint added a second time after one DROP … IF EXISTS',
      bad: 'ALTER TABLE "app_email" DROP CONSTRAINT IF EXISTS "email_uniq";\nALTER TABLE "app_email" ADD CONSTRAINT "email_uniq" UNIQUE USING INDEX "email_idx";\nALTER TABLE "app_email" ADD CONSTRAINT "email_uniq" UNIQUE USING INDEX "email_idx";',
      // run again, ADD CONSTRAINT … USING INDEX finds no index: the first run renamed it to the
      // constraint's name
      refuses: /index "email_idx" does not exist/,
    },
    {
      title: 'renames cannot be repeated',
      bad: 'SELECT 1;\nALTER TABLE users RENAME COLUMN name TO full_name;',
    },
    {
      bad: "SELECT 1;\nALTER TYPE mood ADD VALUE 'meh';",
      fixed: "SELECT 1;\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh';",
    },
    { ok: 'BEGIN;\nALTER TABLE "core_foo" ADD COLUMN "answer_id" integer NULL;\nCOMMIT;' },
    {
      title: 'the runner’s transaction makes the file atomic',
      ok: 'DROP INDEX "core_bar_foo_id_idx";\nDROP TABLE "core_bar";\nDROP TYPE foo;',
      runner: 'transaction-per-file',
    },
    { title: 'one statement is atomic on its own', ok: 'CREATE TABLE notes (id bigint);' },
    { ok: 'SELECT 1;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "core_foo_idx" ON "core_foo" ("answer_id");' },
    {
      title: 'an unnamed index cannot say IF NOT EXISTS',
      ok: 'SELECT 1;\nCREATE INDEX CONCURRENTLY ON t (c);',
    },
    { ok: 'SELECT 1;\nCREATE TEMP TABLE scratch (id int) ON COMMIT DROP;' },
    {
      ok: 'ALTER TABLE "app_email" DROP CONSTRAINT IF EXISTS "email_uniq";\nALTER TABLE "app_email" ADD CONSTRAINT "email_uniq" UNIQUE USING INDEX "email_idx";',
    },
    {
      ok: 'DROP INDEX CONCURRENTLY IF EXISTS orders_note_idx;\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);',
    },
    {
      title: 'statements Postgres can repeat',
      ok: 'SELECT 1;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;\nALTER TABLE t ENABLE ROW LEVEL SECURITY;',
    },
  ],
  create(ctx) {
    /** `table|constraint` → dropped with IF EXISTS and not re-added yet */
    const droppedConstraints = new Set<string>();
    /** indexes dropped with IF EXISTS earlier in the file */
    const droppedIndexes = new Set<string>();
    return {
      statement(facts) {
        if (facts.transaction || ctx.file.statementCount < 2) {
          remember(facts, droppedConstraints, droppedIndexes);
          return;
        }
        check(facts, ctx, droppedConstraints, droppedIndexes);
        remember(facts, droppedConstraints, droppedIndexes);
      },
    };
  },
});

function remember(facts: StatementFacts, constraints: Set<string>, indexes: Set<string>): void {
  const schema = facts.state.defaultSchema;
  const drop = statementOf(facts, 'DropStmt');
  if (drop?.removeType === 'OBJECT_INDEX' && drop.missing_ok) {
    for (const a of facts.actions) if (a.relations.index) indexes.add(a.relations.index.key);
  }
  const alter = statementOf(facts, 'AlterTableStmt');
  const table = alter && relationRef(alter.relation, schema);
  if (!table) return;
  for (const cmd of alterCmds(alter)) {
    if (cmd.subtype === 'AT_DropConstraint' && cmd.missing_ok) constraints.add(`${table.key}|${cmd.name}`);
  }
}

function check(
  facts: StatementFacts,
  ctx: RuleContext,
  constraints: Set<string>,
  indexes: Set<string>,
): void {
  const schema = facts.state.defaultSchema;
  const ifNotExists =
    'Missing IF NOT EXISTS: if the migration fails after this statement, running it again fails here.';
  const ifExists =
    'Missing IF EXISTS: if the migration fails after this statement, running it again fails here.';
  const report = (message: string, fix: Fix | undefined, help?: string, location?: number) =>
    ctx.report({
      statement: facts,
      location,
      message,
      help:
        help ??
        'Make the statement succeed when its work is already done, or run the migration in a transaction.',
      fix,
    });
  switch (facts.statement.kind) {
    case 'CreateStmt': {
      const s = statementOf(facts, 'CreateStmt');
      if (!s) return;
      if (s.if_not_exists) return;
      if (s.relation?.relpersistence === 't' && s.oncommit === 'ONCOMMIT_DROP') return;
      const fix = insertAfter(
        facts,
        /^\s*create\s+(?:(?:global|local)\s+)?(?:(?:temp|temporary|unlogged)\s+)?table/i,
        ' IF NOT EXISTS',
        'Create the table IF NOT EXISTS',
      );
      report(ifNotExists, fix);
      return;
    }
    case 'IndexStmt': {
      const s = statementOf(facts, 'IndexStmt');
      if (!s) return;
      if (s.if_not_exists || !s.idxname) return;
      const index = relationRef({ schemaname: s.relation?.schemaname, relname: s.idxname }, schema);
      if (index && indexes.has(index.key)) return;
      if (s.concurrent) {
        report(
          ifNotExists,
          undefined,
          'Drop a leftover first: DROP INDEX CONCURRENTLY IF EXISTS before it. An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index, which IF NOT EXISTS would silently keep.',
        );
        return;
      }
      const fix = insertAfter(
        facts,
        /^\s*create\s+(?:unique\s+)?index\s+/i,
        'IF NOT EXISTS ',
        'Create the index IF NOT EXISTS',
      );
      report(ifNotExists, fix);
      return;
    }
    case 'CreateSeqStmt':
    case 'CreateSchemaStmt':
    case 'CreateExtensionStmt': {
      const s =
        statementOf(facts, 'CreateSeqStmt') ??
        statementOf(facts, 'CreateSchemaStmt') ??
        statementOf(facts, 'CreateExtensionStmt');
      if (!s || s.if_not_exists) return;
      const word = {
        CreateSeqStmt: 'sequence',
        CreateSchemaStmt: 'schema',
        CreateExtensionStmt: 'extension',
      }[facts.statement.kind as 'CreateSeqStmt'];
      const re = new RegExp(`^\\s*create\\s+(?:(?:temp|temporary|unlogged)\\s+)?${word}`, 'i');
      report(ifNotExists, insertAfter(facts, re, ' IF NOT EXISTS', `Create the ${word} IF NOT EXISTS`));
      return;
    }
    case 'DropStmt': {
      const s = statementOf(facts, 'DropStmt');
      if (!s) return;
      const kind = DROP_KINDS[s.removeType ?? ''];
      if (s.missing_ok || !kind) return;
      const re = new RegExp(`^\\s*drop\\s+${kind}`, 'i');
      report(ifExists, insertAfter(facts, re, ' IF EXISTS', 'Drop it IF EXISTS'));
      return;
    }
    case 'AlterEnumStmt': {
      const s = statementOf(facts, 'AlterEnumStmt');
      if (!s) return;
      if (s.newVal === undefined || s.oldVal !== undefined || s.skipIfNewValExists) return;
      report(
        ifNotExists,
        insertAfter(facts, /\badd\s+value/i, ' IF NOT EXISTS', 'Add the value IF NOT EXISTS'),
      );
      return;
    }
    case 'RenameStmt': {
      const s = statementOf(facts, 'RenameStmt');
      if (!s) return;
      if (!RENAMES_NOT_REPEATABLE.has(s.renameType)) return;
      report(
        'A rename cannot be repeated: if the migration fails after this statement, running it again fails here (the old name no longer exists).',
        undefined,
        'Run the migration inside a transaction, so that a failure undoes the rename too.',
      );
      return;
    }
    case 'AlterTableStmt': {
      const s = statementOf(facts, 'AlterTableStmt');
      if (!s) return;
      const table = relationRef(s.relation, schema);
      if (!table) return;
      const cmds = alterCmds(s);
      for (const cmd of cmds) {
        if (cmd.subtype === 'AT_AddColumn') {
          const col = columnDefOf(cmd);
          if (cmd.missing_ok || !col) continue;
          const at =
            typeof col.location === 'number' ? ctx.file.offsetOf(facts.statement, col.location) : undefined;
          const fix: Fix | undefined =
            at === undefined
              ? undefined
              : {
                  title: 'Add the column IF NOT EXISTS',
                  edits: [{ start: at, end: at, text: 'IF NOT EXISTS ' }],
                };
          report(ifNotExists, fix, undefined, col.location);
        } else if (cmd.subtype === 'AT_DropColumn' || cmd.subtype === 'AT_DropConstraint') {
          if (cmd.subtype === 'AT_DropConstraint') constraints.delete(`${table.key}|${cmd.name}`);
          if (cmd.missing_ok) continue;
          const re = cmd.subtype === 'AT_DropColumn' ? /\bdrop(?:\s+column\b)?/i : /\bdrop\s+constraint\b/i;
          const fix =
            cmds.length === 1
              ? insertAfterRelation(facts, s.relation, re, ' IF EXISTS', 'Drop it IF EXISTS')
              : undefined;
          report(ifExists, fix);
        } else if (cmd.subtype === 'AT_AddConstraint') {
          const name = constraintOf(cmd.def)?.conname;
          const key = `${table.key}|${name}`;
          if (name && constraints.has(key)) {
            constraints.delete(key);
            continue;
          }
          report(
            'ADD CONSTRAINT has no IF NOT EXISTS: if the migration fails after this statement, running it again fails here (the constraint already exists).',
            undefined,
            'Drop it first with ALTER TABLE … DROP CONSTRAINT IF EXISTS, or run the migration in a transaction.',
          );
        }
      }
      return;
    }
  }
}

/** Like insertAfter, but searching only after the table name (which may contain the keyword). */
function insertAfterRelation(
  facts: StatementFacts,
  relation: RangeVar | undefined,
  re: RegExp,
  text: string,
  title: string,
): Fix | undefined {
  const name: string = relation?.relname ?? '';
  const from = facts.statement.text.toLowerCase().indexOf(name.toLowerCase());
  if (from < 0) return undefined;
  const rest = facts.statement.text.slice(from + name.length);
  const m = re.exec(rest);
  if (!m) return undefined;
  const at = facts.statement.start + from + name.length + m.index + m[0].length;
  return { title, edits: [{ start: at, end: at, text }] };
}
