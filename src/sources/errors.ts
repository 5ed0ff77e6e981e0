/**
 * A path argument or input file that cannot be used (missing, unreadable, not text). A usage error,
 * not a lint finding: the CLI should print `message` and exit with `exitCode` (2).
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly exitCode = 2;
  /** the offending argument or file, as the user sees it */
  readonly path: string;
  /** the underlying errno code (`ENOENT`, `EACCES`, …), when there is one */
  readonly code?: string;

  constructor(path: string, reason: string, options: { code?: string; cause?: unknown } = {}) {
    super(`${path}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.path = path;
    if (options.code !== undefined) this.code = options.code;
  }
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent of this path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
};

/** A short, user-facing reason for a filesystem error. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && FS_REASONS[code]) return FS_REASONS[code];
  return error instanceof Error ? error.message : String(error);
}

export function fsErrorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
