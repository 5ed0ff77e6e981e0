import type { StatementFacts } from '../../analyze/analyze.js';
import { names } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { actionConstraint, asNode, columnDefOf, constraintOf, statementOf } from '../../analyze/nodes.js';
import { defineRule, onExistingTables, replaceStatement } from '../define.js';
import { notNullSteps } from '../recipes.js';
import { columnList, defaultConstraintName, deparse, lockClause, quoteIdent } from '../sql.js';

export default defineRule({
  id: 'add-unique-constraint',
  equivalents: {
    squawk: ['disallowed-unique-constraint'],
    eugene: ['E6', 'E7'],
    strongMigrations: ['add_unique_constraint'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'the unique index is built CONCURRENTLY under the constraint’s name and attached with USING INDEX: the same constraint results. A failed build leaves an INVALID index to drop before retrying.',
  },
  summary: 'A UNIQUE constraint builds its index while holding ACCESS EXCLUSIVE on the table.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ADD CONSTRAINT … UNIQUE\` (and \`ADD COLUMN … UNIQUE\`) builds a unique index while holding
ACCESS EXCLUSIVE on the table: every query on it — reads included — waits until the whole index is built,
which takes time proportional to the table's size.`,
    solution: `Build the index first with \`CREATE UNIQUE INDEX CONCURRENTLY\`, which lets reads and writes
through, then attach it as the constraint with \`USING INDEX\`, which only needs a brief lock.
\`CONCURRENTLY\` cannot run inside a transaction block, so it must be its own migration step.

\`\`\`sql
CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_key;
\`\`\`

If the build fails (for example on a duplicate), it leaves an INVALID index behind: drop it and retry.`,
    tools: {
      prisma: `Prisma declares \`@unique\` / \`@@unique\` as a unique index, not a constraint. Edit the generated
\`migration.sql\` to use \`CREATE UNIQUE INDEX CONCURRENTLY\` and put it in a migration of its own (Prisma runs each
file in one transaction, where CONCURRENTLY is not allowed).`,
      drizzle:
        '`.unique()` and `unique()` generate `ADD CONSTRAINT … UNIQUE`; declare a `uniqueIndex()` instead. `drizzle-kit migrate` runs every migration in a transaction, so build the index with `CREATE UNIQUE INDEX CONCURRENTLY` from a separate script.',
      knex: `Use \`knex.raw('CREATE UNIQUE INDEX CONCURRENTLY …')\` in a migration that exports
\`config = { transaction: false }\`, then \`ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …\` in the next one.`,
      typeorm:
        "`@Unique()` generates `ADD CONSTRAINT … UNIQUE`, `@Index({ unique: true })` a unique index. Write `queryRunner.query('CREATE UNIQUE INDEX CONCURRENTLY …')` in a migration with `transaction = false` (and `migrationsTransactionMode: 'each'`).",
      sequelize:
        "`queryInterface.addConstraint(table, { type: 'unique', fields })` builds under the lock; use `queryInterface.addIndex(table, fields, { unique: true, concurrently: true })`, then attach it with `ADD CONSTRAINT … UNIQUE USING INDEX` via `queryInterface.sequelize.query()` if you need the constraint.",
      'node-pg-migrate':
        "Instead of `pgm.addConstraint(table, name, { unique: … })`, use `pgm.createIndex(table, columns, { name, unique: true, concurrently: true })` with `pgm.noTransaction()`, then `pgm.sql('ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …')`.",
      alembic: `Create the index inside \`with op.get_context().autocommit_block():\` using
\`op.create_index(..., unique=True, postgresql_concurrently=True)\`, then \`op.execute("ALTER TABLE … ADD CONSTRAINT …
UNIQUE USING INDEX …")\` in the following migration.`,
      django: `Use \`AddIndexConcurrently\` (from \`django.contrib.postgres.operations\`) with a unique index in a
migration with \`atomic = False\`, then \`RunSQL\` for \`ADD CONSTRAINT … UNIQUE USING INDEX\`.`,
      rails:
        '`add_index :accounts, :email, unique: true, algorithm: :concurrently` with `disable_ddl_transaction!`, then in the next migration `add_unique_constraint :accounts, using_index: "index_accounts_on_email"` (Rails 7.1+) or `execute "ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …"`.',
    },
  },
  examples: [
    {
      title: 'a UNIQUE constraint on an existing table',
      bad: 'ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);',
      fixed:
        'CREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);\nALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE USING INDEX dist_id_uniq;',
    },
    {
      title: 'a new column declared UNIQUE',
      bad: 'ALTER TABLE distributors ADD COLUMN dist_id text CONSTRAINT dist_id_uniq UNIQUE;',
      fixed:
        'ALTER TABLE distributors ADD COLUMN dist_id text;\nCREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);\nALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE USING INDEX dist_id_uniq;',
    },
    {
      title: 'the safe sequence',
      ok: 'CREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);\nALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE USING INDEX dist_id_uniq;',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE d (id int);\nALTER TABLE d ADD CONSTRAINT d_id_key UNIQUE (id);',
    },
    {
      title: 'inside the runner’s transaction the fix cannot use CONCURRENTLY, so none is offered',
      bad: 'ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);',
      runner: 'knex',
    },
  ],
  check(facts, ctx) {
    for (const { action, table, mode } of onExistingTables(facts, 'add-unique')) {
      const name = action.constraint ? `"${action.constraint}" ` : '';
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Adding UNIQUE constraint ${name}builds its index while it ${lockClause(mode, table.display)} until the build finishes.`,
        help: 'Build the index with CREATE UNIQUE INDEX CONCURRENTLY, then attach it with ADD CONSTRAINT … UNIQUE USING INDEX (a brief lock).',
        lock: { mode, relation: table.display },
        fix: uniqueFix(facts, action, 'UNIQUE'),
      });
    }
  },
});

/**
 * The concurrent-build sequence for a lone ADD CONSTRAINT / ADD COLUMN with a plain column list.
 * Not offered inside a transaction block, where CONCURRENTLY fails: that needs the migration split.
 */
export function uniqueFix(facts: StatementFacts, action: Action, kind: 'UNIQUE' | 'PRIMARY KEY') {
  if (facts.transaction) return undefined;
  const stmt = statementOf(facts, 'AlterTableStmt');
  const con = actionConstraint(action);
  if (stmt?.cmds?.length !== 1 || !con) return undefined;
  if (
    con.including?.length ||
    con.where_clause ||
    con.options?.length ||
    con.deferrable ||
    con.nulls_not_distinct
  ) {
    return undefined;
  }
  const table = action.relations.table!;
  const columns = action.column && !con.keys ? [action.column] : names(con.keys);
  if (columns.length === 0) return undefined;
  const name =
    action.constraint ?? defaultConstraintName(table.name, columns, kind === 'UNIQUE' ? 'key' : 'pkey');
  const steps: string[] = [];
  if (kind === 'PRIMARY KEY' && !action.column) {
    // USING INDEX would set NOT NULL with a scan under ACCESS EXCLUSIVE: prove the columns first
    const notNull = facts.state.notNullColumns.get(table.key);
    for (const column of columns) {
      if (notNull?.has(column)) continue;
      const proof = notNullSteps(table, column, facts.pgVersion);
      // before PG 12 nothing proves a column NOT NULL without that scan
      if (!proof) return undefined;
      steps.push(...proof);
    }
  }
  if (action.column) {
    // ADD COLUMN … UNIQUE: add the bare column first
    const column = structuredClone(stmt.cmds[0]!);
    const def = columnDefOf(asNode(column, 'AlterTableCmd'));
    if (!def) return undefined;
    def.constraints = def.constraints?.filter((c) => constraintOf(c)?.location !== con.location);
    if (def.constraints?.length === 0) delete def.constraints;
    steps.push(deparse({ AlterTableStmt: { ...stmt, cmds: [column] } }));
  }
  steps.push(
    `CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(name)} ON ${table.display} (${columnList(columns)})`,
  );
  steps.push(
    `ALTER TABLE ${table.display} ADD CONSTRAINT ${quoteIdent(name)} ${kind} USING INDEX ${quoteIdent(name)}`,
  );
  return replaceStatement(
    facts,
    `Build the index concurrently, then attach it as the ${kind} constraint`,
    steps.join(';\n'),
  );
}
