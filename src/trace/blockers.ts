/**
 * Who a waiting session waits for: the lock it asked for, and the sessions holding it up
 * (`pg_blocking_pids`), read from a second session while it waits, and said in one line when a
 * lock_timeout fires. Other sessions' SQL is shown with its string literals masked: it may carry
 * data or secrets that do not belong in a CI log.
 */

import { PG_LOCKS_NAME } from '../catalog/locks.js';

export interface BlockingSession {
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  query: string | null;
  /** seconds since its transaction began, null when it is not in one (or not visible to us) */
  transactionSeconds: number | null;
}

export interface LockWait {
  /** `ACCESS EXCLUSIVE`, or the pg_locks name for modes of other lock types */
  mode: string;
  locktype: string;
  /** `schema.name` for a relation lock */
  relation: string | null;
  blockers: BlockingSession[];
}

/** $1: the waiting backend's pid. One row when it waits for a lock. */
export const LOCK_WAIT_SQL = `SELECT l.mode, l.locktype,
  (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = l.relation) AS relation,
  (SELECT coalesce(json_agg(json_build_object(
      'pid', a.pid, 'user', a.usename, 'application', a.application_name, 'state', a.state,
      'query', left(a.query, 500),
      'transactionSeconds', extract(epoch FROM clock_timestamp() - a.xact_start)::float8) ORDER BY a.pid), '[]'::json)
    FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids(l.pid))) AS blockers
FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted LIMIT 1`;

const MODE_NAMES = new Map(Object.entries(PG_LOCKS_NAME).map(([mode, pgName]) => [pgName, mode]));

export function lockWaitOf(row: Record<string, unknown> | undefined): LockWait | undefined {
  if (!row) return undefined;
  const blockers = (typeof row.blockers === 'string' ? JSON.parse(row.blockers) : row.blockers) as
    | BlockingSession[]
    | null;
  return {
    mode: MODE_NAMES.get(String(row.mode)) ?? String(row.mode),
    locktype: String(row.locktype),
    relation: row.relation == null ? null : String(row.relation),
    blockers: blockers ?? [],
  };
}

/** SQL of another session for display: one line, string literals masked, at most `max` characters. */
export function maskQuery(sql: string, max = 80): string {
  const masked = sql
    .replace(/\b[eE]'(?:[^'\\]|\\.|'')*'/g, "'…'")
    .replace(/'(?:[^']|'')*'/g, "'…'")
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, "'…'")
    .replace(/\s+/g, ' ')
    .trim();
  return masked.length > max ? `${masked.slice(0, max - 1)}…` : masked;
}

function seconds(s: number): string {
  return s < 10 ? `${Math.round(s * 10) / 10} s` : `${Math.round(s)} s`;
}

/** `blocked by pid 1234 (app_user, "SELECT …", in transaction for 45 s)` */
export function describeBlockers(blockers: readonly BlockingSession[]): string {
  if (blockers.length === 0) return 'the blocking session had gone when pgkeel looked';
  const shown = blockers.slice(0, 3).map((b) => {
    const parts: string[] = [];
    if (b.user) parts.push(b.user);
    if (b.application) parts.push(`application "${b.application}"`);
    if (b.query) parts.push(`${b.state === 'active' ? 'running' : 'last ran'} "${maskQuery(b.query)}"`);
    if (b.transactionSeconds != null)
      parts.push(
        `${b.state?.startsWith('idle in transaction') ? 'idle ' : ''}in transaction for ${seconds(b.transactionSeconds)}`,
      );
    return `pid ${b.pid}${parts.length ? ` (${parts.join(', ')})` : ''}`;
  });
  const more = blockers.length > 3 ? ` and ${blockers.length - 3} more` : '';
  return `blocked by ${shown.join('; ')}${more}`;
}

/** `ACCESS EXCLUSIVE on public.orders; blocked by pid …` */
export function describeLockWait(wait: LockWait): string {
  const what =
    wait.relation !== null ? `${wait.mode} on ${wait.relation}` : `a ${wait.locktype} lock (${wait.mode})`;
  return `${what}; ${describeBlockers(wait.blockers)}`;
}
