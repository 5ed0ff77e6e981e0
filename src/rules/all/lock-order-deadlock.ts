import type { StatementFacts } from '../../analyze/analyze.js';
import { type RelationRef, relationRef } from '../../analyze/ast.js';
import { statementOf } from '../../analyze/nodes.js';
import { blocksApplication, type LockMode, strongerLock } from '../../catalog/locks.js';
import { defineRule } from '../define.js';

/** A lock that blocks application queries, taken on an existing table in this transaction. */
interface StrongLock {
  relation: RelationRef;
  mode: LockMode;
}

/**
 * The application-blocking locks `facts` takes on existing tables, by relation key. Not counted: tables
 * created in this migration (or by this statement), and the referenced table of a foreign key whose own
 * table is new — that statement locks both at once and the new table has no traffic to deadlock with.
 * Nor locks on indexes: the order that matters is the order of tables, and an index operation locks
 * its table too when the table is known (from this file or the live schema); when it is not, two
 * indexes may well be on one table, so they are no evidence of two tables locked in turn.
 */
function strongLocks(facts: StatementFacts): Map<string, StrongLock> {
  const out = new Map<string, StrongLock>();
  const exempt = new Set<string>();
  for (const a of facts.actions) {
    const table = a.relations.table;
    const tableIsNew = a.op.startsWith('create-table') || facts.isNew(table);
    if (tableIsNew && a.relations.referenced) exempt.add(a.relations.referenced.key);
    if (tableIsNew && table) exempt.add(table.key);
    if (a.relations.index) exempt.add(a.relations.index.key);
  }
  for (const l of facts.locks) {
    if (l.isNew || l.alreadyHeld || exempt.has(l.relation.key) || !blocksApplication(l.mode)) continue;
    out.set(l.relation.key, { relation: l.relation, mode: l.mode });
  }
  return out;
}

