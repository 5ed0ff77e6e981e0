import type { StatementFacts, Transaction } from '../../analyze/analyze.js';
import { names, type RelationRef } from '../../analyze/ast.js';
import { asNode, statementOf } from '../../analyze/nodes.js';
import { blockSummary, blocksApplication, lockStrength } from '../../catalog/locks.js';
import type { PlanProposal } from '../../diagnostics.js';
import { defineRule } from '../define.js';
import { batchedStep, withBatchCondition } from '../recipes.js';

const VERB: Record<string, string> = { update: 'UPDATE', delete: 'DELETE', insert: 'INSERT … SELECT' };

export default defineRule({
  id: 'unbatched-data-migration',
  equivalents: {
    eugene: ['E4'],
    strongMigrations: ['change_column_null'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  plan: 'with `--unsafe`: an UPDATE or DELETE of one table (no FROM, USING, RETURNING or WITH) becomes a DO block that runs it a range of pages at a time, each range its own transaction (PG 11+, outside a transaction block). Unsafe: the rows change over many transactions, concurrent writes land between them, and the WHERE is evaluated per range.',
  summary:
    'Whole-table UPDATE/DELETE, or data changes made while holding a blocking lock, stall writers; backfill in batches instead.',
  docs: {
    problem: `A data change inside a schema migration is one statement in one transaction, however many rows it touches.

- \`UPDATE t SET …\` or \`DELETE FROM t\` without a \`WHERE\` locks every row it changes until the transaction
  commits: every application write to those rows waits. On a large table it runs for minutes, writes a new version
  of every row (bloat, WAL, replica lag) and holds back vacuum for its whole duration.
- \`UPDATE t SET col = … WHERE col IS NULL\` is no narrower: it fills the NULLs of a column, which for a column
  added not long ago is every row. It is what Rails' \`change_column_null :t, :col, false, default\` runs right before
  \`SET NOT NULL\` (which then scans the table under ACCESS EXCLUSIVE: see \`set-not-null\`).
- Any UPDATE, DELETE or INSERT … SELECT that runs *after* a statement of the same transaction took a lock that
  blocks application traffic (an \`ALTER TABLE\`'s ACCESS EXCLUSIVE, a \`CREATE INDEX\`'s SHARE, …) keeps that lock
  for as long as the data change takes — typically the backfill of the column just added, run under the lock
  that blocks every read of the table.`,
    solution: `Commit the schema change on its own, then change the data outside the migration's transaction, in
batches: about a thousand rows per statement, chosen by a key range, each batch its own short transaction with a
\`statement_timeout\`, so that row locks are held for milliseconds and a stuck batch is cancelled instead of
blocking. The loop is resumable — restart it from the last key it reached.

\`\`\`sql
-- run repeatedly, advancing :lo by 1000 until it passes max(id); each run is its own transaction
SET statement_timeout = '5s';
UPDATE orders SET status_v2 = status
WHERE id >= :lo AND id < :lo + 1000 AND status_v2 IS DISTINCT FROM status;
\`\`\`

From a shell:

\`\`\`sh
max=$(psql -Atc 'SELECT coalesce(max(id), 0) FROM orders')
for ((lo = 0; lo <= max; lo += 1000)); do
  psql -v ON_ERROR_STOP=1 -v lo=$lo -f backfill_batch.sql || break
done
\`\`\`

Deletes work the same way (\`DELETE FROM t WHERE id >= :lo AND id < :lo + 1000 AND …\`); to empty a table,
\`TRUNCATE\` is instant but takes ACCESS EXCLUSIVE.`,
    tools: {
      prisma:
        'Keep data changes out of `migration.sql`: run a script (for example `$executeRaw` in a loop over key ranges) after `migrate deploy`.',
      drizzle:
        'Run the backfill from a script after `drizzle-kit migrate`, one `db.execute(sql`…`)` per batch.',
      knex: 'Use a migration exporting `config = { transaction: false }` and loop over key ranges, one `knex.raw(…)` per batch.',
      typeorm:
        'Set `transaction = false` on the migration and loop over key ranges with `queryRunner.query(…)`.',
      'node-pg-migrate': 'Call `pgm.noTransaction()` and run the batches with `pgm.db.query(…)` in a loop.',
      sequelize:
        'Loop over key ranges with `queryInterface.sequelize.query(…)`, without passing a transaction.',
      alembic:
        'Loop over key ranges inside `with op.get_context().autocommit_block():`, one `op.execute(…)` per batch.',
      django:
        'Use `RunPython` in a migration with `atomic = False`, updating by primary-key ranges (`filter(pk__gte=lo, pk__lt=hi).update(…)`).',
      rails: `Use \`disable_ddl_transaction!\` and \`Model.unscoped.in_batches(of: 1000) { |batch| batch.update_all(…) }\`
(strong_migrations’ backfill recipe), or a separate task. \`change_column_null :users, :plan, false, "free"\` backfills
with one unbatched UPDATE: fill the NULLs with \`User.unscoped.where(plan: nil).in_batches(of: 1000) { |b| b.update_all(plan: "free") }\`
in a \`disable_ddl_transaction!\` migration, then make the column NOT NULL the way \`set-not-null\` describes.`,
    },
  },
  examples: [
    { bad: "UPDATE orders SET status_v2 = 'new';" },
    { bad: 'DELETE FROM sessions;' },
    {
      title: 'a backfill under the ACCESS EXCLUSIVE lock of the column just added',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN status_v2 text;\nUPDATE orders SET status_v2 = status WHERE status IS NOT NULL;\nCOMMIT;',
    },
    {
      title: 'the runner’s transaction holds the lock too',
      bad: 'ALTER TABLE orders ADD COLUMN total numeric;\nINSERT INTO order_totals SELECT id, amount FROM orders;',
      runner: 'prisma',
      setup: `CREATE TABLE orders (id int, amount int);
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
CREATE TABLE order_totals (order_id int, total int);`,
    },
    {
      title:
        'what Rails’ `change_column_null :users, :status, false, "active"` runs: every NULL filled in one statement',
      bad: 'UPDATE "users" SET "status"=\'active\' WHERE "status" IS NULL;\nALTER TABLE "users" ALTER COLUMN "status" SET NOT NULL;',
      runner: 'rails',
    },
    {
      title: 'a filter on a column that is no key may pick every row',
      bad: "UPDATE orders SET status_v2 = 'archived' WHERE status = 'closed';",
    },
    { bad: "DELETE FROM sessions WHERE status = 'expired';" },
    {
      title: 'the key of another table in FROM does not bound the rows changed',
      bad: "UPDATE orders SET note = 'vip' FROM customers WHERE customers.id = 7 AND orders.customer_id = customers.id;",
    },
    {
      title: 'a key range bounded only from below reaches the newest rows',
      bad: 'UPDATE orders SET status_v2 = status WHERE id > 1000;',
    },
    {
      title: 'part of a composite unique key',
      bad: 'ALTER TABLE memberships ADD CONSTRAINT memberships_key UNIQUE (org_id, user_id);\nDELETE FROM memberships WHERE org_id = 1;',
    },
    {
      title: 'OR may widen what a key picks',
      bad: "DELETE FROM sessions WHERE id = 1 OR status = 'expired';",
    },
    { ok: "UPDATE orders SET status_v2 = 'new' WHERE id >= 0 AND id < 1000;" },
    {
      title: 'marked for pgkeel run, which runs it in committed keyset batches',
      ok: '-- pgkeel:batch size=1000\nUPDATE orders SET status_v2 = status;',
    },
    {
      title:
        'a batch loop in a DO block: the bounds are the block’s variables, each batch its own transaction',
      ok: 'DO $$\nDECLARE lo bigint := 0;\nBEGIN\n  WHILE lo < 100000 LOOP\n    UPDATE orders SET status_v2 = status WHERE id >= lo AND id < lo + 1000;\n    COMMIT;\n    lo := lo + 1000;\n  END LOOP;\nEND\n$$;',
    },
    {
      title: 'one row by id',
      ok: "UPDATE orders SET status_v2 = 'new' WHERE id = 42;",
    },
    {
      title: 'one row by id is quick even under the lock of the column just added',
      ok: "BEGIN;\nALTER TABLE orders ADD COLUMN status_v2 text;\nUPDATE orders SET status_v2 = 'new' WHERE orders.id = 42;\nCOMMIT;",
    },
    { ok: 'DELETE FROM sessions WHERE id IN (1, 2, 3);' },
    {
      title: 'a primary key declared in this file',
      ok: "CREATE TABLE IF NOT EXISTS users (email text PRIMARY KEY, name text);\nUPDATE users SET name = 'Ada' WHERE email = 'ada@example.com';",
    },
    {
      title: 'every column of a unique constraint declared in this file',
      ok: 'ALTER TABLE memberships ADD CONSTRAINT memberships_key UNIQUE (org_id, user_id);\nDELETE FROM memberships WHERE org_id = 1 AND user_id = 2;',
    },
    {
      title: 'filling NULLs one key range at a time',
      ok: 'UPDATE "users" SET "status"=\'active\' WHERE "status" IS NULL AND id >= 0 AND id < 1000;',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE flags (on_off boolean);\nUPDATE flags SET on_off = true;',
    },
    {
      title: 'the schema change committed first',
      ok: 'ALTER TABLE orders ADD COLUMN status_v2 text;\nUPDATE orders SET status_v2 = status WHERE id < 1000;',
    },
    {
      title: 'a few literal rows are not a data migration',
      ok: "BEGIN;\nALTER TABLE plans ADD COLUMN tier text;\nINSERT INTO plans (name) VALUES ('free');\nCOMMIT;",
    },
  ],
  create(ctx) {
    return {
      statement(facts) {
        for (const action of facts.actions) {
          if (action.op !== 'update' && action.op !== 'delete' && action.op !== 'insert') continue;
          if (action.op === 'insert' && !insertsFromQuery(facts)) continue;
          const table = action.relations.table!;
          // `-- pgkeel:batch`: pgkeel run executes it in committed keyset batches
          if (action.op !== 'insert' && batchedByRunner(ctx.file.sql, facts.statement.start)) continue;
          const rows = action.op === 'insert' ? 'many' : rowsSelected(action.node, table, facts);
          // a few rows picked by key finish at once, even under a lock the transaction holds
          if (rows === 'few') continue;
          const held = blockingLocksHeld(facts, table.key);
          const column = action.op === 'update' && !facts.isNew(table) ? fillsNulls(facts) : undefined;
          if (held) {
            // the statement that took the mode the message names, not the first to lock the table at all
            const at = held.since.get(held.mode);
            const line = at === undefined ? '' : ` (since line ${ctx.file.position(at).line})`;
            ctx.report({
              statement: facts,
              location: action.location,
              message: `This ${VERB[action.op]} runs in a transaction that already holds ${held.mode} on ${held.relation.display}${line}${held.others > 0 ? `, and blocking locks on ${held.others} more table${held.others === 1 ? '' : 's'}` : ''}: they stay until the data change and the rest of the transaction commit, and ${held.mode} ${blockSummary(held.mode)}.`,
              help: 'Commit the schema change first (a migration of its own), then change the data outside the migration in batches of about 1,000 rows, each its own short transaction with a statement_timeout.',
            });
          } else if (column !== undefined) {
            ctx.report({
              statement: facts,
              location: action.location,
              message: `UPDATE … WHERE ${column} IS NULL fills every NULL of ${column} in ${table.display} in one statement (for a recently added column, every row): each changed row stays locked until it commits, so application writes to them wait, and on a large table it runs long and bloats it.`,
              help: `Fill the NULLs outside the schema migration in batches of about 1,000 rows by key range (… WHERE ${column} IS NULL AND id >= :lo AND id < :lo + 1000), each its own short transaction with a statement_timeout.`,
              plan: () => batchedPlan(facts, table),
            });
          } else if (action.op !== 'insert' && action.detail?.unfiltered && !facts.isNew(table)) {
            ctx.report({
              statement: facts,
              location: action.location,
              message: `${VERB[action.op]} without WHERE changes every row of ${table.display} in one transaction: each row stays locked until it commits, so application writes to them wait, and on a large table it runs long and bloats it.`,
              help: 'Run it outside the schema migration in batches of about 1,000 rows by key range, each its own short transaction with a statement_timeout.',
              plan: () => batchedPlan(facts, table),
            });
          } else if (action.op !== 'insert' && rows === 'many' && !facts.isNew(table)) {
            ctx.report({
              statement: facts,
              location: action.location,
              message: `${VERB[action.op]} picks the rows of ${table.display} by no key (neither id, ctid nor a primary key or unique column equal to constants, nor a key range): it may change most of the table in one transaction, each changed row locked until it commits, so application writes to them wait, and on a large table it runs long and bloats it.`,
              help: 'Run it outside the schema migration in batches of about 1,000 rows by key range (… AND id >= :lo AND id < :lo + 1000), each its own short transaction with a statement_timeout.',
              plan: () => batchedPlan(facts, table),
            });
          }
        }
      },
    };
  },
});

/**
 * Locks the transaction holds that block application queries on tables that existed before: the one on
 * the changed table if any, else the strongest, and how many others there are.
 */
/** what a transaction holds on one relation */
type HeldLock = Transaction['heldLocks'] extends Map<string, infer H> ? H : never;

function blockingLocksHeld(facts: StatementFacts, table: string) {
  const locks = facts.transaction?.heldLocks;
  if (!locks || locks.size === 0) return undefined;
  const held: HeldLock[] = [];
  for (const h of locks.values()) if (blocksApplication(h.mode) && !facts.isNew(h.relation)) held.push(h);
  if (held.length === 0) return undefined;
  // the table being changed if it is locked, else the strongest lock
  const main =
    held.find((h) => h.relation.key === table) ??
    held.reduce((a, b) => (lockStrength(b.mode) > lockStrength(a.mode) ? b : a));
  return { ...main, others: held.length - 1 };
}

/** INSERT … SELECT … FROM (a set of rows of unknown size), not VALUES or a single computed row. */
function insertsFromQuery(facts: StatementFacts): boolean {
  const select = asNode(statementOf(facts, 'InsertStmt')?.selectStmt, 'SelectStmt');
  if (!select || select.valuesLists) return false;
  return Boolean(select.fromClause?.length) || (select.op !== undefined && select.op !== 'SETOP_NONE');
}

/**
 * `UPDATE t SET col = … WHERE col IS NULL` with nothing else in the WHERE: a backfill of the whole column
 * (Rails' `change_column_null` with a default). Returns the column.
 */
function fillsNulls(facts: StatementFacts): string | undefined {
  const update = statementOf(facts, 'UpdateStmt');
  const test = asNode(update?.whereClause, 'NullTest');
  if (test?.nulltesttype !== 'IS_NULL') return undefined;
  const column = names(asNode(test.arg, 'ColumnRef')?.fields).at(-1);
  if (!column) return undefined;
  const targets = update?.targetList ?? [];
  return targets.some((t) => asNode(t, 'ResTarget')?.name === column) ? column : undefined;
}

/**
 * How many rows the WHERE of an UPDATE or DELETE may pick. `few`: equality with constants (or an IN
 * list of them) on every column of a key — \`id\`, \`ctid\`, or a PRIMARY KEY / UNIQUE constraint or unique
 * index this file declared; `range`: an upper bound on a one-column key, the batching recipe (ids grow,
 * so a range bounded only from below reaches the newest rows); `many`: anything else, which may pick
 * every row — a status, a foreign key, a join. Only conditions ANDed at the top count: OR may widen.
 */
function rowsSelected(node: unknown, table: RelationRef, facts: StatementFacts): 'few' | 'range' | 'many' {
  const stmt = asNode(node, 'UpdateStmt') ?? asNode(node, 'DeleteStmt');
  if (!stmt?.whereClause) return 'many';
  // a qualified column counts only when it names the changed table (not a table of FROM / USING)
  const own = new Set([stmt.relation?.relname, stmt.relation?.alias?.aliasname].filter(Boolean));
  const variables = facts.statement.embeddedIn?.variables;
  const columnOf = (n: unknown): string | undefined => {
    const fields = names(asNode(n, 'ColumnRef')?.fields);
    if (fields.length === 0 || (fields.length > 1 && !own.has(fields.at(-2)))) return undefined;
    // a variable of the DO block or function is a value, not a column
    if (fields.length === 1 && variables?.has(fields[0]!)) return undefined;
    return fields.at(-1);
  };
  const equal = new Set<string>();
  const upper = new Set<string>();
  const conditions: unknown[] = [stmt.whereClause];
  for (let c = conditions.pop(); c !== undefined; c = conditions.pop()) {
    const and = asNode(c, 'BoolExpr');
    if (and?.boolop === 'AND_EXPR') {
      conditions.push(...(and.args ?? []));
      continue;
    }
    const e = asNode(c, 'A_Expr');
    const op = names(e?.name)[0];
    if (e?.kind === 'AEXPR_OP') {
      // `col op value` or `value op col`
      const left = columnOf(e.lexpr);
      const column = left ?? columnOf(e.rexpr);
      if (!column || !isConstant(left ? e.rexpr : e.lexpr, variables)) continue;
      if (op === '=') equal.add(column);
      else if ((left && (op === '<' || op === '<=')) || (!left && (op === '>' || op === '>=')))
        upper.add(column);
    } else if (e?.kind === 'AEXPR_IN' && op === '=') {
      const column = columnOf(e.lexpr);
      const items: unknown[] | undefined = asNode(e.rexpr, 'List')?.items;
      if (column && items?.every((i) => isConstant(i, variables))) equal.add(column);
    } else if (e?.kind === 'AEXPR_BETWEEN') {
      const column = columnOf(e.lexpr);
      const items: unknown[] | undefined = asNode(e.rexpr, 'List')?.items;
      if (column && items?.every((i) => isConstant(i, variables))) upper.add(column);
    }
  }
  const keys = [['id'], ['ctid'], ...(facts.state.uniqueKeys.get(table.key) ?? [])];
  if (keys.some((k) => k.every((c) => equal.has(c)))) return 'few';
  if (keys.some((k) => k.length === 1 && upper.has(k[0]!))) return 'range';
  return 'many';
}

/** A literal, a parameter, or a cast of one: a value fixed before the statement runs. */
function isConstant(n: unknown, variables?: ReadonlySet<string>): boolean {
  if (asNode(n, 'A_Const') || asNode(n, 'ParamRef')) return true;
  const cast = asNode(n, 'TypeCast');
  if (cast) return isConstant(cast.arg, variables);
  if (!variables) return false;
  // in a DO block or function: its variables, and arithmetic or calls on values only (`lo + 1000`,
  // `format('(%s,0)', page)::tid`), are fixed before each statement runs — a batch loop's bounds
  const ref = names(asNode(n, 'ColumnRef')?.fields);
  if (ref.length === 1) return variables.has(ref[0]!);
  const e = asNode(n, 'A_Expr');
  if (e?.kind === 'AEXPR_OP')
    return (e.lexpr === undefined || isConstant(e.lexpr, variables)) && isConstant(e.rexpr, variables);
  const call = asNode(n, 'FuncCall');
  return call !== undefined && !call.agg_star && (call.args ?? []).every((a) => isConstant(a, variables));
}

/** The statement run a range of pages at a time, each range committed (see recipes.ts). */
function batchedPlan(facts: StatementFacts, table: RelationRef): PlanProposal | undefined {
  if (facts.statement.embeddedIn || facts.transaction) return undefined;
  // the statement with a placeholder where the batch's range goes
  const PLACEHOLDER = 'pgkeel_batch_condition';
  const text = withBatchCondition(facts.statement.node, PLACEHOLDER);
  if (!text) return undefined;
  return {
    title: 'Run it in batches of pages, each committed',
    safety: 'unsafe',
    steps: [{ sql: batchedStep(table, (range) => text.replace(PLACEHOLDER, range)), batches: true }],
  };
}

/** A `-- pgkeel:batch` comment between the previous statement and this one. */
function batchedByRunner(sql: string, start: number): boolean {
  const from = Math.max(0, start - 500);
  const before = sql.slice(from, start);
  const gap = before.slice(before.lastIndexOf(';') + 1);
  return /--\s*pgkeel:batch\b/.test(gap);
}
