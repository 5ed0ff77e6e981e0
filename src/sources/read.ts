import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { type DetectedOrigin, detectOriginWithReason, isDownFile, runnerView } from './detect.js';
import { describeFsError, fsErrorCode, InputError } from './errors.js';
import type { InputProblem, InputRef, MigrationFile } from './types.js';

export interface ReadOptions {
  /** the name stdin is shown as (and detected by), e.g. from `--stdin-filename`; default `<stdin>` */
  stdinFilename?: string;
  /** reads all of standard input; defaults to `process.stdin` (tests pass their own) */
  readStdin?: () => Promise<string | Uint8Array>;
  /** the most bytes read from one input (default MAX_FILE_SIZE) */
  maxFileSize?: number;
}

export const STDIN_NAME = '<stdin>';

/**
 * The largest input read: far above any hand-written migration (a 5 MB file lints in about a
 * second), and a bound on memory when a path names something endless (`/dev/zero`, a FIFO).
 */
export const MAX_FILE_SIZE = 64 * 1024 * 1024;

/**
 * Reads an input and prepares it for parsing: decoded, BOM-less, runner-only sections blanked.
 * Throws InputError when it cannot be read; invalid UTF-8 is replaced and noted in `problems`.
 */
export async function readMigrationFile(ref: InputRef, options: ReadOptions = {}): Promise<MigrationFile> {
  const limit = options.maxFileSize ?? MAX_FILE_SIZE;
  if (ref.kind === 'stdin') {
    const shown = options.stdinFilename ?? STDIN_NAME;
    let data: string | Uint8Array;
    try {
      data = await (options.readStdin ?? (() => readProcessStdin(limit)))();
    } catch (error) {
      if (error instanceof InputError) throw new InputError(shown, reasonOf(error));
      throw new InputError(shown, `cannot read standard input: ${describeFsError(error)}`, { cause: error });
    }
    if (data.length > limit) throw new InputError(shown, tooLarge(limit));
    return build(shown, undefined, decodeInput(data, shown));
  }
  if (ref.problem) throw new InputError(ref.path, ref.problem.message);

  let data: Uint8Array;
  try {
    data = readLimited(ref.absPath, limit);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(ref.path, reasonOf(error));
    const code = fsErrorCode(error);
    throw new InputError(ref.path, `cannot read: ${describeFsError(error)}`, {
      ...(code ? { code } : {}),
      cause: error,
    });
  }
  return build(ref.path, ref.absPath, decodeInput(data, ref.path));
}

/** An InputError's reason without the `path: ` prefix it was made with. */
function reasonOf(error: InputError): string {
  const prefix = `${error.path}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

function tooLarge(limit: number): string {
  return `larger than ${formatSize(limit)}, the most pgkeel reads from one input`;
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} kB`;
  return `${bytes} bytes`;
}

/**
 * The bytes of a file, at most `limit` of them. Synchronous on purpose: migration files are small,
 * and a thread-pool round trip per file cost more than the read itself on directories of thousands
 * of files. A regular file's size is known up front (one fstat, as readFileSync does); a FIFO or
 * character device named on the command line is read until its end or the limit, so `/dev/zero`
 * stops at the limit instead of filling memory.
 */
function readLimited(absPath: string, limit: number): Uint8Array {
  const fd = openSync(absPath, 'r');
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.isFile() && info.size > 0) {
      if (info.size > limit) throw new InputError('', tooLarge(limit));
      const buffer = Buffer.allocUnsafe(info.size);
      let at = 0;
      for (;;) {
        const n = readSync(fd, buffer, at, info.size - at, null);
        at += n;
        // a file that shrank while being read ends early
        if (n === 0 || at === info.size) break;
      }
      return at === info.size ? buffer : buffer.subarray(0, at);
    }
    // no size to trust (a FIFO, a device, /proc): read until the end, or fail past the limit
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw new InputError('', tooLarge(limit));
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

async function build(shown: string, absPath: string | undefined, decoded: Decoded): Promise<MigrationFile> {
  const raw = decoded.text;
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
  if (decoded.problem) file.problems = [decoded.problem];
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
  return decodeInput(data, shown).text;
}

/** Decoded text, and the warning to give when invalid UTF-8 was replaced. */
export interface Decoded {
  text: string;
  problem?: InputProblem;
}

// module-level: one decoder per run, not per file
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** As `decode`, and says where invalid UTF-8 was replaced (Latin-1 files would otherwise change silently). */
export function decodeInput(data: string | Uint8Array, shown: string): Decoded {
  if (typeof data === 'string') {
    if (data.includes('\0')) throw notText(shown);
    return { text: data.charCodeAt(0) === 0xfeff ? data.slice(1) : data };
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
    return { text };
  }
  if (data.includes(0)) throw notText(shown);
  try {
    // valid files (nearly all) are decoded once, with no scan of their own
    return { text: strictUtf8.decode(data) };
  } catch {
    const text = lenientUtf8.decode(data);
    return { text, problem: invalidUtf8Problem(data, text) };
  }
}

/**
 * The warning for a file with invalid UTF-8: how many bytes were replaced and where the first
 * replacement is in the decoded text. Runs only on such files.
 */
function invalidUtf8Problem(data: Uint8Array, text: string): InputProblem {
  const { bytes, first } = invalidUtf8(data);
  // every byte before the first invalid one is valid UTF-8, so its decoded length is the offset
  const start = lenientUtf8.decode(data.subarray(0, first)).length;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < start; i = text.indexOf('\n', i + 1)) line++;
  const column = start - lineStart + 1;
  return {
    rule: 'invalid-utf8',
    severity: 'warning',
    message:
      `Not valid UTF-8: ${bytes === 1 ? '1 byte was' : `${bytes} bytes were`} replaced by U+FFFD, ` +
      `the first at line ${line}, column ${column}; names and strings there are not what the file says.`,
    help: 'Convert the file to UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`), the encoding Postgres clients and migration tools read.',
    start,
    end: start + 1,
    line,
    column,
  };
}

/**
 * Counts the bytes of invalid UTF-8 sequences and finds the first, following the WHATWG decoder
 * (which TextDecoder implements): a lead byte with too few valid continuation bytes is replaced
 * together with them, as one U+FFFD.
 */
export function invalidUtf8(data: Uint8Array): { bytes: number; first: number } {
  let bytes = 0;
  let first = -1;
  const n = data.length;
  let i = 0;
  while (i < n) {
    const b = data[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    }
    let j = i + 1;
    let got = 0;
    while (got < need && j < n) {
      const c = data[j]!;
      if (c < (got === 0 ? lo : 0x80) || c > (got === 0 ? hi : 0xbf)) break;
      j++;
      got++;
    }
    if (need > 0 && got === need) {
      i = j;
      continue;
    }
    if (first < 0) first = i;
    bytes += j - i;
    i = j;
  }
  return { bytes, first };
}

function notText(shown: string): InputError {
  return new InputError(shown, 'not a text file (it contains NUL bytes)');
}

/** All of standard input, failing past `limit` bytes rather than reading an endless stream to the end. */
async function readProcessStdin(limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    if (total > limit) {
      process.stdin.destroy();
      throw new InputError(STDIN_NAME, tooLarge(limit));
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
