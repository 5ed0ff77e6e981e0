import { defineRule, onExistingTables } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'add-exclusion-constraint',
  equivalents: {
    eugene: ['E8'],
    strongMigrations: ['add_exclusion_constraint'],
  },
  hazard: 'blocks-traffic',
  verdict: 'unsafe',
  summary:
    'Adding an EXCLUDE constraint builds its index under ACCESS EXCLUSIVE, and there is no concurrent way to do it.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ADD CONSTRAINT … EXCLUDE (…)\` takes ACCESS EXCLUSIVE on the table and, while holding it,
builds the constraint's index and checks every existing row against every other. All queries on the table —
plain SELECTs included — wait for the whole build, which takes time proportional to the table's size.

Unlike UNIQUE and PRIMARY KEY, an exclusion constraint cannot be attached to an index built beforehand
(\`USING INDEX\` does not accept it) and cannot be added \`NOT VALID\`: there is no concurrent alternative.`,
    solution: `Add exclusion constraints when the table is created, while it is still empty:

\`\`\`sql
CREATE TABLE room_bookings (
  room_id bigint NOT NULL,
  during tstzrange NOT NULL,
  EXCLUDE USING gist (room_id WITH =, during WITH &&)
);
\`\`\`

On an existing table, either accept the lock in a maintenance window (with a \`lock_timeout\`, so a busy table makes
the migration fail instead of queueing every query behind it), or enforce the rule differently — in the
application, or with a trigger that serializes conflicting writes — and keep the table online.

\`\`\`sql
SET lock_timeout = '2s';
-- only in a maintenance window: blocks reads and writes for the whole index build
ALTER TABLE room_bookings ADD CONSTRAINT room_bookings_no_overlap
  EXCLUDE USING gist (room_id WITH =, during WITH &&);
\`\`\``,
    tools: {
      typeorm:
        "`@Exclusion(…)` on an existing entity makes the generated migration add the constraint under the same lock: declare it when the entity's table is first created.",
      'node-pg-migrate':
        "Put it in `pgm.createTable(name, columns, { constraints: { exclude: 'USING gist (…)' } })`; `pgm.addConstraint(table, name, { exclude: … })` on an existing table takes the same lock.",
      alembic:
        'Put an `ExcludeConstraint` (from `sqlalchemy.dialects.postgresql`) in `op.create_table()`; `op.create_exclude_constraint()` on an existing table takes the same lock.',
      django:
        '`AddConstraint` with an `ExclusionConstraint` takes the same lock; add it in the migration that creates the model.',
      rails:
        '`add_exclusion_constraint` (Rails 7.1+) takes the same lock; strong_migrations flags it as unsafe and offers no safe variant.',
    },
  },
  examples: [
    {
      bad: 'ALTER TABLE room_bookings ADD CONSTRAINT room_bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);',
      // gist compares ranges with = by itself (no btree_gist, which PGlite does not load): room_id as
      // a range takes the same locks and builds the same index as an int with btree_gist
      setup: `CREATE TABLE room_bookings (id int, room_id int4range, during tstzrange);
INSERT INTO room_bookings SELECT g, int4range(g, g + 1), tstzrange(timestamptz '2020-01-01' + g * interval '1 day', timestamptz '2020-01-01' + (g + 1) * interval '1 day') FROM generate_series(1, 10) g;`,
    },
    {
      title: 'an unnamed exclusion constraint',
      bad: 'ALTER TABLE authors ADD EXCLUDE (name WITH =);',
    },
    {
      title: 'on a table created earlier in the same migration, which is empty',
      ok: 'CREATE TABLE room_bookings (room_id bigint, during tstzrange);\nALTER TABLE room_bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);',
      // the example's own bigint column needs btree_gist's gist operator class for =
      setup: 'CREATE EXTENSION IF NOT EXISTS btree_gist;',
    },
    {
      title: 'declared in CREATE TABLE',
      ok: 'CREATE TABLE room_bookings (room_id bigint, during tstzrange, EXCLUDE USING gist (room_id WITH =, during WITH &&));',
      // the example's own bigint column needs btree_gist's gist operator class for =
      setup: 'CREATE EXTENSION IF NOT EXISTS btree_gist;',
    },
  ],
  check(facts, ctx) {
    for (const { action, table, mode } of onExistingTables(facts, 'add-exclusion')) {
      const name = action.constraint ? `"${action.constraint}" ` : '';
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Adding EXCLUDE constraint ${name}builds its index while it ${lockClause(mode, table.display)} until the build finishes.`,
        help: 'There is no concurrent way to add an exclusion constraint: declare it when the table is created, or add it in a maintenance window with a lock_timeout.',
        lock: { mode, relation: table.display },
      });
    }
  },
});
