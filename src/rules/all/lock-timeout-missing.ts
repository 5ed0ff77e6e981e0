import type { StatementFacts } from '../../analyze/analyze.js';
import type { RelationRef } from '../../analyze/ast.js';
import { blocksApplication, type LockMode, lockStrength, strongerLock } from '../../catalog/locks.js';
import { parseInterval } from '../../config/interval.js';
import type { Fix } from '../../diagnostics.js';
import { defineRule, lockedRelation } from '../define.js';
import { LONG_LOCK_TIMEOUT } from '../recipes.js';
import { lockClause } from '../sql.js';

interface Wait {
  facts: StatementFacts;
  relation: RelationRef;
  mode: LockMode;
  title: string;
  location?: number;
  /** the other relations the statement waits for in that mode (a foreign key's referenced table) */
  also: RelationRef[];
}

/**
 * The strongest lock the statement has to wait for that stalls application queries while queued:
 * on a relation that existed before this migration, not already held by this transaction.
 * CONCURRENTLY operations are left out: they wait for other transactions by design, and a short
 * lock_timeout only makes them fail half-way.
 */
export function queuedBlockingLock(facts: StatementFacts): Wait | undefined {
  let found: Wait | undefined;
  for (const action of facts.actions) {
    if (action.detail?.concurrently) continue;
    for (const effect of action.facts.locks) {
      const relation = lockedRelation(action, effect.on);
      if (!relation || !blocksApplication(effect.mode) || facts.isNew(relation)) continue;
      const held = facts.transaction?.heldLocks.get(relation.key);
      if (held && strongerLock(held.mode, effect.mode) === held.mode) continue;
      if (!found || lockStrength(effect.mode) > lockStrength(found.mode)) {
        found = {
          facts,
          relation,
          mode: effect.mode,
          title: action.facts.title,
          location: action.location,
          also: [],
        };
      } else if (
        // an index's lock comes with its table's: the table is what queries wait on
        effect.on !== 'index' &&
        effect.mode === found.mode &&
        relation.key !== found.relation.key &&
        !found.also.some((r) => r.key === relation.key)
      )
        found.also.push(relation);
    }
  }
  return found;
}

/** Whether `value` is an interval Postgres accepts that sets a timeout (0 disables it). */
export function isPositiveInterval(value: string): boolean {
  try {
    return parseInterval(value) > 0;
  } catch {
    return false;
  }
}

/** A CONCURRENTLY operation that must not run under a short timeout. */
export function isOnlineOperation(facts: StatementFacts): boolean {
  return facts.actions.some((a) => a.detail?.concurrently && a.facts.noTransactionBlock);
}

/** Insert `text` on its own line before the statement, keeping the statement's indentation. */
export function insertBefore(facts: StatementFacts, source: string, text: string, title: string): Fix {
  const start = facts.statement.start;
  const lineStart = source.lastIndexOf('\n', start - 1) + 1;
  const lead = source.slice(lineStart, start);
  const indent = /^[ \t]*$/.test(lead) ? lead : '';
  return { title, edits: [{ start, end: start, text: `${text}\n${indent}` }] };
}

/**
 * `SET lock_timeout` before the first blocking statement; around each later concurrent statement a
 * longer one (a concurrent build waits for every older transaction, which a short timeout cancels),
 * set back after it when more statements follow.
 */
function timeoutFix(
  facts: StatementFacts,
  onlines: readonly StatementFacts[],
  source: string,
  set: string,
  statementCount: number,
): Fix {
  const fix = insertBefore(
    facts,
    source,
    `${set};`,
    'Set a lock_timeout before the first blocking statement',
  );
  for (const online of onlines) {
    fix.edits.push(...insertBefore(online, source, `SET lock_timeout = '${LONG_LOCK_TIMEOUT}';`, '').edits);
    // a statement follows: give it the short timeout back (indexes, not a scan of the rest of the text)
    if (online.statement.index >= statementCount - 1) continue;
    const end = online.statement.end;
    const semicolon = /^\s*;/.exec(source.slice(end, end + 200));
    const rest = semicolon ? end + semicolon[0].length : end;
    fix.edits.push({ start: rest, end: rest, text: `\n${set};` });
  }
  return fix;
}

