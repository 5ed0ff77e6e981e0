/**
 * Where a report goes and whether it is coloured: stdout or `-o <file>`, and the colour decision
 * shared by every command (flags > NO_COLOR / FORCE_COLOR > is it a terminal).
 */

import { closeSync, mkdirSync, openSync, renameSync, rmSync, type Stats, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../sources/errors.js';

export interface ColorInputs {
  /** `--color` (true), `--no-color` (false), neither (undefined) */
  flag?: boolean;
  env: Record<string, string | undefined>;
  /** the report goes to a terminal */
  isTTY: boolean;
}

/**
 * `--color`/`--no-color` win; then `NO_COLOR` (any non-empty value) and `FORCE_COLOR` (`0`/`false`
 * turn colour off, anything else on), as https://no-color.org and Node's own tty code read them;
 * otherwise colour only on a terminal.
 */
export function useColor({ flag, env, isTTY }: ColorInputs): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !(force === '0' || force === 'false');
  return isTTY;
}

/** A report sink that writes to a file. */
export interface FileSink {
  write(chunk: string): void;
  /** moves the finished report into place */
  commit(): void;
  /** drops a half-written report, leaving an earlier file at the path untouched */
  abort(): void;
}

/**
 * Writes to `<file>.<pid>.tmp` beside the target and renames it at the end, so a run that fails
 * halfway never leaves a truncated report where CI expects a complete one. Output is gathered into
 * 64 kB writes, as for stdout.
 */
export function openFileSink(file: string, cwd: string): FileSink {
  const target = path.resolve(cwd, file);
  const cannotWrite = (e: unknown) =>
    new InputError(file, `cannot write the output file: ${(e as Error).message}`, { cause: e });
  // a device or FIFO (`-o /dev/stdout`, `/dev/full`) is written as is: renaming a file over it would
  // replace the device itself (as root, /dev/full became a regular file)
  let direct: Stats | undefined;
  try {
    direct = statSync(target);
  } catch {
    // missing (or its parent is not a directory): opening the temporary file says why
  }
  const special = direct !== undefined && !direct.isFile() && !direct.isDirectory();
  const tmp = special ? target : `${target}.${process.pid}.tmp`;
  let fd: number;
  try {
    if (!special) mkdirSync(path.dirname(target), { recursive: true });
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw cannotWrite(e);
  }
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    try {
      writeSync(fd, pending.join(''));
    } catch (e) {
      // ENOSPC, EIO: a usage-level failure with the file named (exit 2), not an internal error
      throw cannotWrite(e);
    }
    pending = [];
    size = 0;
  };
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  return {
    write(chunk) {
      pending.push(chunk);
      size += chunk.length;
      if (size >= 65536) flush();
    },
    commit() {
      try {
        flush();
        close();
        if (!special) renameSync(tmp, target);
      } catch (e) {
        if (!special) rmSync(tmp, { force: true });
        throw e instanceof InputError ? e : cannotWrite(e);
      }
    },
    abort() {
      close();
      if (!special) rmSync(tmp, { force: true });
    },
  };
}
