import type { RunnerName } from '../config/types.js';
import type { Diagnostic } from '../diagnostics.js';

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
  /**
   * the input could not be read (missing, unreadable, not text, too large, a broken or skipped
   * symbolic link): `text` is empty and `problems` says why. Callers report it and go on with the
   * other inputs, so one bad file neither hides the others nor cuts a streamed report short.
   */
  unreadable?: boolean;
  /** problems with the input itself, not its SQL (see InputProblem), in file order */
  problems?: InputProblem[];
}

/**
 * Rule ids of the findings about inputs themselves:
 * - `unreadable-input` (error): nothing of the file was linted;
 * - `skipped-symlink` (warning): a symbolic link out of the directory being walked was not followed;
 * - `invalid-utf8` (warning): bytes that are not UTF-8 were replaced by U+FFFD.
 */
export type InputProblemRule = 'unreadable-input' | 'skipped-symlink' | 'invalid-utf8';

/**
 * A problem with an input file itself, reported as a finding of that file: a Diagnostic's message,
 * help and start position (char range 0–0 when it is about the whole file).
 */
export interface InputProblem
  extends Pick<Diagnostic, 'message' | 'help' | 'start' | 'end' | 'line' | 'column'> {
  rule: InputProblemRule;
  severity: 'error' | 'warning';
}

/** A resolved input: a file on disk or standard input. */
export type InputRef =
  | {
      kind: 'file';
      /** as shown to users: relative to cwd when inside it, else absolute; `/`-separated */
      path: string;
      absPath: string;
      /**
       * found while walking a directory but not to be read: a broken symbolic link (`unreadable-input`)
       * or one leading out of the directory (`skipped-symlink`); reported instead of skipped silently
       */
      problem?: Pick<InputProblem, 'rule' | 'severity' | 'message' | 'help'>;
    }
  | { kind: 'stdin' };
