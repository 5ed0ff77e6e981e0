import { statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'enum-value-ordering',
  equivalents: {
    squawk: ['require-enum-value-ordering'],
  },
  hazard: 'schema-design',
  verdict: 'safe',
  recommended: false,
  summary: 'ALTER TYPE … ADD VALUE without BEFORE or AFTER sorts the new value last; say where it belongs.',
  on: ['AlterEnumStmt'],
  docs: {
    problem: `An enum's values are ordered by declaration, and that order is what \`ORDER BY\`, \`<\`/\`>\`,
\`min()\`/\`max()\`, range types and btree indexes on the column use. \`ALTER TYPE … ADD VALUE 'x'\` without
\`BEFORE\` or \`AFTER\` appends the value, so it sorts after every existing one — right for an open list, wrong for an
ordered scale (\`'low', 'high'\` + \`'medium'\` puts medium above high), and the order cannot be changed later without
recreating the type.

This is not a locking hazard: \`ADD VALUE\` only takes a brief lock on the type and rewrites nothing (before PG 12 it
cannot run in a transaction block, see \`concurrently-in-transaction\`). The rule is opt-in: it asks the author to
state the intended position, which reviewers otherwise have to guess.`,
    solution: `Say where the value goes:

\`\`\`sql
ALTER TYPE priority ADD VALUE 'medium' BEFORE 'high';
ALTER TYPE status ADD VALUE 'archived' AFTER 'closed';  -- last, on purpose
\`\`\``,
    tools: {
      prisma:
        "Prisma writes `ALTER TYPE … ADD VALUE '…'` without BEFORE or AFTER wherever the member sits in the `enum` block: add the position to the generated `migration.sql` by hand.",
      drizzle:
        'drizzle-kit writes `ADD VALUE … BEFORE …` when the value is inserted in the middle of the `pgEnum` array, and no position when it is appended: check that the array order is the intended one.',
      'node-pg-migrate': '`pgm.addTypeValue(type, value, { before: … })` or `{ after: … }`.',
      rails: '`add_enum_value :priority, "medium", before: "high"` (or `after:`), Rails 7.1+.',
    },
  },
  examples: [
    { bad: "ALTER TYPE priority ADD VALUE 'medium';" },
    { bad: "ALTER TYPE priority ADD VALUE IF NOT EXISTS 'medium';" },
    { ok: "ALTER TYPE priority ADD VALUE 'medium' BEFORE 'high';" },
    { ok: "ALTER TYPE status ADD VALUE 'archived' AFTER 'closed';" },
    { title: 'renaming a value places nothing', ok: "ALTER TYPE status RENAME VALUE 'done' TO 'closed';" },
  ],
  check(facts, ctx) {
    const s = statementOf(facts, 'AlterEnumStmt');
    if (!s || s.newVal === undefined || s.oldVal !== undefined || s.newValNeighbor) return;
    ctx.report({
      statement: facts,
      message: `'${s.newVal}' is appended: it sorts after every existing value of the enum, in ORDER BY, comparisons and indexes.`,
      help: "Add BEFORE 'value' or AFTER 'value' to say where it belongs (AFTER the last value if last is meant).",
    });
  },
});
