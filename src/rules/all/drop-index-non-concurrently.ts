import type { StatementFacts } from '../../analyze/analyze.js';
import type { Action } from '../../analyze/classify.js';
import { statementOf } from '../../analyze/nodes.js';
import type { Fix } from '../../diagnostics.js';
import { defineRule, lockedRelation, lockOn, replaceStatement } from '../define.js';
import { lockClause } from '../sql.js';
import { leaveTransactionHint } from './concurrently-in-transaction.js';

export default defineRule({
  id: 'drop-index-non-concurrently',
  equivalents: {
    squawk: ['require-concurrent-index-deletion'],
    strongMigrations: ['remove_index'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'the same index is dropped, CONCURRENTLY, one statement per index.',
  },
  // only DROP INDEX classifies as drop-index
  on: ['DropStmt'],
  summary: 'DROP INDEX locks the indexed table against reads and writes; use DROP INDEX CONCURRENTLY.',
  docs: {
    problem: `\`DROP INDEX\` takes ACCESS EXCLUSIVE on the table the index belongs to (and on the index). The drop
itself is quick, but the lock has to wait for every transaction already using the table, and while it waits
every new query on the table — plain SELECTs included — queues behind it. A long report or an idle-in-transaction
session is enough to stall the whole table.`,
    solution: `Drop it with \`DROP INDEX CONCURRENTLY\`: the table is only locked in SHARE UPDATE EXCLUSIVE mode, so reads and
writes carry on; Postgres waits for the transactions that might still use the index and then removes it.
It cannot run inside a transaction block, takes one index per statement and does not accept \`CASCADE\`.
If it is interrupted the index can be left INVALID: run the statement again (with \`IF EXISTS\`).

\`\`\`sql
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
\`\`\`

An index that backs a constraint (primary key, UNIQUE, EXCLUDE) is dropped with the constraint
(\`ALTER TABLE … DROP CONSTRAINT\`), not with DROP INDEX; an index of a partitioned table cannot be dropped
concurrently — drop the index of each partition concurrently first.`,
    tools: {
      prisma:
        'Edit the generated `migration.sql` to say `DROP INDEX CONCURRENTLY` and keep that statement alone in its migration: Prisma sends a file of several statements as one transaction, where CONCURRENTLY fails.',
      drizzle:
        'drizzle-kit runs migrations in a transaction: run `DROP INDEX CONCURRENTLY` from a separate script.',
      knex: '`knex.raw("DROP INDEX CONCURRENTLY …")` in a migration exporting `config = { transaction: false }`.',
      typeorm:
        'Write `queryRunner.query("DROP INDEX CONCURRENTLY …")` in a migration with `transaction = false` (needs `migrationsTransactionMode: \'each\'`); the generated `DROP INDEX` does not use CONCURRENTLY.',
      sequelize:
        '`queryInterface.removeIndex(table, name, { concurrently: true })`, not inside a `queryInterface.sequelize.transaction()`.',
      'node-pg-migrate':
        '`pgm.dropIndex(table, columns, { concurrently: true })` with `pgm.noTransaction()`.',
      alembic:
        '`op.drop_index(..., postgresql_concurrently=True)` inside `with op.get_context().autocommit_block():`.',
      django:
        '`RemoveIndexConcurrently` (from `django.contrib.postgres.operations`) in a migration with `atomic = False`.',
      rails:
        '`remove_index :orders, :customer_id, algorithm: :concurrently` with `disable_ddl_transaction!`.',
    },
  },
  examples: [
    {
      bad: 'DROP INDEX orders_customer_id_idx;',
      fixed: 'DROP INDEX CONCURRENTLY orders_customer_id_idx;',
    },
    {
      bad: 'DROP INDEX IF EXISTS "field_name_idx";',
      fixed: 'DROP INDEX CONCURRENTLY IF EXISTS "field_name_idx";',
    },
    {
      title: 'CONCURRENTLY takes one index per statement, so the fix splits the statement',
      bad: 'DROP INDEX orders_a_idx, app.orders_b_idx;',
      fixed: 'DROP INDEX CONCURRENTLY orders_a_idx;\nDROP INDEX CONCURRENTLY app.orders_b_idx;',
    },
    {
      title: 'CASCADE is not allowed with CONCURRENTLY, so no fix is offered',
      bad: 'DROP INDEX orders_customer_id_idx CASCADE;',
    },
    {
      title: 'inside a transaction the fix would fail, so none is offered',
      bad: 'BEGIN;\nDROP INDEX orders_customer_id_idx;\nCOMMIT;',
    },
    {
      title: 'inside the runner’s transaction too',
      bad: 'DROP INDEX orders_customer_id_idx;',
      runner: 'rails',
    },
    {
      title: 'Prisma sends a one-statement file without a transaction block',
      bad: 'DROP INDEX "orders_customer_id_idx";',
      fixed: 'DROP INDEX CONCURRENTLY "orders_customer_id_idx";',
      runner: 'prisma',
    },
    {
      title: 'with more statements, the file is one implicit transaction',
      bad: 'DROP INDEX "orders_customer_id_idx";\nCREATE INDEX "orders_customer_idx" ON "orders"("customer_id");',
      runner: 'prisma',
    },
    { ok: 'DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;' },
    {
      title: 'an index created earlier in the same migration is not used by anyone yet',
      ok: 'CREATE INDEX CONCURRENTLY orders_tmp_idx ON orders (id);\nDROP INDEX orders_tmp_idx;',
    },
    {
      title: 'an index created IF NOT EXISTS on a table that existed may be an old one, in use',
      bad: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_tmp_idx ON orders (id);\nDROP INDEX orders_tmp_idx;',
      fixed:
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_tmp_idx ON orders (id);\nDROP INDEX CONCURRENTLY orders_tmp_idx;',
    },
    {
      title: 'on a table created in the same migration it is new',
      ok: 'CREATE TABLE orders (id int);\nCREATE INDEX IF NOT EXISTS orders_tmp_idx ON orders (id);\nDROP INDEX orders_tmp_idx;',
    },
  ],
  check(facts, ctx) {
    const drops = facts.actions.filter((a) => a.op === 'drop-index' && !facts.isNew(a.relations.index));
    if (drops.length === 0) return;
    const names = drops.map((a) => a.relations.index!.display).join(', ');
    // the lock the application waits on is the one on the table (on the index as well, but queries
    // reach the index through its table)
    const tables = [...new Set(drops.map((a) => lockedRelation(a, 'table')!.display))];
    const mode = lockOn(drops[0]!);
    ctx.report({
      statement: facts,
      message: `DROP INDEX ${names} ${lockClause(mode, tables.join(', '))}; the drop is quick, but while it waits for the lock every later query on ${tables.length > 1 ? 'these tables' : 'the table'} queues behind it.`,
      help: facts.transaction
        ? `Use DROP INDEX CONCURRENTLY, outside a transaction block. ${leaveTransactionHint(facts)}`
        : 'Use DROP INDEX CONCURRENTLY: reads and writes continue while the index is removed.',
      lock: { mode, relation: tables[0]! },
      fix: facts.transaction ? undefined : concurrentFix(facts),
    });
  },
});

/** Insert CONCURRENTLY; one statement per index when several are dropped. Not offered with CASCADE. */
function concurrentFix(facts: StatementFacts): Fix | undefined {
  const stmt = statementOf(facts, 'DropStmt');
  if (!stmt || stmt.behavior === 'DROP_CASCADE') return undefined;
  const all: Action[] = facts.actions.filter((a) => a.op === 'drop-index');
  if (all.length === 1) {
    const at = /^\s*drop\s+index\b/i.exec(facts.statement.text);
    if (!at) return undefined;
    const pos = facts.statement.start + at[0].length;
    return { title: 'Drop the index concurrently', edits: [{ start: pos, end: pos, text: ' CONCURRENTLY' }] };
  }
  const ifExists = stmt.missing_ok ? ' IF EXISTS' : '';
  const text = all.map((a) => `DROP INDEX CONCURRENTLY${ifExists} ${a.relations.index!.display}`).join(';\n');
  return replaceStatement(facts, 'Drop each index concurrently, one statement each', text);
}
