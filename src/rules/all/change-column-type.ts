import { actionCmd, columnDefOf } from '../../analyze/nodes.js';
import { formatTypeRef, typeRefFromAst } from '../../catalog/types.js';
import { defineRule, lockOn } from '../define.js';
import { lockClause, quoteIdent } from '../sql.js';

const SAFE_CHANGES =
  'varchar(n) → varchar(m ≥ n), varchar → text, numeric(p,s) → numeric(p′ ≥ p, s), dropping a length or precision limit, and on PG ≥ 12 timestamp → timestamptz in a session whose TimeZone is UTC';

/** the SQL spelling of internal type names, for messages */
const SQL_NAMES: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  bpchar: 'char',
};

export default defineRule({
  id: 'change-column-type',
  equivalents: {
    squawk: ['changing-column-type'],
    eugene: ['E5', 'E10'],
    strongMigrations: ['change_column', 'change_column_constraint'],
  },
  // the rewrite (or scan) under ACCESS EXCLUSIVE is what the message is about, not what old code can write
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  summary:
    'Changing a column’s type rewrites the whole table under ACCESS EXCLUSIVE unless the change is binary coercible.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `\`ALTER TABLE … ALTER COLUMN … TYPE\` takes ACCESS EXCLUSIVE on the table and, unless the old values are
already valid bits of the new type, converts every row: the table and all of its indexes are rewritten while
reads and writes wait. \`int → bigint\`, \`text → varchar(n)\`, \`varchar(n) → varchar(m < n)\`, \`char(n) → text\`
and any \`USING\` expression rewrite.

Only a few changes are *binary coercible* and need no rewrite: ${SAFE_CHANGES}. Even those take
ACCESS EXCLUSIVE for a moment (see \`lock-timeout-missing\`) — and not only a moment when constraints or indexes
depend on the column:

- **CHECK constraints** that mention the column are dropped and added back by the type change, and adding them
  back checks every row again while ACCESS EXCLUSIVE is held: a full scan even when nothing is rewritten. (A
  constraint that was still \`NOT VALID\` comes back \`NOT VALID\` and is not checked.)
- **NOT NULL** is checked for every row as part of a rewrite; a binary-coercible change keeps it without a scan.
- **Indexes** on the column are rebuilt when their operator class changes (\`timestamp → timestamptz\`).

pgkeel knows the old type only when this migration defined the column; otherwise it cannot tell which case
applies and says so.`,
    solution: `Do not convert in place: add a column of the new type, fill it, and switch over (expand / contract). Clients
keep using the same column name throughout.

\`\`\`sql
-- 1. expand: a new nullable column, and a trigger keeping it in sync with writes
ALTER TABLE orders ADD COLUMN quantity_new bigint;
CREATE FUNCTION orders_sync_quantity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.quantity_new := NEW.quantity;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_sync_quantity BEFORE INSERT OR UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_sync_quantity();

-- 2. backfill in batches, each its own short transaction (repeat with the next key range)
UPDATE orders SET quantity_new = quantity WHERE id >= 0 AND id < 1000 AND quantity_new IS NULL;

-- 3. prove NOT NULL without a long lock, then swap in one short transaction
ALTER TABLE orders ADD CONSTRAINT orders_quantity_new_not_null CHECK (quantity_new IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_new_not_null;
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN quantity_new SET NOT NULL;  -- PG ≥ 12: the validated CHECK spares the scan
DROP TRIGGER orders_sync_quantity ON orders;
ALTER TABLE orders DROP COLUMN quantity;
ALTER TABLE orders RENAME COLUMN quantity_new TO quantity;
COMMIT;
DROP FUNCTION orders_sync_quantity();
\`\`\`

When the change is binary coercible but a CHECK constraint covers the column, take the constraint out of the lock
instead: drop it, change the type, add it back \`NOT VALID\` (all brief), and validate it in a later transaction,
which lets reads and writes through.

\`\`\`sql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT orders_note_not_blank;
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);                       -- no rewrite, nothing to check
ALTER TABLE orders ADD CONSTRAINT orders_note_not_blank CHECK (note <> '') NOT VALID;
COMMIT;
ALTER TABLE orders VALIDATE CONSTRAINT orders_note_not_blank;                -- SHARE UPDATE EXCLUSIVE
\`\`\`

Indexes, defaults, foreign keys and sequences owned by the old column must be recreated on the new one
(indexes with \`CREATE INDEX CONCURRENTLY\` before the swap). To add a length limit, keep the type and add
\`CHECK (char_length(col) <= n) NOT VALID\`, then \`VALIDATE CONSTRAINT\` — no rewrite at all.`,
    tools: {
      prisma:
        'Changing a field’s type makes Prisma generate `ALTER COLUMN … SET DATA TYPE`: instead add a new field, backfill it with a script, and move the old name over with `@map`.',
      django:
        'An `AlterField` that changes the type rewrites the table: add a new field, backfill with `RunPython` in batches (`atomic = False`), then remove the old field; `db_column` keeps the old column name for the new field.',
      rails: `\`change_column\` rewrites: add a new column, backfill with \`in_batches\`, move reads and writes, then drop the old
column (listing it in \`ignored_columns\` first). For a binary-coercible \`change_column\` on a column with CHECK constraints:
\`remove_check_constraint\`, \`change_column\`, \`add_check_constraint …, validate: false\`, then \`validate_check_constraint\`
in the next migration.`,
      alembic:
        '`op.alter_column(..., type_=…)` rewrites: add a new column, backfill in batches inside `autocommit_block()`, then drop the old one.',
      knex: "`table.bigInteger('quantity').alter()` emits ALTER COLUMN … TYPE: add a new column, backfill it in batches from a migration with `config = { transaction: false }`, then drop the old one.",
      typeorm:
        'Changing a column’s `type` generates ALTER COLUMN … TYPE (or a drop and re-add of the column): add a new column instead, backfill it in batches with `queryRunner.query()` in a migration with `transaction = false`, then drop the old one.',
      drizzle:
        'Changing a column’s type generates `ALTER COLUMN … SET DATA TYPE`: add a new column in the schema, backfill it with a script after `drizzle-kit migrate`, then remove the old one.',
      sequelize:
        '`queryInterface.changeColumn(table, column, { type })` emits ALTER COLUMN … TYPE: `addColumn` a new one, backfill it in batches with `queryInterface.sequelize.query()`, then `removeColumn` the old one and `renameColumn` the new one.',
      'node-pg-migrate':
        "`pgm.alterColumn(table, column, { type })` emits ALTER COLUMN … SET DATA TYPE: `pgm.addColumns()` a new one, backfill it in batches in a `pgm.noTransaction()` migration, then `pgm.dropColumns()` and `pgm.renameColumn()`. For a binary-coercible change on a column with a CHECK, drop the constraint first and re-add it with `pgm.addConstraint(table, name, 'CHECK (…) NOT VALID')`.",
    },
  },
  examples: [
    {
      title: 'the old type is not known to this migration',
      bad: 'ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;',
    },
    {
      title: 'narrowing a varchar rewrites',
      bad: 'ALTER TABLE orders ADD COLUMN note varchar(100);\nALTER TABLE orders ALTER COLUMN note TYPE varchar(50);',
    },
    {
      title: 'a USING expression recomputes every row',
      bad: 'ALTER TABLE "core_recipe" ALTER COLUMN "foo" TYPE text USING "foo"::text;',
    },
    {
      title: 'widening a varchar is binary coercible',
      ok: 'ALTER TABLE orders ADD COLUMN note varchar(100);\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);',
    },
    {
      title: 'no rewrite, but the CHECK on the column re-checks every row under the lock',
      bad: "ALTER TABLE orders ADD COLUMN note varchar(100);\nALTER TABLE orders ADD CONSTRAINT orders_note_not_blank CHECK (note <> '');\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);",
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE prices (amount int);\nALTER TABLE prices ALTER COLUMN amount TYPE bigint;',
    },
    {
      title: 'no rewrite in a UTC session, but the index on the column is rebuilt under the lock',
      bad: "SET TimeZone = 'UTC';\nALTER TABLE events ADD COLUMN at timestamp;\nCREATE INDEX CONCURRENTLY events_at_idx ON events (at);\nALTER TABLE events ALTER COLUMN at TYPE timestamptz;",
      pg: { min: 12 },
    },
    {
      title: 'a NOT VALID CHECK is added back NOT VALID: no row is checked',
      ok: "ALTER TABLE orders ADD COLUMN note varchar(100);\nALTER TABLE orders ADD CONSTRAINT orders_note_not_blank CHECK (note <> '') NOT VALID;\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);",
    },
    {
      title: 'the CHECK dropped before the change and added back NOT VALID after it',
      ok: "ALTER TABLE orders ADD COLUMN note varchar(100);\nALTER TABLE orders ADD CONSTRAINT orders_note_not_blank CHECK (note <> '');\nALTER TABLE orders DROP CONSTRAINT orders_note_not_blank;\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);\nALTER TABLE orders ADD CONSTRAINT orders_note_not_blank CHECK (note <> '') NOT VALID;",
    },
    {
      title: 'USING the column cast to the new type converts it as without USING: binary coercible',
      ok: 'ALTER TABLE orders ADD COLUMN note varchar(100);\nALTER TABLE orders ALTER COLUMN note TYPE text USING note::text;',
    },
    {
      title: 'a new expression for a stored generated column recomputes every row',
      pg: { min: 17 },
      bad: 'ALTER TABLE orders ALTER COLUMN total SET EXPRESSION AS (quantity * price);',
      // a stored generated column whose expression the example changes
      setup: `CREATE TABLE orders (id int, quantity int, price int, total int GENERATED ALWAYS AS (quantity * price) STORED);
INSERT INTO orders (id, quantity, price) SELECT g, g, g FROM generate_series(1, 10) g;`,
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op === 'set-expression' && !action.facts.unsupported) {
        const table = action.relations.table!;
        if (facts.isNew(table)) continue;
        const mode = lockOn(action);
        ctx.report({
          statement: facts,
          location: action.location,
          message: `SET EXPRESSION computes the generated column ${quoteIdent(action.column ?? '?')} anew for every row, rewriting ${table.display} and its indexes while it ${lockClause(mode, table.display)}.`,
          help: 'Add a new plain column, fill it in batches (and keep it in sync with a trigger), then swap the names in a short transaction and drop the old column; on PG 18 a VIRTUAL generated column computes its value on read and is not stored.',
          lock: { mode, relation: table.display },
        });
        continue;
      }
      if (action.op !== 'alter-column-type' && action.op !== 'alter-column-type-coercible') continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      const change = action.detail?.typeChange;
      const mode = lockOn(action);
      const column = quoteIdent(action.column ?? '?');
      const def = columnDefOf(actionCmd(action));
      const newType = typeRefFromAst(def?.typeName);
      const to = newType ? ` to ${SQL_NAMES[formatTypeRef(newType)] ?? formatTypeRef(newType)}` : '';
      const lock = { mode, relation: table.display };
      if (action.op === 'alter-column-type-coercible') {
        if (action.facts.scan) {
          ctx.report({
            statement: facts,
            location: action.location,
            message: `Changing ${column}${to} needs no table rewrite, but the CHECK constraints on ${column} are added back and check every row${change?.rewrite === false && change.indexRebuild ? ` and the indexes on ${column} are rebuilt` : ''} while it ${lockClause(mode, table.display)}.`,
            help: 'Drop the CHECK constraint, change the type and add the constraint back NOT VALID in one short transaction, then run VALIDATE CONSTRAINT in a later one (SHARE UPDATE EXCLUSIVE: reads and writes go on).',
            lock,
          });
          continue;
        }
        if (change?.rewrite === false && change.indexRebuild) {
          ctx.report({
            statement: facts,
            location: action.location,
            message: `Changing ${column}${to} needs no table rewrite, but every index on ${column} is rebuilt while it ${lockClause(mode, table.display)} (${change.reason}).`,
            help: 'Build a replacement index with CREATE INDEX CONCURRENTLY on a new column of the new type and switch over, or run this when the table is small enough to be locked for the rebuild.',
            lock,
          });
        }
        continue;
      }
      if (change?.rewrite === 'unknown') {
        ctx.report({
          statement: facts,
          location: action.location,
          message: `pgkeel cannot tell whether changing ${column}${to} rewrites ${table.display}: ${change.reason}. Unless the change is binary coercible, the table and its indexes are rewritten while it ${lockClause(mode, table.display)}.`,
          help: `No rewrite only for: ${SAFE_CHANGES}. For anything else (int → bigint, text → varchar(n), …) add a new column, backfill it in batches and switch over. If this change is one of the safe ones, suppress the finding with \`-- pgkeel-ignore change-column-type\`.`,
          lock,
        });
        continue;
      }
      ctx.report({
        statement: facts,
        location: action.location,
        message: `Changing ${column}${to} rewrites ${table.display} and its indexes while it ${lockClause(mode, table.display)}${change ? ` (${change.reason})` : ''}.`,
        help: 'Add a new column of the new type, keep it in sync with a trigger, backfill it in batches, then swap the names in a short transaction and drop the old column.',
        lock,
      });
    }
  },
});
