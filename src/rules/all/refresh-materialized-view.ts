import { statementOf } from '../../analyze/nodes.js';
import { blockSummary } from '../../catalog/locks.js';
import { operationFacts } from '../../catalog/operations.js';
import { defineRule, lockOn } from '../define.js';
import { lockClause } from '../sql.js';

export default defineRule({
  id: 'refresh-materialized-view',
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  summary:
    'REFRESH MATERIALIZED VIEW blocks reads of the view for the whole refresh; use REFRESH MATERIALIZED VIEW CONCURRENTLY.',
  on: ['RefreshMatViewStmt'],
  docs: {
    problem: `\`REFRESH MATERIALIZED VIEW\` runs the view's query and replaces its contents while holding ACCESS EXCLUSIVE
on the view: every SELECT from it waits until the query has finished and the new data is in place — as long as
the query takes.`,
    solution: `Refresh it \`CONCURRENTLY\`: Postgres computes the new contents next to the old ones and applies the difference
in place, holding only EXCLUSIVE on the view, which still lets reads through (concurrent refreshes wait). It
needs a unique index on the view covering all rows (plain columns, no WHERE clause) and a view that is already
populated; it is slower than a plain refresh when most rows change.

\`\`\`sql
CREATE UNIQUE INDEX CONCURRENTLY order_totals_customer_id_idx ON order_totals (customer_id);
REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;
\`\`\``,
    tools: {
      'node-pg-migrate': '`pgm.refreshMaterializedView(name, { concurrently: true })`.',
      django: '`RunSQL("REFRESH MATERIALIZED VIEW CONCURRENTLY …")`.',
      rails:
        '`execute "REFRESH MATERIALIZED VIEW CONCURRENTLY …"` (the scenic gem: `Scenic.database.refresh_materialized_view(name, concurrently: true)`).',
    },
  },
  examples: [
    { bad: 'REFRESH MATERIALIZED VIEW order_totals;' },
    { bad: 'REFRESH MATERIALIZED VIEW order_totals WITH DATA;' },
    { ok: 'REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;' },
    {
      title: 'WITH NO DATA only empties the view: the lock is brief',
      ok: 'REFRESH MATERIALIZED VIEW order_totals WITH NO DATA;',
    },
    {
      title: 'a view created in this migration is not read by anyone yet',
      ok: 'CREATE MATERIALIZED VIEW order_totals AS SELECT 1 AS n WITH NO DATA;\nREFRESH MATERIALIZED VIEW order_totals;',
    },
  ],
  check(facts, ctx) {
    const stmt = statementOf(facts, 'RefreshMatViewStmt');
    if (stmt?.skipData) return;
    for (const action of facts.actions) {
      if (action.op !== 'refresh-materialized-view') continue;
      const view = action.relations.table!;
      if (facts.isNew(view)) continue;
      const mode = lockOn(action);
      const concurrentMode = lockOn({
        ...action,
        facts: operationFacts('refresh-materialized-view-concurrently', facts.pgVersion),
      });
      ctx.report({
        statement: facts,
        location: action.location,
        message: `REFRESH MATERIALIZED VIEW ${lockClause(mode, view.display)}, for as long as the view's query runs.`,
        help: `Use REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the view): it takes ${concurrentMode}, which ${blockSummary(concurrentMode)}.`,
        lock: { mode, relation: view.display },
      });
    }
  },
});
