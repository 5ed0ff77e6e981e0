/** What the two `pg`-based engines (a server of ours, the user's database) share. */

import type { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Row, TraceEngine } from '../engine.js';

/** Rows of the last statement: a script without parameters runs in the simple query protocol. */
export async function lastRows(client: pg.ClientBase, sql: string): Promise<Row[]> {
  const res = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  return (last?.rows ?? []) as Row[];
}

/** An observer session over `client`, which closing ends and forgets from the engine's `open` set. */
export function observerSession(
  client: pg.Client,
  open: Set<pg.Client>,
): Pick<TraceEngine, 'query' | 'close'> {
  return {
    query: (sql: string) => lastRows(client, sql),
    close: async () => {
      open.delete(client);
      await client.end().catch(() => {});
    },
  };
}

/** `I` idle, `T` in a transaction block, `E` in a failed transaction block (ReadyForQuery). */
export type TransactionStatus = 'I' | 'T' | 'E';

/**
 * Follows the server's own account of the session's transaction state, sent after every command.
 * pg keeps it to itself, so this listens on the client's protocol connection (pinned pg 8.x).
 */
export function trackTransactionStatus(client: pg.Client): () => TransactionStatus {
  const connection = (client as unknown as { connection?: EventEmitter }).connection;
  if (!connection || typeof connection.on !== 'function') {
    throw new Error('this version of pg does not expose its protocol connection: cannot follow transactions');
  }
  let status: TransactionStatus = 'I';
  connection.on('readyForQuery', (msg: { status?: string }) => {
    if (msg.status === 'I' || msg.status === 'T' || msg.status === 'E') status = msg.status;
  });
  return () => status;
}
