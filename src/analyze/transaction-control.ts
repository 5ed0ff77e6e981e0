/**
 * The one decoder of transaction control statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, …): the
 * analyzer, `explain`, `trace` and the transaction rules all read them through it.
 */

import type { TransactionStmtKind } from '@pgsql/types';
import type { Statement } from '../parse/parse.js';
import { asNode } from './nodes.js';

/** A transaction control statement, decoded. */
export type TransactionControl =
  /** BEGIN, START TRANSACTION: opens a transaction block */
  | { kind: 'begin'; start: boolean }
  /** COMMIT [AND CHAIN] (END) */
  | { kind: 'commit'; chain: boolean }
  /** ROLLBACK [AND CHAIN] (ABORT) */
  | { kind: 'rollback'; chain: boolean }
  | { kind: 'savepoint'; name: string }
  | { kind: 'release'; name: string }
  | { kind: 'rollback-to'; name: string }
  /** PREPARE TRANSACTION 'gid': ends the block, the transaction waits for COMMIT/ROLLBACK PREPARED */
  | { kind: 'prepare'; gid: string }
  | { kind: 'commit-prepared'; gid: string }
  | { kind: 'rollback-prepared'; gid: string };

export type TransactionControlKind = TransactionControl['kind'];

/** The transaction control a statement performs; undefined for other statements. */
export function transactionControl(stmt: Pick<Statement, 'node'>): TransactionControl | undefined {
  const t = asNode(stmt.node, 'TransactionStmt');
  if (!t) return undefined;
  const kind: TransactionStmtKind | undefined = t.kind;
  const chain = t.chain === true;
  const name = t.savepoint_name ?? '';
  const gid = t.gid ?? '';
  switch (kind) {
    case 'TRANS_STMT_BEGIN':
      return { kind: 'begin', start: false };
    case 'TRANS_STMT_START':
      return { kind: 'begin', start: true };
    case 'TRANS_STMT_COMMIT':
      return { kind: 'commit', chain };
    case 'TRANS_STMT_ROLLBACK':
      return { kind: 'rollback', chain };
    case 'TRANS_STMT_SAVEPOINT':
      return { kind: 'savepoint', name };
    case 'TRANS_STMT_RELEASE':
      return { kind: 'release', name };
    case 'TRANS_STMT_ROLLBACK_TO':
      return { kind: 'rollback-to', name };
    case 'TRANS_STMT_PREPARE':
      return { kind: 'prepare', gid };
    case 'TRANS_STMT_COMMIT_PREPARED':
      return { kind: 'commit-prepared', gid };
    case 'TRANS_STMT_ROLLBACK_PREPARED':
      return { kind: 'rollback-prepared', gid };
    case undefined:
      return undefined;
  }
}

/** BEGIN / START TRANSACTION. */
export function opensTransactionBlock(tc: TransactionControl | undefined): boolean {
  return tc?.kind === 'begin';
}

/**
 * COMMIT, ROLLBACK and PREPARE TRANSACTION end the transaction block. COMMIT PREPARED and ROLLBACK PREPARED
 * count as ending it too: they only run outside a transaction block (Postgres refuses them inside one).
 * Savepoints end nothing.
 */
export function endsTransactionBlock(tc: TransactionControl | undefined): boolean {
  switch (tc?.kind) {
    case 'commit':
    case 'rollback':
    case 'prepare':
    case 'commit-prepared':
    case 'rollback-prepared':
      return true;
    default:
      return false;
  }
}
