/**
 * `pgkeel run`'s history, in its own schema: one row per migration (its checksum and status) and
 * one per step (the hash of its SQL, chained with the steps before it, its status, attempts and
 * error). A transactional step's row is written in its own transaction, so it commits with it or
 * not at all; a step that runs outside a transaction block is marked `running` before and `done`
 * after, so a crash between the two is seen and reconciled on the next run.
 */

import { createHash } from 'node:crypto';
import type pg from 'pg';

export const HISTORY_SCHEMA = 'pgkeel';

export type MigrationStatus = 'running' | 'applied' | 'failed';
export type StepStatus = 'running' | 'done' | 'failed';

export interface AppliedMigration {
  name: string;
  checksum: string;
  status: MigrationStatus;
  error: string | null;
  finishedAt: Date | null;
}

export interface RecordedStep {
  unit: number;
  step: number;
  chain: string;
  status: StepStatus;
  /** a batched backfill: the last key done */
  progress: string | null;
}

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** Each step's hash chained with those before it: a resumed migration must have the same prefix. */
export function chainHashes(steps: readonly string[]): string[] {
  let previous = '';
  return steps.map((sql) => {
    previous = sha256(`${previous}\n${sha256(sql)}`);
    return previous;
  });
}

/** Creates the history tables when missing (the only objects `run` makes besides the migrations'). */
export async function ensureHistory(client: pg.Client): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error text
  )`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.steps (
    migration text NOT NULL,
    unit int NOT NULL,
    step int NOT NULL,
    chain text NOT NULL,
    status text NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error text,
    PRIMARY KEY (migration, unit, step)
  )`);
  // how far a batched backfill got (the last key of its last committed batch)
  await client.query(`ALTER TABLE ${HISTORY_SCHEMA}.steps ADD COLUMN IF NOT EXISTS progress text`);
}

/** The history, or nothing when it was never created (a dry run never creates it). */
export async function readHistory(
  client: pg.Client,
): Promise<{ migrations: Map<string, AppliedMigration>; steps: Map<string, RecordedStep[]> }> {
  const migrations = new Map<string, AppliedMigration>();
  const steps = new Map<string, RecordedStep[]>();
  const exists = await client.query(`SELECT to_regclass('${HISTORY_SCHEMA}.steps') IS NOT NULL AS ok`);
  if (!exists.rows[0]?.ok) return { migrations, steps };
  const m = await client.query(
    `SELECT name, checksum, status, error, finished_at FROM ${HISTORY_SCHEMA}.migrations`,
  );
  for (const r of m.rows)
    migrations.set(r.name, {
      name: r.name,
      checksum: r.checksum,
      status: r.status,
      error: r.error,
      finishedAt: r.finished_at,
    });
  const s = await client.query(
    `SELECT migration, unit, step, chain, status, progress FROM ${HISTORY_SCHEMA}.steps ORDER BY migration, unit, step`,
  );
  for (const r of s.rows) {
    const list = steps.get(r.migration) ?? [];
    list.push({ unit: r.unit, step: r.step, chain: r.chain, status: r.status, progress: r.progress ?? null });
    steps.set(r.migration, list);
  }
  return { migrations, steps };
}

export async function startMigration(client: pg.Client, name: string, checksum: string): Promise<void> {
  await client.query(
    `INSERT INTO ${HISTORY_SCHEMA}.migrations (name, checksum, status) VALUES ($1, $2, 'running')
     ON CONFLICT (name) DO UPDATE SET checksum = $2, status = 'running', error = NULL, finished_at = NULL`,
    [name, checksum],
  );
}

export async function finishMigration(
  client: pg.Client,
  name: string,
  status: 'applied' | 'failed',
  error?: string,
): Promise<void> {
  await client.query(
    `UPDATE ${HISTORY_SCHEMA}.migrations SET status = $2, error = $3, finished_at = now() WHERE name = $1`,
    [name, status, error ?? null],
  );
}

/** Records a step's status (upsert): `done` inside the step's own transaction when it has one. */
export async function recordStep(
  client: pg.Client,
  row: {
    migration: string;
    unit: number;
    step: number;
    chain: string;
    status: StepStatus;
    attempts: number;
    error?: string;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO ${HISTORY_SCHEMA}.steps (migration, unit, step, chain, status, attempts, error, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $5 = 'running' THEN NULL ELSE now() END)
     ON CONFLICT (migration, unit, step) DO UPDATE
       SET chain = $4, status = $5, attempts = $6, error = $7,
           finished_at = CASE WHEN $5 = 'running' THEN NULL ELSE now() END`,
    [row.migration, row.unit, row.step, row.chain, row.status, row.attempts, row.error ?? null],
  );
}
