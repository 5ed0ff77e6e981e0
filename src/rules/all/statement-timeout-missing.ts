import type { StatementFacts } from '../../analyze/analyze.js';
import type { RelationRef } from '../../analyze/ast.js';
import { blocksApplication, type LockMode, lockStrength } from '../../catalog/locks.js';
import { lockDuration } from '../../catalog/operations.js';
import { defineRule } from '../define.js';
import { ORDERS_NOT_VALID } from '../example-setups.js';
import { lockClause } from '../sql.js';
import { isOnlineOperation } from './lock-timeout-missing.js';

interface LongLock {
  facts: StatementFacts;
  relation: RelationRef;
  mode: LockMode;
  title: string;
  work: string;
  location?: number;
}

/** A lock that stalls application queries, held for as long as a rewrite, scan or index build takes. */
function longBlockingLock(facts: StatementFacts): LongLock | undefined {
  let found: LongLock | undefined;
  for (const action of facts.actions) {
    const f = action.facts;
    if (action.detail?.concurrently || lockDuration(f) !== 'table-size') continue;
    const work = f.rewrite ? 'rewrites the table' : f.indexBuild ? 'builds an index' : 'reads every row';
    for (const effect of f.locks) {
      const relation = action.relations[effect.on];
      if (!relation || !blocksApplication(effect.mode) || facts.isNew(relation)) continue;
      if (!found || lockStrength(effect.mode) > lockStrength(found.mode)) {
        found = { facts, relation, mode: effect.mode, title: f.title, work, location: action.location };
      }
    }
  }
  return found;
}

