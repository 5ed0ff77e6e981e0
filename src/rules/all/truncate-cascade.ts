import { dropBehavior } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'truncate-cascade',
  equivalents: {
    squawk: ['ban-truncate-cascade'],
  },
  hazard: 'loses-data',
  verdict: 'alternative',
  summary:
    'TRUNCATE … CASCADE also empties every table with a foreign key to the truncated ones; name the tables instead.',
  on: ['TruncateStmt'],
  docs: {
    problem: `\`TRUNCATE … CASCADE\` empties the named tables *and* every table that references them through a foreign key —
and, recursively, every table that references those. Which tables that is depends on the foreign keys of the
database it runs on, not on the migration: a table added later by someone else, with a foreign key to one of
these, is silently emptied too. Each of them is locked ACCESS EXCLUSIVE, blocking all reads and writes.`,
    solution: `Name every table to empty, and leave out \`CASCADE\` (the default, \`RESTRICT\`, fails instead of emptying a
table you did not name):

\`\`\`sql
SET lock_timeout = '2s';
TRUNCATE orders, order_items;
\`\`\`

See \`truncate-table\` for emptying a live table without the ACCESS EXCLUSIVE lock.`,
    tools: {
      sequelize:
        '`Model.truncate({ cascade: true })` and `Model.destroy({ truncate: true, cascade: true })` issue `TRUNCATE … CASCADE`: leave out `cascade` and truncate every table you mean by name.',
    },
  },
  examples: [
    { bad: 'truncate a, b, c cascade;' },
    { bad: 'TRUNCATE TABLE orders RESTART IDENTITY CASCADE;' },
    { ok: 'TRUNCATE orders, order_items;' },
    { ok: 'TRUNCATE orders RESTRICT;' },
  ],
  check(facts, ctx) {
    if (dropBehavior(facts) !== 'DROP_CASCADE') return;
    const tables = facts.actions.filter((a) => a.op === 'truncate').map((a) => a.relations.table!.display);
    ctx.report({
      statement: facts,
      message: `TRUNCATE … CASCADE also empties every table that references ${tables.join(', ')} through a foreign key (recursively) — whichever tables those are in the database it runs on — and locks each one ACCESS EXCLUSIVE.`,
      help: 'List every table to empty explicitly and drop CASCADE: without it, TRUNCATE fails rather than emptying a table you did not name.',
    });
  },
});
