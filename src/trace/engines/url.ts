/**
 * The user's own database, from a connection URL. Nothing is committed there unless the user says
 * it is a scratch database (`allowCommit`): the engine is `rollbackOnly`, and it refuses, before
 * sending, any SQL that would commit or run outside a transaction block. The password never leaves
 * this module: not in `name`, not in error messages.
 *
 * It shares the database with the user's traffic: every session sets a lock_timeout and a
 * statement_timeout first, a second session watches each statement (who blocks it; past the limit
 * it cancels it), and an aborted signal cancels the running statement and rolls back.
 */

import pg from 'pg';
import { formatInterval, parseInterval } from '../../config/interval.js';
import { lex } from '../../parse/lexer.js';
import { describeLockWait, LOCK_WAIT_SQL, type LockWait, lockWaitOf } from '../blockers.js';
import { redactUrl, scrubSecrets, toConnectionUri } from '../conninfo.js';
import type { Row, TraceEngine } from '../engine.js';
import { lastRows, observerSession, trackTransactionStatus } from './pg-client.js';

export { connectionSecrets, redactUrl, scrubSecrets } from '../conninfo.js';

/**
 * Ceilings on every session pgkeel opens on the user's database. A trace waiting for a lock queues
 * every later query on that table behind it (even SELECT), so it must give up quickly; and a
 * statement that rewrites a big table holds ACCESS EXCLUSIVE until it ends.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 2_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

export interface UrlEngine extends TraceEngine {
  readonly rollbackOnly: boolean;
}

export interface ConnectUrlOptions {
  /** a scratch database: statements may commit, and those that cannot run in a transaction run */
  allowCommit?: boolean;
  log?: (line: string) => void;
  /**
   * the longest any lock wait may take, in every session pgkeel opens (default 2 s; 0: no ceiling).
   * A migration may set a lower lock_timeout for its statements; a higher one (or 0) is not honoured.
   */
  lockTimeoutMs?: number;
  /** the same for statement_timeout (default 30 s) */
  statementTimeoutMs?: number;
  /**
   * on abort: the running statement is cancelled (pg_cancel_backend from a second session), the
   * transaction rolled back and the sessions closed; every later call rejects
   */
  signal?: AbortSignal;
}

type TimeoutName = 'lock_timeout' | 'statement_timeout';
const TIMEOUTS: readonly TimeoutName[] = ['lock_timeout', 'statement_timeout'];
/** how long after a statement starts the watcher first looks, and then how often */
const WATCH_AFTER_MS = 100;
const WATCH_EVERY_MS = 150;
/** past the ceiling by this much, the watcher cancels the statement itself (a DO block may have lifted the setting) */
const BACKSTOP_MS = 1_000;

