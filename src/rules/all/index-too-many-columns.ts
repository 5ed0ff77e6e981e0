import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

/** More key columns than this is flagged by default (strong_migrations' limit). */
const MAX_COLUMNS = 3;

export default defineRule({
  id: 'index-too-many-columns',
  equivalents: { strongMigrations: ['add_index_columns'] },
  hazard: 'schema-design',
  verdict: 'safe',
  recommended: false,
  summary: `An index with more than ${MAX_COLUMNS} key columns (configurable) is large and rarely used past its first columns.`,
  on: ['IndexStmt'],
  options: {
    maxColumns: {
      schema: (z) => z.int().min(1),
      default: MAX_COLUMNS,
      description:
        'The most key columns an index may have before it is reported. INCLUDE columns do not count. Raise it for tables whose queries really filter on wide composite keys.',
    },
  },
  docs: {
    problem: `A B-tree index is only used efficiently from its leading columns: a query that does not filter on
the first columns cannot use the later ones to narrow the scan. An index with many key columns is larger, slower to
build (under the build's lock) and to update on every write, and often serves fewer queries than it seems to.`,
    solution: `Keep the key to the columns queries filter and sort on (most selective first), and carry extra
columns for index-only scans with \`INCLUDE\`, which does not count towards the key:

\`\`\`sql
CREATE INDEX CONCURRENTLY orders_customer_created_idx
  ON orders (customer_id, created_at) INCLUDE (status, total);
\`\`\`

If a wide key really is what the queries need, keep it and ignore this rule for the statement
(\`-- pgkeel-ignore index-too-many-columns\`), or raise the limit for the project:

\`\`\`json
{ "rules": { "index-too-many-columns": ["warn", { "maxColumns": 4 }] } }
\`\`\``,
    tools: {
      prisma:
        '`@@index` has no INCLUDE: declare the key columns only and add `INCLUDE (…)` to the generated `migration.sql` by hand.',
      'node-pg-migrate': '`pgm.createIndex(table, keyColumns, { include: [...] })`.',
      alembic: '`op.create_index(name, table, key_columns, postgresql_include=[...])`.',
      django: '`models.Index(fields=[...], include=[...], name=…)` (Django 3.2+).',
      rails: '`add_index :orders, [:customer_id, :created_at], include: [:status, :total]` (Rails 7.1+).',
    },
  },
  examples: [
    { bad: 'CREATE INDEX CONCURRENTLY orders_wide_idx ON orders (customer_id, status, created_at, total);' },
    {
      ok: 'CREATE INDEX CONCURRENTLY orders_customer_created_idx ON orders (customer_id, created_at, status);',
    },
    {
      title: 'INCLUDE columns are not key columns',
      ok: 'CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id, created_at) INCLUDE (status, total);',
    },
    {
      title: 'a raised limit',
      options: { maxColumns: 4 },
      ok: 'CREATE INDEX CONCURRENTLY orders_wide_idx ON orders (customer_id, status, created_at, total);',
    },
    {
      title: 'a lowered limit: only single-column indexes pass',
      options: { maxColumns: 1 },
      bad: 'CREATE INDEX CONCURRENTLY orders_customer_created_idx ON orders (customer_id, created_at);',
    },
  ],
  check(facts, ctx) {
    const stmt = statementOf(facts, 'IndexStmt');
    const count = stmt?.indexParams?.length ?? 0;
    const max = ctx.options.maxColumns;
    if (count <= max) return;
    ctx.report({
      statement: facts,
      message: `The index has ${count} key columns; an index is mostly used through its first columns, so the rest add size and write cost.`,
      help: `Keep at most ${max} key column${max === 1 ? '' : 's'} (the rule's maxColumns option) and move columns only needed for index-only scans to INCLUDE (…).`,
    });
  },
});