export default defineRule({
  id: 'statement-timeout-missing',
  equivalents: {
    squawk: ['require-statement-timeout', 'require-timeout-settings'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  severity: 'warning',
  severityReason:
    'Advice: the statement that holds the lock is reported as an error by its own rule; a statement_timeout only bounds how long it blocks.',
  summary:
    'A statement that holds a blocking lock for a time that grows with the table runs without statement_timeout.',
  docs: {
    problem: `Some statements hold a lock that stalls application queries for as long as they work through the whole
table: a rewrite (\`ALTER COLUMN … TYPE\`, a volatile default, \`VACUUM FULL\`, \`CLUSTER\`), a validation scan
(\`ADD CHECK\`, \`SET NOT NULL\`, \`ADD FOREIGN KEY\`) or an index build (\`CREATE INDEX\`, \`ADD UNIQUE\`, \`ADD PRIMARY KEY\`).
On a table larger than the author expected — production, not staging — that is minutes of blocked traffic, and
without \`statement_timeout\` nothing stops it.

This is advice, not an error: the other rules point at the non-blocking alternative for each of these
statements. When you run one anyway, a \`statement_timeout\` turns "blocked for ten minutes" into "cancelled and
rolled back after a few seconds". pgkeel reports the first such statement of a file and counts the others;
\`-- pgkeel-ignore statement-timeout-missing\` before a statement accounts for that statement only.`,
    solution: `Set a \`statement_timeout\` that bounds how long the application may be blocked; if the statement needs
longer, it is cancelled, its transaction rolls back, and you switch to the non-blocking alternative.

\`\`\`sql
SET lock_timeout = '2s';
SET statement_timeout = '10s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);
\`\`\`

Time spent waiting for the lock counts towards \`statement_timeout\` too; \`lock_timeout\` should stay shorter.
Do **not** keep a short \`statement_timeout\` for \`CREATE INDEX CONCURRENTLY\`, \`REINDEX … CONCURRENTLY\` and the other
online operations: they legitimately run for a long time without blocking anyone. Reset it first
(\`SET statement_timeout = 0;\`), otherwise they are cancelled half-way and leave an INVALID index behind.`,
    tools: {
      prisma: "Add `SET statement_timeout = '10s';` at the top of `migration.sql`.",
      drizzle:
        "Start the migration with `SET statement_timeout = '10s';--> statement-breakpoint`; it stays set for the rest of the `drizzle-kit migrate` run.",
      knex: 'Run `await knex.raw("SET statement_timeout = \'10s\'")` first in `up`.',
      typeorm: 'Start `up()` with `await queryRunner.query("SET statement_timeout = \'10s\'")`.',
      sequelize:
        "Run the statement in `queryInterface.sequelize.transaction()` after `SET LOCAL statement_timeout = '10s'`, passing `{ transaction }` to each call: without a transaction a plain `SET` may land on another pooled connection.",
      'node-pg-migrate':
        'Start the migration with `pgm.sql("SET statement_timeout = \'10s\'")`; it stays set for later migrations of the same run, so reset it (`SET statement_timeout = 0`) before a concurrent index build.',
      alembic:
        "Execute `SET statement_timeout = '10s'` on the connection in `env.py` before running migrations.",
      django:
        'Add `RunSQL("SET statement_timeout = \'10s\'")` as the first operation, or set it in the database `OPTIONS`.',
      rails:
        'strong_migrations: `StrongMigrations.statement_timeout = 10.seconds`; otherwise `execute "SET statement_timeout = \'10s\'"`.',
    },
  },
  examples: [
    { bad: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);' },
    { bad: "SET lock_timeout = '1s';\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);" },
    {
      title: 'ignoring the rule before one statement leaves the next long-locking statement reported',
      bad: "SET lock_timeout = '1s';\n-- pgkeel-ignore statement-timeout-missing -- currencies has 200 rows\nALTER TABLE currencies ADD CONSTRAINT code_upper CHECK (code = upper(code));\nALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);",
    },
    {
      title: 'reported once per file',
      bad: 'ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;\nVACUUM FULL orders;',
    },
    {
      ok: "SET statement_timeout = '10s';\nALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);",
    },
    { title: 'a brief lock is lock_timeout’s business', ok: 'ALTER TABLE orders ADD COLUMN note text;' },
    {
      title: 'online operations need no (or a long) statement_timeout',
      ok: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
    },
    {
      title: 'VALIDATE CONSTRAINT scans without blocking reads or writes',
      ok: 'ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;',
      // the constraint an earlier migration added NOT VALID
      setup: ORDERS_NOT_VALID,
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE t (id int);\nCREATE INDEX ON t (id);',
    },
    {
      title: 'SET LOCAL covers its transaction',
      ok: "BEGIN;\nSET LOCAL statement_timeout = '10s';\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);\nCOMMIT;",
    },
    {
      title:
        'ALTER DOMAIN reads every table with a column of the domain, under SHARE, even when the migration names none',
      bad: 'ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);',
    },
  ],
  create(ctx) {
    let first: LongLock | undefined;
    let later = 0;
    let online: StatementFacts | undefined;
    return {
      statement(facts) {
        if (facts.statementTimeout) return;
        const long = longBlockingLock(facts);
        if (long) {
          // the one finding speaks for every such statement: one the author ignored is accounted for
          if (ctx.ignored(facts)) return;
          if (first) later++;
          else first = long;
        } else if (first && !online && isOnlineOperation(facts)) {
          // a statement_timeout added for the first statement would cancel this one half-way
          online = facts;
        }
      },
      end() {
        if (!first) return;
        const { facts, relation, mode, title, work } = first;
        const more =
          later === 0
            ? ''
            : ` ${later} later statement${later === 1 ? '' : 's'} of this file do${later === 1 ? 'es' : ''} the same.`;
        const onlineLine = online ? ctx.file.position(online.statement.start).line : undefined;
        ctx.report({
          statement: facts,
          message: `${title} ${lockClause(mode, relation.display)}, and keeps it while it ${work} — a time that grows with the table — with no statement_timeout to bound it.${more}`,
          help: `Prefer the non-blocking alternative; if you run it as is, set a statement_timeout before it (SET statement_timeout = '10s') so that on a large table it is cancelled instead of blocking traffic.${
            onlineLine
              ? ` Reset it (SET statement_timeout = 0) before the CONCURRENTLY statement on line ${onlineLine}, which may run for a long time without blocking.`
              : ''
          }`,
          lock: { mode, relation: relation.display },
        });
      },
    };
  },
});