export default defineRule({
  id: 'lock-timeout-missing',
  equivalents: {
    squawk: ['require-lock-timeout', 'require-timeout-settings'],
    eugene: ['E9'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'safe',
    why: 'the schema the migration builds is unchanged; the statement now gives up after the timeout instead of queueing traffic behind it, and the migration is retried.',
  },
  summary:
    'A statement that waits for a blocking lock without lock_timeout stalls every query on the table behind it.',
  options: {
    timeout: {
      schema: (z) =>
        z.string().refine(isPositiveInterval, {
          message: 'expected a Postgres interval greater than 0, such as "2s" or "500ms"',
        }),
      default: '2s',
      type: 'interval (string)',
      description:
        "The lock_timeout the fix sets and the help suggests, as a Postgres interval (`'500ms'`, `'3s'`). Pick what your retry loop expects.",
    },
  },
  docs: {
    problem: `Postgres grants table locks in arrival order. A migration statement that needs a lock conflicting with
application queries — ACCESS EXCLUSIVE for most \`ALTER TABLE\`s, SHARE for \`CREATE INDEX\`, SHARE ROW EXCLUSIVE for
foreign keys and triggers — first waits for every transaction already using the table: a slow report, a long
batch job, a session idle in transaction. While it waits, it sits at the head of the lock queue, and every new
query that conflicts with it (for ACCESS EXCLUSIVE: every SELECT too) waits behind it. The statement itself may
take a millisecond; the outage lasts as long as the oldest transaction on the table.

Without \`lock_timeout\` that wait has no limit. pgkeel reports the first such statement of a file (and counts the
others); statements on tables created in the same migration, and locks the transaction already holds, do not
wait. \`-- pgkeel-ignore lock-timeout-missing\` before a statement accounts for that statement only: the finding
moves to the next statement that waits without a timeout.`,
    solution: `Set a short \`lock_timeout\` before the first statement that takes such a lock, so that a statement stuck
in the queue gives up after a second or two and the queries behind it proceed; then retry the migration a few
times, with a pause between attempts.

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
\`\`\`

\`\`\`sh
for attempt in 1 2 3 4 5; do
  psql -v ON_ERROR_STOP=1 -1 -f migration.sql && break
  sleep $((attempt * 10))
done
\`\`\`

Retry whole transactions, never single statements of a failed one. A \`SET\` made inside a transaction is undone by
its ROLLBACK, so keep the \`SET\` inside the retried unit (\`pgkeel run\` does all of this). Operations with
\`CONCURRENTLY\` wait for older transactions as part of their work: give them a long \`lock_timeout\` (or \`0\`), or they
fail half-way. If the role, database or runner already sets a lock_timeout, declare it in the config
(\`timeouts: { lockTimeout: '2s' }\`) instead of repeating it in every file.`,
    tools: {
      prisma:
        "Start `migration.sql` with `SET lock_timeout = '2s';` (it applies to the whole file) — except in a file holding a lone CONCURRENTLY statement, which a second statement would put in a transaction block; there, set it on the migration role and declare it in the config.",
      drizzle: "Add `SET lock_timeout = '2s';--> statement-breakpoint` at the top of the migration.",
      knex: "Run `await knex.raw(\"SET lock_timeout = '2s'\")` first in `up` (it runs in the migration's transaction).",
      typeorm: 'Start `up()` with `await queryRunner.query("SET lock_timeout = \'2s\'")`.',
      sequelize:
        "Migrations run without a transaction on pooled connections, so a plain `SET` may not reach the next statement's connection: run the statements in `queryInterface.sequelize.transaction()` after `SET LOCAL lock_timeout = '2s'`, passing `{ transaction }` to each, or set it on the migration role.",
      'node-pg-migrate': 'Start the migration with `pgm.sql("SET lock_timeout = \'2s\'")`.',
      alembic:
        "Execute `SET lock_timeout = '2s'` on the connection in `env.py` before `context.run_migrations()`.",
      django:
        'Add `RunSQL("SET lock_timeout = \'2s\'")` as the first operation, or set `-c lock_timeout=2s` in the database `OPTIONS` of the migration settings.',
      rails:
        'strong_migrations: `StrongMigrations.lock_timeout = 2.seconds` with `lock_timeout_retries`; otherwise `execute "SET lock_timeout = \'2s\'"`.',
    },
  },
  examples: [
    {
      bad: 'ALTER TABLE t ADD COLUMN c boolean;',
      fixed: "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c boolean;",
    },
    {
      title: 'dropping a foreign key (added by an earlier migration) waits for the table it references too',
      setup: `CREATE TABLE users (id bigint PRIMARY KEY, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint CONSTRAINT orders_user_fk REFERENCES users (id));`,
      bad: 'ALTER TABLE orders DROP CONSTRAINT orders_user_fk;',
      fixed: "SET lock_timeout = '2s';\nALTER TABLE orders DROP CONSTRAINT orders_user_fk;",
    },
    {
      title:
        'dropping a table drops the foreign keys that reference it with CASCADE: their tables are locked too',
      setup: `CREATE TABLE users (id bigint PRIMARY KEY, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint CONSTRAINT orders_user_fk REFERENCES users (id));`,
      bad: 'DROP TABLE users CASCADE;',
      fixed: "SET lock_timeout = '2s';\nDROP TABLE users CASCADE;",
    },
    {
      title: 'reported once, at the first statement; the SET covers the rest of the session',
      bad: 'ALTER TABLE t ADD COLUMN c boolean;\nCREATE INDEX t_c_idx ON t (c);\nDROP INDEX t_old_idx;',
      fixed:
        "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c boolean;\nCREATE INDEX t_c_idx ON t (c);\nDROP INDEX t_old_idx;",
    },
    {
      title: 'inside a transaction the SET goes in it, so that every retry of the transaction sets it again',
      bad: 'BEGIN;\n  CREATE TABLE audit (id int);\n  ALTER TABLE t ADD COLUMN c boolean;\nCOMMIT;',
      fixed:
        "BEGIN;\n  CREATE TABLE audit (id int);\n  SET lock_timeout = '2s';\n  ALTER TABLE t ADD COLUMN c boolean;\nCOMMIT;",
    },
    {
      title:
        'a second statement would make Prisma run a one-statement file as a transaction, so no fix is offered',
      bad: 'DROP INDEX "orders_customer_id_idx";',
      runner: 'prisma',
    },
    {
      title: 'a foreign key locks the referenced table against writes too',
      bad: 'CREATE TABLE line_items (order_id bigint REFERENCES orders (id));',
      fixed: "SET lock_timeout = '2s';\nCREATE TABLE line_items (order_id bigint REFERENCES orders (id));",
    },
    {
      title: 'a lock_timeout set in a schema-qualified custom variable is not the real one',
      bad: "SET foo.lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c boolean;",
      fixed: "SET foo.lock_timeout = '1s';\nSET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c boolean;",
    },
    {
      title: 'SET LOCAL ends with its transaction',
      bad: "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c boolean;\nCOMMIT;\nALTER TABLE t DROP COLUMN d;",
      fixed:
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c boolean;\nCOMMIT;\nSET lock_timeout = '2s';\nALTER TABLE t DROP COLUMN d;",
    },
    {
      title: 'a ROLLBACK undoes a SET made inside the transaction',
      bad: "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\nALTER TABLE t ADD COLUMN c boolean;",
      fixed:
        "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\nSET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c boolean;",
    },
    { ok: "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\nALTER TABLE t ADD COLUMN c boolean;" },
    { ok: 'SELECT * FROM t;' },
    {
      title: 'a table created in the same migration has no other users',
      ok: 'CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN c boolean;',
    },
    {
      title: 'CREATE INDEX CONCURRENTLY lets reads and writes through while it waits',
      ok: 'CREATE INDEX CONCURRENTLY t_c_idx ON t (c);',
    },
    {
      title: 'a lock already held by the transaction is not waited for',
      ok: "BEGIN;\nSET LOCAL lock_timeout = '2s';\nLOCK TABLE t;\nSET LOCAL lock_timeout = 0;\nALTER TABLE t ADD COLUMN c boolean;\nCOMMIT;",
    },
    {
      title: 'ignoring the rule before one statement leaves the next waiting statement reported',
      bad: '-- pgkeel-ignore lock-timeout-missing -- t is empty in every environment\nALTER TABLE t ADD COLUMN c boolean;\nALTER TABLE u ADD COLUMN c boolean;',
      fixed:
        "-- pgkeel-ignore lock-timeout-missing -- t is empty in every environment\nALTER TABLE t ADD COLUMN c boolean;\nSET lock_timeout = '2s';\nALTER TABLE u ADD COLUMN c boolean;",
    },
    {
      title: 'the fix sets the configured timeout',
      options: { timeout: '500ms' },
      bad: 'ALTER TABLE t ADD COLUMN c boolean;',
      fixed: "SET lock_timeout = '500ms';\nALTER TABLE t ADD COLUMN c boolean;",
    },
    {
      title:
        'a later concurrent build gets a longer wait (it waits for every older transaction), and the short one back after it',
      bad: 'ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\nALTER TABLE orders ADD COLUMN x int;',
      fixed:
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\nSET lock_timeout = '1min';\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN x int;",
    },
    {
      title: 'ALTER DOMAIN locks every table with a column of the domain, even when the migration names none',
      bad: 'ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);',
      fixed:
        "SET lock_timeout = '2s';\nALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);",
    },
  ],
  create(ctx) {
    let first: Wait | undefined;
    let later = 0;
    let online: StatementFacts | undefined;
    /** every concurrent statement after the first blocking one: the fix gives each a longer wait */
    const onlines: StatementFacts[] = [];
    return {
      statement(facts) {
        if (facts.lockTimeout) return;
        const wait = queuedBlockingLock(facts);
        if (wait) {
          // the one finding speaks for every waiting statement: one the author ignored is accounted for
          if (ctx.ignored(facts)) return;
          if (first) later++;
          else first = wait;
        } else if (first && isOnlineOperation(facts)) {
          online ??= facts;
          if (!facts.statement.embeddedIn) onlines.push(facts);
        }
      },
      end() {
        if (!first) return;
        const { facts, relation, mode, title, also } = first;
        const names = [relation, ...also].map((r) => r.display);
        const on = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
        const using = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
        const more =
          later === 0
            ? ''
            : ` ${later} later statement${later === 1 ? '' : 's'} of this file also wait${later === 1 ? 's' : ''} for such locks without a timeout.`;
        const onlineLine = online ? ctx.file.position(online.statement.start).line : undefined;
        // a second statement would turn a one-statement file of Prisma / golang-migrate into a transaction block
        const lone = facts.runner.multiStatement && ctx.file.statementCount === 1;
        const set = `SET lock_timeout = '${ctx.options.timeout}'`;
        ctx.report({
          statement: facts,
          message: `${title} ${lockClause(mode, on)}, with no lock_timeout: while it waits for transactions already using ${using}, every query it blocks queues behind it, for as long as the wait lasts.${more}`,
          help: `${
            lone
              ? `Adding SET lock_timeout to this one-statement file would make ${facts.runner.name} run it as a transaction block; set lock_timeout on the migration role instead (ALTER ROLE … ${set}) and declare it in the config (timeouts.lockTimeout).`
              : `Set a short lock_timeout before it (${set}) and retry the migration when it times out; if the role or runner already sets one, declare it in the config (timeouts.lockTimeout).`
          }${
            onlineLine
              ? ` The CONCURRENTLY statement on line ${onlineLine} would inherit it and fail half-way on a busy database (it waits for every older transaction): raise lock_timeout before it (SET lock_timeout = '${LONG_LOCK_TIMEOUT}') and set it back after.`
              : ''
          }`,
          lock: { mode, relation: relation.display },
          fix: lone ? undefined : timeoutFix(facts, onlines, ctx.file.source, set, ctx.file.statementCount),
        });
      },
    };
  },
});
