import { defineRule } from '../define.js';
import { columnLabel, replaceTypeFix, writtenColumnTypes } from './prefer-text-over-char.js';

export default defineRule({
  id: 'prefer-jsonb',
  equivalents: { eugene: ['E3'], strongMigrations: ['add_column_json'] },
  // the choice of type is the advice; the message adds when DISTINCT/UNION queries already running on an existing table break
  hazard: 'schema-design',
  verdict: 'safe',
  fixSafety: {
    level: 'unsafe',
    why: 'the column gets another type: jsonb does not keep key order, duplicate keys or whitespace.',
  },
  summary:
    'json has no equality operator, which breaks SELECT DISTINCT, UNION and GROUP BY on the table; use jsonb.',
  on: ['CreateStmt', 'CreateForeignTableStmt', 'AlterTableStmt'],
  docs: {
    problem: `The \`json\` type keeps the input text as is and has no equality operator. Any query that must compare
whole rows or the column fails with *could not identify an equality operator for type json*: \`SELECT DISTINCT\`,
\`UNION\` (without \`ALL\`), \`GROUP BY\`, \`EXCEPT\`, \`INTERSECT\`, and \`DISTINCT\` over \`SELECT *\`. Adding a \`json\`
column to an **existing** table therefore breaks queries the running application already makes — the moment the
migration commits, \`SELECT DISTINCT * FROM orders\` starts failing. \`json\` can also not be indexed with GIN and
is re-parsed on every access.

\`jsonb\` stores parsed JSON, has equality, containment (\`@>\`) and GIN indexes; it is almost always what is meant.
Use \`json\` only when the exact input text (key order, duplicate keys, whitespace) must be kept.`,
    solution: `\`\`\`sql
ALTER TABLE orders ADD COLUMN properties jsonb;
\`\`\`

The fix replaces the type.`,
    tools: {
      rails: '`t.jsonb :properties` instead of `t.json`.',
      django: '`JSONField` is `jsonb` already.',
      prisma: '`Json` is `jsonb` already; `@db.Json` is what is reported.',
      typeorm: "`@Column({ type: 'jsonb' })`.",
      drizzle: "`jsonb('properties')` instead of `json(…)`.",
      knex: "`table.jsonb('properties')` instead of `table.json(…)`.",
      sequelize: '`DataTypes.JSONB` instead of `DataTypes.JSON`.',
      'node-pg-migrate': "`{ type: 'jsonb' }` instead of `'json'`.",
      alembic: '`sqlalchemy.dialects.postgresql.JSONB` instead of `sa.JSON` (which is `json` on Postgres).',
    },
  },
  examples: [
    {
      title: 'existing DISTINCT queries on the table start failing',
      bad: 'ALTER TABLE orders ADD COLUMN properties json;',
      fixed: 'ALTER TABLE orders ADD COLUMN properties jsonb;',
    },
    {
      bad: 'CREATE TABLE events (id bigint, payload JSON NOT NULL, tags pg_catalog.json[]);',
      fixed: 'CREATE TABLE events (id bigint, payload jsonb NOT NULL, tags jsonb[]);',
    },
    {
      bad: 'ALTER TABLE events ALTER COLUMN payload TYPE json;',
      fixed: 'ALTER TABLE events ALTER COLUMN payload TYPE jsonb;',
    },
    {
      ok: "ALTER TABLE orders ADD COLUMN properties jsonb NOT NULL DEFAULT '{}';",
    },
  ],
  check(facts, ctx) {
    for (const c of writtenColumnTypes(facts)) {
      if (c.type.name !== 'json') continue;
      const existing = c.where !== 'create' && !facts.isNew(c.table);
      ctx.report({
        statement: facts,
        location: c.typeName.location,
        message: `${columnLabel(c)} is json, which has no equality operator: SELECT DISTINCT, UNION and GROUP BY over it fail${existing ? ' — including queries the application already runs on this table' : ''}.`,
        help: 'Use jsonb, unless the exact input text must be kept.',
        fix: replaceTypeFix(ctx, facts, c.typeName, 'jsonb', 'Use jsonb'),
      });
    }
  },
});
