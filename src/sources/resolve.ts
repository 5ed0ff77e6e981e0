import type { Dirent, Stats } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
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
  /**
   * follow symbolic links found while walking a directory wherever they lead; by default only
   * those resolving inside the directory walked are (links named as arguments are always followed)
   */
  followSymlinks?: boolean;
}

type Problem = NonNullable<Extract<InputRef, { kind: 'file' }>['problem']>;

/** A file a directory or glob yields, with the reason it is not to be read, if any. */
interface Found {
  abs: string;
  problem?: Problem;
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

  const add = ({ abs: absPath, problem }: Found) => {
    if (seen.has(absPath) || ignore(absPath)) return;
    seen.add(absPath);
    out.push({ kind: 'file', path: displayPath(absPath, cwd), absPath, ...(problem ? { problem } : {}) });
  };
  const follow = options.followSymlinks === true;

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
      const files = await walk(absPath, arg, follow);
      if (files.length === 0) throw new InputError(arg, 'no .sql files in this directory');
      files.forEach(add);
    } else if (info) {
      if (ignore(absPath)) options.onIgnored?.(displayPath(absPath, cwd));
      else add({ abs: absPath });
    } else if (isDynamicPattern(arg)) {
      const files = await expandGlob(arg, cwd, follow);
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

/**
 * `.sql` files below `dir`, sorted by their path relative to it. Symbolic links are followed when
 * they resolve inside `dir` (or with `follow`): a link in a migrations folder to a file elsewhere
 * (a credentials file, a home directory) would otherwise be read and printed by explain. Such links,
 * and broken `.sql` links, are returned with a problem so that they are reported, not dropped.
 */
async function walk(dir: string, arg: string, follow: boolean): Promise<Found[]> {
  const found: (Found & { rel: string })[] = [];
  // real paths of directories entered, so a symlink loop is walked once
  const entered = new Set<string>();
  const root = await realpath(dir);
  const inside = (real: string) =>
    real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

  const visit = async (abs: string, rel: string, real: string): Promise<void> => {
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
      const walkable = !entry.name.startsWith('.') && !SKIPPED_DIRS.has(entry.name);
      if (entry.isDirectory()) {
        if (walkable) await visit(childAbs, childRel, path.join(real, entry.name));
        continue;
      }
      if (entry.isFile()) {
        if (isSql(entry.name)) found.push({ rel: childRel, abs: childAbs });
        continue;
      }
      // anything else (FIFOs, sockets, devices) is no migration; symbolic links are looked through
      if (!entry.isSymbolicLink()) continue;
      const target = await linkTarget(childAbs);
      if (target.missing !== undefined) {
        if (isSql(entry.name)) {
          found.push({
            rel: childRel,
            abs: childAbs,
            problem: {
              rule: 'unreadable-input',
              severity: 'error',
              message: `Cannot read this input: a broken symbolic link to ${target.to} (${target.missing}).`,
              help: 'Point the link at the migration, or delete it.',
            },
          });
        }
        continue;
      }
      const { stats, real: targetReal } = target;
      const isDir = stats.isDirectory();
      if (!(isDir ? walkable : stats.isFile() && isSql(entry.name))) continue;
      if (!follow && !inside(targetReal)) {
        found.push({
          rel: childRel,
          abs: childAbs,
          problem: {
            rule: 'skipped-symlink',
            severity: 'warning',
            message: `Not read: a symbolic link to ${targetReal}, outside ${arg}.`,
            help: 'Links found in a directory are followed only within it; pass --follow-symlinks to follow this one, or name its target as an argument.',
          },
        });
        continue;
      }
      if (isDir) await visit(childAbs, childRel, targetReal);
      else found.push({ rel: childRel, abs: childAbs });
    }
  };

  await visit(dir, '', root);
  return found.sort((a, b) => compareCodePoints(a.rel, b.rel)).map(({ rel: _, ...f }) => f);
}

type LinkTarget = { missing?: undefined; stats: Stats; real: string } | { missing: string; to: string };

