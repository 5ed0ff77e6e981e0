import type { StatementFacts } from '../../analyze/analyze.js';
import { names } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { alterCmds, columnDefOf, constraintsOf, statementOf } from '../../analyze/nodes.js';
import { serialColumnType } from '../../catalog/types.js';
import { defineRule, onExistingTables } from '../define.js';
import { lockClause } from '../sql.js';
import { uniqueFix } from './add-unique-constraint.js';

export default defineRule({
  id: 'add-primary-key',
  equivalents: {
    squawk: ['adding-serial-primary-key-field'],
    eugene: ['E7'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'key columns not known to be NOT NULL are proven first (a NOT NULL or CHECK constraint added NOT VALID and validated: USING INDEX would otherwise set NOT NULL with a scan under ACCESS EXCLUSIVE; none before PG 12), then the unique index is built CONCURRENTLY under the constraint’s name and attached with USING INDEX: the same primary key results. A failed build leaves an INVALID index to drop before retrying.',
  },
  summary: 'Adding a PRIMARY KEY builds its unique index while holding ACCESS EXCLUSIVE on the table.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ADD PRIMARY KEY (…)\`, \`ADD CONSTRAINT … PRIMARY KEY (…)\` and \`ADD COLUMN … PRIMARY KEY\` build a
unique index while holding ACCESS EXCLUSIVE on the table, so every query on it, reads included, queues until the
build is over: seconds to hours, depending on the table's size. Any key column that is not already NOT NULL is
also checked row by row under the same lock.`,
    solution: `Build the index with \`CREATE UNIQUE INDEX CONCURRENTLY\` (reads and writes go on), then turn it into
the primary key with \`USING INDEX\`, which only swaps catalog entries.

\`\`\`sql
CREATE UNIQUE INDEX CONCURRENTLY items_pkey ON items (id);
ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;
\`\`\`

The second step is only brief when every key column is **already NOT NULL**. Otherwise Postgres quietly sets NOT
NULL on those columns as part of the same statement, reading the whole table under ACCESS EXCLUSIVE: the very
outage the concurrent build avoided. Make the columns NOT NULL first, without the long lock, as \`set-not-null\`
describes (a validated \`CHECK (id IS NOT NULL)\` on PG 12–17, \`ADD CONSTRAINT … NOT NULL id NOT VALID\` + \`VALIDATE\`
on PG 18).

\`CONCURRENTLY\` is refused inside a transaction block, so the index build needs a migration of its own. If it fails
(a duplicate, a timeout) it leaves an INVALID index: drop it and build again.

A new \`serial\` / identity column declared \`PRIMARY KEY\` additionally rewrites the table to fill in the values;
for a large table add the key to a column you have already filled in.`,
    tools: {
      prisma: `Prisma writes \`ADD CONSTRAINT … PRIMARY KEY (…)\`. Replace it by hand: \`CREATE UNIQUE INDEX CONCURRENTLY\`
alone in one migration (Prisma runs a migration file as one transaction, where CONCURRENTLY fails), the
\`ADD CONSTRAINT … PRIMARY KEY USING INDEX\` in the next.`,
      drizzle:
        '`drizzle-kit migrate` applies all pending migrations in one transaction, where CONCURRENTLY fails: build the unique index from a separate script, then add `ADD CONSTRAINT … PRIMARY KEY USING INDEX …` in a custom migration (`drizzle-kit generate --custom`).',
      knex: `\`knex.raw('CREATE UNIQUE INDEX CONCURRENTLY …')\` in a migration exporting \`config = { transaction: false }\`,
then \`knex.raw('ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …')\` in the next one.`,
      typeorm:
        "`queryRunner.query('CREATE UNIQUE INDEX CONCURRENTLY …')` in a migration with `transaction = false` (needs `migrationsTransactionMode: 'each'`), then `ADD CONSTRAINT … PRIMARY KEY USING INDEX …` in the next one.",
      sequelize:
        "`queryInterface.addIndex(table, fields, { unique: true, concurrently: true, name })` (migrations run outside a transaction unless you open one), then `queryInterface.sequelize.query('ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …')`.",
      'node-pg-migrate':
        "`pgm.createIndex(table, columns, { name, unique: true, concurrently: true })` in a migration that calls `pgm.noTransaction()`, then `pgm.sql('ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …')` in the next one.",
      alembic: `Inside \`with op.get_context().autocommit_block():\` call \`op.create_index(..., unique=True,
postgresql_concurrently=True)\`; then \`op.execute("ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …")\`.`,
      django: `\`AddIndexConcurrently\` with a unique index in a migration with \`atomic = False\`, then \`RunSQL\` for the
\`PRIMARY KEY USING INDEX\` step (Django has no operation for it).`,
      rails: `\`add_index :items, :id, unique: true, algorithm: :concurrently\` under \`disable_ddl_transaction!\`, then
\`execute "ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX index_items_on_id"\`.`,
    },
  },
  examples: [
    {
      title: 'a key column the earlier migrations made NOT NULL: build the index, then attach it',
      bad: 'ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY (id);',
      setup: 'CREATE TABLE items (id bigint NOT NULL);',
      fixed:
        'CREATE UNIQUE INDEX CONCURRENTLY items_pk ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;',
    },
    {
      title: 'a column not known to be NOT NULL is proven first (PG 18: NOT NULL NOT VALID, then VALIDATE)',
      bad: 'ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY (id);',
      pg: { min: 18 },
      fixed:
        'ALTER TABLE items ADD CONSTRAINT items_id_not_null NOT NULL id NOT VALID;\nALTER TABLE items VALIDATE CONSTRAINT items_id_not_null;\nCREATE UNIQUE INDEX CONCURRENTLY items_pk ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;',
    },
    {
      title: 'PG 12–17: a validated CHECK lets SET NOT NULL skip its scan',
      bad: 'ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY (id);',
      pg: { min: 12, max: 17 },
      fixed:
        'ALTER TABLE items ADD CONSTRAINT items_id_not_null CHECK (id IS NOT NULL) NOT VALID;\nALTER TABLE items VALIDATE CONSTRAINT items_id_not_null;\nALTER TABLE items ALTER COLUMN id SET NOT NULL;\nALTER TABLE items DROP CONSTRAINT items_id_not_null;\nCREATE UNIQUE INDEX CONCURRENTLY items_pk ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;',
    },
    {
      title: 'PG 11: nothing makes the column NOT NULL without a scan under the lock, so no fix is offered',
      bad: 'ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY (id);',
      pg: { max: 11 },
    },
    {
      title: 'an unnamed primary key gets Postgres’ default name',
      bad: 'ALTER TABLE items ADD PRIMARY KEY (tenant_id, id);',
      setup: 'CREATE TABLE items (tenant_id bigint NOT NULL, id bigint NOT NULL);',
      fixed:
        'CREATE UNIQUE INDEX CONCURRENTLY items_pkey ON items (tenant_id, id);\nALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;',
    },
    {
      title: 'a new serial column declared PRIMARY KEY',
      bad: 'ALTER TABLE a ADD COLUMN b serial PRIMARY KEY;',
      fixed:
        'ALTER TABLE a ADD COLUMN b serial;\nCREATE UNIQUE INDEX CONCURRENTLY a_pkey ON a (b);\nALTER TABLE a ADD CONSTRAINT a_pkey PRIMARY KEY USING INDEX a_pkey;',
    },
    {
      title: 'a nullable new column: without the key it would stay nullable, so no fix is offered',
      bad: 'ALTER TABLE a ADD COLUMN b int PRIMARY KEY;',
    },
    {
      title: 'the safe sequence',
      ok: 'CREATE UNIQUE INDEX CONCURRENTLY items_pk ON items (id);\nALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE items (id bigint NOT NULL);\nALTER TABLE items ADD PRIMARY KEY (id);',
    },
    {
      title: 'inside the runner’s transaction CONCURRENTLY fails, so no fix is offered',
      bad: 'ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY (id);',
      runner: 'knex',
    },
  ],
  check(facts, ctx) {
    for (const { action, table, mode } of onExistingTables(facts, 'add-primary-key')) {
      const name = action.constraint ? `"${action.constraint}" ` : '';
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Adding PRIMARY KEY ${name}builds its unique index while it ${lockClause(mode, table.display)} until the build finishes.`,
        help: 'Build the index with CREATE UNIQUE INDEX CONCURRENTLY, then attach it with ADD CONSTRAINT … PRIMARY KEY USING INDEX; make the key columns NOT NULL the safe way first, or that step scans the table under ACCESS EXCLUSIVE.',
        lock: { mode, relation: table.display },
        fix: columnStaysNotNull(facts, action) ? uniqueFix(facts, action, 'PRIMARY KEY') : undefined,
      });
    }
  },
});

/**
 * `ADD COLUMN … PRIMARY KEY` is rewritten as ADD COLUMN without the key: only equivalent when the column is
 * still NOT NULL without it (serial, identity, explicit NOT NULL), or USING INDEX would have to set NOT NULL.
 */
function columnStaysNotNull(facts: StatementFacts, action: Action): boolean {
  if (!action.column) return true;
  const col = alterCmds(statementOf(facts, 'AlterTableStmt'))
    .map((c) => columnDefOf(c))
    .find((d) => d?.colname === action.column);
  if (!col) return false;
  const typeNames = names(col.typeName?.names);
  if (typeNames.length === 1 && serialColumnType(typeNames[0]!) !== undefined) return true;
  return constraintsOf(col.constraints).some(
    (con) => con.contype === 'CONSTR_NOTNULL' || con.contype === 'CONSTR_IDENTITY',
  );
}