/** An interrupted trace (Ctrl-C): not a finding, not a crash. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}

export async function connectUrl(url: string, options: ConnectUrlOptions = {}): Promise<UrlEngine> {
  const rollbackOnly = !options.allowCommit;
  const scrub = (text: string) => scrubSecrets(text, url);
  const connectionString = toConnectionUri(url);
  const shown = redactUrl(isUri(url) ? url : connectionString);
  const ceiling: Record<TimeoutName, number> = {
    lock_timeout: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  };
  const clients = new Set<pg.Client>();
  const open = async (): Promise<pg.Client> => {
    let client: pg.Client;
    try {
      client = new pg.Client({
        connectionString,
        application_name: 'pgkeel trace',
        connectionTimeoutMillis: 15_000,
      });
      client.on('error', (e) => options.log?.(`connection error: ${scrub(e.message)}`));
      await client.connect();
    } catch (e) {
      // a fresh error, without `cause`: the original may carry the URL (TypeError's `input`)
      const err = new Error(`cannot connect to ${shown}: ${scrub(errorText(e))}`);
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string') Object.assign(err, { code });
      throw err;
    }
    clients.add(client);
    // every session: before anything else runs, and at session level so that no ROLLBACK undoes it
    await client.query(ceilingSql(ceiling, false));
    return client;
  };

  const main = await open();
  try {
    return await connected(main);
  } catch (e) {
    // a half-opened engine must not keep sessions on the user's database
    await Promise.all([...clients].map((c) => c.end().catch(() => {})));
    throw e;
  }

  async function connected(main: pg.Client): Promise<UrlEngine> {
    let lost: string | undefined;
    main.on('end', () => {
      lost ??= 'the connection to the database was closed';
    });
    main.on('error', (e) => {
      lost ??= `the connection to the database was lost: ${scrub(e.message)}`;
    });
    const status = trackTransactionStatus(main);
    const info = (
      await main.query<{ num: string; pid: number }>(
        "select current_setting('server_version_num') as num, pg_backend_pid() as pid",
      )
    ).rows[0]!;
    // the role may set lower values than ours: those are the ceiling then
    for (const r of (
      await main.query<{ name: TimeoutName; ms: string }>(
        "SELECT name, setting AS ms FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')",
      )
    ).rows)
      ceiling[r.name] = Number(r.ms);
    /** what the migration set, where it is lower than the ceiling: its own statements run with it */
    let wanted: Partial<Record<TimeoutName, number>> = {};
    /** what the migration set above the ceiling (or 0), for the message when the ceiling fires */
    let refused: Partial<Record<TimeoutName, number>> = {};
    const watch = await open();
    await watch.query('SET default_transaction_read_only = on');

    const guard = (sql: string) => {
      if (!rollbackOnly) return;
      const refusal = refuseUnlessRolledBack(sql, status() !== 'I');
      if (refusal) throw new Error(`not run on ${shown}: ${refusal} (nothing may be committed there)`);
    };

    let interrupted = false;
    /** the statement running on the main session, if any */
    let inflight: Promise<unknown> | undefined;
    /**
     * Runs `sql` on the main session while a second one watches: it remembers what the statement
     * waits for (for the message, should the lock_timeout fire) and cancels it once it is past a
     * ceiling by BACKSTOP_MS — a DO block can lift lock_timeout where no SET of ours reaches.
     */
    const watched = async <T>(run: () => Promise<T>): Promise<T> => {
      if (interrupted) throw new InterruptedError('interrupted');
      if (lost) throw new Error(lost);
      let wait: LockWait | undefined;
      let waitingSince: number | undefined;
      let cancelled: TimeoutName | undefined;
      let done = false;
      const t0 = performance.now();
      const look = async () => {
        if (done || interrupted) return;
        try {
          const row = (await watch.query(LOCK_WAIT_SQL, [info.pid])).rows[0];
          if (done) return;
          const w = lockWaitOf(row);
          if (w) {
            wait = w;
            waitingSince ??= performance.now();
          } else waitingSince = undefined;
          const now = performance.now();
          const lockLimit = ceiling.lock_timeout;
          const statementLimit = ceiling.statement_timeout;
          if (
            !cancelled &&
            lockLimit > 0 &&
            waitingSince !== undefined &&
            now - waitingSince > lockLimit + BACKSTOP_MS
          )
            cancelled = 'lock_timeout';
          else if (!cancelled && statementLimit > 0 && now - t0 > statementLimit + BACKSTOP_MS)
            cancelled = 'statement_timeout';
          // only while it still waits / still runs the same statement: never the next one by mistake
          if (cancelled === 'lock_timeout' && !done)
            await watch.query(
              'SELECT pg_cancel_backend($1) WHERE EXISTS (SELECT FROM pg_locks WHERE pid = $1 AND NOT granted)',
              [info.pid],
            );
          else if (cancelled === 'statement_timeout' && !done)
            await watch.query(
              `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND clock_timestamp() - query_start > make_interval(secs => $2)`,
              [info.pid, statementLimit / 1000],
            );
        } catch {
          // the watcher only adds detail; the statement's own outcome is what counts
        }
        if (!done) timer = setTimeout(look, WATCH_EVERY_MS);
      };
      let timer: NodeJS.Timeout | undefined = setTimeout(look, WATCH_AFTER_MS);
      const running = run();
      inflight = running.catch(() => {});
      try {
        return await running;
      } catch (e) {
        throw explain(e, { wait, cancelled, ms: performance.now() - t0 });
      } finally {
        done = true;
        inflight = undefined;
        clearTimeout(timer);
      }
    };

    /** The server's error, with what pgkeel knows about why: the blocker, whose ceiling fired. */
    const explain = (
      e: unknown,
      how: { wait: LockWait | undefined; cancelled: TimeoutName | undefined; ms: number },
    ): Error => {
      if (interrupted) return new InterruptedError('interrupted');
      const code = (e as { code?: unknown }).code;
      let message = errorText(e);
      const lockTimeout = code === '55P03' && /lock timeout/i.test(message);
      const statementTimeout = code === '57014' && /statement timeout/i.test(message);
      if (lockTimeout || how.cancelled === 'lock_timeout') {
        const waited = `waited ${formatSeconds(how.ms)} for ${how.wait ? describeLockWait(how.wait) : 'a lock'}`;
        message = `${message}: ${waited}${ceilingNote('lock_timeout', '--lock-timeout')}`;
      } else if (statementTimeout || how.cancelled === 'statement_timeout') {
        message = `${message} after ${formatSeconds(how.ms)}${ceilingNote('statement_timeout', '--statement-timeout')}`;
      }
      if (lost && !message.includes(lost)) message = `${message} (${lost})`;
      const err = new Error(scrub(message));
      if (typeof code === 'string') Object.assign(err, { code });
      return err;
    };
    const ceilingNote = (name: TimeoutName, flag: string): string => {
      if (wanted[name] !== undefined) return ` (the migration's ${name}, ${formatInterval(wanted[name])})`;
      const asked = refused[name];
      const also =
        asked === undefined
          ? ''
          : `; the migration asks for ${asked === 0 ? 'none' : formatInterval(asked)}, which pgkeel does not allow`;
      return ` (pgkeel's ${name} on this database, ${formatInterval(ceiling[name])}: ${flag}${also})`;
    };

    /**
     * A statement of the migration: the timeouts it set earlier (when lower than ours) apply to it;
     * after it, ours apply again, so that pgkeel's own queries are not cancelled by a migration's
     * `SET statement_timeout = '1ms'`, and what it set is remembered for its next statement.
     */
    const execute = async (sql: string): Promise<Row[]> => {
      guard(sql);
      return watched(async () => {
        const local = status() !== 'I';
        const apply = TIMEOUTS.filter((n) => wanted[n] !== undefined && wanted[n] !== ceiling[n]);
        // an aborted transaction takes nothing but its ROLLBACK
        if (apply.length > 0 && status() !== 'E')
          await main.query(
            `SELECT ${apply.map((n) => `set_config('${n}', '${wanted[n]}', ${local})`).join(', ')}`,
          );
        const rows = await lastRows(main, sql);
        if (status() === 'E') return rows;
        // what the statement left: kept for the next one where lower than ours; ours meanwhile. Read
        // with current_setting, which is quick enough for a migration's `statement_timeout = '1ms'`;
        // the SETs after it (one message, a timer per statement) lift that for pgkeel's own queries
        const set = status() === 'I' ? 'SET' : 'SET LOCAL';
        const results = (await main.query(
          `SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout; ${TIMEOUTS.map((n) => `${set} ${n} = ${ceiling[n]}`).join('; ')}`,
        )) as unknown as pg.QueryResult[];
        const left = (results[0]?.rows[0] ?? {}) as Record<TimeoutName, string>;
        const now = TIMEOUTS.map((name) => ({ name, ms: safeInterval(left[name]) }));
        // a higher value asked for earlier in the transaction still counts (for the message)
        const stillRefused = status() === 'I' ? {} : refused;
        wanted = {};
        refused = {};
        for (const r of now) {
          const ms = r.ms;
          if (ms === undefined) continue;
          if (ms > 0 && (ceiling[r.name] === 0 || ms < ceiling[r.name])) wanted[r.name] = ms;
          else if (ms !== ceiling[r.name] && ceiling[r.name] > 0) refused[r.name] = ms;
          else if (stillRefused[r.name] !== undefined) refused[r.name] = stillRefused[r.name];
        }
        return rows;
      });
    };

    const interrupt = async () => {
      interrupted = true;
      const running = inflight;
      if (running) {
        await bounded(watch.query('SELECT pg_cancel_backend($1)', [info.pid]), 2_000);
        await bounded(running, 3_000);
      }
      if (!lost && status() !== 'I') await bounded(main.query('ROLLBACK'), 2_000);
      await Promise.all([...clients].map((c) => bounded(c.end(), 2_000)));
    };
    let interrupting: Promise<void> | undefined;
    const onAbort = () => {
      interrupting ??= interrupt();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    let closing: Promise<void> | undefined;

    return {
      name: shown,
      majorVersion: Math.floor(Number(info.num) / 10000),
      canObserveConcurrently: true,
      rollbackOnly,
      query: async (sql): Promise<Row[]> => {
        guard(sql);
        return watched(() => lastRows(main, sql));
      },
      exec: async (sql) => {
        // a session the server ended has nothing left to roll back
        if (lost && /^\s*(rollback|abort)\s*;?\s*$/i.test(sql)) return;
        await execute(sql);
      },
      backendPid: async () => info.pid,
      newSession: async ({ inTransaction }) => {
        // as the tracer would reset a session; then nothing the migration set applies any more
        const reset = [
          'SET SESSION AUTHORIZATION DEFAULT',
          'RESET ROLE',
          inTransaction ? 'RESET ALL' : 'DISCARD ALL',
        ];
        for (const sql of reset) await execute(sql);
        wanted = {};
        refused = {};
      },
      openObserver: async () => {
        if (interrupted) throw new InterruptedError('interrupted');
        const client = await open();
        // it only ever reads pg_locks and the statistics views: make a slip harmless
        await client.query('SET default_transaction_read_only = on');
        return observerSession(client, clients);
      },
      close: () => {
        closing ??= (async () => {
          options.signal?.removeEventListener('abort', onAbort);
          if (interrupting) return interrupting;
          // ending the session would roll back too; saying so is clearer in the server's log
          if (!lost && status() !== 'I') await main.query('ROLLBACK').catch(() => {});
          await Promise.all([...clients].map((c) => c.end().catch(() => {})));
        })();
        return closing;
      },
    };
  }
}

