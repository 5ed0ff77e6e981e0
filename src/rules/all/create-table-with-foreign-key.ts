import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'create-table-with-foreign-key',
  verdict: 'safe',
  severity: 'info',
  summary:
    'CREATE TABLE with a FOREIGN KEY briefly takes SHARE ROW EXCLUSIVE on the referenced table, which blocks its writes.',
  on: ['CreateStmt'],
  docs: {
    problem: `A new table is empty, so its foreign keys need no validation — but Postgres adds the foreign key's triggers to the
referenced table, and for that takes SHARE ROW EXCLUSIVE on it: inserts, updates and deletes on the referenced table
wait, and the lock itself waits for any transaction writing to it. The lock is held until the migration's
transaction commits, so it is brief only if the transaction is.`,
    solution: `Nothing to rewrite: keep the transaction short (do not put long data changes after the CREATE TABLE in the same
transaction) and set a \`lock_timeout\`, so a busy referenced table makes the migration retry instead of stalling
its writers.

\`\`\`sql
SET lock_timeout = '2s';
CREATE TABLE order_items (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id)
);
\`\`\``,
  },
  examples: [
    { bad: 'CREATE TABLE order_items (id bigint, order_id bigint REFERENCES orders (id));' },
    {
      bad: 'CREATE TABLE order_items (id bigint, order_id bigint, FOREIGN KEY (order_id) REFERENCES orders (id));',
    },
    { ok: 'CREATE TABLE order_items (id bigint, order_id bigint);' },
    {
      title: 'the referenced table is new too',
      ok: 'CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE TABLE order_items (id bigint, order_id bigint REFERENCES orders (id));',
    },
    {
      title: 'a self-reference locks nothing else',
      ok: 'CREATE TABLE nodes (id bigint PRIMARY KEY, parent_id bigint REFERENCES nodes (id));',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'create-table-with-foreign-key') continue;
      const referenced = action.relations.referenced;
      if (!referenced || facts.isNew(referenced)) continue;
      const mode = lockOn(action, 'referenced');
      ctx.report({
        statement: facts,
        location: action.location,
        message: `The foreign key to ${referenced.display} ${lockClause(mode, referenced.display)} until the transaction commits.`,
        help: 'Keep the transaction short and set a lock_timeout, so a busy referenced table makes the migration retry instead of stalling its writers.',
        lock: { mode, relation: referenced.display },
      });
    }
  },
});
