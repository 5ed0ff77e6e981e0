import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { describeFsError, fsErrorCode, InputError } from './errors.js';
import type { InputRef } from './types.js';

export interface ResolveOptions {
  cwd: string;
  /** true for files to skip (config `ignorePaths`); applies to files from directories, globs and explicit paths */
  ignore?: (absPath: string) => boolean;
  /** told about explicitly named files that `ignore` dropped, so the CLI can say why nothing was linted */
  onIgnored?: (path: string) => void;
}

/** Directory names never descended into when walking a directory argument. */
const SKIPPED_DIRS = new Set(['node_modules']);

const isSql = (name: string) => name.toLowerCase().endsWith('.sql');

/**
 * Compares by Unicode code point, the order migration tools (Go's `sort.Strings`, byte order) use;
 * plain `<` compares UTF-16 units and misorders astral characters against U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above the rest of the BMP so unit order equals code point order. */
function fixup(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** `/`-separated path relative to cwd when inside it, else the absolute path. */
export function displayPath(absPath: string, cwd: string): string {
  const rel = path.relative(cwd, absPath);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return absPath;
  return rel.split(path.sep).join('/');
}

/**
 * Expands CLI arguments into the files to lint. Each argument is, in order: `-` (stdin, at most
 * once), an existing file (always included, whatever its extension), an existing directory (its
 * `.sql` files, recursively, skipping `node_modules` and dot-directories), or a glob. Files from
 * one directory or glob are sorted by path in code point order, as migration tools order them;
 * arguments keep the order given. A file reached twice is listed once, where first reached.
 */
export async function resolveInputs(args: readonly string[], options: ResolveOptions): Promise<InputRef[]> {
  const cwd = path.resolve(options.cwd);
  const ignore = options.ignore ?? (() => false);
  const out: InputRef[] = [];
  const seen = new Set<string>();
  let stdin = false;

  const add = (absPath: string) => {
    if (seen.has(absPath) || ignore(absPath)) return;
    seen.add(absPath);
    out.push({ kind: 'file', path: displayPath(absPath, cwd), absPath });
  };

  for (const arg of args) {
    if (arg === '-') {
      if (stdin) throw new InputError('-', 'standard input can be given only once');
      stdin = true;
      out.push({ kind: 'stdin' });
      continue;
    }
    if (arg === '') throw new InputError('""', 'empty path');

    const absPath = path.resolve(cwd, arg);
    const info = await statIfExists(absPath, arg);
    if (info?.isDirectory()) {
      const files = await walk(absPath, arg);
      if (files.length === 0) throw new InputError(arg, 'no .sql files in this directory');
      files.forEach(add);
    } else if (info) {
      if (ignore(absPath)) options.onIgnored?.(displayPath(absPath, cwd));
      else add(absPath);
    } else if (isDynamicPattern(arg)) {
      const files = await expandGlob(arg, cwd);
      if (files.length === 0) throw new InputError(arg, 'no files match this pattern');
      files.forEach(add);
    } else {
      throw new InputError(arg, 'no such file or directory', { code: 'ENOENT' });
    }
  }
  return out;
}

async function statIfExists(absPath: string, arg: string): Promise<Stats | undefined> {
  try {
    return await stat(absPath);
  } catch (error) {
    const code = fsErrorCode(error);
    // a missing path may still be a glob; anything else (EACCES, ELOOP) is a real problem
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(arg, describeFsError(error), { ...(code ? { code } : {}), cause: error });
  }
}

/** `.sql` files below `dir`, sorted by their path relative to it. */
async function walk(dir: string, arg: string): Promise<string[]> {
  const found: { rel: string; abs: string }[] = [];
  // real paths of directories entered, so a symlink loop is walked once
  const entered = new Set<string>();

  const visit = async (abs: string, rel: string): Promise<void> => {
    const real = await realpath(abs);
    if (entered.has(real)) return;
    entered.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (error) {
      const shown = rel === '' ? arg : `${arg.replace(/\/+$/, '')}/${rel}`;
      throw new InputError(shown, `cannot read directory: ${describeFsError(error)}`, { cause: error });
    }
    for (const entry of entries) {
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(childAbs).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) {
        if (!entry.name.startsWith('.') && !SKIPPED_DIRS.has(entry.name)) await visit(childAbs, childRel);
      } else if (isFile && isSql(entry.name)) {
        found.push({ rel: childRel, abs: childAbs });
      }
    }
  };

  await visit(dir, '');
  return found.sort((a, b) => compareCodePoints(a.rel, b.rel)).map((f) => f.abs);
}

/**
 * Files a glob matches. A pattern whose last segment names an extension (`*.sql`, `*.up.sql`,
 * `*.pgsql`) is taken as is; one ending in a bare wildcard (`migrations/*`, `db/**`) also matches
 * directories and non-SQL files, so it is narrowed to `.sql` files (and matched directories are
 * walked) like a directory argument.
 */
async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const last = pattern.split('/').at(-1) ?? '';
  const namesExtension = /\.[^./*?]+$|\.\{[^/]*\}$|\.\[[^/]*\]$/.test(last) && !/^\*+$/.test(last);
  const matches = await glob(pattern, {
    cwd,
    absolute: true,
    dot: false,
    onlyFiles: namesExtension,
    expandDirectories: false,
    ignore: ['**/node_modules/**'],
  });
  const files: string[] = [];
  for (const match of matches) {
    const abs = path.resolve(match);
    if (!namesExtension && match.endsWith('/')) {
      files.push(...(await walk(abs, displayPath(abs, cwd))));
    } else if (namesExtension || isSql(abs)) {
      files.push(abs);
    }
  }
  const rel = (f: string) => displayPath(f, cwd);
  return [...new Set(files)].sort((a, b) => compareCodePoints(rel(a), rel(b)));
}
