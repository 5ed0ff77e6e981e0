/**
 * The user's own database, from a connection URL. Nothing is committed there unless the user says
 * it is a scratch database (`allowCommit`): the engine is `rollbackOnly`, and it refuses, before
 * sending, any SQL that would commit or run outside a transaction block. The password never leaves
 * this module: not in `name`, not in error messages.
 */

import pg from 'pg';
import { lex } from '../../parse/lexer.js';
import type { Row, TraceEngine } from '../engine.js';
import { lastRows, trackTransactionStatus } from './pg-client.js';

export interface UrlEngine extends TraceEngine {
  readonly rollbackOnly: boolean;
}

export interface ConnectUrlOptions {
  /** a scratch database: statements may commit, and those that cannot run in a transaction run */
  allowCommit?: boolean;
  log?: (line: string) => void;
}

export async function connectUrl(url: string, options: ConnectUrlOptions = {}): Promise<UrlEngine> {
  const rollbackOnly = !options.allowCommit;
  const scrub = (text: string) => scrubSecrets(text, url);
  const clients = new Set<pg.Client>();
  const open = async (): Promise<pg.Client> => {
    let client: pg.Client;
    try {
      client = new pg.Client({ connectionString: url, application_name: 'pgkeel trace' });
      client.on('error', (e) => options.log?.(`connection error: ${scrub(e.message)}`));
      await client.connect();
    } catch (e) {
      // a fresh error, without `cause`: the original may carry the URL (TypeError's `input`)
      const err = new Error(`cannot connect to ${redactUrl(url)}: ${scrub(errorText(e))}`);
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string') Object.assign(err, { code });
      throw err;
    }
    clients.add(client);
    return client;
  };

  const main = await open();
  const status = trackTransactionStatus(main);
  const info = (
    await main.query<{ num: string; pid: number }>(
      "select current_setting('server_version_num') as num, pg_backend_pid() as pid",
    )
  ).rows[0]!;
  const guard = (sql: string) => {
    if (!rollbackOnly) return;
    const refusal = refuseUnlessRolledBack(sql, status() !== 'I');
    if (refusal) throw new Error(`not run on ${redactUrl(url)}: ${refusal} (nothing may be committed there)`);
  };
  let closing: Promise<void> | undefined;

  return {
    name: redactUrl(url),
    majorVersion: Math.floor(Number(info.num) / 10000),
    canObserveConcurrently: true,
    rollbackOnly,
    query: async (sql): Promise<Row[]> => {
      guard(sql);
      return lastRows(main, sql);
    },
    exec: async (sql) => {
      guard(sql);
      await main.query(sql);
    },
    backendPid: async () => info.pid,
    openObserver: async () => {
      const client = await open();
      // it only ever reads pg_locks and the statistics views: make a slip harmless
      await client.query('SET default_transaction_read_only = on');
      return {
        query: (sql: string) => lastRows(client, sql),
        close: async () => {
          clients.delete(client);
          await client.end().catch(() => {});
        },
      };
    },
    close: () => {
      closing ??= (async () => {
        // ending the session would roll back too; saying so is clearer in the server's log
        if (status() !== 'I') await main.query('ROLLBACK').catch(() => {});
        await Promise.all([...clients].map((c) => c.end().catch(() => {})));
      })();
      return closing;
    },
  };
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
 * procedures cannot COMMIT inside a transaction block. What this cannot see: side effects that
 * ignore transactions (sequence increments, dblink, NOTIFY is fine — it is sent on commit only).
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

/**
 * The URL without its password, for display: `postgres://user@host/db`. Anything that cannot be
 * parsed loses everything between `://` and the last `@` but the user name, and any `password=…`
 * parameter; redacting too much is fine, too little is not.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password && !u.searchParams.has('password')) return url;
    u.password = '';
    if (u.searchParams.has('password')) u.searchParams.delete('password');
    return u.toString();
  } catch {
    return url
      .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@]*):.*@/i, '$1$2@')
      .replace(/([?&])password=[^&#]*&?/gi, '$1')
      .replace(/[?&]$/, '')
      .replace(/(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)\s*/gi, '$1')
      .trimEnd();
  }
}

/** The secrets in a connection string: the password, as written and decoded. */
function secretsOf(url: string): string[] {
  const found: string[] = [];
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^:@]*):(.*)@/i.exec(url);
  if (userinfo?.[2]) found.push(userinfo[2]);
  // the greedy match above may run past the host into parameters; the WHATWG parse is exact
  try {
    const u = new URL(url);
    if (u.password) found.push(u.password);
    const p = u.searchParams.get('password');
    if (p) found.push(p);
  } catch {
    // not a WHATWG URL: the patterns suffice
  }
  for (const m of url.matchAll(/(?:^|[?&\s])password\s*=\s*('(?:[^'\\]|\\.)*'|[^&\s]*)/gi)) {
    if (m[1]) found.push(m[1].replace(/^'|'$/g, ''));
  }
  const all = new Set<string>();
  for (const s of found) {
    all.add(s);
    try {
      all.add(decodeURIComponent(s));
    } catch {
      // not percent-encoded
    }
  }
  // longest first, so that a secret containing another is replaced whole
  return [...all].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with the URL replaced by its redacted form and every form of its password by `***`. */
export function scrubSecrets(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  for (const secret of secretsOf(url)) out = out.split(secret).join('***');
  return out;
}
