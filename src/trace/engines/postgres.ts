/**
 * A real PostgreSQL server of a chosen major version (binaries from npm), private to this process:
 * initdb into a temporary directory, unix socket only (no TCP), no durability (fsync off). It lives
 * until `close()`, or until this process dies in any way.
 *
 * Cleanup holds from the first instant, whatever kills us, SIGKILL included, so it cannot rest on
 * signal handlers in this process (none runs on SIGKILL, and a library must not take over its host's
 * Ctrl-C). Instead everything that runs (initdb, then the server) is started by a small `sh`
 * watchdog in its own session that holds the read end of a pipe from us: when the pipe closes
 * (close(), a normal exit, an uncaught error, a signal's default action, SIGKILL of this process or
 * of our process group), the watchdog stops whatever runs (SIGINT, SIGKILL after 10 s) and deletes
 * the directory. The directory, whose name names this process, is created just before the
 * watchdog is spawned; SIGINT/SIGTERM/SIGHUP are held back across those few synchronous steps
 * (deferSignals), and should SIGKILL land there, or the watchdog die too, the next start removes
 * what is left (sweep.ts).
 *
 * Nothing here gives the traced SQL more than a database owner has. The migration session logs in
 * as `pgkeel`, a non-superuser that owns the database and its `public` schema (so it can create
 * schemas, types, functions, triggers, trusted extensions from PG 13, and on PG 16+ roles), but not
 * run programs or read and write files as the server's OS user (`COPY … TO PROGRAM`,
 * `pg_read_file`, `lo_export`, untrusted extensions: those fail, reported as needing superuser).
 * The superuser `postgres` is used by pgkeel's own sessions only (setup, `openObserver`; and
 * `superuser: true`, for SQL of our own such as the version matrix's probes). Every
 * login needs a random per-run password (SCRAM), and the socket's directory is open to the server's
 * OS user only: other local users, even others running as `nobody`, cannot connect.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TraceEngine } from '../engine.js';
import { type InstallOptions, installPostgres, unprivilegedUser } from './binaries.js';
import { isRoot } from './cache.js';
import { lastRows, observerSession } from './pg-client.js';
import { serverDirPrefix, sweepStaleServers } from './sweep.js';

export interface PostgresEngine extends TraceEngine {
  /** e.g. `16.14` */
  readonly version: string;
  /** the postmaster's pid */
  readonly pid: number;
  /** the temporary directory: `data/` and the unix socket */
  readonly dir: string;
  readonly port: number;
  /**
   * a connection URL for other clients (`connectUrl`, psql), as the migration's role `pgkeel`.
   * It contains the run's password: never print it.
   */
  readonly url: string;
}

export interface StartPostgresOptions extends InstallOptions {
  /** how long initdb + start may take (default 60 s: a loaded CI machine) */
  startTimeoutMs?: number;
  /**
   * run `query`/`exec` as the superuser instead of MIGRATION_ROLE: only for SQL you wrote yourself
   * (the version matrix's probes need tablespaces, access methods, extensions on PG < 13). Never for
   * migrations: they could then run programs and read or write files on this machine.
   */
  superuser?: boolean;
}

/** The migration's role: owns the database and `public`, not a superuser. */
export const MIGRATION_ROLE = 'pgkeel';

/** What Postgres says when a role lacks a privilege (42501 insufficient_privilege). */
const NEEDS_SUPERUSER = 'needs superuser: not traced as superuser on the throwaway server';

/**
 * Positional parameters: $1 the temporary directory, $2 the bin directory, $3 the port. stdin is the
 * lifeline from node; stdout carries the postmaster pid; initdb's output goes to stderr; the server
 * logs to fd 3, which only the server holds, so its end-of-file tells node the server is gone.
 *
 * The watchdog ignores INT/TERM/HUP (it must outlive node to clean up after it) and PIPE (node's end
 * of stdout may be gone when it writes the pid); initdb and postgres get the default dispositions
 * back, so a SIGINT reaches them even before they install their own handlers. A background reader
 * turns the lifeline's end-of-file into a USR1 that interrupts `wait` at any stage.
 */
