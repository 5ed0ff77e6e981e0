import { readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { type DetectedOrigin, detectOriginWithReason, isDownFile, runnerView } from './detect.js';
import { describeFsError, fsErrorCode, InputError } from './errors.js';
import type { InputRef, MigrationFile } from './types.js';

export interface ReadOptions {
  /** the name stdin is shown as (and detected by), e.g. from `--stdin-filename`; default `<stdin>` */
  stdinFilename?: string;
  /** reads all of standard input; defaults to `process.stdin` (tests pass their own) */
  readStdin?: () => Promise<string | Uint8Array>;
}

export const STDIN_NAME = '<stdin>';

/** Reads an input and prepares it for parsing: decoded, BOM-less, runner-only sections blanked. */
export async function readMigrationFile(ref: InputRef, options: ReadOptions = {}): Promise<MigrationFile> {
  if (ref.kind === 'stdin') {
    const shown = options.stdinFilename ?? STDIN_NAME;
    let data: string | Uint8Array;
    try {
      data = await (options.readStdin ?? readProcessStdin)();
    } catch (error) {
      throw new InputError(shown, `cannot read standard input: ${describeFsError(error)}`, { cause: error });
    }
    return build(shown, undefined, decode(data, shown));
  }

  let data: Uint8Array;
  try {
    // synchronous on purpose: migration files are small, and a thread-pool round trip per file
    // cost more than the read itself on directories of thousands of files
    data = readFileSync(ref.absPath);
  } catch (error) {
    const code = fsErrorCode(error);
    throw new InputError(ref.path, `cannot read: ${describeFsError(error)}`, {
      ...(code ? { code } : {}),
      cause: error,
    });
  }
  return build(ref.path, ref.absPath, decode(data, ref.path));
}

async function build(shown: string, absPath: string | undefined, raw: string): Promise<MigrationFile> {
  // the absolute path, so `prisma/migrations/<dir>/` is seen even when cwd is inside it
  const detectBy = absPath ?? shown;
  let detected: DetectedOrigin | undefined = detectOriginWithReason(detectBy, raw);
  // drizzle-kit writes single-statement migrations without a breakpoint marker; its journal beside
  // the folder still tells
  if (detected === undefined && absPath !== undefined && (await hasDrizzleJournal(absPath)))
    detected = { runner: 'drizzle', reason: 'meta/_journal.json beside it' };
  const origin = detected?.runner;
  const view = runnerView(raw, origin);
  const file: MigrationFile = { path: shown, text: view.text };
  if (absPath !== undefined) file.absPath = absPath;
  if (detected !== undefined) {
    file.origin = detected.runner;
    file.originReason = detected.reason;
  }
  if (view.noTransaction) file.noTransaction = true;
  if (origin === 'golang-migrate' && isDownFile(detectBy)) file.down = true;
  return file;
}

/** Per directory: a migrations folder holds thousands of files, and the answer is the same for all. */
const journalByDir = new Map<string, Promise<boolean>>();

function hasDrizzleJournal(absPath: string): Promise<boolean> {
  const dir = path.dirname(absPath);
  let found = journalByDir.get(dir);
  if (!found) {
    found = access(path.join(dir, 'meta', '_journal.json')).then(
      () => true,
      () => false,
    );
    journalByDir.set(dir, found);
  }
  return found;
}

/**
 * Bytes → text. UTF-8 unless a UTF-16 byte order mark says otherwise (PowerShell's `>` writes
 * UTF-16); invalid sequences become U+FFFD rather than failing; any BOM is dropped. NUL bytes mean
 * the file is not SQL text at all.
 */
export function decode(data: string | Uint8Array, shown: string): string {
  if (typeof data === 'string') {
    if (data.includes('\0')) throw notText(shown);
    return data.charCodeAt(0) === 0xfeff ? data.slice(1) : data;
  }
  const utf16 =
    data[0] === 0xff && data[1] === 0xfe
      ? 'utf-16le'
      : data[0] === 0xfe && data[1] === 0xff
        ? 'utf-16be'
        : undefined;
  if (utf16) {
    // the decoder drops the BOM itself
    const text = new TextDecoder(utf16).decode(data);
    if (text.includes('\0')) throw notText(shown);
    return text;
  }
  if (data.includes(0)) throw notText(shown);
  return new TextDecoder('utf-8').decode(data);
}

function notText(shown: string): InputError {
  return new InputError(shown, 'not a text file (it contains NUL bytes)');
}

async function readProcessStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
