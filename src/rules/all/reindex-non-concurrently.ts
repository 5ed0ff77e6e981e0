import type { StatementFacts } from '../../analyze/analyze.js';
import type { Action } from '../../analyze/classify.js';
import { statementOf } from '../../analyze/nodes.js';
import { operationFacts } from '../../catalog/operations.js';
import type { Fix } from '../../diagnostics.js';
import { coveredBySet, defineRule, describeSetAction } from '../define.js';
import { ORDERS_WITH_INDEX } from '../example-setups.js';
import { lockClause } from '../sql.js';
import { leaveTransactionHint } from './concurrently-in-transaction.js';

const BEFORE_12_HELP =
  'REINDEX CONCURRENTLY only exists since PostgreSQL 12. On this version build a replacement with CREATE INDEX CONCURRENTLY (same definition, new name), then DROP INDEX CONCURRENTLY the old one and rename the new one; or run the REINDEX in a maintenance window.';

export default defineRule({
  id: 'reindex-non-concurrently',
  equivalents: {
    squawk: ['require-concurrent-reindex'],
    eugene: ['E10'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'the same indexes are rebuilt, CONCURRENTLY (PG 12+). A failed rebuild leaves an INVALID `_ccnew` index to drop.',
  },
  summary: 'REINDEX without CONCURRENTLY blocks writes to the table while every index is rebuilt.',
  on: ['ReindexStmt'],
  docs: {
    problem: `\`REINDEX\` rebuilds the index from scratch while it holds SHARE on the table — inserts, updates and deletes
wait for the whole build — and ACCESS EXCLUSIVE on the index itself, so queries whose plan would use the index
wait too (in practice, most reads of the table). \`REINDEX TABLE\`, \`SCHEMA\` and \`DATABASE\` do this for every index
they cover, one after the other.`,
    solution: `Since PostgreSQL 12, rebuild it with \`REINDEX … CONCURRENTLY\`: a new index is built next to the old one under
SHARE UPDATE EXCLUSIVE — reads and writes continue — and swapped in. It cannot run inside a transaction block, and
an interrupted run can leave an INVALID \`…_ccnew\` index behind, to drop with \`DROP INDEX CONCURRENTLY\`.

\`\`\`sql
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
\`\`\`

Before PostgreSQL 12 there is no CONCURRENTLY: build a replacement online and swap it in.

\`\`\`sql
CREATE INDEX CONCURRENTLY orders_customer_id_idx_new ON orders (customer_id);
DROP INDEX CONCURRENTLY orders_customer_id_idx;
ALTER INDEX orders_customer_id_idx_new RENAME TO orders_customer_id_idx;
\`\`\`

An index that backs a constraint cannot be swapped this way; on those versions, REINDEX it in a quiet period.`,
    tools: {
      prisma:
        'Write `REINDEX INDEX CONCURRENTLY …` alone in its own `migration.sql`: with a second statement Prisma sends the file as one transaction, where it fails.',
      drizzle:
        '`drizzle-kit migrate` applies migrations inside a transaction, where CONCURRENTLY fails: run the statement from a separate script.',
      knex: '`knex.raw("REINDEX INDEX CONCURRENTLY …")` in a migration exporting `config = { transaction: false }`.',
      typeorm:
        '`queryRunner.query("REINDEX INDEX CONCURRENTLY …")` in a migration with `transaction = false` (needs `migrationsTransactionMode: \'each\'`).',
      sequelize:
        '`queryInterface.sequelize.query("REINDEX INDEX CONCURRENTLY …")`, not inside a `queryInterface.sequelize.transaction()`.',
      'node-pg-migrate': '`pgm.sql("REINDEX INDEX CONCURRENTLY …")` with `pgm.noTransaction()`.',
      alembic:
        '`op.execute("REINDEX INDEX CONCURRENTLY …")` inside `with op.get_context().autocommit_block():`.',
      django: '`RunSQL("REINDEX INDEX CONCURRENTLY …")` in a migration with `atomic = False`.',
      rails: '`execute "REINDEX INDEX CONCURRENTLY …"` in a migration with `disable_ddl_transaction!`.',
    },
  },
  examples: [
    {
      pg: { min: 12 },
      bad: 'REINDEX INDEX orders_customer_id_idx;',
      fixed: 'REINDEX INDEX CONCURRENTLY orders_customer_id_idx;',
    },
    {
      pg: { min: 12 },
      bad: 'REINDEX TABLE orders;',
      fixed: 'REINDEX TABLE CONCURRENTLY orders;',
      // REINDEX TABLE reads the table once per index: the example's table needs one
      setup: ORDERS_WITH_INDEX,
    },
    {
      title: 'a whole schema or database too',
      pg: { min: 12 },
      bad: 'REINDEX SCHEMA app;',
      fixed: 'REINDEX SCHEMA CONCURRENTLY app;',
      // REINDEX SCHEMA reindexes every table of the schema: one, with an index; a writer makes it
      // wait for its SHARE lock on that table
      setup: `CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int);
INSERT INTO app.orders SELECT g, g FROM generate_series(1, 10) g;`,
      stall: 'LOCK TABLE app.orders IN ROW EXCLUSIVE MODE',
    },
    {
      title:
        'before PostgreSQL 12 there is no CONCURRENTLY: reported, with the CREATE/DROP INDEX CONCURRENTLY recipe',
      pg: { max: 11 },
      bad: 'REINDEX INDEX orders_customer_id_idx;',
    },
    {
      title: 'inside a transaction the fix would fail, so none is offered',
      pg: { min: 12 },
      bad: 'BEGIN;\nREINDEX INDEX orders_customer_id_idx;\nCOMMIT;',
    },
    {
      title: 'CONCURRENTLY switched off in the option list',
      pg: { min: 14 },
      bad: 'REINDEX (CONCURRENTLY false) TABLE orders;',
      // REINDEX TABLE reads the table once per index: the example's table needs one
      setup: ORDERS_WITH_INDEX,
    },
    {
      title: 'the current database, since PostgreSQL 16 without its name',
      pg: { min: 16 },
      bad: 'REINDEX DATABASE;',
      fixed: 'REINDEX DATABASE CONCURRENTLY;',
      // REINDEX DATABASE goes through every table: one, with an index
      setup: ORDERS_WITH_INDEX,
    },
    {
      title: 'system catalogs cannot be reindexed CONCURRENTLY: reported, without a fix',
      pg: { min: 16 },
      bad: 'REINDEX SYSTEM;',
    },
    { pg: { min: 12 }, ok: 'REINDEX TABLE CONCURRENTLY orders;' },
    { pg: { min: 14 }, ok: 'REINDEX (VERBOSE) INDEX CONCURRENTLY orders_customer_id_idx;' },
    { ok: 'CREATE TABLE orders (id bigint PRIMARY KEY);\nREINDEX TABLE orders;' },
  ],
  check(facts, ctx) {
    const action = facts.actions.find(
      (a) => (a.op === 'reindex' || a.op === 'reindex-multiple') && !coveredBySet(facts, a),
    );
    if (!action) return;
    const stmt = statementOf(facts, 'ReindexStmt');
    const kind = stmt?.kind ?? '';
    const table = action.relations.table;
    let subject: string;
    let lock: { mode: ReturnType<typeof lockOf>; relation: string } | undefined;
    if (action.op === 'reindex-multiple') {
      // no table named: each table the statement covers, one after another, under the catalog's locks
      const what = kind.replace('REINDEX_OBJECT_', '');
      const scope = table?.set
        ? describeSetAction(facts, action)
        : (table?.display ?? 'every table it covers');
      subject = `REINDEX ${what} rebuilds the indexes of ${scope}, one table after another; each table ${lockClause(lockOf(action, 'table'), 'it')} and each index ACCESS EXCLUSIVE while they are rebuilt`;
      lock = { mode: lockOf(action, 'table'), relation: scope };
    } else {
      const rel = action.relations.index ?? table;
      if (facts.isNew(rel) || facts.isNew(table)) return;
      const index = action.relations.index;
      if (index) {
        subject = `REINDEX INDEX ${index.display} takes ${lockOf(action, 'index')} on the index — queries that would use it wait — and ${lockClause(lockOf(action, 'table'), 'its table')}, while it rebuilds`;
        lock = { mode: lockOf(action, 'index'), relation: index.display };
      } else {
        subject = `REINDEX TABLE ${table!.display} ${lockClause(lockOf(action, 'table'), table!.display)} while it rebuilds every index, each of which is locked ACCESS EXCLUSIVE`;
        lock = { mode: lockOf(action, 'table'), relation: table!.display };
      }
    }
    // system catalogs cannot be reindexed concurrently
    if (kind === 'REINDEX_OBJECT_SYSTEM') {
      ctx.report({
        statement: facts,
        message: `${subject}.`,
        help: 'System catalogs cannot be reindexed CONCURRENTLY: run it in a maintenance window, outside migrations.',
        lock,
      });
      return;
    }

    const supported = !operationFacts('reindex-concurrently', facts.pgVersion).unsupported;
    const help = !supported
      ? BEFORE_12_HELP
      : facts.transaction
        ? `Use REINDEX … CONCURRENTLY, outside a transaction block. ${leaveTransactionHint(facts)}`
        : 'Use REINDEX … CONCURRENTLY: the new index is built next to the old one while reads and writes continue.';
    ctx.report({
      statement: facts,
      location: action?.location,
      message: `${subject}.`,
      help,
      lock,
      fix: supported && !facts.transaction ? concurrentFix(facts) : undefined,
    });
  },
});

function lockOf(action: Pick<Action, 'facts'>, role: 'table' | 'index') {
  const lock = action.facts.locks.find((l) => l.on === role);
  if (!lock) throw new Error(`catalog: REINDEX takes no lock on its ${role}`);
  return lock.mode;
}

/** Insert CONCURRENTLY after INDEX/TABLE/SCHEMA/DATABASE; not when an option list mentions it. */
function concurrentFix(facts: StatementFacts): Fix | undefined {
  const at = /^\s*reindex\s*(\(([^)]*)\)\s*)?(index|table|schema|database)\b/i.exec(facts.statement.text);
  if (!at || /concurrently/i.test(at[2] ?? '')) return undefined;
  const pos = facts.statement.start + at[0].length;
  return { title: 'Reindex concurrently', edits: [{ start: pos, end: pos, text: ' CONCURRENTLY' }] };
}