const WATCHDOG = `
dir=$1 bin=$2 port=$3
trap '' INT TERM HUP PIPE
gone=
trap 'gone=1' USR1
main=$$
exec 4<&0 </dev/null
( exec <&4 4<&- 3>&- >/dev/null 2>&1; while read -r _; do :; done; kill -USR1 "$main" ) &
lifeline=$!
exec 4<&-
# waits for $1 to exit (its status in $rc), or for the lifeline to close
await() { while [ -z "$gone" ]; do wait "$1"; rc=$?; [ -n "$gone" ] || return 0; done; }
# SIGINT, SIGKILL after 10 s; returns once $1 has exited
stop() {
  kill -INT "$1" 2>/dev/null
  ( trap 'kill -KILL "$s" 2>/dev/null; exit 0' USR1; sleep 10 & s=$!; wait "$s"; kill -KILL "$1" 2>/dev/null ) </dev/null >/dev/null 2>&1 3>&- &
  t=$!
  while kill -0 "$1" 2>/dev/null; do wait "$1"; done
  kill -USR1 "$t" 2>/dev/null
}
finish() { kill -KILL "$lifeline" 2>/dev/null; rm -rf "$dir"; exit "$1"; }
( trap - INT TERM HUP PIPE; exec "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pwfile" -E UTF8 --locale=C --no-sync ) </dev/null >&2 3>&- &
pid=$!
await "$pid"
if [ -n "$gone" ]; then stop "$pid"; finish 0; fi
[ "$rc" = 0 ] || { rm -f "$dir/pwfile"; finish 3; }
rm -f "$dir/pwfile"
( trap - INT TERM HUP PIPE; exec "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c TimeZone=UTC ) </dev/null >&3 2>&3 &
pid=$!
exec 3>&-
echo "$pid" 2>/dev/null
await "$pid"
if [ -n "$gone" ]; then stop "$pid"; fi
finish 0
`;

/** postmaster pids of servers still running, for the exit hook */
const running = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // the watchdog does the same once our end of its pipe closes; this only starts the shutdown a
  // moment earlier (an 'exit' listener cannot wait for anything)
  process.on('exit', () => {
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Can this process enter a directory whatever its mode (root with CAP_DAC_OVERRIDE or
 * CAP_DAC_READ_SEARCH)? Some containers drop both, even for root.
 */
function bypassesDirModes(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    const m = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) & 0b110n) !== 0n : true;
  } catch {
    return true;
  }
}

