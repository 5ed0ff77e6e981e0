/**
 * Real PostgreSQL servers from npm: start, query, observe, and above all clean up, whether the
 * engine is closed, start-up fails, or the process that started it is interrupted or killed.
 * Linux only (the process checks read /proc). Run with `npx vitest run -c vitest.pg.config.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresEngine, startPostgres } from '../../src/trace/engines/postgres.js';
import { connectUrl } from '../../src/trace/engines/url.js';

const POSTGRES_TS = fileURLToPath(new URL('../../src/trace/engines/postgres.ts', import.meta.url));

/** ppid of a process, from /proc/<pid>/stat (the field after the parenthesised command name) */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** `pid` and every process below it. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** Processes whose command line mentions `text` (the server's directory). */
function mentioning(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text) && alive(Number(name))) {
        out.push(Number(name));
      }
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The watchdog (the postmaster's parent) and everything under it: what must disappear. */
function serverProcesses(postmaster: number): number[] {
  const watchdog = parentOf(postmaster);
  return watchdog === undefined ? [postmaster] : tree(watchdog);
}

async function expectGone(server: { pid: number; dir: string }, processes: number[]): Promise<void> {
  await waitFor('the server processes to exit', () => processes.every((p) => !alive(p)));
  await waitFor('the server directory to be removed', () => !existsSync(server.dir));
  expect(mentioning(server.dir)).toEqual([]);
}

describe.each([11, 18])('PostgreSQL %i', (major) => {
  let engine: PostgresEngine;
  beforeAll(async () => {
    engine = await startPostgres(major);
  });
  afterAll(() => engine?.close());

  it('runs scripts and queries in one session', async () => {
    expect(engine.name).toMatch(new RegExp(`^PostgreSQL ${major}\\.\\d+$`));
    expect(engine.majorVersion).toBe(major);
    expect(engine.canObserveConcurrently).toBe(true);
    expect(engine.rollbackOnly).toBe(false);
    await engine.exec('CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3);');
    expect(await engine.query('SELECT 1 AS a; SELECT count(*)::int AS n FROM t')).toEqual([{ n: 3 }]);
    expect(await engine.query('SELECT pg_backend_pid() AS pid')).toEqual([
      { pid: await engine.backendPid() },
    ]);
  });

  it('lets a second session watch the first one’s locks', async () => {
    const observer = await engine.openObserver!();
    try {
      await engine.exec('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;');
      const rows = await observer.query(
        `SELECT mode FROM pg_locks WHERE relation = 'public.t'::regclass AND pid = ${await engine.backendPid()}`,
      );
      expect(rows).toEqual([{ mode: 'AccessExclusiveLock' }]);
    } finally {
      await engine.exec('ROLLBACK');
      await observer.close();
    }
  });

  it('leaves nothing behind when closed', async () => {
    const own = await startPostgres(major);
    const processes = serverProcesses(own.pid);
    expect(processes.length).toBeGreaterThan(2);
    expect(mentioning(own.dir).length).toBeGreaterThan(0);
    await own.close();
    // close() resolves once everything is gone: no waiting here
    expect(processes.filter(alive)).toEqual([]);
    expect(existsSync(own.dir)).toBe(false);
    expect(mentioning(own.dir)).toEqual([]);
  });
});

describe('the user’s database (here: a server of ours, by URL)', () => {
  let server: PostgresEngine;
  beforeAll(async () => {
    server = await startPostgres(18);
  });
  afterAll(() => server?.close());

  // the server's URL carries its per-run password (role `pgkeel`)
  const urlWithPassword = () => server.url;
  const password = () => new URL(server.url).password;
  const exists = async (table: string) =>
    (await server.query(`SELECT to_regclass('public.${table}') IS NOT NULL AS e`))[0]!.e;

  it('commits nothing: refuses statements outside a transaction block and COMMIT', async () => {
    const db = await connectUrl(urlWithPassword());
    try {
      expect(db.rollbackOnly).toBe(true);
      expect(password().length).toBeGreaterThan(0);
      expect(db.name).not.toContain(password());
      expect(db.name).toMatch(/^postgresql:\/\/pgkeel@localhost\/postgres\?host=/);
      await expect(db.exec('CREATE TABLE outside ()')).rejects.toThrow(/outside a transaction block/);
      await db.exec('BEGIN');
      await db.exec('CREATE TABLE inside (x int); INSERT INTO inside VALUES (1);');
      expect(await db.query('SELECT count(*)::int AS n FROM inside')).toEqual([{ n: 1 }]);
      await expect(db.exec('COMMIT')).rejects.toThrow(/commits/);
      await expect(db.exec('INSERT INTO inside VALUES (2); END')).rejects.toThrow(/commits/);
      const observer = await db.openObserver!();
      await expect(observer.query('CREATE TABLE from_observer ()')).rejects.toThrow(/read-only/);
      await observer.close();
    } finally {
      await db.close();
    }
    expect(await exists('outside')).toBe(false);
    expect(await exists('inside')).toBe(false);
  });

  it('commits with allowCommit (a scratch database)', async () => {
    const db = await connectUrl(server.url, { allowCommit: true });
    try {
      expect(db.rollbackOnly).toBe(false);
      await db.exec('CREATE TABLE scratch ()');
    } finally {
      await db.close();
    }
    expect(await exists('scratch')).toBe(true);
  });
});

describe('cleanup when things go wrong', () => {
  /** A node process that starts PostgreSQL 18, prints where, and waits to be stopped. */
  async function serverInChild(detached: boolean): Promise<{
    child: ChildProcess;
    server: { pid: number; dir: string };
  }> {
    const code = `import { startPostgres } from ${JSON.stringify(POSTGRES_TS)};
const e = await startPostgres(18);
console.log(JSON.stringify({ pid: e.pid, dir: e.dir }));
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached,
    });
    const server = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (c) => reject(new Error(`child exited (${c}) before starting the server`)));
    });
    return { child, server };
  }

  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });

  it('Ctrl-C: SIGINT to the process group (what a terminal sends)', async () => {
    const { child, server } = await serverInChild(true);
    const processes = serverProcesses(server.pid);
    expect(alive(server.pid)).toBe(true);
    process.kill(-child.pid!, 'SIGINT');
    await exited(child);
    await expectGone(server, processes);
  });

  it('SIGINT to the node process alone', async () => {
    const { child, server } = await serverInChild(false);
    const processes = serverProcesses(server.pid);
    child.kill('SIGINT');
    await exited(child);
    await expectGone(server, processes);
  });

  it('SIGTERM and even SIGKILL of the node process', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const { child, server } = await serverInChild(false);
      const processes = serverProcesses(server.pid);
      child.kill(signal);
      await exited(child);
      await expectGone(server, processes);
    }
  });

  it('a server that ignores the shutdown request is killed', async () => {
    const engine = await startPostgres(18);
    const processes = serverProcesses(engine.pid);
    // a stopped process cannot act on SIGINT; SIGKILL still ends it
    process.kill(engine.pid, 'SIGSTOP');
    const t0 = Date.now();
    await engine.close();
    expect(Date.now() - t0).toBeGreaterThan(5_000);
    await expectGone(engine, processes);
  });

  it('a killed watchdog: close() stops the server itself', async () => {
    const engine = await startPostgres(18);
    const processes = serverProcesses(engine.pid);
    const watchdog = parentOf(engine.pid)!;
    expect(readFileSync(`/proc/${watchdog}/cmdline`, 'utf8')).toContain('pgkeel-postgres');
    process.kill(watchdog, 'SIGKILL');
    await waitFor('the watchdog to die', () => !alive(watchdog));
    expect(alive(engine.pid)).toBe(true);
    await engine.close();
    await expectGone(engine, processes);
  });

  it('a start that fails (here: times out) removes what it began', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'pgkeel-failing-start-'));
    // as root the server runs as nobody, who must be able to reach its directory
    await chmod(tmp, 0o755);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await expect(startPostgres(18, { startTimeoutMs: 1 })).rejects.toThrow(/did not start within/);
      expect(await readdir(tmp)).toEqual([]);
      expect(mentioning(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
