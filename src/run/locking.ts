/**
 * Waiting with a budget: the lock_timeout retry schedule of each step, the one-runner-at-a-time
 * advisory lock, and who blocks a waiting step.
 */

import type pg from 'pg';

/** How a step that waits for a lock on an existing table retries (GitLab's with_lock_retries idea). */
export interface RetrySchedule {
  /** attempts in all (at least 1) */
  attempts: number;
  /** lock_timeout of the first attempt, in ms; it doubles per attempt up to `maxLockTimeoutMs` */
  lockTimeoutMs: number;
  maxLockTimeoutMs: number;
  /** pause after the first failed attempt, in ms; it doubles per attempt up to `maxSleepMs`, plus up to 50 % jitter */
  sleepMs: number;
  maxSleepMs: number;
}

/**
 * Brief locks: short waits, so that the queue behind a waiting ALTER never grows for long, repeated
 * with growing pauses so that a busy moment passes: 10 attempts wait at most 17.5 s for locks in all,
 * with about 45 s of pauses between them.
 */
export const BRIEF_SCHEDULE: RetrySchedule = {
  attempts: 10,
  lockTimeoutMs: 500,
  maxLockTimeoutMs: 2_000,
  sleepMs: 200,
  maxSleepMs: 10_000,
};

/**
 * Long steps (concurrent builds, VALIDATE, backfills) block no traffic while they wait, but wait for
 * every older transaction: a long timeout, few attempts.
 */
export const LONG_SCHEDULE: RetrySchedule = {
  attempts: 3,
  lockTimeoutMs: 60_000,
  maxLockTimeoutMs: 60_000,
  sleepMs: 1_000,
  maxSleepMs: 10_000,
};

export function lockTimeoutFor(schedule: RetrySchedule, attempt: number): number {
  return Math.min(schedule.maxLockTimeoutMs, schedule.lockTimeoutMs * 2 ** attempt);
}

/** The pause after failed attempt `attempt` (0-based), with jitter so that runners do not retry in step. */
export function sleepFor(
  schedule: RetrySchedule,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(schedule.maxSleepMs, schedule.sleepMs * 2 ** attempt);
  return Math.round(base * (1 + random() * 0.5));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Postgres' error for a lock_timeout (55P03 lock_not_available). */
export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: string })?.code === '55P03';
}

/** The key of the session-level advisory lock every `pgkeel run` takes (any constant will do). */
export const RUN_LOCK_KEY = 7_204_655_133_917n;

/**
 * Takes the runner's advisory lock: session-level (a transaction-level lock held across CREATE
 * INDEX CONCURRENTLY deadlocks with it), polled with `pg_try_advisory_lock` and backoff — never a
 * blocking wait — for at most `waitMs`. A crashed runner's lock goes with its session.
 */
export async function acquireRunLock(client: pg.Client, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const r = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [RUN_LOCK_KEY.toString()]);
    if (r.rows[0]?.ok) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(left, 100 * 2 ** Math.min(attempt, 6)));
  }
}

export async function releaseRunLock(client: pg.Client): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1::bigint)', [RUN_LOCK_KEY.toString()]);
}

/** A session that blocks a waiting step. */
export interface Blocker {
  pid: number;
  state: string | null;
  /** the start of its query, secrets not included (it is the application's SQL) */
  query: string;
  /** seconds since its transaction began */
  transactionAge: number | null;
}

/**
 * Watches, from a second session, who blocks `pid` while a step runs: polled every `everyMs` until
 * stopped. Returns the last non-empty sample (the sessions the step was waiting for). Pass the
 * step's lock_timeout: a wait is sampled before it ends, however short it is.
 */
export function watchBlockers(
  monitor: pg.Client,
  pid: number,
  lockTimeoutMs: number,
  /** give up the attempt (cancel the step) once this many sessions queue behind it (`--max-blocked`) */
  maxBlocked?: number,
): { stop: () => Promise<Blocker[]>; gaveUp: () => number | undefined } {
  let queued: number | undefined;
  const everyMs = Math.max(10, Math.min(200, Math.floor(lockTimeoutMs / 2)));
  let last: Blocker[] = [];
  let running = true;
  // the pause between samples ends at once when the step ends: a step costs no idle wait
  let wake: () => void = () => {};
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    // the first sample after one pause: a step that gets its locks at once is never sampled
    await pause();
    while (running) {
      try {
        const r = await monitor.query(
          `SELECT a.pid, a.state, left(a.query, 200) AS query,
                  extract(epoch FROM now() - a.xact_start)::float8 AS age
             FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1))`,
          [pid],
        );
        if (maxBlocked !== undefined && r.rows.length > 0) {
          // the sessions waiting behind this one: the queue its wait makes
          const behind = await monitor.query(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))',
            [pid],
          );
          if (behind.rows[0].n > maxBlocked) {
            queued = behind.rows[0].n;
            await monitor.query('SELECT pg_cancel_backend($1)', [pid]);
          }
        }
        if (r.rows.length > 0)
          last = r.rows.map((row) => ({
            pid: row.pid,
            state: row.state,
            query: row.query,
            transactionAge: row.age === null ? null : Math.round(row.age * 10) / 10,
          }));
      } catch {
        // the monitor is best effort: the step's own outcome decides
        return;
      }
      await pause();
    }
  })();
  return {
    stop: async () => {
      running = false;
      wake();
      await loop;
      return last;
    },
    gaveUp: () => queued,
  };
}