/** Where a symbolic link leads, or why it leads nowhere (and what it names). */
async function linkTarget(link: string): Promise<LinkTarget> {
  try {
    const real = await realpath(link);
    return { stats: await stat(real), real };
  } catch (error) {
    const to = await readlink(link).catch(() => '?');
    const code = fsErrorCode(error);
    return {
      missing: code === 'ENOENT' || code === 'ENOTDIR' ? 'it does not exist' : describeFsError(error),
      to,
    };
  }
}

/**
 * Files a glob matches. A pattern whose last segment names an extension (`*.sql`, `*.up.sql`,
 * `*.pgsql`) is taken as is; one ending in a bare wildcard (`migrations/*`, `db/**`) also matches
 * directories and non-SQL files, so it is narrowed to `.sql` files (and matched directories are
 * walked) like a directory argument. Symbolic links are held to the same rule as in a directory
 * argument, the tree being the pattern's fixed leading directories (`db/migrations` of
 * `db/migrations/*.sql`).
 */
async function expandGlob(pattern: string, cwd: string, follow: boolean): Promise<Found[]> {
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
  const outside = follow ? undefined : await outsideCheck(pattern, cwd);
  const files: Found[] = [];
  for (const match of matches) {
    const abs = path.resolve(match);
    const isDir = !namesExtension && match.endsWith('/');
    if (!isDir && !namesExtension && !isSql(abs)) continue;
    const leadsTo = outside ? await outside.check(abs) : undefined;
    if (leadsTo !== undefined) {
      files.push({
        abs,
        problem: {
          rule: 'skipped-symlink',
          severity: 'warning',
          message: `Not read: a symbolic link to ${leadsTo}, outside ${outside?.shown}.`,
          help: 'Links are followed only within the directory a pattern starts from; pass --follow-symlinks to follow this one, or name its target as an argument.',
        },
      });
    } else if (isDir) {
      files.push(...(await walk(abs, displayPath(abs, cwd), follow)));
    } else {
      files.push({ abs });
    }
  }
  const rel = (f: Found) => displayPath(f.abs, cwd);
  const unique = new Map(files.map((f) => [f.abs, f]));
  return [...unique.values()].sort((a, b) => compareCodePoints(rel(a), rel(b)));
}

/**
 * For a glob's matches: where a match really is when that is outside the pattern's fixed leading
 * directories, else undefined. Costs one realpath per directory holding matches (not per file),
 * plus one per match that is itself a symbolic link, found from one readdir per directory.
 */
async function outsideCheck(
  pattern: string,
  cwd: string,
): Promise<{ shown: string; check: (abs: string) => Promise<string | undefined> }> {
  const segments = pattern.split('/');
  const fixed: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (isDynamicPattern(segment)) break;
    fixed.push(segment);
  }
  const base = path.resolve(cwd, fixed.length === 0 ? '.' : fixed.join('/') || '/');
  const root = await realpath(base).catch(() => base);
  const inside = (real: string) =>
    real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  const realDirs = new Map<string, Promise<string>>();
  const linksIn = new Map<string, Promise<Set<string>>>();
  const cached = <T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
    let found = map.get(key);
    if (!found) {
      found = load();
      map.set(key, found);
    }
    return found;
  };
  const check = async (abs: string) => {
    const dir = path.dirname(abs);
    const realDir = await cached(realDirs, dir, () => realpath(dir).catch(() => dir));
    if (!inside(realDir)) return realDir;
    const links = await cached(linksIn, dir, () =>
      readdir(dir, { withFileTypes: true }).then(
        (entries) => new Set(entries.filter((e) => e.isSymbolicLink()).map((e) => e.name)),
        () => new Set<string>(),
      ),
    );
    if (!links.has(path.basename(abs))) return undefined;
    const real = await realpath(abs).catch(() => abs);
    return inside(real) ? undefined : real;
  };
  return { shown: displayPath(base, cwd) || '.', check };
}
