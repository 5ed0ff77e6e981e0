import type { StatementFacts } from '../../analyze/analyze.js';
import { relationRef } from '../../analyze/ast.js';
import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

/** Subcommands Postgres cannot combine with others in one ALTER TABLE. */
const ALONE = new Set([
  'attach-partition',
  'detach-partition',
  'detach-partition-concurrently',
  'check-default-partition',
]);

interface Seen {
  /** the last statement that touched the table */
  index: number;
  start: number;
  /** transaction id, undefined in autocommit */
  tx: number | undefined;
  /** it was an ALTER TABLE that could take more subcommands */
  combinable: boolean;
  /** it scans or rewrites the table */
  slow: boolean;
  ops: Set<string>;
}

/** The ALTER TABLE's table and what it does to it, when it can be merged with another ALTER TABLE. */
function alterOf(facts: StatementFacts) {
  const s = statementOf(facts, 'AlterTableStmt');
  if (s?.objtype !== 'OBJECT_TABLE') return undefined;
  const table = relationRef(s.relation, facts.state.defaultSchema);
  if (!table) return undefined;
  const lock = facts.locks.find((l) => l.relation.key === table.key);
  const ops = new Set(facts.actions.map((a) => a.op));
  // a statement of its own on purpose: VALIDATE (SHARE UPDATE EXCLUSIVE) must not run under ACCESS EXCLUSIVE
  const combinable = lock?.mode === 'ACCESS EXCLUSIVE' && ![...ops].some((op) => ALONE.has(op));
  const slow = facts.actions.some(
    (a) =>
      (a.facts.rewrite || a.facts.scan) && (a.relations[a.facts.target ?? 'table']?.key ?? '') === table.key,
  );
  return { table, combinable, slow, ops };
}

/**
 * SET NOT NULL proven by a CHECK and the DROP of that CHECK must stay apart: in one statement Postgres drops
 * the constraint before it sets NOT NULL, and then scans the table.
 */
function dependent(a: Set<string>, b: Set<string>): boolean {
  const drops = (s: Set<string>) => s.has('drop-constraint') || s.has('drop-foreign-key');
  return (a.has('set-not-null-proven') && drops(b)) || (b.has('set-not-null-proven') && drops(a));
}