export default defineRule({
  id: 'lock-order-deadlock',
  // the first table stays locked while the migration queues for the next, and a deadlock aborts one side
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  severity: 'warning',
  severityReason:
    'A deadlock needs application transactions that lock these tables in the other order, which pgkeel cannot see; lock-timeout-missing reports the wait for each lock.',
  plan: 'a transaction that holds a lock blocking traffic on one table never waits for a lock on another: the step that would starts a transaction of its own, so no two migrations’ transactions hold each other’s tables.',
  summary:
    'Locking several existing tables one after another in one transaction can deadlock with application transactions that touch them in the other order.',
  docs: {
    problem: `Every lock a transaction takes is held until COMMIT. When a migration takes a lock that blocks application
queries (an \`ALTER TABLE\`'s ACCESS EXCLUSIVE, the SHARE ROW EXCLUSIVE of a foreign key or trigger, a \`CREATE INDEX\`'s
SHARE, …) on one existing table and later, in the same transaction, on another, it locks them in its own order.
Application transactions touch the same tables in whatever order the code does — update \`customers\`, then insert
into \`orders\` — and hold their row locks until they commit. When the orders cross, the migration waits for the
application while the application waits for the migration: Postgres detects the deadlock after \`deadlock_timeout\`
and aborts one of them (possibly a user's request, possibly the migration halfway through). Without a deadlock, the
migration still holds the first table blocked while it queues for the second.`,
    solution: `Take every lock the transaction needs up front, in one statement and a consistent order, with a short
\`lock_timeout\` so that a busy table makes the migration fail fast (and retry) instead of stalling traffic:

\`\`\`sql
BEGIN;
SET LOCAL lock_timeout = '2s';
LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE;
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE customers ADD COLUMN vip boolean;
COMMIT;
\`\`\`

Or split the migration so that each transaction locks one table:

\`\`\`sql
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE customers ADD COLUMN vip boolean;
\`\`\``,
    tools: {
      prisma:
        'Each `migration.sql` is one transaction: put the changes to each table in their own migration directory, or start the file with `LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE;` after the `SET lock_timeout`.',
      drizzle:
        '`drizzle-kit migrate` applies all pending migrations in one transaction, so splitting files does not help when they run together: start the migration with `LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE;--> statement-breakpoint`.',
      knex: "`migrate:latest` runs all pending migrations in one transaction: start `up` with `knex.raw('LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE')`, or apply one migration per table with `migrate:up`.",
      typeorm:
        "In the default `migrationsTransactionMode: 'all'` every pending migration shares one transaction: use `'each'` with one table per migration, or start `up()` with `queryRunner.query('LOCK TABLE … IN ACCESS EXCLUSIVE MODE')`.",
      sequelize:
        "Migrations run without a transaction, so each statement's lock ends with it; the hazard appears inside `queryInterface.sequelize.transaction()` — take the locks there first with `LOCK TABLE …`.",
      'node-pg-migrate':
        "All pending migrations share one transaction by default: start with `pgm.sql('LOCK TABLE … IN ACCESS EXCLUSIVE MODE')`, or run with `--no-single-transaction` and one table per migration.",
      alembic:
        'The default `env.py` applies all pending revisions in one transaction: begin with `op.execute("LOCK TABLE … IN ACCESS EXCLUSIVE MODE")`, or set `transaction_per_migration=True` and change one table per revision.',
      django:
        'Each migration is atomic: split the operations on each table into their own migration, or begin with `migrations.RunSQL("LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE")`.',
      rails:
        'Each migration runs in one transaction: put the changes to each table in its own migration, or start the migration with `execute "LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE"`.',
    },
  },
  examples: [
    {
      title: 'orders is locked, then customers',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;',
    },
    {
      title: 'the runner’s transaction holds the locks too',
      bad: 'ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX customers_email_idx ON customers (email);',
      runner: 'transaction-per-file',
    },
    {
      title: 'a foreign key locks the referenced table after the first table is held',
      bad: 'BEGIN;\nALTER TABLE orders ADD COLUMN customer_id bigint;\nALTER TABLE line_items ADD CONSTRAINT line_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;\nCOMMIT;',
    },
    {
      title: 'two LOCK TABLE statements still lock one table after the other',
      bad: 'BEGIN;\nLOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nLOCK TABLE customers IN ACCESS EXCLUSIVE MODE;\nCOMMIT;',
    },
    {
      title: 'each statement commits on its own',
      ok: 'ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN vip boolean;',
    },
    {
      title: 'all locks taken up front in one LOCK TABLE',
      ok: "BEGIN;\nSET LOCAL lock_timeout = '2s';\nLOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;",
    },
    {
      title: 'the second table is new in this migration',
      ok: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE TABLE notes (id bigint);\nALTER TABLE notes ADD COLUMN body text;\nCOMMIT;',
    },
    {
      title: 'a new table’s foreign key locks both tables in one statement',
      ok: 'BEGIN;\nCREATE TABLE comments (id bigint, post_id bigint REFERENCES posts (id));\nCREATE INDEX comments_post_id_idx ON comments (post_id);\nCOMMIT;',
    },
    {
      title: 'one statement locking two tables is not an ordering problem',
      ok: 'BEGIN;\nALTER TABLE line_items ADD CONSTRAINT line_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;\nCOMMIT;',
    },
    {
      title: 'more changes to the same table',
      ok: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN memo text;\nCOMMIT;',
    },
    {
      title: 'the renamed table is the one already locked',
      ok: 'BEGIN;\nALTER TABLE orders RENAME TO purchases;\nALTER TABLE purchases ADD COLUMN note text;\nCOMMIT;',
    },
    {
      title: 'dropping an index locks its table (known from this file): orders, then customers',
      bad: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_email_idx ON customers (email);\nBEGIN;\nALTER TABLE orders ADD COLUMN note text;\nDROP INDEX customers_email_idx;\nCOMMIT;',
    },
    {
      title: 'two indexes of one table lock that table only',
      ok: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_a_idx ON orders (a);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_b_idx ON orders (b);\nBEGIN;\nDROP INDEX orders_a_idx;\nDROP INDEX orders_b_idx;\nCOMMIT;',
    },
    {
      title: 'indexes whose table is unknown may be on one table: not evidence of two tables locked in turn',
      ok: 'BEGIN;\nDROP INDEX orders_a_idx;\nDROP INDEX orders_b_idx;\nCOMMIT;',
    },
    {
      title: 'writes take ROW EXCLUSIVE, which does not block the application',
      ok: "BEGIN;\nUPDATE orders SET note = '' WHERE id = 1;\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;",
    },
  ],
  create(ctx) {
    /** strong locks taken so far, in order, by transaction id */
    const taken = new Map<number, StrongLock[]>();
    /** the tables each LOCK TABLE statement listed together, by transaction id */
    const lockGroups = new Map<number, Set<string>[]>();
    /** new name → old name of tables renamed in this migration */
    const renamedFrom = new Map<string, string>();
    const canonical = (key: string): string => {
      let k = key;
      for (let i = 0; i < 10 && renamedFrom.has(k); i++) k = renamedFrom.get(k)!;
      return k;
    };
    let pending:
      | {
          tx: number;
          facts: StatementFacts;
          first: StrongLock[];
          crossing: StrongLock[];
          order: StrongLock[];
          later: number;
        }
      | undefined;
    const flush = () => {
      if (!pending) return;
      const { facts, first, crossing, order, later } = pending;
      const firstNames = first.map((e) => `${e.relation.display} (${e.mode})`).join(', ');
      const nowNames = crossing.map((l) => `${l.relation.display} (${l.mode})`).join(', ');
      const names = order.map((l) => l.relation.display);
      const mode = order.reduce<LockMode | undefined>((m, l) => strongerLock(m, l.mode), undefined);
      const more =
        later === 0
          ? ''
          : ` ${later} later statement${later === 1 ? '' : 's'} of this transaction lock more tables.`;
      ctx.report({
        statement: facts,
        message: `This transaction already holds ${firstNames} and now locks ${nowNames}: it locks ${names.join(' → ')} in that order, and application transactions that touch these tables in another order can deadlock with it — meanwhile ${first[0]!.relation.display} stays blocked while this statement waits.${more}`,
        help: `Lock every table up front in one statement and a consistent order, with a short lock_timeout (SET LOCAL lock_timeout = '2s'; LOCK TABLE ${names.join(', ')} IN ${mode} MODE;), or split the migration so that each transaction locks one table.`,
        lock: { mode: crossing[0]!.mode, relation: crossing[0]!.relation.display },
      });
      pending = undefined;
    };
    return {
      end: flush,
      statement(facts) {
        const tx = facts.transaction;
        if (pending && pending.tx !== tx?.id) flush();
        const rename = statementOf(facts, 'RenameStmt');
        if (rename?.renameType === 'OBJECT_TABLE') {
          const from = relationRef(rename.relation, facts.state.defaultSchema);
          const to = relationRef(
            { schemaname: rename.relation?.schemaname, relname: rename.newname },
            facts.state.defaultSchema,
          );
          if (from && to) renamedFrom.set(to.key, from.key);
        }
        if (!tx) return;
        const earlier = taken.get(tx.id) ?? [];
        taken.set(tx.id, earlier);
        const groups = lockGroups.get(tx.id) ?? [];
        lockGroups.set(tx.id, groups);
        const now = [...strongLocks(facts).values()].filter(
          (l) => !earlier.some((e) => canonical(e.relation.key) === canonical(l.relation.key)),
        );
        const together = (a: string, b: string) =>
          groups.some((g) => g.has(canonical(a)) && g.has(canonical(b)));
        const crossing = now.filter((l) => earlier.some((e) => !together(e.relation.key, l.relation.key)));
        if (crossing.length > 0) {
          const first = earlier.filter((e) =>
            crossing.some((l) => !together(e.relation.key, l.relation.key)),
          );
          if (pending?.tx === tx.id) {
            // one finding per transaction: later crossings extend the order it reports
            for (const l of crossing) if (!pending.order.includes(l)) pending.order.push(l);
            pending.later++;
          } else {
            flush();
            pending = { tx: tx.id, facts, first, crossing, order: [...first, ...crossing], later: 0 };
          }
        }
        earlier.push(...now);
        if (facts.statement.kind === 'LockStmt')
          groups.push(new Set(facts.locks.map((l) => canonical(l.relation.key))));
      },
    };
  },
});
