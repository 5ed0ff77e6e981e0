import { names } from '../../analyze/ast.js';
import { constraintsOf, statementOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';

export default defineRule({
  id: 'create-domain-with-constraint',
  equivalents: { squawk: ['ban-create-domain-with-constraint'] },
  // creating the domain locks nothing: the costs come with later changes, which their own rules report
  hazard: 'schema-design',
  verdict: 'safe',
  summary:
    'A domain with CHECK or NOT NULL constraints is cheap to create but costly to use and to change: prefer a plain type with CHECK constraints on the table columns.',
  on: ['CreateDomainStmt'],
  docs: {
    problem: `\`CREATE DOMAIN … CHECK (…)\` (or \`NOT NULL\`) takes no lock on any table, but every later change that
involves the domain does, and the statements do not show it:

- adding a column of the domain to an existing table rewrites the whole table under ACCESS EXCLUSIVE, even with a
  constant DEFAULT, because the domain's constraints are checked for every row (see \`add-column-rewrites-table\`);
- changing the rule means \`ALTER DOMAIN … ADD CONSTRAINT\`, which takes SHARE — blocking writes — on every table
  with a column of the domain and reads each in full; \`VALIDATE CONSTRAINT\` on a domain does the same (see
  \`alter-domain-add-constraint\`);
- a constraint on a domain cannot be dropped and replaced for one table only.

Constraints on table columns have none of these costs: a column of a plain type is added without a rewrite, and a
CHECK is added \`NOT VALID\` and validated under SHARE UPDATE EXCLUSIVE, which lets reads and writes continue.`,
    solution: `Use the base type for the column and put the rule in a CHECK constraint on the table (a domain without
constraints, as a name for the type, is fine):

\`\`\`sql
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  amount numeric(15, 5) NOT NULL CONSTRAINT orders_amount_positive CHECK (amount > 0)
);

-- on an existing table, without blocking it:
SET lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN amount numeric(15, 5);
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount > 0) NOT VALID;
-- in a separate transaction / migration:
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_amount_positive;
\`\`\`

Changing the rule later is then one table at a time: add the new CHECK \`NOT VALID\`, validate it, drop the old one.`,
    tools: {
      prisma:
        'Prisma has no domains; a `CREATE DOMAIN` only appears in hand-edited migration.sql. Keep the field’s plain type in schema.prisma and add the CHECK in the migration SQL (`--create-only`, then edit).',
      drizzle:
        'drizzle-kit does not generate domains. Use the base column type and `check()` in the table’s extra config, which drizzle-kit emits as a table CHECK constraint.',
      knex: 'Domains need `knex.raw()`. Use the base type in `createTable` and add the CHECK with `table.check(…)` (or `knex.raw`).',
      typeorm:
        'TypeORM does not manage domains. Use the base column type and the `@Check()` decorator on the entity, which generates a table CHECK.',
      sequelize:
        'Sequelize does not create domains. Use the base type and add the CHECK with `queryInterface.addConstraint(table, { type: "check", … })`.',
      'node-pg-migrate':
        '`pgm.createDomain()` with `check` / `notNull` creates this. Use the base type in `pgm.createTable()` with a column `check`, or `pgm.addConstraint()`.',
      alembic:
        'SQLAlchemy has `DOMAIN` for PostgreSQL, which creates this. Use the base type and `sa.CheckConstraint(…)` on the table (`op.create_check_constraint` for an existing one).',
      django:
        'Django has no domains (only `RunSQL`). Use the base field type and a `CheckConstraint` in `Meta.constraints`.',
      rails:
        'Rails only creates domains through `execute`. Use the base column type and `add_check_constraint` (with `validate: false` on an existing table).',
    },
  },
  examples: [
    { bad: 'CREATE DOMAIN positive_amount AS numeric(15, 5) CHECK (VALUE > 0);' },
    { title: 'NOT NULL is a domain constraint too', bad: 'CREATE DOMAIN required_email AS text NOT NULL;' },
    {
      title: 'a domain without constraints is only a name for its type',
      ok: 'CREATE DOMAIN email AS text;\nCREATE DOMAIN amount AS character varying;',
    },
    {
      title: 'a CHECK on the table column instead',
      ok: 'CREATE TABLE orders (id bigint, amount numeric(15, 5) CHECK (amount > 0));',
    },
  ],
  check(facts, ctx) {
    const stmt = statementOf(facts, 'CreateDomainStmt');
    if (!stmt) return;
    const constraints = constraintsOf(stmt.constraints).filter(
      (c) => c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_NOTNULL',
    );
    const first = constraints[0];
    if (!first) return;
    const domain = names(stmt.domainname).join('.');
    const kinds = [
      ...new Set(constraints.map((c) => (c.contype === 'CONSTR_CHECK' ? 'CHECK' : 'NOT NULL'))),
    ].join(' and ');
    ctx.report({
      statement: facts,
      location: first.location,
      message: `Domain ${domain} carries ${kinds}: adding a column of it to an existing table will rewrite that table, and changing the rule later will lock every table that uses it against writes while all their rows are read.`,
      help: 'Use the base type for the columns and CHECK constraints on the tables, which can be added NOT VALID and validated without blocking writes.',
    });
  },
});
