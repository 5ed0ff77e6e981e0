import type { StatementFacts, Transaction } from '../../analyze/analyze.js';
import { type RelationRef, relationRef } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { statementOf } from '../../analyze/nodes.js';
import { lockDuration } from '../../catalog/operations.js';
import { defineRule, lockedRelation, lockOn } from '../define.js';

/** data changes (unbatched-data-migration's findings) and the reads that come with them */
const DML = new Set(['update', 'delete', 'insert', 'merge', 'read']);

/** What makes a later statement keep the held ACCESS EXCLUSIVE longer: slow work, or a lock to wait for. */
function extension(
  facts: StatementFacts,
  held: string,
  action: Action,
  renamed: Set<string>,
): string | undefined {
  const role = action.facts.target ?? 'table';
  const target = action.relations[role];
  const tx = facts.transaction!;
  // VALIDATE of a constraint added NOT VALID in this transaction is validate-in-same-transaction's finding
  if (action.constraint && target && tx.notValidAdded.has(`${target.key}|${action.constraint}`))
    return undefined;
  if (lockDuration(action.facts) === 'table-size' && target && !facts.isNew(target)) {
    const what = action.facts.rewrite
      ? 'rewrites'
      : action.facts.indexBuild
        ? 'builds an index on'
        : 'reads all of';
    // on the locked table itself a slow operation that takes ACCESS EXCLUSIVE anyway is its own rule's finding;
    // one that takes a weaker lock (CREATE INDEX: SHARE) now also blocks reads
    if (target.key !== held) return `${action.facts.title} ${what} ${target.display}`;
    if (action.facts.locks.some((l) => l.on === role) && lockOn(action, role) !== 'ACCESS EXCLUSIVE')
      return `${action.facts.title} ${what} ${target.display}, which would otherwise only take ${lockOn(action, role)}`;
  }
  // an index whose table is unknown may be on the held table: no evidence of a wait
  const other = facts.locks.find(
    (l) =>
      l.relation.key !== held &&
      !l.isNew &&
      !l.alreadyHeld &&
      !renamed.has(l.relation.key) &&
      tableOf(facts, l.relation) === l.relation.display,
  );
  if (other)
    return `${action.facts.title} has to lock ${tableOf(facts, other.relation)} (${other.mode}) first and waits for every transaction using it`;
  return undefined;
}

/**
 * How a finding names a locked relation: an index whose table is unknown (the statement names only
 * the index) stands for its table, which is what queries wait on.
 */
function tableOf(facts: StatementFacts, relation: RelationRef): string {
  for (const a of facts.actions)
    if (a.relations.index?.key === relation.key && !a.relations.table)
      return lockedRelation(a, 'table')?.display ?? relation.display;
  return relation.display;
}

/** what a transaction holds on one relation */
type HeldLock = Transaction['heldLocks'] extends Map<string, infer H> ? H : never;

