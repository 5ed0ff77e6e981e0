import type { StatementFacts } from '../../analyze/analyze.js';
import { type RelationRef, relationRef } from '../../analyze/ast.js';
import { asNode, statementOf } from '../../analyze/nodes.js';
import type { Fix, PlanProposal } from '../../diagnostics.js';
import { defineRule } from '../define.js';

interface Rename {
  facts: StatementFacts;
  from: RelationRef;
  to: RelationRef;
  location?: number;
}

export default defineRule({
  id: 'rename-table',
  equivalents: {
    squawk: ['renaming-table'],
    strongMigrations: ['rename_table'],
  },
  hazard: 'breaks-clients',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'the fix adds a view under the old name: a new object that later migrations must drop.',
  },
  plan: 'the rename and a view under the old name in one transaction (old code keeps reading and writing through it), then, after the deploy that moves every client to the new name, the view dropped: the schema the rename alone makes.',
  summary:
    'Renaming a table breaks every running client that still uses the old name; keep a view under the old name.',
  docs: {
    problem: `\`ALTER TABLE … RENAME TO\` only needs a brief ACCESS EXCLUSIVE lock, but the moment it commits every query
that still names the old table fails with *relation does not exist*. Application servers are not all redeployed in
the same instant as the migration: the old code keeps running for seconds to minutes (longer with background
workers and rollbacks), and all of its queries on this table fail.`,
    solution: `Rename the table and, in the same transaction, create a view with the old name. A view that selects all
columns of one table is automatically updatable, so old code can go on reading and writing (INSERT, UPDATE,
DELETE, RETURNING; the table's defaults apply) while the new code uses the new name. Drop the view in a later
migration, once no deployed code uses the old name.

\`\`\`sql
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;
COMMIT;
-- later, once every client uses "clients":
DROP VIEW customers;
\`\`\`

The view's \`*\` is expanded when it is created: columns added to the table afterwards are not visible through the
old name. DDL, TRUNCATE and COPY FROM do not work on the view. Often the simplest answer is not to rename the
table at all and map a new name in the ORM instead.`,
    tools: {
      prisma: 'Rename the model and keep the table with `@@map("old_name")`: no migration at all.',
      drizzle: 'Rename the TypeScript variable and keep `pgTable("old_name", …)`.',
      typeorm: 'Rename the class and keep `@Entity("old_name")`.',
      sequelize: 'Rename the model and keep `tableName: "old_name"`.',
      django:
        'Rename the model and keep `db_table = "app_oldname"` in its `Meta` (a `SeparateDatabaseAndState` migration records the rename without SQL).',
      rails:
        'Keep the table and set `self.table_name = "old_name"` on the renamed model; if you must rename, add the view in the same migration with `execute`.',
      alembic:
        '`op.rename_table(...)` followed by `op.execute("CREATE VIEW old AS SELECT * FROM new")` in the same migration.',
    },
  },
  examples: [
    {
      bad: 'ALTER TABLE customers RENAME TO clients;',
      fixed:
        'BEGIN;\nALTER TABLE customers RENAME TO clients;\nCREATE VIEW customers AS SELECT * FROM clients;\nCOMMIT;',
    },
    {
      title: 'inside a transaction the view is added to it',
      bad: 'BEGIN;\nALTER TABLE app.customers RENAME TO clients;\nCOMMIT;',
      fixed:
        'BEGIN;\nALTER TABLE app.customers RENAME TO clients;\nCREATE VIEW app.customers AS SELECT * FROM app.clients;\nCOMMIT;',
    },
    {
      title: 'a view created outside the rename’s transaction leaves a gap; the fix joins them',
      bad: 'ALTER TABLE customers RENAME TO clients;\nCREATE VIEW customers AS SELECT * FROM clients;',
      fixed:
        'BEGIN;\nALTER TABLE customers RENAME TO clients;\nCREATE VIEW customers AS SELECT * FROM clients;\nCOMMIT;',
    },
    {
      title: 'the old name stays usable through a view',
      ok: 'BEGIN;\nALTER TABLE customers RENAME TO clients;\nCREATE VIEW customers AS SELECT * FROM clients;\nCOMMIT;',
    },
    {
      title: 'a table created in the same migration has no clients yet',
      ok: 'CREATE TABLE drafts (id int);\nALTER TABLE drafts RENAME TO documents;',
    },
    {
      title: 'in the runner’s transaction',
      bad: 'ALTER TABLE "table_name" RENAME TO "new_table_name";',
      fixed:
        'ALTER TABLE "table_name" RENAME TO "new_table_name";\nCREATE VIEW table_name AS SELECT * FROM new_table_name;',
      runner: 'knex',
    },
  ],
  create(ctx) {
    let pending: Rename | undefined;
    const report = (r: Rename, view?: StatementFacts) => {
      ctx.report({
        statement: r.facts,
        location: r.location,
        message: view
          ? `${r.from.display} is renamed to ${r.to.display} and recreated as a view in a separate transaction: between the two, queries using ${r.from.display} fail.`
          : `Renaming ${r.from.display} to ${r.to.display} breaks every running client that still uses ${r.from.display}: its queries fail until it is redeployed.`,
        help: `Create the view ${r.from.display} (SELECT * FROM ${r.to.display}) in the same transaction as the rename, so old code keeps working; drop it once every client uses the new name. Or leave the table's name alone and rename it in the ORM only.`,
        fix: viewFix(r, view),
        plan: view ? undefined : () => viewPlan(r),
      });
    };
    return {
      statement(facts) {
        if (pending) {
          const view = compatibilityView(facts, pending);
          if (view === 'same-transaction') pending = undefined;
          else {
            report(pending, view === 'other-transaction' ? facts : undefined);
            pending = undefined;
          }
        }
        for (const action of facts.actions) {
          if (action.op !== 'rename-table') continue;
          const from = action.relations.table!;
          if (facts.isNew(from)) continue;
          const node = statementOf(facts, 'RenameStmt');
          const to = relationRef(
            { schemaname: from.schema, relname: node?.newname },
            facts.state.defaultSchema,
          );
          if (to) pending = { facts, from, to, location: action.location };
        }
      },
      end() {
        if (pending) report(pending);
        pending = undefined;
      },
    };
  },
});

