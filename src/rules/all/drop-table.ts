import type { StatementFacts } from '../../analyze/analyze.js';
import { type AnyNode, type RelationRef, relationRef } from '../../analyze/ast.js';
import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

/** Tables a statement creates (CREATE TABLE, CREATE TABLE … AS). */
export function createdTables(facts: StatementFacts): RelationRef[] {
  const n = facts.statement.node as AnyNode;
  if (facts.statement.kind === 'CreateTableAsStmt') {
    const s = n.CreateTableAsStmt;
    if (s.objtype !== undefined && s.objtype !== 'OBJECT_TABLE') return [];
    const r = relationRef(s.into?.rel, facts.state.defaultSchema);
    return r ? [r] : [];
  }
  return facts.actions
    .filter((a) => a.op === 'create-table' || a.op === 'create-table-partition-of')
    .map((a) => a.relations.table!);
}

interface Drop {
  facts: StatementFacts;
  table: RelationRef;
  location?: number;
}

export default defineRule({
  id: 'drop-table',
  equivalents: {
    squawk: ['ban-drop-table'],
  },
  verdict: 'alternative',
  summary:
    'Dropping a table deletes its data and breaks every running client that still uses it; stop using it first.',
  on: ['DropStmt', 'CreateStmt', 'CreateTableAsStmt'],
  docs: {
    problem: `\`DROP TABLE\` deletes the table and its rows irrecoverably. It takes ACCESS EXCLUSIVE on the table, and also on
every table its foreign keys reference (dropping the foreign key removes its triggers there): while the lock is
waited for and held, all reads and writes of those tables queue too. Once it commits, every query of the running
application that still uses the table fails (*relation does not exist*). With \`CASCADE\`, the views that use the
table and the foreign keys of other tables that point to it are dropped as well.`,
    solution: `Contract in two deploys: ship code that no longer uses the table first, then drop it in a later migration —
after a backup if the data might ever be wanted again. Keep the drop short: a \`lock_timeout\`, and no other work in
its transaction.

\`\`\`sql
-- deploy 1: nothing reads or writes legacy_events any more (no SQL)
-- deploy 2:
SET lock_timeout = '2s';
DROP TABLE legacy_events;
\`\`\`

Renaming the table first (\`ALTER TABLE legacy_events RENAME TO legacy_events_unused\`) for a while is a cheap way to
find forgotten users while the data can still be brought back.`,
    tools: {
      rails:
        'Remove the model and its uses and deploy; `drop_table` in a migration of the next deploy (strong_migrations wants it wrapped in `safety_assured`).',
      django:
        'Delete the model with a state-only `SeparateDatabaseAndState(state_operations=[DeleteModel(...)])` and deploy; drop the table in a migration of the next deploy.',
      prisma:
        'Remove the model and deploy the regenerated client first; generate and apply the `DROP TABLE` migration in the next deploy.',
      drizzle:
        'Remove the table from the schema and deploy first; run the `DROP TABLE` migration in the next deploy.',
    },
  },
  examples: [
    { bad: 'DROP TABLE "table_name";' },
    { bad: 'DROP TABLE IF EXISTS "table_name";\nDROP TABLE IF EXISTS "table_name"' },
    {
      title: 'the foreign key’s referenced table is locked too',
      bad: 'ALTER TABLE events ADD CONSTRAINT events_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nDROP TABLE events;',
    },
    {
      title: 'a table created in the same migration holds no data anyone uses yet',
      ok: 'CREATE TABLE tmp_ids (id bigint);\nDROP TABLE tmp_ids;',
    },
    {
      title: 'dropping and recreating a table is reported by recreate-table',
      ok: 'DROP TABLE IF EXISTS settings;\nCREATE TABLE settings (key text PRIMARY KEY, value text);',
    },
    { ok: 'DROP VIEW legacy_report;' },
  ],
  create(ctx) {
    const pending: Drop[] = [];
    return {
      statement(facts) {
        for (const created of createdTables(facts)) {
          const i = pending.findIndex((d) => d.table.key === created.key);
          if (i >= 0) pending.splice(i, 1);
        }
        for (const action of facts.actions) {
          if (action.op !== 'drop-table') continue;
          const table = action.relations.table!;
          if (facts.isNew(table)) continue;
          pending.push({ facts, table, location: table.location });
        }
      },
      end() {
        for (const d of pending) {
          const action = d.facts.actions.find(
            (a) => a.op === 'drop-table' && a.relations.table!.key === d.table.key,
          )!;
          const mode = lockOn(action);
          // the tables this table's foreign keys reference, with the lock the statement takes on each
          const referenced = new Set(
            d.facts.actions
              .filter((a) => a.op === 'drop-foreign-key' && a.relations.table?.key === d.table.key)
              .map((a) => a.relations.referenced?.key),
          );
          const others = d.facts.locks
            .filter((l) => l.relation.key !== d.table.key && referenced.has(l.relation.key))
            .map((l) => `${l.relation.display} (${l.mode})`);
          const also = others.length
            ? ` It also locks ${others.join(', ')}, which its foreign keys reference.`
            : '';
          ctx.report({
            statement: d.facts,
            location: d.location,
            message: `DROP TABLE deletes ${d.table.display} and its data; every running client that still uses it fails until redeployed. It ${lockClause(mode, d.table.display)}.${also}`,
            help: 'Deploy code that no longer uses the table first, take a backup if the data may be needed, then drop it in a later migration with a lock_timeout.',
            lock: { mode, relation: d.table.display },
          });
        }
        pending.length = 0;
      },
    };
  },
});