export default defineRule({
  id: 'statements-after-access-exclusive',
  equivalents: {
    eugene: ['E4'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  plan: 'the transaction is split where a statement would wait for, or work under, a lock while an earlier one holds ACCESS EXCLUSIVE on another table: each such statement starts a transaction of its own, so the blocking lock is held only as long as its own statement.',
  summary:
    'Slow work, or locking another table, after a statement took ACCESS EXCLUSIVE in the same transaction keeps every query of the locked table waiting.',
  docs: {
    problem: `A lock is held until the transaction ends, not until the statement that took it ends. Once an
\`ALTER TABLE\` (or \`DROP INDEX\`, \`LOCK TABLE\`, …) has taken ACCESS EXCLUSIVE on a table, no query can read or
write that table until COMMIT, so everything the transaction does afterwards is part of the outage:

- building an index, validating a constraint or rewriting a table — the table itself (a \`CREATE INDEX\` that alone
  would only block writes now blocks reads too) or any other table;
- touching another existing table: the statement first waits for its lock, behind every long query or
  idle-in-transaction session using that table, while the first table stays locked.

(Data changes after such a lock — a backfill in the same transaction — are reported by \`unbatched-data-migration\`.)`,
    solution: `Keep the transaction that takes ACCESS EXCLUSIVE short: commit right after the brief statements that need
it, and do the slow work and the other tables in their own transactions (separate migrations when the tool wraps each
one in a transaction).

\`\`\`sql
SET lock_timeout = '2s';
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
BEGIN;
ALTER TABLE customers ADD COLUMN vip boolean;
COMMIT;
\`\`\``,
    tools: {
      prisma:
        'Prisma runs each `migration.sql` as one transaction: put the brief ACCESS EXCLUSIVE change and the slow work in separate migrations.',
      drizzle:
        '`drizzle-kit migrate` applies all pending migrations in one transaction, so a lock taken by one is held through the next: deploy the slow step as a later, separate run (or a script).',
      knex: 'Each migration runs in its own transaction (unless `config = { transaction: false }`): split the work into separate migrations.',
      typeorm:
        'By default `migration:run` runs all pending migrations in one transaction (`transaction: "all"`): use `--transaction each` (`migrationsTransactionMode: "each"`) and split the work into separate migrations.',
      sequelize:
        'sequelize-cli does not wrap a migration in a transaction: keep the slow steps out of any `queryInterface.sequelize.transaction()` that also takes the lock.',
      'node-pg-migrate':
        'All pending migrations run in one transaction by default (`singleTransaction`): run with `--no-single-transaction`, and split the work into separate migrations (or `pgm.noTransaction()` ones).',
      alembic:
        'Unless `transaction_per_migration=True` is passed to `context.configure()` in `env.py`, an upgrade runs every pending revision in one transaction: set it, and split the work into separate revisions.',
      django:
        'Each migration is one transaction (unless `atomic = False`): split the work into separate migrations.',
      rails:
        'Each migration is one transaction (unless `disable_ddl_transaction!`): split the work into separate migrations.',
    },
  },
  examples: [
    {
      title: 'the index build blocks reads as well, under the ALTER’s lock',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_status_idx ON orders (status);\nCOMMIT;',
    },
    {
      title: 'the second table is locked while orders stays locked',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;',
    },
    {
      title: 'the runner’s transaction holds the lock too',
      bad: 'ALTER TABLE orders DROP COLUMN legacy;\nALTER TABLE line_items ADD CONSTRAINT qty_positive CHECK (qty > 0);',
      runner: 'transaction-per-file',
    },
    {
      title: 'each statement commits on its own',
      ok: 'ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN vip boolean;',
    },
    {
      title: 'more brief changes to the same table',
      ok: "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ALTER COLUMN note SET DEFAULT '';\nCOMMIT;",
    },
    {
      title: 'tables created in this migration are nobody else’s yet',
      ok: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE TABLE notes (id bigint);\nCREATE INDEX notes_id_idx ON notes (id);\nCOMMIT;',
    },
    {
      title: 'a backfill is unbatched-data-migration’s finding',
      ok: "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nUPDATE orders SET note = '' WHERE id < 1000;\nCOMMIT;",
    },
    {
      title: 'the renamed table is the one already locked',
      ok: 'BEGIN;\nALTER TABLE orders RENAME TO purchases;\nALTER TABLE purchases ADD COLUMN note text;\nCOMMIT;',
    },
    {
      title: 'a dropped table’s readers fail after COMMIT anyway',
      ok: 'BEGIN;\nDROP TABLE old_orders;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;',
    },
    {
      title: 'a dropped index whose table is unknown may be on the locked table',
      ok: 'BEGIN;\nDROP INDEX orders_a_idx;\nDROP INDEX orders_b_idx;\nCOMMIT;',
    },
    {
      title: 'an index known to be on another table',
      bad: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_email_idx ON customers (email);\nBEGIN;\nDROP INDEX orders_a_idx;\nDROP INDEX customers_email_idx;\nCOMMIT;',
    },
    {
      title: 'CREATE TABLE AS reads all of the locked table, which alone it would only lock ACCESS SHARE',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE TABLE orders_copy AS SELECT * FROM orders;\nCOMMIT;',
    },
    {
      title: 'a materialized view over another table waits for it, then reads all of it',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE MATERIALIZED VIEW customer_names AS SELECT id, name FROM customers;\nCOMMIT;',
    },
    {
      title: 'a copy of a table created in this migration reads nobody else’s rows',
      ok: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE TABLE notes (id bigint);\nCREATE TABLE notes_copy AS SELECT * FROM notes;\nCOMMIT;',
    },
    {
      title: 'a weaker lock first',
      ok: 'BEGIN;\nCREATE INDEX orders_status_idx ON orders (status);\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;',
    },
  ],
  create(ctx) {
    /** how findings name each locked relation, by key (see tableOf) */
    const shown = new Map<string, string>();
    const show = (r: RelationRef) => shown.get(r.key) ?? r.display;
    /** tables dropped (their readers fail after COMMIT anyway) and new names of renamed tables (locked already) */
    const dropped = new Set<string>();
    const renamed = new Set<string>();
    // one finding per transaction, at its first such statement, counting the others: in a tool that
    // wraps every file in a transaction, one report per statement would bury the point
    let pending:
      | { tx: number; facts: StatementFacts; location?: number; why: string; held: HeldLock; later: number }
      | undefined;
    const flush = () => {
      if (!pending) return;
      const { facts, location, why, held, later } = pending;
      // the statement that took ACCESS EXCLUSIVE, not the first to lock the table in a weaker mode
      const at = held.since.get('ACCESS EXCLUSIVE');
      const line = at === undefined ? '' : ` since line ${ctx.file.position(at).line}`;
      const more =
        later === 0
          ? ''
          : ` ${later} later statement${later === 1 ? '' : 's'} of this transaction extend${later === 1 ? 's' : ''} it too.`;
      ctx.report({
        statement: facts,
        location,
        message: `This transaction holds ACCESS EXCLUSIVE on ${show(held.relation)}${line}, so no query can read or write it until COMMIT; here ${why}, and ${show(held.relation)} stays blocked all that time.${more}`,
        help: `Commit right after the statements that need the lock on ${show(held.relation)}, and run the rest in their own transactions (separate migrations if the tool wraps each in a transaction).`,
        lock: { mode: 'ACCESS EXCLUSIVE', relation: show(held.relation) },
      });
      pending = undefined;
    };
    return {
      statement(facts) {
        const tx = facts.transaction;
        if (pending && pending.tx !== tx?.id) flush();
        if (tx) {
          // a loop, not a copy of the map: this runs for every statement of a transaction
          let held: HeldLock | undefined;
          for (const h of tx.heldLocks.values()) {
            if (h.mode === 'ACCESS EXCLUSIVE' && !facts.isNew(h.relation) && !dropped.has(h.relation.key)) {
              held = h;
              break;
            }
          }
          if (held) {
            for (const action of facts.actions) {
              if (DML.has(action.op)) continue;
              const why = extension(facts, held.relation.key, action, renamed);
              if (!why) continue;
              if (pending) pending.later++;
              else pending = { tx: tx.id, facts, location: action.location, why, held, later: 0 };
              break;
            }
          }
        }
        for (const l of facts.locks) {
          const name = tableOf(facts, l.relation);
          if (name !== l.relation.display) shown.set(l.relation.key, name);
        }
        for (const a of facts.actions)
          if (a.op === 'drop-table' && a.relations.table) dropped.add(a.relations.table.key);
        const rename = statementOf(facts, 'RenameStmt');
        if (rename?.renameType === 'OBJECT_TABLE') {
          const to = relationRef(
            { schemaname: rename.relation?.schemaname, relname: rename.newname },
            facts.state.defaultSchema,
          );
          if (to) renamed.add(to.key);
        }
      },
      end: flush,
    };
  },
});