export default defineRule({
  id: 'multiple-alter-table',
  equivalents: {
    eugene: ['W12'],
  },
  // each extra statement is another wait in the lock queue, or another pass over the table, under ACCESS EXCLUSIVE
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  severity: 'warning',
  severityReason:
    "Each statement's own lock wait or scan is reported by its own rule (lock-timeout-missing, set-not-null, …); merging the statements only saves the repeats.",
  recommended: false,
  summary:
    'Consecutive ALTER TABLE statements on one table queue for its ACCESS EXCLUSIVE lock, or scan it, once each; one statement with several subcommands does it once.',
  docs: {
    problem: `Each \`ALTER TABLE\` statement is processed on its own:

- outside a transaction, each one queues for ACCESS EXCLUSIVE on the table separately. Every time it waits behind
  a long query, all reads and writes of the table wait behind it — three statements, three chances of a stall;
- whether in a transaction or not, each statement that validates (\`SET NOT NULL\`, \`ADD CONSTRAINT … CHECK\`) or
  rewrites (\`ALTER COLUMN … TYPE\`) the table reads or rewrites all of it again, while holding the lock. Subcommands
  of a single statement share one pass over the table.`,
    solution: `Combine the changes into one statement, the subcommands separated by commas:

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE authors
  ALTER COLUMN name SET NOT NULL,
  ALTER COLUMN email SET NOT NULL;
\`\`\`

Keep apart what must be apart: \`VALIDATE CONSTRAINT\` (it only takes SHARE UPDATE EXCLUSIVE on its own), ATTACH
and DETACH PARTITION, and the \`DROP CONSTRAINT\` of a CHECK that proves a \`SET NOT NULL\` (in one statement the
constraint is dropped first and the table is scanned).`,
    tools: {
      django:
        'Django emits one ALTER TABLE per operation; write the combined statement with `RunSQL` (and `state_operations` for the model state).',
      rails: 'Use `change_table :authors, bulk: true do |t| … end` to emit a single ALTER TABLE.',
      alembic:
        'Use `with op.batch_alter_table("authors") as batch:` — on Postgres it still emits one statement per operation; write `op.execute` with the combined statement instead.',
      knex: '`alterTable` can still emit several statements (each `.alter()` becomes separate type, default and NULL changes): check `toSQL()` and write the combined statement with `knex.raw()`.',
      typeorm:
        'Generated migrations have one `queryRunner.query()` per change: merge those on the same table into one `ALTER TABLE …, …`.',
      drizzle:
        'drizzle-kit writes one statement per change (separated by `--> statement-breakpoint`): merge those on the same table by hand.',
      sequelize:
        'Every `queryInterface.addColumn` / `changeColumn` call is its own ALTER TABLE: write the combined statement with `queryInterface.sequelize.query()`.',
      'node-pg-migrate':
        '`pgm.addColumns(table, { a: …, b: … })` adds several columns in one statement, but each `pgm.alterColumn()` is its own ALTER TABLE: write the combined statement with `pgm.sql()`.',
    },
  },
  examples: [
    {
      title: 'two queues for the lock, two scans',
      bad: "SET lock_timeout = '2s';\nALTER TABLE authors ALTER COLUMN name SET NOT NULL;\nALTER TABLE authors ALTER COLUMN email SET NOT NULL;",
    },
    {
      title: 'outside a transaction each statement queues for the lock',
      bad: 'ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN tag text;',
    },
    {
      title: 'in a transaction the lock is taken once, but the table is scanned twice',
      bad: 'BEGIN;\nALTER TABLE authors ALTER COLUMN name SET NOT NULL;\nALTER TABLE authors ALTER COLUMN email SET NOT NULL;\nCOMMIT;',
    },
    { ok: 'ALTER TABLE authors ALTER COLUMN name SET NOT NULL, ALTER COLUMN email SET NOT NULL;' },
    {
      title: 'in a transaction brief changes take the lock once anyway',
      ok: 'BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN tag text;\nCOMMIT;',
    },
    {
      title: 'VALIDATE belongs in its own statement',
      ok: 'ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT amount_positive;',
    },
    {
      title: 'an index built in between',
      ok: 'ALTER TABLE users ADD COLUMN email text;\nCREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;',
    },
    {
      title: 'the CHECK that proves SET NOT NULL is dropped afterwards',
      ok: 'ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT email_nn;',
    },
    {
      title: 'different tables',
      ok: 'ALTER TABLE a ADD COLUMN note text;\nALTER TABLE b ADD COLUMN note text;',
    },
    {
      title: 'a table created in this migration is nobody else’s yet',
      ok: 'CREATE TABLE notes (id bigint);\nALTER TABLE notes ADD COLUMN body text;\nALTER TABLE notes ADD COLUMN tag text;',
    },
  ],
  create(ctx) {
    const last = new Map<string, Seen>();
    return {
      statement(facts) {
        const alter = alterOf(facts);
        const tx = facts.transaction?.id;
        if (alter?.combinable && !facts.isNew(alter.table)) {
          const prev = last.get(alter.table.key);
          if (prev?.combinable && prev.tx === tx && !dependent(prev.ops, alter.ops)) {
            const line = ctx.file.position(prev.start).line;
            const twice = prev.slow && alter.slow;
            if (tx === undefined || twice) {
              const why =
                tx === undefined
                  ? `queues for ACCESS EXCLUSIVE on ${alter.table.display} again${twice ? ' and scans it again' : ''} — every wait stalls all reads and writes of the table`
                  : `reads all of ${alter.table.display} again under its lock`;
              ctx.report({
                statement: facts,
                message: `Another ALTER TABLE on ${alter.table.display} right after the one on line ${line}: this one ${why}. One statement with both sets of subcommands does it once.`,
                help: `Merge the two into one ALTER TABLE ${alter.table.display}, the subcommands separated by commas.`,
              });
            }
          }
        }
        // remember the last statement touching each table
        const touched = new Set(facts.locks.map((l) => l.relation.key));
        if (alter) touched.add(alter.table.key);
        for (const key of touched) {
          const mine = alter && key === alter.table.key;
          last.set(key, {
            index: facts.statement.index,
            start: facts.statement.start,
            tx,
            combinable: Boolean(mine && alter.combinable),
            slow: Boolean(mine && alter.slow),
            ops: mine ? alter.ops : new Set(),
          });
        }
      },
    };
  },
});