/** Is `facts` `CREATE VIEW <old> AS SELECT * FROM <new>`, and in the rename's transaction? */
function compatibilityView(
  facts: StatementFacts,
  r: Rename,
): 'same-transaction' | 'other-transaction' | undefined {
  const view = statementOf(facts, 'ViewStmt');
  if (!view) return undefined;
  if (relationRef(view.view, facts.state.defaultSchema)?.key !== r.from.key) return undefined;
  const select = asNode(view.query, 'SelectStmt');
  const targets = select?.targetList ?? [];
  const fields = asNode(asNode(targets[0], 'ResTarget')?.val, 'ColumnRef')?.fields ?? [];
  const isStar = targets.length === 1 && fields.length === 1 && asNode(fields[0], 'A_Star') !== undefined;
  const from = select?.fromClause ?? [];
  const source =
    from.length === 1 ? relationRef(asNode(from[0], 'RangeVar'), facts.state.defaultSchema) : undefined;
  if (!isStar || source?.key !== r.to.key || select?.whereClause) return undefined;
  const tx = r.facts.transaction;
  return tx && facts.transaction?.id === tx.id ? 'same-transaction' : 'other-transaction';
}

/** Add the view in the rename's transaction, wrapping both in one when they autocommit. */
function viewFix(r: Rename, view: StatementFacts | undefined): Fix | undefined {
  if (statementOf(r.facts, 'RenameStmt')?.missing_ok) return undefined;
  const rename = r.facts.statement;
  const inTransaction = r.facts.transaction !== undefined;
  if (view) {
    // the view is already there but autocommits after the rename: make them one transaction
    if (inTransaction || view.transaction) return undefined;
    return {
      title: 'Rename and create the view in one transaction',
      edits: [
        { start: rename.start, end: rename.start, text: 'BEGIN;\n' },
        { start: view.statement.end, end: view.statement.end, text: ';\nCOMMIT' },
      ],
    };
  }
  const create = `CREATE VIEW ${r.from.display} AS SELECT * FROM ${r.to.display}`;
  const text = inTransaction ? `${rename.text};\n${create}` : `BEGIN;\n${rename.text};\n${create};\nCOMMIT`;
  return {
    title: `Keep ${r.from.display} as a view of ${r.to.display} until clients use the new name`,
    edits: [{ start: rename.start, end: rename.end, text }],
  };
}

/**
 * Expand/contract of a table rename: renamed with the view under the old name in one transaction
 * (old code keeps reading and writing through it), and the view dropped after the deploy that
 * moves every client to the new name — the schema the rename alone makes.
 */
function viewPlan(r: Rename): PlanProposal | undefined {
  if (statementOf(r.facts, 'RenameStmt')?.missing_ok || r.facts.statement.embeddedIn) return undefined;
  return {
    title: `Rename, keep ${r.from.display} as a view until the application uses ${r.to.display}, then drop the view`,
    safety: 'safe',
    steps: [
      { sql: r.facts.statement.text, transaction: 'begin' },
      { sql: `CREATE VIEW ${r.from.display} AS SELECT * FROM ${r.to.display}`, transaction: 'continue' },
      {
        sql: `DROP VIEW ${r.from.display}`,
        deployBefore: `every client uses ${r.to.display} instead of ${r.from.display}.`,
      },
    ],
  };
}
