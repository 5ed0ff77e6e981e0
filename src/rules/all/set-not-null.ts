import type { StatementFacts } from '../../analyze/analyze.js';
import type { RelationRef } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { statementOf } from '../../analyze/nodes.js';
import { operationFacts } from '../../catalog/operations.js';
import type { Fix, PlanProposal } from '../../diagnostics.js';
import { defineRule, lockOn, replaceStatement } from '../define.js';
import { notNullSteps } from '../recipes.js';
import { lockClause, quoteIdent } from '../sql.js';

export default defineRule({
  id: 'set-not-null',
  equivalents: {
    squawk: ['adding-not-nullable-field'],
    eugene: ['E2'],
    strongMigrations: ['change_column_null_postgresql', 'change_column_with_not_null', 'change_column_null'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'a CHECK (col IS NOT NULL) is added NOT VALID, validated, used by SET NOT NULL and dropped: the same NOT NULL column results (PG 12+). Where only NOT VALID is appended, the fix is unsafe.',
  },
  plan: 'SET NOT NULL becomes its fix (a NOT NULL constraint added NOT VALID, PG 18; a validated CHECK, PG 12–17), each VALIDATE in a later transaction than its ADD; ADD CONSTRAINT … NOT NULL (PG 18) is added NOT VALID and validated in a later transaction: the same validated NOT NULL results. On PG 11 the plan keeps SET NOT NULL and says it still scans.',
  summary:
    'SET NOT NULL reads the whole table under ACCESS EXCLUSIVE unless a validated constraint already proves it.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ALTER COLUMN … SET NOT NULL\` takes ACCESS EXCLUSIVE on the table and, holding it, reads
every row to make sure none is NULL. Nothing — not even a SELECT — gets through until the scan ends. On PG 18,
\`ADD CONSTRAINT … NOT NULL col\` without \`NOT VALID\` does the same.

Since PG 12 the scan is skipped when a **validated** \`CHECK (col IS NOT NULL)\` constraint already exists on the
table; before PG 12 such a constraint does not help.`,
    solution: `Prove the column has no NULLs without the long lock first; the right steps depend on the Postgres
version. Each VALIDATE must run in a later transaction than the ADD that precedes it.

**PG 18** — NOT NULL constraints can be added \`NOT VALID\` and validated later:

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email NOT VALID;  -- brief; new rows are checked
-- next transaction: reads and writes go on (SHARE UPDATE EXCLUSIVE)
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
\`\`\`

**PG 12 – 17** — let a validated CHECK constraint stand in as the proof, then swap it for the real thing:

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
-- next transaction:
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
-- next transaction: no scan, the CHECK proves it
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
\`\`\`

**PG 11** — \`SET NOT NULL\` always scans. The only non-blocking option is to keep the \`CHECK (email IS NOT NULL)\`
constraint (added \`NOT VALID\`, then validated) instead of marking the column NOT NULL. It enforces the same rule,
though the catalog, ORMs and the planner do not see the column as NOT NULL. Switch to \`SET NOT NULL\` after upgrading.

Backfill the NULLs (in batches, see \`unbatched-data-migration\`) before validating, or validation fails. A single
\`UPDATE t SET col = … WHERE col IS NULL\` right before \`SET NOT NULL\` — what Rails' \`change_column_null\` with a
default value runs — does both slow things at once. Changing the column's type and adding NOT NULL in one
\`ALTER TABLE\` (Rails' \`change_column … null: false\`) still scans for the NOT NULL part, even when the type change
itself is free.`,
    tools: {
      prisma:
        'Changing a field from optional to required generates `SET NOT NULL`: edit `migration.sql` into the steps above, each VALIDATE in its own migration (Prisma runs a file as one transaction).',
      knex: '`table.dropNullable()` / `.notNullable().alter()` emit SET NOT NULL: write the steps with `knex.raw()` across two migrations instead, the second with `config = { transaction: false }` exported from it (`migrate:latest` runs all pending migrations in one transaction).',
      alembic:
        '`op.alter_column(..., nullable=False)` emits SET NOT NULL: use `op.execute()` for the steps, with the VALIDATE in the next revision, with `transaction_per_migration=True` in `context.configure()` (by default all pending revisions share one transaction).',
      django:
        'Changing `null=True` to `null=False` emits SET NOT NULL: use `SeparateDatabaseAndState` with `RunSQL` for the steps above.',
      rails: `\`add_check_constraint :users, "email IS NOT NULL", name: "users_email_null", validate: false\`; in the next
migration \`validate_check_constraint\`, then \`change_column_null :users, :email, false\` and \`remove_check_constraint\`.
Do not pass a default to \`change_column_null\` (it fills the NULLs with one UPDATE): backfill in batches first. Keep
\`null: false\` out of \`change_column\` too.`,
      sequelize: `\`queryInterface.changeColumn(table, column, { type, allowNull: false })\` emits SET NOT NULL, and
\`addConstraint(…, { type: 'check' })\` always validates: run the steps above with \`queryInterface.sequelize.query()\`,
the VALIDATE in a later migration.`,
      'node-pg-migrate': `\`pgm.alterColumn(table, column, { notNull: true })\` emits SET NOT NULL: use
\`pgm.addConstraint('users', 'users_email_not_null', 'CHECK (email IS NOT NULL) NOT VALID')\` (a string is used as is),
then \`pgm.sql('ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null')\` and the SET NOT NULL in a later migration that calls
\`pgm.noTransaction()\` (all pending migrations share one transaction by default).`,
      typeorm:
        "Making a column non-nullable generates `ALTER COLUMN … SET NOT NULL`: replace it with the steps above in `queryRunner.query()` calls, the VALIDATE in a later migration, run with `migrationsTransactionMode: 'each'` (the default `all` shares one transaction).",
      drizzle:
        'Adding `.notNull()` generates `SET NOT NULL`: edit the generated SQL into the steps above, with the VALIDATE in the next migration, applied in a later `drizzle-kit migrate` run (one run applies all pending migrations in one transaction).',
    },
  },
  examples: [
    {
      title: 'the CHECK-constraint sequence, each statement committing on its own',
      bad: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      fixed:
        'ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_email_not_null;',
      pg: { min: 12, max: 17 },
    },
    {
      title: 'a NOT NULL constraint added NOT VALID, then validated',
      bad: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      fixed:
        'ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;',
      pg: { min: 18 },
    },
    {
      title: 'before PG 12 no equivalent rewrite exists, so no fix is offered',
      bad: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      pg: { max: 11 },
    },
    {
      title: 'before PG 12 a validated CHECK does not spare the scan',
      bad: 'BEGIN;\nALTER TABLE foo ADD COLUMN bar bigint;\nALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\nCOMMIT;\nBEGIN;\nALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nCOMMIT;',
      pg: { max: 11 },
    },
    {
      title: 'a validated CHECK (bar IS NOT NULL) proves the column: no scan',
      ok: 'BEGIN;\nALTER TABLE foo ADD COLUMN bar bigint;\nALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\nCOMMIT;\nBEGIN;\nALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nALTER TABLE foo DROP CONSTRAINT bar_not_null;\nCOMMIT;',
      pg: { min: 12 },
    },
    {
      title: 'validating a constraint from an earlier migration first is taken as the proof',
      ok: 'ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nALTER TABLE foo DROP CONSTRAINT foo_bar_not_null;',
      pg: { min: 12 },
      setup: `CREATE TABLE foo (id int, bar int);
INSERT INTO foo SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;`,
    },
    {
      title: 'a validated CHECK on another column proves nothing about this one',
      bad: 'ALTER TABLE foo ADD CONSTRAINT baz_not_null CHECK (baz IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT baz_not_null;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;',
      fixed:
        'ALTER TABLE foo ADD CONSTRAINT baz_not_null CHECK (baz IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT baz_not_null;\nALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nALTER TABLE foo DROP CONSTRAINT foo_bar_not_null;',
      pg: { min: 12, max: 17 },
    },
    {
      title: 'ALTER TABLE ONLY would lose ONLY in the rewrite, so no fix is offered',
      bad: 'ALTER TABLE ONLY users ALTER COLUMN email SET NOT NULL;',
    },
    {
      title: 'inside a transaction the steps cannot be separated, so no fix is offered',
      bad: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      runner: 'rails',
    },
    {
      title: 'ADD CONSTRAINT … NOT NULL without NOT VALID scans too',
      bad: 'ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email;',
      fixed: 'ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email NOT VALID;',
      pg: { min: 18 },
    },
    {
      title: 'once the NOT NULL constraint is validated, SET NOT NULL has nothing left to check',
      ok: 'ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      pg: { min: 18 },
    },
    {
      title:
        'what Rails’ `change_column_null :users, :status, false, "active"` runs: a backfill, then the scan',
      bad: 'UPDATE "users" SET "status"=\'active\' WHERE "status" IS NULL;\nALTER TABLE "users" ALTER COLUMN "status" SET NOT NULL;',
      runner: 'rails',
    },
    {
      title:
        'what Rails’ `change_column :users, :nick, :text, null: false` runs: the type change is free, NOT NULL is not',
      bad: 'ALTER TABLE users ADD COLUMN nick varchar(100) DEFAULT \'none\';\nALTER TABLE "users" ALTER COLUMN "nick" TYPE text, ALTER COLUMN "nick" SET NOT NULL;',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE users (email text);\nALTER TABLE users ALTER COLUMN email SET NOT NULL;',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      const setNotNull =
        action.op === 'set-not-null' || (action.op === 'set-not-null-proven' && action.facts.scan);
      const addNotNull = action.op === 'add-not-null-constraint' && !action.facts.unsupported;
      if (!setNotNull && !addNotNull) continue;
      const table = action.relations.table!;
      if (facts.isNew(table) || !action.column) continue;
      const mode = lockOn(action);
      const col = quoteIdent(action.column);
      if (addNotNull) {
        ctx.report({
          statement: facts,
          location: action.location,
          message: `Adding NOT NULL constraint${action.constraint ? ` "${action.constraint}"` : ''} on ${col} reads every row while it ${lockClause(mode, table.display)}.`,
          help: 'Add it NOT VALID (a brief lock), then run VALIDATE CONSTRAINT in a separate transaction: it only takes SHARE UPDATE EXCLUSIVE.',
          lock: { mode, relation: table.display },
          // VALIDATE is left to a later migration: until then the constraint is not validated
          fix: loneCommand(facts)
            ? {
                ...replaceStatement(
                  facts,
                  'Add the constraint NOT VALID',
                  `${facts.statement.text} NOT VALID`,
                ),
                safety: 'unsafe',
              }
            : undefined,
          plan:
            loneCommand(facts) && !facts.statement.embeddedIn
              ? () => validateNotNull(facts, action, table)
              : undefined,
        });
        continue;
      }
      const notNullNotValid = !operationFacts('add-not-null-constraint-not-valid', facts.pgVersion)
        .unsupported;
      const checkProves = !operationFacts('set-not-null-proven', facts.pgVersion).scan;
      const checkIgnored =
        action.op === 'set-not-null-proven'
          ? ' Before PG 12 the validated CHECK constraint does not spare the scan.'
          : '';
      ctx.report({
        statement: facts,
        location: action.location ?? table.location,
        message: `SET NOT NULL on ${col} reads every row while it ${lockClause(mode, table.display)}.${checkIgnored}`,
        help: notNullNotValid
          ? `Use ADD CONSTRAINT … NOT NULL ${col} NOT VALID (a brief lock), then VALIDATE CONSTRAINT in a separate transaction, which lets reads and writes through.`
          : checkProves
            ? `Add CHECK (${col} IS NOT NULL) NOT VALID and VALIDATE it in a separate transaction; SET NOT NULL then skips the scan, and the CHECK can be dropped.`
            : `Before PG 12 SET NOT NULL always scans: keep a CHECK (${col} IS NOT NULL) constraint (added NOT VALID, validated separately) instead, until you upgrade.`,
        lock: { mode, relation: table.display },
        fix: action.op === 'set-not-null' ? provenSequence(facts, action, table) : undefined,
      });
    }
  },
});

