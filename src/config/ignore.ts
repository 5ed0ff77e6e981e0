import path from 'node:path';
import picomatch from 'picomatch';
import type { LoadedConfig } from './types.js';

/** A glob (`*`, `**`, `?`, `[…]`, `{a,b}`) as a RegExp over `/`-separated relative paths; `*` matches dotfiles too. */
export function globToRegExp(glob: string): RegExp {
  // picomatch reads a leading `[!` as pattern negation; `[^…]` is the same class in its syntax
  return picomatch.makeRe(glob.replaceAll('[!', '[^'), { dot: true });
}

/**
 * A predicate for `resolveInputs`' `ignore` option. Patterns are globs relative to `baseDir` (the
 * config file's directory); a pattern that matches a directory ignores everything below it, so
 * `legacy` and `legacy/**` mean the same. A leading `!` re-includes; the last matching pattern wins.
 * Files outside `baseDir` are never ignored.
 */
export function createIgnoreMatcher(
  patterns: readonly string[],
  baseDir: string,
): (absPath: string) => boolean {
  const rules = patterns
    .map((raw) => raw.trim())
    .filter((raw) => raw !== '' && !raw.startsWith('#'))
    .map((raw) => {
      const negated = raw.startsWith('!');
      let glob = negated ? raw.slice(1) : raw;
      glob = glob.replace(/^\.\//, '').replace(/^\//, '').replace(/\/+$/, '');
      return { negated, re: globToRegExp(glob) };
    });
  if (rules.length === 0) return () => false;
  const base = path.resolve(baseDir);
  return (absPath) => {
    const rel = path.relative(base, path.resolve(absPath));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return false;
    const parts = rel.split(path.sep);
    // the file itself and each directory above it, nearest the root first
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negated;
    }
    return ignored;
  };
}

/** The ignore predicate a loaded config describes (`ignorePaths`, relative to the config's directory). */
export function ignoreMatcherFor(loaded: LoadedConfig): (absPath: string) => boolean {
  return createIgnoreMatcher(loaded.config.ignorePaths ?? [], loaded.dir);
}
