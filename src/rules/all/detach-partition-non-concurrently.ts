import { statementOf } from '../../analyze/nodes.js';
import { operationFacts } from '../../catalog/operations.js';
import { defineRule, lockOn, replaceStatement } from '../define.js';
import { lockClause } from '../sql.js';
import { leaveTransactionHint } from './concurrently-in-transaction.js';

export default defineRule({
  id: 'detach-partition-non-concurrently',
  equivalents: {
    squawk: ['require-concurrent-partition-detach'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'the same partition is detached, CONCURRENTLY (PG 14+), outside a transaction block — but Postgres then adds a CHECK constraint holding the partition bound to the detached table (traced on PGlite and PG 14–18), which a plain DETACH does not: rows outside the bound can no longer be written to it.',
  },
  summary:
    'DETACH PARTITION locks the partitioned table against reads and writes; on PostgreSQL 14+ use DETACH PARTITION … CONCURRENTLY.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE parent DETACH PARTITION child\` takes ACCESS EXCLUSIVE on the partitioned table (and, since
PostgreSQL 14, on the partition too; SHARE UPDATE EXCLUSIVE on it before). The detach itself is quick, but the lock
has to wait for every transaction using any partition of the table, and meanwhile every new query on the
table — plain SELECTs included — queues behind it.`,
    solution: `Since PostgreSQL 14, detach it with \`CONCURRENTLY\`: the parent is only locked in SHARE UPDATE EXCLUSIVE mode, so
reads and writes carry on; Postgres waits for the queries that still see the partition and then finishes the
detach. It cannot run inside a transaction block, must be the only subcommand of its ALTER TABLE, and is refused
when the table has a default partition. If it is interrupted, complete it with \`DETACH PARTITION … FINALIZE\`.

\`\`\`sql
ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;
\`\`\`

Before PostgreSQL 14 there is no online alternative: set a short \`lock_timeout\` so the statement gives up instead
of stalling the table, and retry.

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE measurements DETACH PARTITION measurements_2023;
\`\`\``,
    tools: {
      prisma:
        'Write `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` alone in its own `migration.sql`: with a second statement Prisma sends the file as one transaction, where it fails.',
      drizzle:
        '`drizzle-kit migrate` applies migrations inside a transaction, where CONCURRENTLY fails: run the statement from a separate script.',
      knex: '`knex.raw(…)` in a migration exporting `config = { transaction: false }`.',
      typeorm:
        '`queryRunner.query("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")` in a migration with `transaction = false` (needs `migrationsTransactionMode: \'each\'`).',
      sequelize:
        '`queryInterface.sequelize.query("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")`, not inside a `queryInterface.sequelize.transaction()`.',
      'node-pg-migrate': '`pgm.sql(…)` with `pgm.noTransaction()`.',
      alembic:
        '`op.execute("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")` inside `with op.get_context().autocommit_block():`.',
      django:
        '`RunSQL("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")` in a migration with `atomic = False`.',
      rails:
        '`execute "ALTER TABLE … DETACH PARTITION … CONCURRENTLY"` in a migration with `disable_ddl_transaction!`.',
    },
  },
  examples: [
    {
      pg: { min: 14 },
      bad: 'ALTER TABLE measurements DETACH PARTITION measurements_2023;',
      fixed: 'ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;',
    },
    {
      title: 'before PostgreSQL 14 there is no CONCURRENTLY: reported, without a fix',
      pg: { max: 13 },
      bad: 'ALTER TABLE measurements DETACH PARTITION measurements_2023;',
    },
    {
      title: 'inside a transaction the fix would fail, so none is offered',
      pg: { min: 14 },
      bad: 'BEGIN;\nALTER TABLE measurements DETACH PARTITION measurements_2023;\nCOMMIT;',
    },
    {
      title: 'a table with a default partition cannot detach concurrently',
      pg: { min: 14 },
      bad: 'ALTER TABLE measurements ATTACH PARTITION measurements_other DEFAULT;\nALTER TABLE measurements DETACH PARTITION measurements_2023;',
    },
    { pg: { min: 14 }, ok: 'ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;' },
    {
      title: 'a partitioned table created in this migration is not in use yet',
      ok: "CREATE TABLE m (at date) PARTITION BY RANGE (at);\nCREATE TABLE m_2023 PARTITION OF m FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');\nALTER TABLE m DETACH PARTITION m_2023;",
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'detach-partition') continue;
      const parent = action.relations.parent!;
      if (facts.isNew(parent)) continue;
      const partition = action.relations.partition;
      const mode = lockOn(action, 'parent');
      const partMode = partition ? lockOn(action, 'partition') : undefined;
      const supported = !operationFacts('detach-partition-concurrently', facts.pgVersion).unsupported;
      const defaultPartition = facts.state.defaultPartitions.get(parent.key);
      const stmt = statementOf(facts, 'AlterTableStmt');
      const alone = stmt?.cmds?.length === 1;
      let help: string;
      if (!supported)
        help =
          'DETACH PARTITION … CONCURRENTLY only exists since PostgreSQL 14; on this version there is no online alternative: set a short lock_timeout and retry, or detach in a quiet period.';
      else if (defaultPartition)
        help = `DETACH … CONCURRENTLY is refused while ${parent.display} has a default partition (${defaultPartition.display}); detach it in a quiet period with a short lock_timeout.`;
      else if (facts.transaction)
        help = `Use DETACH PARTITION … CONCURRENTLY, outside a transaction block. ${leaveTransactionHint(facts)}`;
      else if (!alone) help = 'Use DETACH PARTITION … CONCURRENTLY, in an ALTER TABLE of its own.';
      else help = 'Use DETACH PARTITION … CONCURRENTLY: the parent only gets SHARE UPDATE EXCLUSIVE.';
      const canFix = supported && !defaultPartition && !facts.transaction && alone;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `DETACH PARTITION ${lockClause(mode, parent.display)}${partition && partMode ? ` (and ${partMode} on ${partition.display})` : ''}; the detach is quick, but while it waits for the lock every later query on the table queues behind it.`,
        help,
        lock: { mode, relation: parent.display },
        fix: canFix
          ? replaceStatement(
              facts,
              'Detach the partition concurrently',
              `${facts.statement.text} CONCURRENTLY`,
            )
          : undefined,
      });
    }
  },
});
