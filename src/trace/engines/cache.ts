/**
 * Where pgkeel keeps what it downloads or prepares once per machine: PostgreSQL binaries from npm and
 * PGlite data directory snapshots.
 */

import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
 * else can write to (a umask may have made our own directory group-writable: that we fix). It
 * must be traversable by others, for `nobody`.
 */
export function ensureCacheRoot(root: string): string {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  if (isRoot()) {
    const st = lstatSync(root);
    if (!st.isDirectory() || st.uid !== 0) {
      throw new Error(
        `refusing to use the cache directory ${root}: it must be a directory owned by root (set PGKEEL_CACHE_DIR to choose another)`,
      );
    }
    if ((st.mode & 0o777) !== 0o755) chmodSync(root, 0o755);
  }
  return root;
}
