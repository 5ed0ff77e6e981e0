import type { RunnerName } from '../config/types.js';

/**
 * How a migration tool executes a file. Decides whether statements run inside a transaction the
 * file never spells out (CONCURRENTLY then fails; a table created earlier is still private).
 */
export interface RunnerModel {
  name: RunnerName;
  /** `file`: the whole file runs in one transaction; `none`: statements autocommit unless the file says BEGIN */
  transaction: 'none' | 'file';
  /** how a user takes one migration out of the runner's transaction (for messages) */
  optOut?: string;
  /**
   * the file is sent as one multi-statement query: its implicit transaction exists only when the
   * file has more than one statement, and restarts after a COMMIT in the file. Other `file` runners
   * wrap the file in BEGIN … COMMIT, so after a COMMIT of its own the file runs in autocommit.
   */
  multiStatement?: boolean;
  /**
   * each file runs in a session of its own (psql is started per file), so what one file SETs does
   * not reach the next; otherwise the tool applies the pending migrations over one connection
   */
  sessionPerFile?: boolean;
}

const RUNNERS: Record<RunnerName, RunnerModel> = {
  psql: { name: 'psql', transaction: 'none', sessionPerFile: true },
  'transaction-per-file': {
    name: 'transaction-per-file',
    transaction: 'file',
    optOut: 'run this statement from a migration that is not wrapped in a transaction',
  },
  // Prisma sends the file as one multi-statement query, which Postgres runs as one implicit transaction.
  prisma: {
    name: 'prisma',
    transaction: 'file',
    optOut:
      'put this statement alone in its own migration.sql (Prisma sends a one-statement file without a transaction block), or run it with `prisma db execute` outside `migrate deploy`',
    multiStatement: true,
  },
  drizzle: {
    name: 'drizzle',
    transaction: 'file',
    optOut:
      'drizzle-kit migrate wraps migrations in a transaction: apply this statement with a separate script',
  },
  knex: {
    name: 'knex',
    transaction: 'file',
    optOut: 'export `config = { transaction: false }` from the migration',
  },
  typeorm: {
    name: 'typeorm',
    transaction: 'file',
    optOut: 'set `transaction = false` on the migration class (and run with `--transaction each`)',
  },
  'node-pg-migrate': {
    name: 'node-pg-migrate',
    transaction: 'file',
    optOut: 'call `pgm.noTransaction()` in the migration',
  },
  sequelize: {
    name: 'sequelize',
    transaction: 'none',
  },
  flyway: {
    name: 'flyway',
    transaction: 'file',
    optOut: 'add a script config file with `executeInTransaction=false` next to the migration',
  },
  // golang-migrate sends the file as one multi-statement query: an implicit transaction.
  'golang-migrate': {
    name: 'golang-migrate',
    transaction: 'file',
    optOut:
      'put this statement in its own migration file (a single statement runs without a transaction block)',
    multiStatement: true,
  },
  goose: {
    name: 'goose',
    transaction: 'file',
    optOut: 'add `-- +goose NO TRANSACTION` at the top of the file',
  },
  dbmate: { name: 'dbmate', transaction: 'file', optOut: 'write `-- migrate:up transaction:false`' },
  // sqitch runs deploy scripts through psql; the scripts carry their own BEGIN/COMMIT.
  sqitch: { name: 'sqitch', transaction: 'none', sessionPerFile: true },
  alembic: {
    name: 'alembic',
    transaction: 'file',
    optOut: 'wrap the operation in `with op.get_context().autocommit_block():`',
  },
  django: { name: 'django', transaction: 'file', optOut: 'set `atomic = False` on the Migration class' },
  rails: { name: 'rails', transaction: 'file', optOut: 'call `disable_ddl_transaction!` in the migration' },
};

export function runnerModel(name: RunnerName): RunnerModel {
  return RUNNERS[name];
}
