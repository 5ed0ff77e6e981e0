import type { StatementFacts } from '../../analyze/analyze.js';
import type { Action } from '../../analyze/classify.js';
import { asNode, columnDefOf, constraintsOf, statementOf } from '../../analyze/nodes.js';
import type { PlanProposal, ProposedStep } from '../../diagnostics.js';
import { defineRule, lockOn } from '../define.js';
import { backfillStep, notNullSteps } from '../recipes.js';
import { deparse, lockClause, quoteIdent } from '../sql.js';

export default defineRule({
  id: 'add-column-volatile-default',
  equivalents: {
    squawk: ['adding-field-with-default'],
    eugene: ['E10'],
    strongMigrations: ['add_column_default', 'add_column_default_callable'],
  },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  plan: 'the column is added bare (a brief lock), its DEFAULT set right after so that rows written from then on get it, the existing rows backfilled in batches of pages that each commit (a DO block run outside a transaction, PG 11+), then NOT NULL proven without a long lock where the version allows it (a validated CHECK on 12–17, NOT NULL NOT VALID on 18; on 11 the plan says SET NOT NULL still scans). Existing rows get their values when the backfill runs rather than when the column is added.',
  summary: 'ADD COLUMN with a volatile DEFAULT rewrites the whole table under ACCESS EXCLUSIVE.',
  on: ['AlterTableStmt'],
  docs: {
    problem: `Since PG 11, \`ADD COLUMN … DEFAULT x\` only records \`x\` in the catalog when \`x\` gives the same value for
every existing row: constants, \`now()\`, \`'{}'::jsonb\` — anything that is not *volatile*. A **volatile** default such
as \`gen_random_uuid()\`, \`random()\` or \`clock_timestamp()\` must be computed once per row, so Postgres rewrites the
entire table while holding ACCESS EXCLUSIVE: no reads and no writes until every row has been copied.

What counts is the function's volatility in \`pg_proc\`, not whether the default looks like a literal. For a
function that is not built in, pgkeel cannot tell, and reports it so that you check: \`SELECT provolatile FROM pg_proc
WHERE proname = 'f'\` (\`v\` means volatile).

Serial, identity and \`GENERATED … STORED\` columns rewrite the table too; they are not covered by this rule.`,
    solution: `Add the column without the default (or with a constant one), attach the volatile default for new rows
afterwards — \`SET DEFAULT\` does not touch existing rows — and fill the existing rows in small batches, each its own
transaction.

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
-- repeat until it updates no rows:
UPDATE orders SET public_id = gen_random_uuid()
WHERE id IN (SELECT id FROM orders WHERE public_id IS NULL LIMIT 5000);
\`\`\`

If the column must end up NOT NULL, add that afterwards the safe way (see \`set-not-null\`).`,
    tools: {
      prisma: `\`@default(uuid())\` / \`@default(cuid())\` are filled in by Prisma Client and produce no database default;
\`@default(dbgenerated("gen_random_uuid()"))\` does, and triggers the rewrite. Split the generated SQL as above.`,
      drizzle:
        '`.defaultRandom()` on a `uuid()` column and ``.default(sql`gen_random_uuid()`)`` (any volatile function) become a database default: add the column without it, and put `ALTER COLUMN … SET DEFAULT` and the batched backfill in later migrations, applied in a later `drizzle-kit migrate` run (one run applies all pending migrations in one transaction).',
      typeorm:
        "`@Column({ default: () => \"gen_random_uuid()\" })` and `@Generated('uuid')` add a volatile default: add the column without it, then `queryRunner.query('ALTER TABLE … ALTER COLUMN … SET DEFAULT gen_random_uuid()')` and batched updates in a migration with `transaction = false`.",
      sequelize:
        "`defaultValue: DataTypes.UUIDV4` is computed by Sequelize, not the database; `defaultValue: Sequelize.fn('gen_random_uuid')` in `addColumn` is a volatile database default: add the column without it, then `changeColumn` the default and backfill in batches with `queryInterface.sequelize.query()`.",
      'node-pg-migrate':
        "`pgm.addColumns(table, { public_id: { type: 'uuid' } })`, then `pgm.alterColumn(table, 'public_id', { default: pgm.func('gen_random_uuid()') })`, then batched updates in a `pgm.noTransaction()` migration.",
      knex: "`table.uuid('public_id')` first, then `knex.raw('ALTER TABLE … ALTER COLUMN … SET DEFAULT gen_random_uuid()')`, then batch updates.",
      alembic:
        '`op.add_column()` without `server_default`, then `op.alter_column(..., server_default=sa.text("gen_random_uuid()"))`, then batched `op.execute()` updates in a migration of their own.',
      django:
        '`default=uuid.uuid4` is computed in Python, once for all existing rows (no rewrite, but every existing row gets the same value); `db_default=` with a volatile function rewrites. Add the field nullable, then backfill in batches.',
      rails:
        '`add_column :orders, :public_id, :uuid`, then `change_column_default :orders, :public_id, -> { "gen_random_uuid()" }`, then backfill in batches in a migration with `disable_ddl_transaction!`.',
    },
  },
  examples: [
    {
      title: 'a volatile built-in function',
      bad: 'ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();',
    },
    {
      title: 'clock_timestamp() is volatile, unlike now()',
      bad: 'ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp();',
    },
    {
      title: 'a function pgkeel does not know may be volatile',
      bad: 'ALTER TABLE core_recipe ADD COLUMN foo integer DEFAULT uuid();',
      // uuid() is no Postgres function (the example's project defines one): a volatile stand-in, which
      // is all the example's claim (a volatile default rewrites the table) is about
      setup: `CREATE TABLE core_recipe (id int);
INSERT INTO core_recipe SELECT g FROM generate_series(1, 10) g;
CREATE FUNCTION uuid() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT (random() * 1000)::int';`,
    },
    {
      title: 'now() is stable: the value is stored once',
      ok: 'ALTER TABLE core_recipe ADD COLUMN foo timestamptz DEFAULT now();',
    },
    {
      title: 'a constant default',
      ok: "ALTER TABLE core_recipe ADD COLUMN foo jsonb NOT NULL DEFAULT '{}'::jsonb;",
    },
    {
      title: 'constant arithmetic',
      ok: 'ALTER TABLE account_metadata ADD COLUMN blah integer DEFAULT 2 + 2;',
    },
    {
      title: 'the safe sequence',
      ok: 'ALTER TABLE orders ADD COLUMN public_id uuid;\nALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();',
    },
    {
      title: 'a table created in the same migration is empty',
      ok: 'CREATE TABLE orders (id bigint);\nALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();',
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op !== 'add-column-volatile-default') continue;
      const table = action.relations.table!;
      if (facts.isNew(table)) continue;
      const mode = lockOn(action);
      const column = action.column ? `${quoteIdent(action.column)} ` : '';
      const fns = (action.detail?.functions ?? []).map((f) => (f === 'subquery' ? 'a subquery' : `${f}()`));
      const list = fns.length > 0 ? fns.join(', ') : 'the default expression';
      const unknown = action.detail?.volatility === 'unknown';
      const lead = unknown
        ? `pgkeel cannot tell whether ${list} ${fns.length > 1 ? 'are' : 'is'} volatile; if so, ADD COLUMN ${column}rewrites`
        : `ADD COLUMN ${column}with a volatile DEFAULT (${list}) rewrites`;
      ctx.report({
        statement: facts,
        location: action.location,
        message: `${lead} every row of ${table.display} while it ${lockClause(mode, table.display)}.`,
        help: 'Add the column without the volatile default, then ALTER COLUMN … SET DEFAULT for new rows, and backfill existing rows in batches.',
        lock: { mode, relation: table.display },
        plan: () => backfillPlan(facts, action),
      });
    }
  },
});

