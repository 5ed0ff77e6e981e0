/**
 * Config `applied`: the migrations already run in production. Their findings are history, so
 * `pgkeel lint` skips them unless asked for `--all-history`.
 *
 * Patterns are matched like .gitignore lines: a pattern without `/` matches a file or directory
 * name at any depth (`20240101_*` matches `migrations/20240101_a.sql` and
 * `prisma/migrations/20240101_a/migration.sql`); a pattern with `/` matches the path relative to
 * the config file's directory (as `ignorePaths` does). A matched directory covers everything in it.
 *
 * - a string is a high-water mark: in each directory holding a match, the last match in the order
 *   runners apply migrations (code point order of names) and everything sorting before it are applied;
 * - an array lists the applied migrations themselves.
 */

import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { globToRegExp } from '../config/ignore.js';
import type { LoadedConfig } from '../config/types.js';
import { compareCodePoints } from './resolve.js';

interface Pattern {
  re: RegExp;
  /** contains `/`: matched against the whole relative path, not a name */
  anchored: boolean;
}

function compile(raw: string): Pattern {
  const glob = raw.trim().replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
  return { re: globToRegExp(glob), anchored: glob.includes('/') };
}

const matches = (p: Pattern, relPath: string, name: string) => p.re.test(p.anchored ? relPath : name);

/** A predicate telling whether a file is an applied migration; `undefined` config means none are. */
export type AppliedMatcher = (absPath: string) => Promise<boolean>;

/**
 * The matcher a config's `applied` describes, relative to `baseDir` (the config file's directory).
 * Files outside `baseDir` are never applied. The high-water form reads the directories on the way
 * to each file, so linting one new file knows about the applied ones beside it.
 */
export function createAppliedMatcher(applied: string | readonly string[], baseDir: string): AppliedMatcher {
  const base = path.resolve(baseDir);
  const relParts = (absPath: string): string[] | undefined => {
    const rel = path.relative(base, path.resolve(absPath));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    return rel.split(path.sep);
  };

  if (typeof applied !== 'string') {
    const patterns = applied.map(compile);
    return async (absPath) => {
      const parts = relParts(absPath);
      if (!parts) return false;
      // the file itself and each directory above it
      return parts.some((name, i) => {
        const rel = parts.slice(0, i + 1).join('/');
        return patterns.some((p) => matches(p, rel, name));
      });
    };
  }

  const mark = compile(applied);
  /** per directory (relative, `/`-separated): the last entry name the mark matches, or null */
  const lastMatch = new Map<string, Promise<string | null>>();
  const lastMatchIn = (relDir: string): Promise<string | null> => {
    let found = lastMatch.get(relDir);
    if (!found) {
      found = readdir(path.join(base, ...relDir.split('/').filter(Boolean)), { withFileTypes: true })
        .catch((): Dirent[] => [])
        .then((entries) => {
          let last: string | null = null;
          for (const entry of entries) {
            const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
            if (!matches(mark, rel, entry.name)) continue;
            if (last === null || compareCodePoints(entry.name, last) > 0) last = entry.name;
          }
          return last;
        });
      lastMatch.set(relDir, found);
    }
    return found;
  };
  return async (absPath) => {
    const parts = relParts(absPath);
    if (!parts) return false;
    for (let i = 0; i < parts.length; i++) {
      const last = await lastMatchIn(parts.slice(0, i).join('/'));
      // names compare one directory level at a time, as a runner lists its migrations directory
      if (last !== null && compareCodePoints(parts[i]!, last) <= 0) return true;
    }
    return false;
  };
}

/** The applied-migration matcher of a loaded config, or undefined when it has no `applied`. */
export function appliedMatcherFor(loaded: LoadedConfig): AppliedMatcher | undefined {
  const applied = loaded.config.applied;
  return applied === undefined ? undefined : createAppliedMatcher(applied, loaded.dir);
}
