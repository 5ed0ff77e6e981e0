import { dropBehavior } from '../../analyze/nodes.js';
import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'truncate-table',
  equivalents: { eugene: ['E10'] },
  // emptying the named table is what TRUNCATE asks for; its ACCESS EXCLUSIVE queue is the danger
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  summary:
    'TRUNCATE empties a live table under ACCESS EXCLUSIVE; make sure the data may go, or delete it in batches.',
  on: ['TruncateStmt'],
  docs: {
    problem: `\`TRUNCATE\` takes ACCESS EXCLUSIVE on every table it names, which blocks all reads and writes. The truncation
itself is instant (each table gets a new, empty file), but the lock must first wait for every transaction using
the table, and every query arriving meanwhile queues behind it. And the rows are gone for good: a migration runs
in production too, where a table that is disposable in development may not be.

With \`CASCADE\`, tables that are not named are emptied as well — see \`truncate-cascade\`.`,
    solution: `Check that the data really is disposable in every environment. To empty a live table without the lock, delete
its rows in batches (row locks only; reads and writes carry on):

\`\`\`sql
-- repeat until it deletes nothing, one short transaction each:
DELETE FROM sessions WHERE id IN (SELECT id FROM sessions LIMIT 10000);
\`\`\`

If a TRUNCATE is right, run it with a \`lock_timeout\`, so that it gives up instead of stalling the table:

\`\`\`sql
SET lock_timeout = '2s';
TRUNCATE sessions;
\`\`\``,
    tools: {
      knex: "`knex('sessions').truncate()` issues TRUNCATE: in a migration exporting `config = { transaction: false }`, repeat `knex('sessions').whereIn('id', knex('sessions').select('id').limit(10000)).del()` until it returns 0.",
      typeorm:
        "`repository.clear()` and `queryRunner.clearTable()` issue TRUNCATE: delete in batches with `queryRunner.query('DELETE … WHERE id IN (SELECT id … LIMIT 10000)')` in a migration with `transaction = false`.",
      sequelize:
        "`Model.truncate()`, `Model.destroy({ truncate: true })` and `queryInterface.bulkDelete(table, null, { truncate: true })` issue TRUNCATE: delete batch by batch with `queryInterface.sequelize.query('DELETE …')` (migrations are not wrapped in a transaction).",
      alembic:
        'Inside `with op.get_context().autocommit_block():`, repeat `op.get_bind().execute(sa.text("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions LIMIT 10000)"))` until its `rowcount` is 0, so that each batch commits.',
      django:
        'In a migration with `atomic = False`, delete in batches from `RunPython` (`Model.objects.filter(pk__in=…).delete()`), each batch in its own `transaction.atomic()`.',
      rails:
        '`Session.in_batches(of: 10_000).delete_all` in a migration with `disable_ddl_transaction!`, so that each batch commits.',
    },
  },
  examples: [
    { bad: 'TRUNCATE sessions;' },
    { bad: 'TRUNCATE TABLE sessions, audit_log RESTART IDENTITY;' },
    {
      title: 'a table created in the same migration holds nothing anyone uses yet',
      ok: 'CREATE TABLE staging (id int);\nTRUNCATE staging;',
    },
    {
      title: 'CASCADE is reported by truncate-cascade',
      ok: 'TRUNCATE sessions CASCADE;',
    },
    { ok: 'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions LIMIT 10000);' },
  ],
  check(facts, ctx) {
    if (dropBehavior(facts) === 'DROP_CASCADE') return;
    for (const action of facts.actions) {
      if (action.op !== 'truncate') continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      const mode = lockOn(action);
      ctx.report({
        statement: facts,
        location: action.location,
        message: `TRUNCATE deletes every row of ${table.display} and ${lockClause(mode, table.display)}, queueing every later query behind it while it waits.`,
        help: 'Make sure the data is disposable in production too; to empty a live table without the lock, DELETE in batches. Otherwise set a lock_timeout first.',
        lock: { mode, relation: table.display },
      });
    }
  },
});