/** `SET` of the ceilings, keeping a lower value the role or session has (0 in `ceiling`: leave it). */
function ceilingSql(ceiling: Record<TimeoutName, number>, local: boolean): string {
  const values = TIMEOUTS.map((n) => `('${n}', ${ceiling[n]})`).join(', ');
  return `SELECT set_config(s.name, CASE WHEN v.ms = 0 OR (s.setting::bigint > 0 AND s.setting::bigint <= v.ms) THEN s.setting ELSE v.ms::text END, ${local})
    FROM pg_settings s JOIN (VALUES ${values}) AS v(name, ms) ON v.name = s.name`;
}

function safeInterval(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseInterval(value);
  } catch {
    return undefined;
  }
}

function isUri(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s.trim());
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${Math.round(s * 10) / 10} s` : `${Math.round(s)} s`;
}

/** Waits for `p` at most `ms`; never rejects (cleanup after an interruption must not hang or throw). */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  clearTimeout(timer);
}

function errorText(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length) return e.errors.map(errorText).join('; ');
  return e instanceof Error ? e.message || String(e) : String(e);
}

export type StatementKind = 'begin' | 'commit' | 'rollback' | 'other';

/** The transaction-control role of each statement of a script. */
export function transactionKinds(sql: string): StatementKind[] {
  const lexed = lex(sql);
  // comments may sit between the keywords (`ROLLBACK /* … */ TO s`): blank them out
  const chars = lexed.sql.split('');
  for (const c of lexed.comments) chars.fill(' ', c.start, c.end);
  const text = chars.join('');
  return lexed.pieces.map((p) => {
    const words = text
      .slice(p.start, p.end)
      .trim()
      .split(/\s+/, 3)
      .map((w) => w.toLowerCase());
    const [first, second] = words;
    switch (first) {
      case 'begin':
        return 'begin';
      case 'start':
        return second === 'transaction' ? 'begin' : 'other';
      case 'commit':
      case 'end':
        return 'commit';
      case 'prepare':
        // PREPARE TRANSACTION hands the transaction to a later COMMIT PREPARED; PREPARE name AS … is
        // a prepared statement
        return second === 'transaction' ? 'commit' : 'other';
      case 'rollback':
      case 'abort':
        // ROLLBACK TO SAVEPOINT stays in the block; ROLLBACK AND CHAIN opens a new one; ROLLBACK
        // PREPARED cannot run in a block at all
        if (second === 'to' || second === 'prepared' || words.includes('and')) return 'other';
        return 'rollback';
      default:
        return 'other';
    }
  });
}

/**
 * Why a script must not run on a rollback-only database, or undefined when it may: no statement may
 * commit, and every statement must run inside a transaction block (one open already, or opened by
 * the script), so that the final ROLLBACK undoes it. Postgres has no implicit commits; DO blocks and
 * procedures cannot COMMIT inside a transaction block. Effects that ignore transactions (sequence
 * increments, dblink, files) are found before a statement runs, in side-effects.ts.
 */
export function refuseUnlessRolledBack(sql: string, inTransaction: boolean): string | undefined {
  let inBlock = inTransaction;
  for (const kind of transactionKinds(sql)) {
    if (kind === 'begin') inBlock = true;
    else if (kind === 'commit') return 'the script commits';
    else if (kind === 'rollback') inBlock = false;
    else if (!inBlock) return 'a statement would run outside a transaction block, and commit';
  }
  return undefined;
}
