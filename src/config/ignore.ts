import path from 'node:path';
import type { LoadedConfig } from './types.js';

/**
 * Turns a glob into a RegExp over `/`-separated relative paths. Supports `*`, `?`, `**` (whole
 * segments), `[abc]`, `[!abc]`, `{a,b}` and `\` escapes. `*` also matches names starting with a dot.
 */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    const atSegmentStart = i === 0 || glob[i - 1] === '/';
    if (ch === '*' && glob[i + 1] === '*') {
      const next = glob[i + 2];
      if (atSegmentStart && next === '/') {
        src += '(?:[^/]*/)*';
        i += 2;
        continue;
      }
      if (atSegmentStart && next === undefined) {
        src += '.*';
        i += 1;
        continue;
      }
      src += '[^/]*';
      i += 1;
      continue;
    }
    if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else if (ch === '\\' && i + 1 < glob.length) src += escapeRegExp(glob[++i]!);
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        src += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      src += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (ch === '{') {
      braces++;
      src += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      src += ')';
    } else if (ch === ',' && braces > 0) src += '|';
    else src += escapeRegExp(ch);
  }
  // an unclosed brace is a literal in most shells; balance the group rather than throw
  src += ')'.repeat(braces);
  return new RegExp(`^${src}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
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
