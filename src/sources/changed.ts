/**
 * `--changed-since <ref>`: the files a branch adds or changes, as a pull request shows them. Calls
 * the git binary (execFile, no shell): three plumbing commands with `-z` output need no wrapper
 * library, and the user's own git sees exactly the repository, config and ignore rules they do.
 */

import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './errors.js';

/** The files changed since a ref, as real absolute paths. */
export interface ChangedFiles {
  /** the ref as given */
  ref: string;
  /** the commit the changes are counted from: the merge base of `ref` and HEAD */
  base: string;
  /** real path of the repository's top-level directory */
  root: string;
  /** real absolute paths of added, modified, renamed-to and untracked files */
  files: Set<string>;
  /** true when `absPath` (any spelling: symlinked directories are resolved) is one of `files` */
  has(absPath: string): Promise<boolean>;
}

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function git(args: readonly string[], cwd: string): Promise<GitResult> {
  // loaded on use: node:child_process costs every lint ~10 ms of start-up, and most never call git
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        encoding: 'utf8',
        // a repository's whole file list can be large; the default 1 MB cuts it off
        maxBuffer: 256 * 1024 * 1024,
        // `git diff` against the work tree refreshes the index; don't take its lock from a linter
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (error && typeof (error as NodeJS.ErrnoException).code === 'string') {
          // ENOENT and friends: git itself could not be started
          reject(error);
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const FLAG = '--changed-since';

/** git's own explanation, first line, without its `fatal: ` prefix. */
function gitReason(result: GitResult): string {
  const line = result.stderr.split('\n').find((l) => l.trim() !== '') ?? `git exited with ${result.code}`;
  return line.replace(/^(fatal|error): /, '').trim();
}

const splitZ = (out: string) => out.split('\0').filter((p) => p !== '');

/**
 * What changed since `ref`, for a pull request whose base is `ref`: files that differ between the
 * merge base of `ref` and HEAD (`git diff ref...HEAD`, so commits that landed on the base branch
 * afterwards don't count) and the work tree, which adds staged and unstaged edits, plus untracked
 * files that are not git-ignored. Deleted files are not included. Throws InputError when `cwd` is
 * not in a git repository, git is missing, `ref` is unknown or has no common history with HEAD.
 */
export async function changedSince(ref: string, cwd: string): Promise<ChangedFiles> {
  if (ref === '' || ref.startsWith('-')) throw new InputError(FLAG, `expected a git revision, got "${ref}"`);
  let top: GitResult;
  try {
    top = await git(['rev-parse', '--show-toplevel'], cwd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      FLAG,
      code === 'ENOENT'
        ? 'git is not installed or not on PATH'
        : `cannot run git: ${(error as Error).message}`,
      { ...(code ? { code } : {}), cause: error },
    );
  }
  if (top.code !== 0) {
    throw new InputError(FLAG, `${cwd} is not in a git repository (git: ${gitReason(top)})`);
  }
  const root = await realpath(top.stdout.trim());

  const verified = await git(
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
    root,
  );
  if (verified.code !== 0) {
    throw new InputError(
      FLAG,
      `unknown git revision "${ref}" (not fetched? a CI checkout may need the base branch fetched, e.g. actions/checkout with fetch-depth: 0)`,
    );
  }
  const head = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], root);
  if (head.code !== 0) throw new InputError(FLAG, 'the repository has no commits yet (HEAD is unborn)');
  const mergeBase = await git(['merge-base', verified.stdout.trim(), 'HEAD'], root);
  if (mergeBase.code !== 0) {
    throw new InputError(
      FLAG,
      `"${ref}" and HEAD have no common history${mergeBase.code === 1 ? '' : ` (git: ${gitReason(mergeBase)})`}; ` +
        'in a shallow clone, fetch more history (actions/checkout: fetch-depth: 0)',
    );
  }
  const base = mergeBase.stdout.trim();

  // --no-renames: a rename is its new path added (and the old one deleted), one path per entry.
  // Run in the top-level directory, paths come relative to it (diff.relative only narrows to cwd).
  const diff = await git(
    ['diff', '--name-only', '-z', '--no-renames', '--no-ext-diff', '--diff-filter=ACMRT', base, '--'],
    root,
  );
  if (diff.code !== 0) throw new InputError(FLAG, `git diff failed: ${gitReason(diff)}`);
  const untracked = await git(['ls-files', '-z', '--others', '--exclude-standard', '--full-name'], root);
  if (untracked.code !== 0) throw new InputError(FLAG, `git ls-files failed: ${gitReason(untracked)}`);

  const files = new Set<string>();
  for (const rel of [...splitZ(diff.stdout), ...splitZ(untracked.stdout)]) files.add(path.join(root, rel));

  const realDirs = new Map<string, Promise<string>>();
  const realDir = (dir: string) => {
    let found = realDirs.get(dir);
    if (!found) {
      found = realpath(dir).catch(() => dir);
      realDirs.set(dir, found);
    }
    return found;
  };
  return {
    ref,
    base,
    root,
    files,
    // git reports paths under the real top-level directory; an input may be reached through a
    // symlinked directory (macOS /var → /private/var), so compare with its directory resolved
    has: async (absPath) => {
      if (files.has(absPath)) return true;
      return files.has(path.join(await realDir(path.dirname(absPath)), path.basename(absPath)));
    },
  };
}