/** A SCRAM-SHA-256 verifier (RFC 7677), so that no password ever appears in SQL text. */
function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (msg: string) => createHmac('sha256', salted).update(msg).digest();
  const storedKey = createHash('sha256').update(hmac('Client Key')).digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${hmac('Server Key').toString('base64')}`;
}

export async function startPostgres(
  major: number,
  options: StartPostgresOptions = {},
): Promise<PostgresEngine> {
  const { binDir } = await installPostgres(major, options);
  const user = isRoot() ? unprivilegedUser() : undefined;
  const parent = tmpdir();
  await sweepStaleServers(parent, { serverUser: user, log: options.log });
  const port = await freePort();
  const password = randomBytes(24).toString('base64url');
  const release = deferSignals();
  // From here to the watchdog's spawn, all synchronous: a SIGINT/SIGTERM/SIGHUP is acted on only
  // after it (deferSignals), so only SIGKILL in these few milliseconds leaves something behind: a
  // directory naming its dead owner, with nothing started in it, which the next start removes.
  // 0700: the socket lives here; only the server's user may reach it.
  const dir = mkdtempSync(serverDirPrefix(parent));
  let server: Server | undefined;
  try {
    writeFileSync(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
    if (user) {
      chownSync(join(dir, 'pwfile'), user.uid, user.gid);
      if (bypassesDirModes()) {
        chownSync(dir, user.uid, user.gid);
      } else {
        // root that cannot bypass modes reaches the socket through the group (root's own)
        chownSync(dir, user.uid, process.getgid?.() ?? 0);
        chmodSync(dir, 0o710);
      }
    }
    server = new Server(dir, binDir, port, password, user, options.log);
    await server.waitUntilReady(options.startTimeoutMs ?? 60_000);
    return await connect(server, major, options);
  } catch (e) {
    if (server) await server.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw e;
  } finally {
    release();
  }
}

/**
 * Until the returned function is called, SIGINT, SIGTERM and SIGHUP do what they would have done
 * anyway (end the process, unless the host listens for them), but only once synchronous code has
 * run: a signal cannot fall between creating the server's directory and spawning its watchdog.
 */
function deferSignals(): () => void {
  const listening: [NodeJS.Signals, () => void][] = [];
  const release = () => {
    for (const [sig, fn] of listening.splice(0)) process.off(sig, fn);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // the host's own handler decides what its signals do
    if (process.listenerCount(sig) > 0) continue;
    const fn = () => {
      release();
      // no listener left: the default action, which the watchdog cleans up after
      process.kill(process.pid, sig);
    };
    process.on(sig, fn);
    listening.push([sig, fn]);
  }
  return release;
}

class Server {
  private readonly child: ChildProcess;
  private readonly logTail: string[] = [];
  private hasExited = false;
  private logClosed = false;
  pid: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    binDir: string,
    readonly port: number,
    readonly password: string,
    user: { uid: number; gid: number } | undefined,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    installExitHook();
    this.child = spawn('/bin/sh', ['-c', WATCHDOG, 'pgkeel-postgres', dir, binDir, String(port)], {
      cwd: dir,
      // no secrets of ours in a process environment that other `nobody` processes could read
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      // its own session: a Ctrl-C or a SIGKILL sent to our process group does not reach it, so it
      // is there to clean up after us
      detached: true,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    this.child.once('exit', () => {
      this.hasExited = true;
    });
    // spawning /bin/sh failed: there is nothing to stop
    this.child.once('error', (e) => {
      this.note(`cannot run /bin/sh: ${e.message}`);
      this.hasExited = true;
      this.logClosed = true;
    });
    // the watchdog may already be gone when we close its stdin
    this.child.stdin?.on('error', () => {});
    if (this.child.stdout) {
      lines(this.child.stdout, (l) => {
        if (this.pid === undefined && /^\d+$/.test(l.trim())) {
          this.pid = Number(l.trim());
          running.add(this.pid);
        }
      });
    }
    if (this.child.stderr) lines(this.child.stderr, (l) => this.note(l));
    const serverLog = this.child.stdio[3];
    if (serverLog && 'on' in serverLog) {
      lines(serverLog as NodeJS.ReadableStream, (l) => this.note(l));
      serverLog.on('end', () => {
        this.logClosed = true;
      });
      serverLog.on('close', () => {
        this.logClosed = true;
      });
    }
  }

  private note(line: string): void {
    this.logTail.push(line);
    if (this.logTail.length > 40) this.logTail.shift();
    this.log?.(line);
  }

  private failure(what: string): Error {
    const tail = this.logTail.slice(-15).join('\n');
    return new Error(`PostgreSQL ${what}${tail ? `:\n${tail}` : ''}`);
  }

  /** `postgres` (superuser) for pgkeel's own sessions, MIGRATION_ROLE for the traced SQL */
  clientConfig(user = 'postgres'): pg.ClientConfig {
    return { host: this.dir, port: this.port, user, password: this.password, database: 'postgres' };
  }

  /** for other clients; carries the password */
  url(user: string): string {
    return `postgresql://${user}:${encodeURIComponent(this.password)}@localhost/postgres?host=${encodeURIComponent(this.dir)}&port=${this.port}`;
  }

  /** Connects as soon as the server accepts connections; fails fast when initdb or the server dies. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.hasExited) throw this.failure('failed to initialise');
      if (this.pid !== undefined) {
        if (this.logClosed) throw this.failure('exited during start-up');
        const probe = new pg.Client(this.clientConfig());
        probe.on('error', () => {});
        try {
          await probe.connect();
          await probe.end();
          return;
        } catch {
          await probe.end().catch(() => {});
        }
      }
      if (Date.now() > deadline) throw this.failure(`did not start within ${timeoutMs / 1000} s`);
      await sleep(20);
    }
  }

  /** Idempotent. Resolves once the server is stopped and its directory deleted. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Done when the watchdog has exited and the server log has closed (every server process is gone).
   * The watchdog does the stopping; should it have been killed, we do its job, and past 15 s we
   * SIGKILL whatever is left.
   */
  private async doStop(): Promise<void> {
    this.child.stdin?.end();
    const deadline = Date.now() + 15_000;
    let lastInterrupt = 0;
    let killed = false;
    while (!(this.hasExited && this.logClosed)) {
      const now = Date.now();
      if (this.hasExited && this.pid !== undefined && now - lastInterrupt >= 250) {
        signal(this.pid, 'SIGINT');
        lastInterrupt = now;
      }
      if (now > deadline && !killed) {
        killed = true;
        if (this.pid !== undefined) signal(this.pid, 'SIGKILL');
        this.child.kill('SIGKILL');
      }
      if (now > deadline + 5_000) break;
      await sleep(20);
    }
    if (this.pid !== undefined) running.delete(this.pid);
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function connect(
  server: Server,
  major: number,
  options: StartPostgresOptions,
): Promise<PostgresEngine> {
  const clients = new Set<pg.Client>();
  const open = async (user?: string): Promise<pg.Client> => {
    const client = new pg.Client(server.clientConfig(user));
    // a connection error (the server going away) is reported on the next query; unhandled, the
    // 'error' event would crash the process
    client.on('error', (e) => options.log?.(`connection error: ${e.message}`));
    await client.connect();
    clients.add(client);
    return client;
  };
  const admin = await open();
  // PG < 16: CREATEROLE could grant itself pg_execute_server_program (a shell); from 16 it cannot
  const createRole = major >= 16 ? ' CREATEROLE' : '';
  await admin.query(
    `CREATE ROLE ${MIGRATION_ROLE} LOGIN CREATEDB${createRole} PASSWORD '${scramVerifier(server.password)}';
     ALTER DATABASE postgres OWNER TO ${MIGRATION_ROLE};
     ALTER SCHEMA public OWNER TO ${MIGRATION_ROLE};`,
  );
  clients.delete(admin);
  await admin.end();
  const role = options.superuser ? 'postgres' : MIGRATION_ROLE;
  const main = await open(role);
  const info = (
    await main.query<{ num: string; version: string; pid: number }>(
      "select current_setting('server_version_num') as num, current_setting('server_version') as version, pg_backend_pid() as pid",
    )
  ).rows[0]!;
  const version = info.version.split(' ')[0]!;
  /** a privilege only a superuser has here: said so, not reported as the migration's own error */
  const explain = (e: unknown): unknown =>
    (e as { code?: string })?.code === '42501'
      ? Object.assign(new Error(`${NEEDS_SUPERUSER} (${(e as Error).message})`), { code: '42501' })
      : e;
  let closing: Promise<void> | undefined;
  return {
    name: `PostgreSQL ${version}`,
    majorVersion: Math.floor(Number(info.num) / 10000),
    canObserveConcurrently: true,
    rollbackOnly: false,
    version,
    pid: server.pid!,
    dir: server.dir,
    port: server.port,
    url: server.url(role),
    query: (sql) =>
      lastRows(main, sql).catch((e) => {
        throw explain(e);
      }),
    exec: async (sql) => {
      await main.query(sql).catch((e) => {
        throw explain(e);
      });
    },
    backendPid: async () => info.pid,
    // a superuser session (it may lock pg_class rows to hold a statement part-way): for pgkeel's own
    // SQL only, never the migration's
    openObserver: async () => {
      const client = await open();
      return observerSession(client, clients);
    },
    close: () => {
      closing ??= (async () => {
        await Promise.all([...clients].map((c) => c.end().catch(() => {})));
        await server.stop();
      })();
      return closing;
    },
  };
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      if (line.trim()) onLine(line);
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buf.trim()) onLine(buf);
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The server listens on a unix socket in its own directory only, so ports cannot collide on the
 * network; a free TCP port still keeps socket names, `ps` output and shared-memory keys distinct.
 */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.on('error', () => resolve(20_000 + Math.floor(Math.random() * 40_000)));
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 5432;
      srv.close(() => resolve(port));
    });
  });
}
