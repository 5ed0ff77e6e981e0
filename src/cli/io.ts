/** The CLI's connection to the world, kept apart so that command modules need not import main. */

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** colours and pretty output defaults follow it */
  isTTY: boolean;
  cwd: string;
  readStdin?: () => Promise<string | Uint8Array>;
  /** stderr is a terminal: progress bars go there (default false) */
  stderrIsTTY?: boolean;
  /** environment variables (default process.env) */
  env?: Record<string, string | undefined>;
  /** writes out what `stdout` buffered; called when a command ends */
  flush?: () => void;
  /** the terminal's width in columns, when stdout is one (pretty output follows it) */
  columns?: number;
  /** stdin is a terminal: `pgkeel init` asks its questions there (default false) */
  stdinIsTTY?: boolean;
  /** asks the user a question on the terminal and returns the answer (`pgkeel init`) */
  ask?: (question: string) => Promise<string>;
}
