/**
 * What a rollback does not undo: functions and statements whose effects happen at once or outside
 * the transaction (sequences, files on the server, other sessions, the server's configuration).
 * trace refuses them on a user's database (src/trace/side-effects.ts) unless allowed.
 */

/** function name → why calling it is not undone by a rollback */
export const NON_TRANSACTIONAL_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['nextval', 'advances a sequence, which a rollback does not undo'],
  ['setval', 'sets a sequence, which a rollback does not undo'],
  ['lo_export', 'writes a file on the database server'],
  ['pg_file_write', 'writes a file on the database server'],
  ['pg_file_rename', 'renames a file on the database server'],
  ['pg_file_unlink', 'deletes a file on the database server'],
  ['pg_file_sync', 'syncs a file on the database server'],
  ['pg_terminate_backend', 'ends a database session at once'],
  ['pg_cancel_backend', 'cancels a running query at once'],
  ['pg_reload_conf', 'reloads the server configuration at once'],
  ['pg_rotate_logfile', 'rotates the server log at once'],
  ['pg_switch_wal', 'switches the WAL file at once'],
  ['pg_create_restore_point', 'creates a WAL restore point at once'],
  ['pg_promote', 'promotes a standby at once'],
  ['pg_create_physical_replication_slot', 'creates a replication slot, which a rollback does not undo'],
  ['pg_create_logical_replication_slot', 'creates a replication slot, which a rollback does not undo'],
  ['pg_drop_replication_slot', 'drops a replication slot, which a rollback does not undo'],
  ['pg_stat_reset', 'resets statistics at once'],
  ['pg_stat_reset_shared', 'resets statistics at once'],
  ['pg_stat_reset_single_table_counters', 'resets statistics at once'],
  ['pg_stat_reset_single_function_counters', 'resets statistics at once'],
  ['pg_stat_statements_reset', 'resets statistics at once'],
]);
export const DBLINK = 'runs SQL on another connection, which commits on its own';
export const SEQUENCE_FUNCTIONS = new Set(['nextval', 'setval']);

/** statements that cannot run in a transaction block and act at once (when the catalog does not say so already) */
export const NON_TRANSACTIONAL_STATEMENTS: ReadonlyMap<string, string> = new Map([
  ['AlterSystemStmt', 'ALTER SYSTEM writes postgresql.auto.conf, outside any transaction'],
  ['CreatedbStmt', 'CREATE DATABASE cannot be rolled back'],
  ['DropdbStmt', 'DROP DATABASE cannot be rolled back'],
  ['CreateTableSpaceStmt', 'CREATE TABLESPACE cannot be rolled back'],
  ['DropTableSpaceStmt', 'DROP TABLESPACE cannot be rolled back'],
]);
