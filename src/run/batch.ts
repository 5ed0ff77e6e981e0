/**
 * Batched backfills: an UPDATE or DELETE marked `-- pgkeel:batch` (or flagged by
 * unbatched-data-migration, with `--batch-unbatched`) runs keyset-paginated on the table's primary
 * key over the rows present when it starts, each batch its own short transaction that also records
 * how far it got: a rerun continues after the last committed batch. The batch size adapts toward a
 * target duration, with a pause between batches so that replicas and vacuum keep up.
 */

import type pg from 'pg';
import { quoteIdent } from '../analyze/ast.js';
import { asNode } from '../analyze/nodes.js';
import { openSource } from '../parse/parse.js';
import { withBatchCondition } from '../rules/recipes.js';
import { HISTORY_SCHEMA } from './history.js';

export interface BatchSettings {
  /** rows of the first batch */
  size: number;
  /** the duration each batch aims for, in ms */
  targetMs: number;
  /** the pause after each batch, in ms */
  pauseMs: number;
}

export const DEFAULT_BATCH: BatchSettings = { size: 1_000, targetMs: 200, pauseMs: 50 };

/** `-- pgkeel:batch size=500 pause=100ms` before a statement: its settings, or undefined when absent. */
export function batchDirective(comments: string | undefined): BatchSettings | undefined {
  const m = /--\s*pgkeel:batch\b([^\n]*)/.exec(comments ?? '');
  if (!m) return undefined;
  const settings = { ...DEFAULT_BATCH };
  const size = /\bsize=(\d+)/.exec(m[1]!);
  const pause = /\bpause=(\d+)ms\b/.exec(m[1]!);
  if (size) settings.size = Number(size[1]);
  if (pause) settings.pauseMs = Number(pause[1]);
  return settings;
}

/** Where a batch's key range goes in the statement (a placeholder replaced by the range). */
const PLACEHOLDER = 'pgkeel_batch_range';

export interface BatchTarget {
  /** the table as the statement names it */
  table: string;
  /** the statement with PLACEHOLDER where the key range goes, ANDed with its own WHERE */
  template: string;
}

/**
 * The statement as a template for batches, or why it cannot be batched (FROM, USING, RETURNING,
 * WITH: which rows a batch touches would not be the rows of its key range alone).
 */
export function batchTarget(sql: string): BatchTarget | { error: string } {
  const item = [...openSource(sql).items()][0];
  if (item?.type !== 'statement') return { error: 'it does not parse' };
  const relation = (asNode(item.node, 'UpdateStmt') ?? asNode(item.node, 'DeleteStmt'))?.relation;
  if (!relation?.relname) return { error: 'only an UPDATE or DELETE of one table is batched' };
  const template = withBatchCondition(item.node, PLACEHOLDER);
  if (!template) return { error: 'an UPDATE or DELETE with WITH, FROM, USING or RETURNING is not batched' };
  const { schemaname, relname } = relation;
  const table = schemaname ? `${quoteIdent(schemaname)}.${quoteIdent(relname)}` : quoteIdent(relname);
  return { table, template };
}

export interface BatchProgress {
  rows: number;
  /** the last key done, as text */
  last: string;
  /** the highest key present when the backfill started */
  end: string;
  batches: number;
}

/**
 * Runs the backfill batch by batch. `resumeFrom`: the last key a committed batch recorded. Each
 * batch: its key range (the next `size` keys after the last one, up to the end), the statement
 * limited to it, the progress row, one commit. `lockTimeoutMs` bounds each batch's lock wait.
 */
export async function runBatches(
  client: pg.Client,
  target: BatchTarget,
  settings: BatchSettings,
  row: { migration: string; unit: number; step: number },
  resumeFrom: string | undefined,
  lockTimeoutMs: number,
  onBatch?: (p: BatchProgress) => void,
): Promise<BatchProgress> {
  const keys = await client.query(
    `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary`,
    [target.table],
  );
  if (keys.rows.length !== 1)
    throw new Error(
      `batching ${target.table} needs a primary key of one column (it has ${keys.rows.length === 0 ? 'none' : 'several'})`,
    );
  const key = quoteIdent(keys.rows[0].name);
  const bounds = await client.query(
    `SELECT min(${key})::text AS lo, max(${key})::text AS hi FROM ${target.table}`,
  );
  const progress: BatchProgress = {
    rows: 0,
    last: resumeFrom ?? '',
    end: bounds.rows[0].hi ?? '',
    batches: 0,
  };
  if (bounds.rows[0].hi === null) return progress;
  let size = settings.size;
  // the first batch starts at the lowest key (inclusive), the others after the last one done
  let after: string | undefined = resumeFrom;
  let lockRetries = 0;
  for (;;) {
    const started = Date.now();
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
      const next = await client.query(
        `SELECT max(${key})::text AS hi FROM (SELECT ${key} FROM ${target.table}
          WHERE ${after === undefined ? `${key} <= $1` : `${key} > $2 AND ${key} <= $1`} ORDER BY ${key} LIMIT ${size}) s`,
        after === undefined ? [progress.end] : [progress.end, after],
      );
      const hi: string | null = next.rows[0].hi;
      if (hi === null) {
        await client.query('COMMIT');
        return progress;
      }
      const range = after === undefined ? `${key} <= $1` : `${key} > $2 AND ${key} <= $1`;
      const done = await client.query(
        target.template.replace(PLACEHOLDER, range),
        after === undefined ? [hi] : [hi, after],
      );
      await client.query(
        `UPDATE ${HISTORY_SCHEMA}.steps SET progress = $4 WHERE migration = $1 AND unit = $2 AND step = $3`,
        [row.migration, row.unit, row.step, hi],
      );
      await client.query('COMMIT');
      after = hi;
      progress.last = hi;
      progress.rows += done.rowCount ?? 0;
      progress.batches++;
      onBatch?.({ ...progress });
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      // a row lock not granted in time: the same batch again after a pause, a few times
      if ((e as { code?: string }).code === '55P03' && lockRetries < 5) {
        lockRetries++;
        size = Math.max(100, Math.round(size / 2));
        await new Promise((r) => setTimeout(r, 200 * 2 ** lockRetries));
        continue;
      }
      throw e;
    }
    lockRetries = 0;
    // toward the target duration, within sane limits
    const took = Math.max(1, Date.now() - started);
    size = Math.max(100, Math.min(50_000, Math.round((size * settings.targetMs) / took)));
    if (settings.pauseMs > 0) await new Promise((r) => setTimeout(r, settings.pauseMs));
  }
}