/**
 * Expand without the rewrite: the column added bare; its DEFAULT set next, so rows written from then
 * on get it (the backfill cannot miss them, and a NOT NULL validated later cannot fail on them);
 * existing rows backfilled in committed batches; then NOT NULL proven without a long lock where the
 * version allows. Only for a lone ADD COLUMN whose other clauses are kept by the bare column.
 */
function backfillPlan(facts: StatementFacts, action: Action): PlanProposal | undefined {
  const stmt = statementOf(facts, 'AlterTableStmt');
  const table = action.relations.table;
  const column = action.column;
  if (stmt?.cmds?.length !== 1 || stmt.missing_ok || !table || !column || facts.statement.embeddedIn)
    return undefined;
  const cmd = asNode(stmt.cmds[0], 'AlterTableCmd');
  const def = columnDefOf(cmd);
  if (!cmd || cmd.missing_ok || !def) return undefined;
  const constraints = constraintsOf(def.constraints);
  const dflt = constraints.find((c) => c.contype === 'CONSTR_DEFAULT');
  const notNull = constraints.some((c) => c.contype === 'CONSTR_NOTNULL');
  // UNIQUE, CHECK, REFERENCES, identity, generated: each needs its own sequence
  if (
    !dflt?.raw_expr ||
    constraints.some((c) => c.contype !== 'CONSTR_DEFAULT' && c.contype !== 'CONSTR_NOTNULL')
  )
    return undefined;
  const bare = structuredClone(stmt);
  const bareDef = columnDefOf(asNode(bare.cmds![0], 'AlterTableCmd'))!;
  delete bareDef.constraints;
  const setDefault = deparse({
    AlterTableStmt: {
      ...stmt,
      cmds: [
        {
          AlterTableCmd: {
            subtype: 'AT_ColumnDefault',
            name: column,
            def: dflt.raw_expr,
            behavior: 'DROP_RESTRICT',
          },
        },
      ],
    },
  });
  const value = setDefault.slice(setDefault.indexOf(' SET DEFAULT ') + ' SET DEFAULT '.length);
  const steps: ProposedStep[] = [
    { sql: deparse({ AlterTableStmt: bare }) },
    { sql: setDefault },
    { sql: backfillStep(table, column, value), batches: true },
  ];
  if (notNull) {
    const proof = notNullSteps(table, column, facts.pgVersion);
    // before PG 12 nothing spares SET NOT NULL its scan: the plan says so
    for (const sql of proof ?? [
      `ALTER TABLE ${table.display} ALTER COLUMN ${quoteIdent(column)} SET NOT NULL`,
    ])
      steps.push({ sql });
  }
  return {
    title:
      'Add the column bare, set its default, backfill in batches' + (notNull ? ', then prove NOT NULL' : ''),
    safety: 'safe',
    steps,
  };
}
