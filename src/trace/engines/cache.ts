/**
 * Where pgkeel keeps what it downloads or prepares once per machine: PostgreSQL binaries from npm and
 * PGlite data directory snapshots.
 */

import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * `$PGKEEL_CACHE_DIR`, else `$XDG_CACHE_HOME/pgkeel` or `~/.cache/pgkeel`.
 *
 * As root the default is `/var/tmp/pgkeel-cache-0` instead: PostgreSQL refuses to run as root, so
 * its binaries are run as `nobody`, and `nobody` cannot traverse `/root` (mode 0700 on most
 * systems). Loosening the permissions of root's home directory is not ours to do. `/var/tmp` is
 * disk-backed (unlike a tmpfs `/tmp`) and survives reboots, which suits ~60 MB per version.
 */
export function defaultCacheRoot(): string {
  const fromEnv = process.env.PGKEEL_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  if (isRoot()) return join(safeDir('/var/tmp') ?? tmpdir(), 'pgkeel-cache-0');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pgkeel');
}

function safeDir(path: string): string | undefined {
  try {
    return lstatSync(path).isDirectory() ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the cache root if needed. As root, in a world-writable parent like /var/tmp, anyone could
 * have created the directory first and planted binaries that we would then execute (and a
 * hydrate script that root runs): accept it only if it is a real directory owned by root that no one
 * else can write to. The mode of a directory we did not create is never changed (PGKEEL_CACHE_DIR=/tmp
 * must not cost /tmp its sticky bit, nor a 0700 directory its privacy): one that others can write to
 * is refused; one that `nobody` cannot traverse fails later with a message saying so, and only when
 * PostgreSQL binaries are run from it.
 */
export function ensureCacheRoot(root: string): string {
  mkdirOwn(root);
  if (isRoot()) {
    const st = lstatSync(root);
    if (!st.isDirectory() || st.uid !== 0) {
      throw new Error(
        `refusing to use the cache directory ${root}: it must be a directory owned by root (set PGKEEL_CACHE_DIR to choose another)`,
      );
    }
    if (st.mode & 0o022) {
      throw new Error(
        `refusing to use the cache directory ${root}: users other than root can write to it (set PGKEEL_CACHE_DIR to a directory only root can write to)`,
      );
    }
  }
  return root;
}

/**
 * `mkdir -p` that, as root, makes the directories it creates (and only those) 0755: PostgreSQL runs
 * as `nobody`, which must traverse them whatever root's umask is.
 */
export function mkdirOwn(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (first === undefined || !isRoot()) return;
  // every directory from the first one created down to `dir` is new
  const created: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    created.push(d);
    if (d === resolve(first) || dirname(d) === d) break;
  }
  for (const d of created) chmodSync(d, 0o755);
}
