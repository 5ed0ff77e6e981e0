import { defineRule } from '../define.js';

export default defineRule({
  id: 'index-build-pg14-corruption',
  equivalents: { strongMigrations: ['add_index_corruption'] },
  // a corrupt index silently returns wrong rows and may let duplicates in
  hazard: 'loses-data',
  verdict: 'alternative',
  severity: 'warning',
  severityReason:
    'pgkeel knows only the major version: the bug is in 14.0–14.3, and most 14.x servers already run a fixed minor release.',
  ignoredByFixCheck:
    'the finding is about the server’s minor release, not the statement: building an index CONCURRENTLY stays the safe choice on 14.4 and later, so a fix that adds CONCURRENTLY is not held back by it.',
  summary:
    'On PostgreSQL 14.0–14.3, CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY can silently corrupt the index; run 14.4 or later.',
  on: ['IndexStmt', 'ReindexStmt'],
  docs: {
    problem: `A bug in PostgreSQL 14.0 to 14.3 can make \`CREATE INDEX CONCURRENTLY\` and \`REINDEX CONCURRENTLY\` miss rows
that are updated while the index is being built (an optimization added in 14.0 went wrong). The build succeeds and the
index is marked valid, but queries using it silently return wrong results, and a unique index may let duplicates in.
14.4 fixed the bug; indexes built concurrently on an earlier 14.x release stay corrupt until rebuilt.

pgkeel only knows the target's major version, so it reports every concurrent index build when the target is 14.`,
    solution: `Make sure the server runs 14.4 or later (\`SELECT version();\`) before building indexes concurrently:
minor releases are drop-in upgrades. If indexes were built or rebuilt concurrently on 14.0–14.3, check them with
\`amcheck\` and rebuild the damaged ones once the server is upgraded:

\`\`\`sql
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT bt_index_check('orders_customer_id_idx', heapallindexed => true);
-- on 14.4+:
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
\`\`\`

Once the servers are upgraded, disable this rule (or set \`pgVersion\` accordingly).`,
  },
  examples: [
    {
      bad: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
      pg: { min: 14, max: 14 },
    },
    { bad: 'REINDEX INDEX CONCURRENTLY orders_customer_id_idx;', pg: { min: 14, max: 14 } },
    {
      title: 'other major versions are not affected',
      ok: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);',
      pg: { max: 13 },
    },
    {
      title: 'other major versions are not affected',
      ok: 'CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\nREINDEX INDEX CONCURRENTLY orders_customer_id_idx;',
      pg: { min: 15 },
    },
    {
      title: 'a plain CREATE INDEX is not affected',
      ok: 'CREATE INDEX orders_customer_id_idx ON orders (customer_id);',
      pg: { min: 14, max: 14 },
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      // which operations and versions are affected is a catalog fact
      const bug = action.facts.corruptingBug;
      if (!bug) continue;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `${action.facts.title} can silently corrupt the index on ${bug}: make sure the server runs a fixed release.`,
        help: 'Check with SELECT version(); upgrade to the latest 14.x minor release before building indexes concurrently, and rebuild indexes built concurrently on 14.0–14.3.',
      });
    }
  },
});
