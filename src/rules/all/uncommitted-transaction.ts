import type { StatementFacts } from '../../analyze/analyze.js';
import {
  endsTransactionBlock,
  opensTransactionBlock,
  transactionControl,
} from '../../analyze/transaction-control.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'uncommitted-transaction',
  equivalents: {
    squawk: ['ban-uncommitted-transaction'],
  },
  // mostly rolled back at disconnect, so the deploy “succeeds” with nothing applied
  hazard: 'fails-deploy',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'the added COMMIT makes the transaction’s work permanent where the runner may have rolled it back at disconnect.',
  },
  summary:
    'A BEGIN without a COMMIT leaves the migration’s changes uncommitted, holding their locks until the session ends.',
  docs: {
    problem: `A file that opens a transaction with \`BEGIN\` and never ends it leaves the transaction open when its last
statement has run. What happens next depends on the tool: psql and most runners close the connection, and Postgres
rolls the whole migration back — the deploy "succeeds" and nothing changed. A tool that keeps the connection (a
pool, a runner that records the migration on the same session) runs its bookkeeping inside the open transaction,
and every lock the migration took — an \`ALTER TABLE\`'s ACCESS EXCLUSIVE blocks all reads and writes of the table —
stays held until something finally commits or the session dies.`,
    solution: `End every transaction the file opens: \`COMMIT\` after the last statement that belongs to it (or
\`ROLLBACK\` to discard it on purpose).

\`\`\`sql
BEGIN;
CREATE TABLE users (id bigint);
COMMIT;
\`\`\`

Runners that wrap every migration in their own transaction (Rails, Django, Knex, Flyway, …) commit it themselves:
there the file needs neither \`BEGIN\` nor \`COMMIT\` (see \`transaction-nesting\`).`,
    tools: {
      knex: '`await knex.transaction()` returns a transaction you must `commit()` or `rollback()` yourself; the callback form `knex.transaction(async (trx) => …)` ends it for you.',
      typeorm:
        "`queryRunner.startTransaction()` needs a matching `commitTransaction()` (or `rollbackTransaction()` in a `catch`); inside a migration the runner's own transaction usually makes it unnecessary.",
      sequelize:
        '`await sequelize.transaction()` (unmanaged) stays open until you call `commit()`; the managed form `queryInterface.sequelize.transaction(async (transaction) => …)` commits or rolls back by itself.',
    },
  },
  examples: [
    {
      bad: 'BEGIN;\nCREATE TABLE users (id bigint);',
      fixed: 'BEGIN;\nCREATE TABLE users (id bigint);\nCOMMIT;',
    },
    {
      title: 'START TRANSACTION opens one too',
      bad: 'START TRANSACTION;\nCREATE TABLE users (id bigint);\n',
      fixed: 'START TRANSACTION;\nCREATE TABLE users (id bigint);\nCOMMIT;\n',
    },
    {
      title: 'the second transaction is left open',
      bad: 'BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id bigint);',
      fixed: 'BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id bigint);\nCOMMIT;',
    },
    { ok: 'BEGIN;\nCREATE TABLE users (id bigint);\nCOMMIT;' },
    { ok: 'BEGIN;\nCREATE TABLE users (id bigint);\nROLLBACK;' },
    { title: 'a repeated BEGIN is a transaction-nesting finding', ok: 'BEGIN;\nBEGIN;\nCOMMIT;' },
    {
      title: 'the runner commits the transaction it wrapped the file in',
      ok: 'COMMIT;\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\nBEGIN;\nALTER TABLE orders ADD COLUMN note text;',
      runner: 'transaction-per-file',
    },
  ],
  create(ctx) {
    let open: StatementFacts | undefined;
    return {
      statement(facts) {
        const control = transactionControl(facts.statement);
        if (!control) return;
        // a BEGIN that opened a transaction (not one repeated inside an open one)
        if (
          opensTransactionBlock(control) &&
          !open &&
          facts.transaction?.startIndex === facts.statement.index
        )
          open = facts;
        else if (endsTransactionBlock(control)) open = undefined;
      },
      end() {
        if (!open) return;
        // runners that send BEGIN … COMMIT around the file commit it themselves
        const state = open.state;
        if (state.implicitTransactions && !open.runner.multiStatement) return;
        const sql = ctx.file.source;
        const text = sql.endsWith('\n') ? 'COMMIT;\n' : '\nCOMMIT;';
        ctx.report({
          statement: open,
          message:
            'This transaction is never committed: when the file ends it is still open, so its changes are rolled back when the connection closes, or its locks stay held for as long as the session lives.',
          help: 'End it with COMMIT after its last statement (or ROLLBACK to discard it on purpose).',
          fix: {
            title: 'Commit the transaction at the end of the file',
            edits: [{ start: sql.length, end: sql.length, text }],
          },
        });
      },
    };
  },
});
