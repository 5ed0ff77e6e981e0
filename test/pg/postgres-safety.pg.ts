/**
 * The throwaway PostgreSQL server (`trace --pg N`) must not harm the machine: no server outlives
 * pgkeel however it dies (issue 9 #2), the traced SQL gets no shell and no host files (#3), other
 * local users cannot use the server (#6). Linux only (process checks read /proc).
 * Run with `npx vitest run -c vitest.pg.config.ts test/pg/postgres-safety.pg.ts`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unprivilegedUser } from '../../src/trace/engines/binaries.js';
import { isRoot } from '../../src/trace/engines/cache.js';
import { type PostgresEngine, startPostgres } from '../../src/trace/engines/postgres.js';
import { traceSql } from '../../src/trace/trace.js';

const CLI_TS = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Live processes whose command line mentions `text`. */
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A private TMPDIR: every server directory in it is one of this test's. 1777 like /tmp, for `nobody`. */
async function privateTmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgkeel-safety-'));
  await chmod(dir, 0o1777);
  return dir;
}

/** Runs `fn` with os.tmpdir() pointing at `dir` (startPostgres makes its directory there). */
async function inTmp<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

describe('no server outlives pgkeel (#2)', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pgkeel-safety-work-'));
    // long enough to still be running when "ready" is the kill point
    writeFileSync(join(work, 'slow.sql'), 'CREATE TABLE t (x int);\nSELECT pg_sleep(20);\n');
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  /** `pgkeel trace slow.sql --pg 18` in a child with its own TMPDIR. */
  function traceInChild(tmp: string): ChildProcess {
    const code = `import { main } from ${JSON.stringify(CLI_TS)};
process.exitCode = await main(['trace', ${JSON.stringify(join(work, 'slow.sql'))}, '--pg', '18']);`;
    // from the repository, where `--import tsx` resolves
    return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  }

  const serverDirs = (tmp: string) => readdirSync(tmp).filter((n) => n.startsWith('pgkeel-pg-'));
  const ready = (tmp: string) =>
    serverDirs(tmp).some((d) => {
      try {
        return readFileSync(join(tmp, d, 'data', 'postmaster.pid'), 'utf8').includes('ready');
      } catch {
        return false;
      }
    });

  type Point = { label: string; after: (tmp: string) => Promise<void> };
  /** kill points: relative to the moment the server directory appears, and once the server is ready */
  const points: Point[] = [
    ...[0, 100, 500, 1000].map((ms) => ({
      label: `${ms} ms into start-up`,
      after: async (tmp: string) => {
        await waitFor('the server directory', () => serverDirs(tmp).length > 0, 30_000);
        await sleep(ms);
      },
    })),
    { label: 'once ready', after: (tmp: string) => waitFor('the server', () => ready(tmp), 30_000) },
  ];

  it.each(points)('SIGINT, SIGTERM or SIGKILL $label: nothing is left', async (point) => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const;
    const runs = await Promise.all(signals.map(async (signal) => ({ signal, tmp: await privateTmp() })));
    try {
      await Promise.all(
        runs.map(async ({ signal, tmp }) => {
          const child = traceInChild(tmp);
          try {
            await point.after(tmp);
          } finally {
            child.kill(signal);
          }
          await exited(child);
        }),
      );
      for (const { signal, tmp } of runs) {
        // bounded: the watchdog's shutdown escalates to SIGKILL after 10 s
        await waitFor(`no server process after ${signal}`, () => mentioning(tmp).length === 0, 20_000);
        // SIGKILL in the instant between creating the directory and spawning the watchdog leaves
        // only the directory, naming its dead owner, nothing started in it: the next start removes it
        // (SIGINT and SIGTERM wait for that instant to pass)
        const left = serverDirs(tmp);
        if (left.length > 0) {
          expect(signal).toBe('SIGKILL');
          for (const d of left) expect(['pwfile']).toEqual(expect.arrayContaining(readdirSync(join(tmp, d))));
          await inTmp(tmp, async () => (await startPostgres(18)).close());
        }
        await waitFor(
          `the directory to be removed after ${signal}`,
          () => serverDirs(tmp).length === 0,
          5_000,
        );
      }
    } finally {
      for (const { tmp } of runs) await rm(tmp, { recursive: true, force: true });
    }
  });

  it('a server orphaned with its watchdog is stopped and removed by the next start; nothing else is', async () => {
    const tmp = await privateTmp();
    const decoy = spawn('sleep', ['60'], { stdio: 'ignore' });
    let child: ChildProcess | undefined;
    try {
      // an orphan: pgkeel and its watchdog both SIGKILLed (nothing of ours ran after that)
      const code = `import { startPostgres } from ${JSON.stringify(fileURLToPath(new URL('../../src/trace/engines/postgres.ts', import.meta.url)))};
const e = await startPostgres(18);
console.log(JSON.stringify({ pid: e.pid, dir: e.dir }));
setInterval(() => {}, 1000);`;
      const starter = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child = starter;
      const orphan = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
        let out = '';
        starter.stdout!.on('data', (b: Buffer) => {
          out += b.toString();
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line));
        });
        starter.once('exit', (c) => reject(new Error(`child exited (${c}) before starting the server`)));
      });
      const watchdog = parentOf(orphan.pid)!;
      expect(readFileSync(`/proc/${watchdog}/cmdline`, 'utf8')).toContain('pgkeel-postgres');
      process.kill(watchdog, 'SIGKILL');
      starter.kill('SIGKILL');
      await exited(starter);
      await sleep(500);
      expect(alive(orphan.pid)).toBe(true);

      // server directories name their owner: pgkeel-pg-<pid>.<start time, 0: unknown>-…, base 36
      const ownedBy = (pid: number, what: string) => join(tmp, `pgkeel-pg-${pid.toString(36)}.0-${what}`);
      // the directory of a live pgkeel (this test process): kept
      const live = ownedBy(process.pid, 'live');
      mkdirSync(live);
      // a dead owner whose postmaster.pid names a process that is no server of that directory:
      // the directory goes, the process is not signalled
      const dead = spawn('true');
      await exited(dead);
      const forged = ownedBy(dead.pid!, 'forged');
      mkdirSync(join(forged, 'data'), { recursive: true });
      writeFileSync(join(forged, 'data', 'postmaster.pid'), `${decoy.pid}\n`);
      // someone else's directory (as root: another user's): not ours to touch
      let foreign: string | undefined;
      if (isRoot()) {
        foreign = ownedBy(dead.pid!, 'foreign');
        mkdirSync(foreign);
        await chown(foreign, 1, 1);
      }
      // an older pgkeel's directory (no owner in its name), quiet for a minute only: kept for now
      const recent = join(tmp, 'pgkeel-pg-AbCdEf');
      mkdirSync(recent);

      const fresh = await inTmp(tmp, () => startPostgres(18));
      await fresh.close();
      await waitFor('the orphaned server to exit', () => !alive(orphan.pid), 10_000);
      expect(existsSync(orphan.dir)).toBe(false);
      expect(mentioning(orphan.dir)).toEqual([]);
      expect(existsSync(forged)).toBe(false);
      expect(alive(decoy.pid!)).toBe(true);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(recent)).toBe(true);
      if (foreign) expect(existsSync(foreign)).toBe(true);
    } finally {
      child?.kill('SIGKILL');
      decoy.kill('SIGKILL');
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe.each([11, 18])('PostgreSQL %i: the traced SQL is no superuser (#3)', (major) => {
  let engine: PostgresEngine;
  const mark = join(tmpdir(), `pgkeel-escape-${process.pid}-${major}-`);
  beforeAll(async () => {
    engine = await startPostgres(major);
  });
  afterAll(async () => {
    await engine?.close();
    for (const n of readdirSync(tmpdir()).filter((f) => join(tmpdir(), f).startsWith(mark)))
      await rm(join(tmpdir(), n), { force: true });
  });

  it('runs as a role that owns the database, not as a superuser', async () => {
    expect(
      await engine.query(
        `SELECT current_user AS u, r.rolsuper AS su, d.datdba = r.oid AS owner
           FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
      ),
    ).toEqual([{ u: 'pgkeel', su: false, owner: true }]);
  });

  it('what migrations do works; programs, host files and untrusted extensions need superuser', async () => {
    const escapes = [
      `COPY (SELECT 1) TO PROGRAM 'touch ${mark}program'`,
      `COPY (SELECT 1) TO '${mark}file'`,
      `DO $$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch ${mark}do'; END $$`,
      `DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO ''${mark}do-file'''; END $$`,
      `SELECT escape()`,
      `SELECT pg_read_file('/etc/hostname')`,
      `SELECT lo_export(lo_from_bytea(0, 'x'), '${mark}lo')`,
      'CREATE EXTENSION file_fdw',
    ];
    const setup = [
      'CREATE TABLE t (id int PRIMARY KEY, v text)',
      `CREATE TYPE mood AS ENUM ('ok', 'meh')`,
      'CREATE SCHEMA app',
      `CREATE FUNCTION touch_v() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.v := 'x'; RETURN NEW; END $$`,
      'CREATE TRIGGER t_v BEFORE INSERT ON t FOR EACH ROW EXECUTE PROCEDURE touch_v()',
      `CREATE FUNCTION escape() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch ${mark}function'; END $$`,
      // trusted since PG 13: a database owner may create it
      ...(major >= 13 ? ['CREATE EXTENSION pgcrypto'] : []),
      'ALTER TABLE t ADD COLUMN m mood',
    ];
    const traced = await traceSql(setup.map((s) => `${s};\n`).join(''), { engine });
    for (const s of traced.statements) expect(s.status, `${s.sql}: ${s.error}`).toBe('match');
    expect(traced.statements).toHaveLength(setup.length);
    // each on its own: the trace stops at a file's first error
    for (const attempt of escapes) {
      const [s, ...more] = (await traceSql(`${attempt};\n`, { engine })).statements;
      expect(more).toEqual([]);
      expect(s?.status, attempt).toBe('error');
      expect(s?.error, attempt).toMatch(
        /^needs superuser: not traced as superuser on the throwaway server \(/,
      );
    }
    const left = readdirSync(tmpdir()).filter((f) => join(tmpdir(), f).startsWith(mark));
    expect(left).toEqual([]);
  });
});

describe('only pgkeel can use the server (#6)', () => {
  let engine: PostgresEngine;
  beforeAll(async () => {
    engine = await startPostgres(18);
  });
  afterAll(() => engine?.close());

  const socket = () => join(engine.dir, `.s.PGSQL.${engine.port}`);

  it('no TCP; the socket directory is the server user’s alone', async () => {
    expect(await engine.query('SHOW listen_addresses')).toEqual([{ listen_addresses: '' }]);
    const st = statSync(engine.dir);
    const user = isRoot() ? unprivilegedUser() : { uid: process.getuid!() };
    expect(st.uid).toBe(user.uid);
    // 0710 (group: root's own) only where root cannot bypass directory modes
    expect([0o700, 0o710]).toContain(st.mode & 0o7777);
  });

  it('refuses a connection without the run’s password', async () => {
    for (const password of [undefined, 'wrong']) {
      for (const user of ['postgres', 'pgkeel']) {
        const client = new pg.Client({
          host: engine.dir,
          port: engine.port,
          user,
          database: 'postgres',
          ...(password === undefined ? {} : { password }),
        });
        client.on('error', () => {});
        await expect(client.connect()).rejects.toThrow(/password/);
        await client.end().catch(() => {});
      }
    }
    expect(new URL(engine.url).password.length).toBeGreaterThanOrEqual(32);
  });

  it('another local user cannot even reach the socket', async () => {
    // as root: a process of another user (daemon, uid 1); otherwise this process is the server's user
    const uid = isRoot() ? 1 : undefined;
    const code = `require('net').connect(${JSON.stringify(socket())}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
    const out = execFileSync(process.execPath, ['-e', code], {
      encoding: 'utf8',
      cwd: '/',
      ...(uid === undefined ? {} : { uid, gid: 1 }),
    }).trim();
    expect(out).toBe(uid === undefined ? 'connected' : 'EACCES');
  });
});
