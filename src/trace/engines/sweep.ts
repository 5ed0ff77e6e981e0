/**
 * The directories of throwaway PostgreSQL servers name their owner, the pgkeel process that made
 * them, in their very name (`pgkeel-pg-<pid>.<start time>-XXXXXX`, base 36): mkdtemp creates name and
 * claim in one step, so no instant exists in which a directory of ours names no owner. Their watchdog
 * removes them when the owner dies; should the watchdog die too (SIGKILL of every process, SIGKILL
 * of pgkeel in the instant before the watchdog is spawned, an older pgkeel), the next start removes
 * what is left: directories whose owner is gone, after stopping a server still running in one. Only
 * a process verified to be a `postgres` whose data directory is in that directory, run by the
 * directory's user, is ever signalled.
 */

import { execFile, execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PREFIX = 'pgkeel-pg-';
const OWNED = /^pgkeel-pg-([0-9a-z]+)\.([0-9a-z]+)-/;
/** a directory of an older pgkeel names no owner: left alone until it has been quiet this long */
const UNOWNED_GRACE_MS = 5 * 60_000;

interface Owner {
  pid: number;
  /** the process's start time (clock ticks since boot, Linux; 0: unknown), telling a reused pid apart */
  start: number;
}

/** Start time of a process (Linux), or 0. */
function startTimeOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name; starttime is field 22, i.e. index 19 here
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) || 0;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The mkdtemp prefix of this process's server directories (in `parent`). */
export function serverDirPrefix(parent: string): string {
  return join(parent, `${PREFIX}${process.pid.toString(36)}.${startTimeOf(process.pid).toString(36)}-`);
}

function ownerOf(name: string): Owner | undefined {
  const m = OWNED.exec(name);
  if (!m) return undefined;
  const pid = Number.parseInt(m[1]!, 36);
  return pid > 0 ? { pid, start: Number.parseInt(m[2]!, 36) } : undefined;
}

function ownerAlive(o: Owner): boolean {
  if (!isAlive(o.pid)) return false;
  // a live process with that pid but another start time is someone else
  const start = startTimeOf(o.pid);
  return o.start === 0 || start === 0 || start === o.start;
}

/** The command line of a process, as arguments (Linux: /proc; elsewhere `ps`, split on spaces). */
function commandOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    if (process.platform === 'linux') return undefined;
  }
  try {
    const out = execFileSync('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return out.trim() ? out.trim().split(/\s+/) : undefined;
  } catch {
    return undefined;
  }
}

function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid of a postmaster still running on `<dir>/data`: the first line of its postmaster.pid,
 * accepted only if that process is a `postgres` started with `-D <dir>/data` and runs as `uid`.
 */
export function postmasterOf(dir: string, uid: number): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || !isAlive(pid)) return undefined;
  const args = commandOf(pid);
  const data = join(dir, 'data');
  if (!args || !/(^|\/)postgres$/.test(args[0] ?? '')) return undefined;
  const d = args.indexOf('-D');
  if (d < 0 || args[d + 1] !== data) return undefined;
  const owner = uidOf(pid);
  if (owner !== undefined && owner !== uid) return undefined;
  return pid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGQUIT (immediate shutdown: nothing to keep), SIGKILL after 5 s; waits at most 7 s in all. */
async function stopServer(pid: number): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // gone
    }
  };
  signal('SIGQUIT');
  const t0 = Date.now();
  let killed = false;
  while (isAlive(pid) && Date.now() - t0 < 7_000) {
    if (!killed && Date.now() - t0 > 5_000) {
      killed = true;
      signal('SIGKILL');
    }
    await sleep(50);
  }
}

export interface SweepOptions {
  /** the user the servers run as (root: `nobody`); its directories are ours too */
  serverUser?: { uid: number; gid: number };
  log?: (line: string) => void;
}

/**
 * Removes the server directories in `parent` whose owner is dead, stopping their server first.
 * Never fails: a sweep is housekeeping.
 */
export async function sweepStaleServers(parent: string, options: SweepOptions = {}): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  const me = process.getuid?.();
  const user = options.serverUser;
  // bounded: a few hundred leftovers at most are looked at per start
  for (const name of names.slice(0, 200)) {
    const dir = join(parent, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory()) continue;
      // only directories made by us (or, as root, chowned to the server's user by us)
      if (st.uid !== me && st.uid !== user?.uid) continue;
      const owner = ownerOf(name);
      if (owner ? ownerAlive(owner) : Date.now() - st.mtimeMs < UNOWNED_GRACE_MS) continue;
      const pm = postmasterOf(dir, st.uid);
      if (pm !== undefined) await stopServer(pm);
      await removeAs(dir, user && st.uid === user.uid ? user : undefined);
      options.log?.(`removed ${dir}, left by a pgkeel process that is gone`);
    } catch (e) {
      options.log?.(`cannot remove ${dir}: ${(e as Error).message}`);
    }
  }
}

/**
 * As root, a directory the server's user owns is emptied as that user: anything it may contain
 * (symbolic links swapped in mid-removal) then cannot make root delete elsewhere. Only the empty
 * top directory is removed as root, should its parent not be writable by that user.
 */
async function removeAs(dir: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  if (!user) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  await run('rm', ['-rf', '--', dir], { uid: user.uid, gid: user.gid, cwd: '/' }).catch(() => {});
  await rmdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
