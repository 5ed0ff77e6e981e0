import type { RunnerName } from '../config/types.js';

/** One migration, read and ready for parsing. */
export interface MigrationFile {
  /** path as shown to users: relative to cwd when inside it, `<stdin>` or the --stdin-filename for stdin */
  path: string;
  /** absolute path on disk (undefined for stdin) */
  absPath?: string;
  /** file contents, BOM removed; sections a runner never executes (goose/dbmate Down) blanked with spaces, newlines kept, so offsets are unchanged */
  text: string;
  /** the migration tool this file appears to belong to, detected from its path/content, if any */
  origin?: RunnerName;
  /** what `origin` was detected from, for users: `prisma/migrations/<name>/migration.sql` */
  originReason?: string;
  /** the file opts out of the runner's transaction (goose `-- +goose NO TRANSACTION`, dbmate `-- migrate:up transaction:false`) */
  noTransaction?: boolean;
  /**
   * the whole file is a rollback (golang-migrate `*.down.sql`): `migrate up` never runs it. Its text
   * is left as is; callers decide whether to lint it.
   */
  down?: boolean;
}

/** A resolved input: a file on disk or standard input. */
export type InputRef =
  | {
      kind: 'file';
      /** as shown to users: relative to cwd when inside it, else absolute; `/`-separated */
      path: string;
      absPath: string;
    }
  | { kind: 'stdin' };
