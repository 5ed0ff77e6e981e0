/**
 * A real PostgreSQL server of a chosen major version (binaries from npm), private to this process:
 * initdb into a temporary directory, unix socket only, no durability (fsync off), trust auth. It
 * lives until `close()`, or until this process dies in any way.
 *
 * The server is started by a small `sh` watchdog that holds the read end of a pipe from us. When
 * the pipe closes (close(), a normal exit, an uncaught error, SIGINT/SIGTERM's default action, even
 * SIGKILL of this process) the watchdog stops the server (SIGINT: fast shutdown, SIGKILL after 10 s)
 * and deletes the directory. That is why no signal handlers are installed here: a library must not
 * take over its host's Ctrl-C, and it does not need to.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TraceEngine } from '../engine.js';
import { type InstallOptions, installPostgres, unprivilegedUser } from './binaries.js';
import { isRoot } from './cache.js';
import { lastRows } from './pg-client.js';

export interface PostgresEngine extends TraceEngine {
  /** e.g. `16.14` */
  readonly version: string;
  /** the postmaster's pid */
  readonly pid: number;
  /** the temporary directory: `data/` and the unix socket */
  readonly dir: string;
  readonly port: number;
  /** a connection URL for other clients (`connectUrl`, psql) */
  readonly url: string;
}

export interface StartPostgresOptions extends InstallOptions {
  /** how long initdb + start may take (default 60 s: a loaded CI machine) */
  startTimeoutMs?: number;
}

/**
 * Positional parameters: $1 the temporary directory, $2 the bin directory, $3 the port. stdin is the
 * lifeline from node; stdout carries the postmaster pid; the server logs to fd 3, which only the
 * server holds, so its end-of-file tells node the server is gone.
 *
 * INT/TERM/HUP are ignored (and so by `cat`, which inherits that): a Ctrl-C reaches the whole
 * process group, and the watchdog must outlive node to clean up after it. PostgreSQL installs its own
 * handlers, so it still shuts down on them; but a SIGINT that arrives before it has installed them
 * (a start abandoned early) is lost, hence SIGINT every 0.25 s until it exits, SIGKILL after 10 s.
 */
const WATCHDOG = `
dir=$1 bin=$2 port=$3
trap '' INT TERM HUP
"$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync </dev/null >&2 3>&- || { rm -rf "$dir"; exit 3; }
"$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c TimeZone=UTC </dev/null >&3 2>&3 &
pid=$!
exec 3>&-
echo "$pid"
cat >/dev/null
( trap 'kill -KILL "$s" 2>/dev/null; exit 0' USR1
  i=0
  while [ "$i" -lt 40 ]; do kill -INT "$pid" 2>/dev/null; sleep 0.25 & s=$!; wait "$s"; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
timer=$!
wait "$pid"
kill -USR1 "$timer" 2>/dev/null
rm -rf "$dir"
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

export async function startPostgres(
  major: number,
  options: StartPostgresOptions = {},
): Promise<PostgresEngine> {
  const { binDir } = await installPostgres(major, options);
  const user = isRoot() ? unprivilegedUser() : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'pgkeel-pg-'));
  let server: Server | undefined;
  try {
    if (user) {
      // the server's user must own its directory; 0711 lets us reach the socket even where root
      // lacks CAP_DAC_OVERRIDE
      await chown(dir, user.uid, user.gid);
      await chmod(dir, 0o711);
    }
    server = new Server(dir, binDir, await freePort(), user, options.log);
    await server.waitUntilReady(options.startTimeoutMs ?? 60_000);
    return await connect(server, options);
  } catch (e) {
    if (server) await server.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
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
    user: { uid: number; gid: number } | undefined,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    installExitHook();
    this.child = spawn('/bin/sh', ['-c', WATCHDOG, 'pgkeel-postgres', dir, binDir, String(port)], {
      cwd: dir,
      // no secrets of ours in a process environment that other `nobody` processes could read
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
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

  clientConfig(): pg.ClientConfig {
    return { host: this.dir, port: this.port, user: 'postgres', database: 'postgres' };
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

async function connect(server: Server, options: StartPostgresOptions): Promise<PostgresEngine> {
  const clients = new Set<pg.Client>();
  const open = async (): Promise<pg.Client> => {
    const client = new pg.Client(server.clientConfig());
    // a connection error (the server going away) is reported on the next query; unhandled, the
    // 'error' event would crash the process
    client.on('error', (e) => options.log?.(`connection error: ${e.message}`));
    await client.connect();
    clients.add(client);
    return client;
  };
  const main = await open();
  const info = (
    await main.query<{ num: string; version: string; pid: number }>(
      "select current_setting('server_version_num') as num, current_setting('server_version') as version, pg_backend_pid() as pid",
    )
  ).rows[0]!;
  const version = info.version.split(' ')[0]!;
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
    url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(server.dir)}&port=${server.port}`,
    query: (sql) => lastRows(main, sql),
    exec: async (sql) => {
      await main.query(sql);
    },
    backendPid: async () => info.pid,
    openObserver: async () => {
      const client = await open();
      return {
        query: (sql: string) => lastRows(client, sql),
        close: async () => {
          clients.delete(client);
          await client.end().catch(() => {});
        },
      };
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
