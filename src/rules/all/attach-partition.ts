import type { StatementFacts } from '../../analyze/analyze.js';
import type { RelationRef } from '../../analyze/ast.js';
import type { Action } from '../../analyze/classify.js';
import { blockedWorkloads } from '../../catalog/locks.js';
import { operationFacts } from '../../catalog/operations.js';
import { defineRule, lockOn, type RuleContext } from '../define.js';
import { IMPLIED_BOUND } from '../example-setups.js';
import { lockClause } from '../sql.js';

const RECIPE =
  'Create the partition as a standalone table, add a CHECK constraint matching its bound (including IS NOT NULL on the partition key) NOT VALID, VALIDATE it in a separate transaction, then ATTACH PARTITION — Postgres skips the scan — and drop the CHECK.';

export default defineRule({
  id: 'attach-partition',
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  summary:
    'ATTACH PARTITION scans the partition under ACCESS EXCLUSIVE unless a CHECK proves its bound, and CREATE TABLE … PARTITION OF locks the parent against reads and writes.',
  on: ['AlterTableStmt', 'CreateStmt'],
  docs: {
    problem: `\`ALTER TABLE parent ATTACH PARTITION child FOR VALUES …\` takes ACCESS EXCLUSIVE on the partition and reads every row of it
to prove that all rows fit the bound — unless a valid CHECK constraint on the partition already implies the bound,
NULLs of the partition key excluded. Since PostgreSQL 12 the parent only gets SHARE UPDATE EXCLUSIVE (reads and writes
continue); before 12 it gets ACCESS EXCLUSIVE too, so every query on the partitioned table waits for the scan.

\`CREATE TABLE child PARTITION OF parent …\` takes ACCESS EXCLUSIVE on the parent on every version: quick, since the new
partition is empty, but while it waits for the lock every later query on the parent queues behind it.

When the parent has a default partition, both also read all of the default partition under ACCESS EXCLUSIVE, to make
sure none of its rows belong to the new partition.`,
    solution: `Create the partition standalone, prove the bound with a CHECK constraint validated online, then attach it:

\`\`\`sql
CREATE TABLE measurements_2025 (LIKE measurements INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
-- (or load the data into it first)
ALTER TABLE measurements_2025 ADD CONSTRAINT measurements_2025_bound
  CHECK (at IS NOT NULL AND at >= '2025-01-01' AND at < '2026-01-01') NOT VALID;
-- in a separate transaction:
ALTER TABLE measurements_2025 VALIDATE CONSTRAINT measurements_2025_bound;
SET lock_timeout = '2s';
ALTER TABLE measurements ATTACH PARTITION measurements_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE measurements_2025 DROP CONSTRAINT measurements_2025_bound;
\`\`\`

On PostgreSQL 12+ the ATTACH then only holds SHARE UPDATE EXCLUSIVE on the parent and a brief ACCESS EXCLUSIVE on the
new partition. Before 12 it still takes ACCESS EXCLUSIVE on the parent, briefly: set a short \`lock_timeout\` and retry.
Give a table with a default partition a CHECK on the default partition that excludes the new range, or the default
partition is scanned.`,
    tools: {
      prisma:
        'Prisma cannot declare partitions: write the steps into `migration.sql` files by hand (`prisma migrate dev --create-only`), the VALIDATE in a later migration directory than the NOT VALID constraint — each file is applied as one transaction.',
      drizzle:
        'Write the steps into custom migrations (`drizzle-kit generate --custom`). `drizzle-kit migrate` applies all pending migrations in one transaction, so apply the VALIDATE and the ATTACH in a later run than the NOT VALID constraint.',
      knex: "`knex.raw()` for each step. `migrate:latest` wraps all pending migrations in one transaction unless one of them exports `config = { transaction: false }`: give the VALIDATE's migration that config.",
      typeorm:
        "`queryRunner.query()` for each step, one migration each, with `migrationsTransactionMode: 'each'` so that the VALIDATE runs in its own transaction (the default `all` mode runs every pending migration in one).",
      sequelize:
        'Run each step with `queryInterface.sequelize.query()`: migrations are not wrapped in a transaction, so the VALIDATE already commits separately from the NOT VALID constraint.',
      'node-pg-migrate':
        "`pgm.sql()` for each step; all pending migrations share one transaction by default, so call `pgm.noTransaction()` in the VALIDATE's migration (or run with `--no-single-transaction`).",
      alembic:
        '`op.execute()` for each step, the VALIDATE in its own revision with `transaction_per_migration=True` in `context.configure()` (by default all pending revisions share one transaction), or inside `with op.get_context().autocommit_block():`.',
      django:
        '`RunSQL` for each step, the VALIDATE in a later migration than the NOT VALID constraint (each migration is one transaction).',
      rails:
        '`add_check_constraint :measurements_2025, "…", name: "measurements_2025_bound", validate: false`, then `validate_check_constraint` in the next migration, then `execute "ALTER TABLE … ATTACH PARTITION …"`.',
    },
  },
  examples: [
    {
      bad: "ALTER TABLE measurements ATTACH PARTITION measurements_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    },
    {
      title: 'a new partition attached with PARTITION OF locks the parent',
      bad: "CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    },
    {
      title: 'before PostgreSQL 12 the parent is locked even when a validated CHECK avoids the scan',
      pg: { max: 11 },
      bad: "ALTER TABLE m_2025 ADD CONSTRAINT b CHECK (at IS NOT NULL AND at >= '2025-01-01' AND at < '2026-01-01') NOT VALID;\nALTER TABLE m_2025 VALIDATE CONSTRAINT b;\nALTER TABLE m ATTACH PARTITION m_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
      conservative: [IMPLIED_BOUND],
    },
    {
      title:
        'since PostgreSQL 12, a validated CHECK on the partition makes the ATTACH brief and the parent stays usable',
      pg: { min: 12 },
      ok: "ALTER TABLE m_2025 ADD CONSTRAINT b CHECK (at IS NOT NULL AND at >= '2025-01-01' AND at < '2026-01-01') NOT VALID;\nALTER TABLE m_2025 VALIDATE CONSTRAINT b;\nALTER TABLE m ATTACH PARTITION m_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
      conservative: [IMPLIED_BOUND],
    },
    {
      title: 'since PostgreSQL 12, attaching a partition created empty in this migration',
      pg: { min: 12 },
      ok: "CREATE TABLE m_2025 (at date);\nALTER TABLE m ATTACH PARTITION m_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    },
    {
      title: 'a partitioned table created in this migration is not in use yet',
      ok: "CREATE TABLE m (at date) PARTITION BY RANGE (at);\nCREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    },
  ],
  check(facts, ctx) {
    for (const action of facts.actions) {
      if (action.op === 'attach-partition') attach(facts, ctx, action);
      else if (action.op === 'create-table-partition-of') partitionOf(facts, ctx, action);
    }
  },
});

type Ctx = RuleContext;

/** the default partition's scan, when the parent has one known to this migration */
function defaultPartitionNote(facts: StatementFacts): string {
  const check = facts.actions.find((a) => a.op === 'check-default-partition');
  const partition = check?.relations.partition;
  if (!check || !partition) return '';
  return ` It also reads all of the default partition ${partition.display} under ${lockOn(check, 'partition')}, to check none of its rows belong to the new partition.`;
}

/** a validated CHECK on the partition is known (defined or validated in this migration) */
function checkProven(facts: StatementFacts, partition: RelationRef): boolean {
  if (facts.state.validatedUnknown.has(partition.key)) return true;
  for (const c of facts.state.constraints.values())
    if (c.table === partition.key && c.kind === 'check' && c.validated) return true;
  return false;
}

function attach(facts: StatementFacts, ctx: Ctx, action: Action): void {
  const parent = action.relations.parent!;
  const partition = action.relations.partition;
  if (facts.isNew(parent) || !partition) return;
  const parentMode = lockOn(action, 'parent');
  const partMode = lockOn(action, 'partition');
  const parentBlocksReads = blockedWorkloads(parentMode).some((w) => w.id === 'select');
  // an empty new partition or a proven bound: no scan worth the name
  const noScan = facts.isNew(partition) || checkProven(facts, partition);
  const defaultNote = defaultPartitionNote(facts);
  if (noScan && !parentBlocksReads && !defaultNote) return;
  const parentPart = `${lockClause(parentMode, parent.display)}`;
  const message = noScan
    ? `ATTACH PARTITION ${parentPart}; the attach itself is quick, but while it waits for the lock every later query on ${parent.display} queues behind it.${defaultNote}`
    : `ATTACH PARTITION takes ${partMode} on ${partition.display} and reads every row of it to check the partition bound, unless a CHECK constraint proves it; meanwhile it ${parentPart}.${defaultNote}`;
  const help = noScan
    ? parentBlocksReads
      ? 'Before PostgreSQL 12 ATTACH PARTITION always locks the parent ACCESS EXCLUSIVE: set a short lock_timeout and retry, or attach in a quiet period.'
      : 'Add a CHECK constraint to the default partition that excludes the new range (NOT VALID, then VALIDATE), so Postgres skips its scan.'
    : parentBlocksReads
      ? `${RECIPE} Before PostgreSQL 12 the parent is still locked ACCESS EXCLUSIVE, but only briefly.`
      : RECIPE;
  ctx.report({
    statement: facts,
    location: action.location,
    message,
    help,
    lock: noScan
      ? { mode: parentMode, relation: parent.display }
      : { mode: partMode, relation: partition.display },
  });
}

function partitionOf(facts: StatementFacts, ctx: Ctx, action: Action): void {
  const parent = action.relations.parent!;
  if (facts.isNew(parent)) return;
  const mode = lockOn(action, 'parent');
  // does ATTACH PARTITION lock the parent more weakly on this version? only then is the recipe worth it
  const attachParentMode = lockOn(
    { ...action, op: 'attach-partition', facts: operationFacts('attach-partition', facts.pgVersion) },
    'parent',
  );
  const recipeHelps = attachParentMode !== mode;
  ctx.report({
    statement: facts,
    location: action.location,
    message: `CREATE TABLE … PARTITION OF ${lockClause(mode, parent.display)}; the new partition is empty so this is quick, but while it waits for the lock every later query on ${parent.display} queues behind it.${defaultPartitionNote(facts)}`,
    help: recipeHelps
      ? `${RECIPE} ATTACH PARTITION only takes ${attachParentMode} on the parent.`
      : 'Before PostgreSQL 12 ATTACH PARTITION locks the parent ACCESS EXCLUSIVE too, so there is no weaker alternative: set a short lock_timeout and retry.',
    lock: { mode, relation: parent.display },
  });
}
