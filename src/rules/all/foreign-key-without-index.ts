import type { Constraint } from '@pgsql/types';
import type { StatementFacts } from '../../analyze/analyze.js';
import type { RelationRef } from '../../analyze/ast.js';
import { names, relationRef } from '../../analyze/ast.js';
import {
  alterCmds,
  asNode,
  columnDefOf,
  constraintOf,
  constraintsOf,
  statementOf,
} from '../../analyze/nodes.js';
import type { Fix } from '../../diagnostics.js';
import { defineRule, replaceStatement } from '../define.js';
import { columnList, quoteIdent } from '../sql.js';

interface ForeignKey {
  facts: StatementFacts;
  table: RelationRef;
  columns: string[];
  referenced: string;
  location?: number;
  /** the table is created in this migration: a plain CREATE INDEX right after is harmless */
  newTable: boolean;
  /** an earlier migration created the table outright: its indexes are all known (see analyze/history.ts) */
  defined: boolean;
}

export default defineRule({
  id: 'foreign-key-without-index',
  equivalents: { eugene: ['E15'] },
  hazard: 'schema-design',
  verdict: 'safe',
  fixSafety: {
    level: 'unsafe',
    why: 'the fix creates a new index: a schema object the migration did not have, with its write cost.',
  },
  // schema advice about tables this migration creates, not a locking hazard of the migration itself
  recommended: false,
  summary:
    'A foreign key whose columns no index starts with makes every DELETE or key UPDATE on the referenced table scan the referencing table.',
  on: ['CreateStmt', 'AlterTableStmt', 'IndexStmt'],
  docs: {
    problem: `Postgres indexes the referenced side of a foreign key (it must be a primary key or unique), but not the
referencing columns. Each DELETE of a referenced row, and each UPDATE of its key, looks up the referencing rows
(\`… WHERE customer_id = $1 FOR KEY SHARE\`, or the cascade's DELETE/UPDATE): without an index that starts with the
foreign key's columns that is a sequential scan of the whole referencing table, per row. Deleting a customer then
reads all of \`orders\`, and holds its row locks (and the transaction) for as long — blocking other writers and
piling up behind bulk deletes. Joins from the referenced table to the referencing one have the same problem.

pgkeel reports a foreign key only where no index can exist yet: on a table created in this migration, on columns
added in it, or on a table the earlier migrations of the history created (pgkeel reads them, so it knows every
index they made). A foreign key on existing columns of a table it knows nothing about is not reported — an earlier
migration or the live database may have indexed them. An index anywhere in the same file
counts (before or after the foreign key); a partial index (\`WHERE …\`) does not: it cannot serve every lookup.`,
    solution: `Create an index whose leading columns are the foreign key's columns — in the same migration for a new
table, concurrently for an existing one:

\`\`\`sql
CREATE TABLE order_items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);

-- an existing table: outside a transaction block
CREATE INDEX CONCURRENTLY payments_order_id_idx ON payments (order_id);
\`\`\`

A primary key or unique constraint that starts with the columns serves too. If the referenced rows are never deleted
nor their keys updated (an append-only lookup table), the index may not be worth its write cost: disable the rule
for that statement.`,
    tools: {
      rails:
        '`add_reference :order_items, :order, foreign_key: true` adds the index by default (`index: true`); `add_foreign_key` alone does not.',
      django:
        '`ForeignKey` fields get an index by default (`db_index=True`); raw `RunSQL` constraints do not.',
      prisma:
        'Prisma does not index relation scalar fields on PostgreSQL: add `@@index([orderId])` to the model.',
      drizzle: '`.references()` creates no index: add `index().on(t.orderId)` to the table.',
      knex: "`.references('orders.id')` creates no index: add `table.index('order_id')` (with CONCURRENTLY for an existing table, see `create-index-non-concurrently`).",
      typeorm: '`@ManyToOne` creates no index: add `@Index()` to the relation’s column.',
      sequelize:
        "`references` in `addColumn` / `createTable` and `belongsTo` create no index: `queryInterface.addIndex(table, ['order_id'])` (`{ concurrently: true }` for an existing table).",
      'node-pg-migrate':
        "`references: 'orders'` creates no index: `pgm.createIndex('order_items', 'order_id')` (`{ concurrently: true }` with `pgm.noTransaction()` for an existing table).",
      alembic:
        '`sa.ForeignKey(…)` creates no index: pass `index=True` to the `Column`, or `op.create_index(…)`.',
    },
  },
  examples: [
    {
      bad: 'CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));',
      fixed:
        'CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));\nCREATE INDEX order_items_order_id_idx ON order_items (order_id);',
    },
    {
      title: 'a column added to an existing table has no index yet',
      bad: 'ALTER TABLE payments ADD COLUMN order_id bigint REFERENCES orders (id);',
    },
    {
      title: 'a column added earlier in the migration, then constrained',
      bad: 'ALTER TABLE payments ADD COLUMN order_id bigint;\nALTER TABLE payments ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;',
    },
    {
      title: 'a table the earlier migrations created: their indexes are known, and none covers the key',
      setup: `CREATE TABLE orders (id bigint PRIMARY KEY);
CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint);`,
      bad: 'ALTER TABLE payments ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;',
    },
    {
      title: 'an earlier migration indexed the column',
      setup: `CREATE TABLE orders (id bigint PRIMARY KEY);
CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint);
CREATE INDEX payments_order_id_idx ON payments (order_id);`,
      ok: 'ALTER TABLE payments ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;',
    },
    {
      title: 'existing columns of a table no migration shows may have been indexed before',
      ok: 'ALTER TABLE payments ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;',
    },
    {
      title: 'an index on only part of a composite foreign key does not cover it',
      bad: 'CREATE TABLE t (a int, b int, FOREIGN KEY (a, b) REFERENCES u (a, b));\nCREATE INDEX t_a_idx ON t (a);',
      fixed:
        'CREATE TABLE t (a int, b int, FOREIGN KEY (a, b) REFERENCES u (a, b));\nCREATE INDEX t_a_b_idx ON t (a, b);\nCREATE INDEX t_a_idx ON t (a);',
    },
    {
      title: 'a partial index cannot serve every lookup',
      bad: 'CREATE TABLE purchase (id bigint PRIMARY KEY, item bigint NOT NULL REFERENCES items (id));\nCREATE INDEX purchase_item_one_idx ON purchase (item) WHERE item = 1;',
      fixed:
        'CREATE TABLE purchase (id bigint PRIMARY KEY, item bigint NOT NULL REFERENCES items (id));\nCREATE INDEX purchase_item_idx ON purchase (item);\nCREATE INDEX purchase_item_one_idx ON purchase (item) WHERE item = 1;',
    },
    {
      title: 'an index created later in the same migration',
      ok: 'CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));\nCREATE INDEX order_items_order_id_idx ON order_items (order_id);',
    },
    {
      title: 'a primary key that starts with the foreign key columns',
      ok: 'CREATE TABLE order_tags (order_id bigint REFERENCES orders (id), tag text, PRIMARY KEY (order_id, tag));',
    },
    {
      title: 'an index whose leading columns are the foreign key columns, in any order',
      ok: 'CREATE TABLE t (a int, b int, c int);\nALTER TABLE t ADD FOREIGN KEY (a, b) REFERENCES u (a, b);\nCREATE INDEX t_b_a_c_idx ON t (b, a, c);',
    },
  ],
  create(ctx) {
    const foreignKeys: ForeignKey[] = [];
    /** key columns of every index, primary key and unique constraint in the file, by table key (undefined: an expression) */
    const indexes = new Map<string, (string | undefined)[][]>();
    /** columns added to existing tables in this migration, as `table|column` */
    const addedColumns = new Set<string>();
    const addIndex = (table: RelationRef, columns: (string | undefined)[]) => {
      const list = indexes.get(table.key) ?? [];
      indexes.set(table.key, list);
      list.push(columns);
    };
    /** a column or table constraint of `table`; `column` for a column constraint */
    const constraint = (
      facts: StatementFacts,
      table: RelationRef,
      con: Constraint | undefined,
      column?: string,
    ) => {
      if (!con) return;
      if (con.contype === 'CONSTR_PRIMARY' || con.contype === 'CONSTR_UNIQUE') {
        if (con.indexname) return; // USING INDEX: the index itself was (or was not) seen
        addIndex(table, column !== undefined ? [column] : names(con.keys));
      } else if (con.contype === 'CONSTR_FOREIGN') {
        const attrs = names(con.fk_attrs);
        const columns = attrs.length > 0 ? attrs : column !== undefined ? [column] : [];
        const referenced = relationRef(con.pktable, facts.state.defaultSchema);
        if (columns.length === 0 || !referenced) return;
        const newTable = facts.statement.kind === 'CreateStmt' || facts.isNew(table);
        // on existing columns of an existing table, an earlier migration may have created the index,
        // unless the earlier migrations of the history define the table and show every index it has
        const defined = !newTable && facts.state.isDefined(table);
        if (!newTable && !defined && !columns.some((c) => addedColumns.has(`${table.key}|${c}`))) return;
        foreignKeys.push({
          facts,
          table,
          columns,
          referenced: referenced.display,
          location: con.location,
          newTable,
          defined,
        });
      }
    };
    const starts = (cols: readonly (string | undefined)[], fk: ForeignKey) => {
      if (cols.length < fk.columns.length) return false;
      const lead = new Set(cols.slice(0, fk.columns.length));
      return fk.columns.every((c) => lead.has(c));
    };
    /** the indexes, primary keys and unique constraints the analyzer knows of a table (history included) */
    const knownIndexes = (fk: ForeignKey): (string | undefined)[][] => {
      const state = fk.facts.state;
      const out: (string | undefined)[][] = [...(state.uniqueKeys.get(fk.table.key) ?? [])];
      for (const index of state.indexTables.indexesOf(fk.table.key))
        if (!state.partialIndexes.has(index)) out.push(state.indexColumns.get(index) ?? []);
      return out;
    };
    const covered = (fk: ForeignKey) =>
      (indexes.get(fk.table.key) ?? []).some((cols) => starts(cols, fk)) ||
      (fk.defined && knownIndexes(fk).some((cols) => starts(cols, fk)));

    return {
      statement(facts) {
        const schema = facts.state.defaultSchema;
        const create = statementOf(facts, 'CreateStmt');
        const alter = statementOf(facts, 'AlterTableStmt');
        const index = statementOf(facts, 'IndexStmt');
        if (create) {
          const table = relationRef(create.relation, schema);
          if (!table) return;
          for (const e of create.tableElts ?? []) {
            const col = asNode(e, 'ColumnDef');
            if (col)
              for (const c of col.constraints ?? []) constraint(facts, table, constraintOf(c), col.colname);
            else constraint(facts, table, constraintOf(e));
          }
        } else if (alter) {
          if (alter.objtype !== 'OBJECT_TABLE') return;
          const table = relationRef(alter.relation, schema);
          if (!table) return;
          const cmds = alterCmds(alter);
          for (const cmd of cmds) {
            const name = cmd.subtype === 'AT_AddColumn' ? columnDefOf(cmd)?.colname : undefined;
            if (name) addedColumns.add(`${table.key}|${name}`);
          }
          for (const cmd of cmds) {
            if (cmd.subtype === 'AT_AddConstraint') constraint(facts, table, constraintOf(cmd.def));
            else if (cmd.subtype === 'AT_AddColumn') {
              const col = columnDefOf(cmd);
              for (const k of constraintsOf(col?.constraints)) constraint(facts, table, k, col?.colname);
            }
          }
        } else if (index) {
          const table = relationRef(index.relation, schema);
          // a partial index cannot serve every lookup of the foreign key
          if (!table || index.whereClause) return;
          addIndex(
            table,
            (index.indexParams ?? []).map((p) => asNode(p, 'IndexElem')?.name),
          );
        }
      },
      end() {
        const fixed = new Set<StatementFacts>();
        for (const fk of foreignKeys) {
          if (covered(fk)) continue;
          const cols = columnList(fk.columns);
          const missing = foreignKeys.filter((f) => f.facts === fk.facts && !covered(f));
          let fix: Fix | undefined;
          if (!fixed.has(fk.facts) && missing.every((f) => f.newTable)) {
            fixed.add(fk.facts);
            fix = indexFix(fk.facts, missing);
          }
          ctx.report({
            statement: fk.facts,
            location: fk.location,
            message: `No index on ${fk.table.display} starts with the foreign key column${fk.columns.length > 1 ? 's' : ''} (${cols}), as far as ${fk.defined ? 'this migration and the earlier ones show' : 'this migration shows'}: each DELETE or key UPDATE on ${fk.referenced} scans ${fk.table.display}.`,
            help: fk.newTable
              ? `Create an index on ${fk.table.display} (${cols}) in this migration.`
              : `Create it with CREATE INDEX CONCURRENTLY … ON ${fk.table.display} (${cols}), outside a transaction block.`,
            fix,
          });
        }
      },
    };
  },
});

/** `CREATE INDEX` statements after the statement, one per uncovered foreign key (same columns once). */
function indexFix(facts: StatementFacts, fks: ForeignKey[]): Fix {
  const seen = new Set<string>();
  const creates: string[] = [];
  for (const fk of fks) {
    const key = `${fk.table.key}|${[...fk.columns].sort().join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const name = `${fk.table.name}_${fk.columns.join('_')}_idx`.slice(0, 63);
    creates.push(`CREATE INDEX ${quoteIdent(name)} ON ${fk.table.display} (${columnList(fk.columns)})`);
  }
  const title = creates.length > 1 ? 'Index the foreign keys' : 'Index the foreign key';
  return replaceStatement(facts, title, [facts.statement.text, ...creates].join(';\n'));
}
