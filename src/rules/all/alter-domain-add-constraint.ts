import { names } from '../../analyze/ast.js';
import { statementOf } from '../../analyze/nodes.js';
import { blockSummary } from '../../catalog/locks.js';
import type { OperationId } from '../../catalog/operations.js';
import { defineRule, lockOn, replaceStatement } from '../define.js';

/** ALTER DOMAIN operations that read every stored value of the domain under SHARE locks. */
const CHECKING: OperationId[] = [
  'alter-domain-add-check',
  'alter-domain-set-not-null',
  'alter-domain-add-not-null',
  'alter-domain-validate-constraint',
];

export default defineRule({
  id: 'alter-domain-add-constraint',
  equivalents: { squawk: ['ban-alter-domain-with-add-constraint'] },
  hazard: 'blocks-traffic',
  verdict: 'alternative',
  fixSafety: {
    level: 'unsafe',
    why: 'the fix adds the domain constraint NOT VALID and leaves VALIDATE CONSTRAINT to a later migration: until then stored values are not checked.',
  },
  summary:
    'A new constraint on an existing domain is checked against every column of that domain, in every table, while writes to those tables wait.',
  on: ['AlterDomainStmt'],
  docs: {
    problem: `\`ALTER DOMAIN … ADD CONSTRAINT … CHECK (…)\`, \`ALTER DOMAIN … SET NOT NULL\` (and, since PG 17,
\`ADD CONSTRAINT … NOT NULL\`) prove the new rule for every value already stored. Postgres finds every table with a
column of the domain — or of a domain derived from it, and materialized views too — takes a SHARE lock on each and
reads it in full. SHARE lets reads through but blocks INSERT, UPDATE and DELETE, so writes to all those tables wait
for the whole scan, and everything queued behind them waits too. The statement does not name the tables: a
one-line change to a type can lock the busiest tables of the database.

Splitting it does not help as much as it does for tables: \`ALTER DOMAIN … VALIDATE CONSTRAINT\` takes the same
SHARE locks and does the same scan (unlike \`ALTER TABLE … VALIDATE CONSTRAINT\`, which lets writes through). This
rule reports it too.`,
    solution: `Prefer constraints on the table columns. A table CHECK can be added \`NOT VALID\` (a brief lock) and
validated later under SHARE UPDATE EXCLUSIVE, which lets reads and writes continue:

\`\`\`sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
-- in a separate transaction / migration:
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
\`\`\`

Repeat for each table that has a column of the domain. If the rule must live on the domain, add it \`NOT VALID\`:
no table is locked or read, and every value written from then on is checked. Validating the old values later still
blocks writes for the scan, so do it at a quiet time with a \`statement_timeout\`, or leave the constraint
NOT VALID once the table CHECKs have proven the data:

\`\`\`sql
ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0) NOT VALID;
\`\`\`

NOT NULL on a domain cannot be NOT VALID; \`CHECK (VALUE IS NOT NULL) NOT VALID\` comes closest.`,
    tools: {
      prisma:
        'Prisma does not model domains: the ALTER DOMAIN is hand-written in migration.sql. Write the table CHECKs there instead (`--create-only`, then edit), the VALIDATE in a second migration.',
      drizzle:
        'drizzle-kit does not generate ALTER DOMAIN; it comes from a custom migration (`drizzle-kit generate --custom`). Put the table CHECKs `NOT VALID` there and the VALIDATE in the next custom migration, applied in a later `drizzle-kit migrate` run: one run applies all pending migrations in one transaction.',
      knex: 'Domains need `knex.raw()`. Use `knex.raw("ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID")`, and the VALIDATE in the next migration with `config = { transaction: false }` exported: `migrate:latest` runs all pending migrations in one transaction.',
      typeorm:
        "TypeORM has no domain support: the statement is in a migration’s `queryRunner.query()`. Add the table CHECKs NOT VALID there, and validate in a later migration run with `migrationsTransactionMode: 'each'` (the default `all` puts every pending migration in one transaction).",
      sequelize:
        '`queryInterface.sequelize.query()` runs the ALTER DOMAIN; run the table CHECKs NOT VALID that way instead, and the VALIDATE in a later migration.',
      'node-pg-migrate':
        '`pgm.alterDomain(name, { check })` adds a validating constraint. Use `pgm.sql("ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID")` for each table and `pgm.sql("ALTER TABLE … VALIDATE CONSTRAINT …")` in the next migration, which calls `pgm.noTransaction()` (all pending migrations share one transaction by default); or `pgm.sql()` with NOT VALID on the domain.',
      alembic:
        '`op.execute("ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID")`, and `op.execute("ALTER TABLE … VALIDATE CONSTRAINT …")` in the next revision, with `transaction_per_migration=True` in `context.configure()` (by default all pending revisions share one transaction).',
      django:
        'Domains only exist through `RunSQL`. Use `RunSQL` with `ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID`, and a second migration with the VALIDATE (a `CheckConstraint` in `Meta.constraints` validates at once).',
      rails:
        '`execute` runs the ALTER DOMAIN. Use `add_check_constraint :orders, "amount > 0", name: "…", validate: false` and `validate_check_constraint` in the next migration.',
    },
  },
  examples: [
    {
      bad: 'ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);',
      fixed: 'ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0) NOT VALID;',
    },
    {
      title: 'SET NOT NULL checks every stored value too',
      bad: 'ALTER DOMAIN positive_amount SET NOT NULL;',
    },
    {
      title: 'so does ADD CONSTRAINT … NOT NULL',
      bad: 'ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_not_null NOT NULL;',
      pg: { min: 17 },
    },
    {
      title: 'VALIDATE takes the same SHARE locks for the scan',
      bad: 'ALTER DOMAIN positive_amount VALIDATE CONSTRAINT positive_amount_check;',
    },
    {
      title: 'the tables using the domain are named when the migration declares them',
      bad: 'ALTER TABLE orders ADD COLUMN total positive_amount;\nALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);',
      fixed:
        'ALTER TABLE orders ADD COLUMN total positive_amount;\nALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0) NOT VALID;',
    },
    { ok: 'ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0) NOT VALID;' },
    {
      title: 'a domain created in the same migration and used only by a new table',
      ok: 'CREATE DOMAIN positive_amount AS numeric;\nCREATE TABLE orders (id bigint, amount positive_amount);\nALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);',
    },
    {
      title: 'a new domain that an existing table already uses',
      bad: 'CREATE DOMAIN positive_amount AS numeric;\nALTER TABLE orders ADD COLUMN total positive_amount;\nALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);',
      fixed:
        'CREATE DOMAIN positive_amount AS numeric;\nALTER TABLE orders ADD COLUMN total positive_amount;\nALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0) NOT VALID;',
    },
    {
      title: 'a CHECK on the table column instead',
      ok: 'ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;',
    },
    { title: 'dropping a constraint checks nothing', ok: 'ALTER DOMAIN positive_amount DROP NOT NULL;' },
  ],
  check(facts, ctx) {
    const stmt = statementOf(facts, 'AlterDomainStmt');
    if (!stmt) return;
    const domainNames = names(stmt.typeName);
    const actions = facts.actions.filter((a) => CHECKING.includes(a.op));
    const first = actions[0];
    if (!first) return;
    const domain = domainNames.join('.');
    const tables = actions.flatMap((a) => (a.relations.table ? [a.relations.table] : []));
    const existing = tables.filter((t) => !t.set && !facts.isNew(t));
    // tables the analyzer could not list: the set of every table with a column of the domain
    const unknown = tables.some((t) => t.set);
    // every table using it is known (a domain created in this migration is used only where the migration
    // says) and none existed before: nothing is locked that clients use
    if (!unknown && existing.length === 0) return;
    const mode = lockOn(first);
    const listed = existing.map((t) => t.display).join(', ');
    const where = unknown
      ? existing.length > 0
        ? `${listed} and any other table with a column of ${domain}`
        : `every table with a column of ${domain} (none is declared in this migration; \`pgkeel trace\` reads them from the database)`
      : listed;
    const what =
      first.op === 'alter-domain-validate-constraint'
        ? `Validating constraint "${first.constraint}" of domain ${domain}`
        : first.op === 'alter-domain-add-check'
          ? `Adding CHECK constraint ${first.constraint ? `"${first.constraint}" ` : ''}to domain ${domain}`
          : `Making domain ${domain} NOT NULL`;
    const help =
      first.op === 'alter-domain-add-check'
        ? 'Add CHECK constraints to the table columns NOT VALID and VALIDATE them in a later transaction (SHARE UPDATE EXCLUSIVE lets writes through), or add this one NOT VALID.'
        : first.op === 'alter-domain-validate-constraint'
          ? 'VALIDATE on a domain blocks writes for the whole scan, unlike on a table: validate CHECKs on the table columns instead, or run it at a quiet time with a statement_timeout.'
          : 'NOT NULL on a domain cannot be NOT VALID: add CHECK (col IS NOT NULL) NOT VALID on the table columns and VALIDATE them later, or CHECK (VALUE IS NOT NULL) NOT VALID on the domain.';
    const fix =
      first.op === 'alter-domain-add-check'
        ? replaceStatement(facts, 'Add the constraint NOT VALID', `${facts.statement.text} NOT VALID`)
        : undefined;
    ctx.report({
      statement: facts,
      location: first.location,
      message: `${what} reads every value of it stored in ${where}, holding ${mode} on ${existing.length === 1 && !unknown ? 'that table' : 'each'} for the whole scan, which ${blockSummary(mode)}.`,
      help,
      lock: { mode, relation: existing.length > 0 ? listed : `tables using ${domain}` },
      fix,
    });
  },
});
