/** One problem found in a config file; `keyPath` is dotted, array indexes in brackets (`presets[0]`). */
export interface ConfigIssue {
  keyPath?: string;
  message: string;
}

export interface ConfigErrorOptions {
  /** absolute path of the offending file */
  file?: string;
  /** how the file is shown in the message (relative to cwd when inside it); defaults to `file` */
  displayFile?: string;
  keyPath?: string;
  /** 1-based position, for syntax errors */
  line?: number;
  column?: number;
  /** every problem found, when there are several (the message lists them all) */
  issues?: ConfigIssue[];
  cause?: unknown;
}

/**
 * A config file could not be found, loaded or validated. Usage errors, not lint findings: the CLI
 * should print `message` and exit with `exitCode` (2).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
  readonly file?: string;
  readonly keyPath?: string;
  readonly line?: number;
  readonly column?: number;
  readonly issues: ConfigIssue[];

  /** `detail` is used when `options.issues` is empty; every line of the message starts with the file. */
  constructor(detail: string, options: ConfigErrorOptions = {}) {
    const issues = options.issues?.length
      ? options.issues
      : [{ message: detail, ...(options.keyPath === undefined ? {} : { keyPath: options.keyPath }) }];
    const shown = options.displayFile ?? options.file;
    const where =
      shown === undefined
        ? ''
        : options.line === undefined
          ? `${shown}: `
          : `${shown}:${options.line}:${options.column ?? 1}: `;
    super(
      issues.map((i) => `${where}${i.keyPath === undefined ? '' : `${i.keyPath}: `}${i.message}`).join('\n'),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.issues = issues;
    if (options.file !== undefined) this.file = options.file;
    const keyPath = options.keyPath ?? issues[0]?.keyPath;
    if (keyPath !== undefined) this.keyPath = keyPath;
    if (options.line !== undefined) this.line = options.line;
    if (options.column !== undefined) this.column = options.column;
  }
}