function loneCommand(facts: StatementFacts): boolean {
  return statementOf(facts, 'AlterTableStmt')?.cmds?.length === 1;
}

/**
 * The statement as a sequence that proves the column first. Only outside a transaction, where each statement
 * commits on its own (VALIDATE must not share a transaction with the ADD), and not on PG 11, where nothing
 * short of keeping the CHECK instead of NOT NULL avoids the scan.
 */
function provenSequence(facts: StatementFacts, action: Action, table: RelationRef): Fix | undefined {
  // the sequence needs a proof Postgres uses: a validated CHECK (12+), or a NOT NULL NOT VALID (18+)
  if (facts.transaction || operationFacts('set-not-null-proven', facts.pgVersion).scan || !loneCommand(facts))
    return undefined;
  const notNullNotValid = !operationFacts('add-not-null-constraint-not-valid', facts.pgVersion).unsupported;
  const stmt = statementOf(facts, 'AlterTableStmt');
  // ONLY (no inheritance) and IF EXISTS would be lost in the rewrite
  if (!stmt || stmt.missing_ok || !stmt.relation?.inh) return undefined;
  const steps = notNullSteps(table, action.column!, facts.pgVersion);
  if (!steps) return undefined;
  const title = notNullNotValid
    ? 'Add the NOT NULL constraint NOT VALID, then validate it'
    : 'Prove the column with a validated CHECK constraint before SET NOT NULL';
  return replaceStatement(facts, title, steps.join(';\n'));
}

/** ADD CONSTRAINT … NOT NULL: added NOT VALID, then validated in a later transaction (PG 18). */
function validateNotNull(facts: StatementFacts, action: Action, table: RelationRef): PlanProposal {
  const name = action.constraint ?? `${table.name}_${action.column}_not_null`.slice(0, 63);
  return {
    title: 'Add the NOT NULL constraint NOT VALID, then validate it in a later transaction',
    safety: 'safe',
    steps: [
      { sql: `${facts.statement.text} NOT VALID` },
      { sql: `ALTER TABLE ${table.display} VALIDATE CONSTRAINT ${quoteIdent(name)}` },
    ],
  };
}
