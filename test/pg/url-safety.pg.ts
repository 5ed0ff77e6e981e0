/**
 * `trace --database-url` must not harm the database it traces on: lock waits give up quickly (and
 * say who blocked them), Ctrl-C leaves no lock behind, statements whose effects a rollback does not
 * undo are not run, and a migration that cancels or ends pgkeel's own session fails as a statement.
 * A real PostgreSQL 18 from npm plays the user's database. Run with `npm run test:pg`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../src/cli/main.js';
import { type PostgresEngine, startPostgres } from '../../src/trace/engines/postgres.js';
import { type TracedStatement, traceFiles } from '../../src/trace/trace.js';

const MAIN_TS = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let server: PostgresEngine;
let dir: string;
const clients: pg.Client[] = [];

beforeAll(async () => {
  server = await startPostgres(18);
  dir = mkdtempSync(join(tmpdir(), 'pgkeel-url-safety-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
});

/** A session of "the application"; every statement it runs is bounded. */
async function session(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url, application_name: 'app' });
  await c.connect();
  await c.query("SET statement_timeout = '20s'");
  clients.push(c);
  return c;
}

function file(name: string, sql: string): string {
  const path = join(dir, name);
  writeFileSync(path, sql);
  return path;
}

async function trace(
  path: string,
  options: Parameters<typeof traceFiles>[1] = {},
): Promise<TracedStatement[]> {
  const report = await traceFiles([path], { engine: { kind: 'url', url: server.url }, cwd: dir, ...options });
  return report.files[0]!.statements;
}

/** Holds ACCESS SHARE on `table` in an open transaction, as a long-running reader would; ends by itself after `ms`. */
async function holdReadLock(
  table: string,
  ms: number,
): Promise<{ pid: number; release: () => Promise<void> }> {
  const holder = await session();
  const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  await holder.query('BEGIN');
  await holder.query(`SELECT count(*) FROM ${table}`);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await holder.query('ROLLBACK').catch(() => {});
  };
  // without pgkeel's lock_timeout, the trace (and the application behind it) waits until this
  setTimeout(() => void release(), ms).unref();
  return { pid, release };
}

const user = () => decodeURIComponent(new URL(server.url).username);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lock waits on the user’s database', () => {
  it('give up after the lock_timeout, so that the application queued behind waits no longer, and name the blocker', async () => {
    await server.exec('CREATE TABLE orders (id int)');
    const holder = await holdReadLock('orders', 8_000);
    const path = file('add-column.sql', 'ALTER TABLE orders ADD COLUMN note text;\n');
    const traced = trace(path);
    // the application's query arrives while the trace waits for ACCESS EXCLUSIVE
    await sleep(300);
    const app = await session();
    const t0 = performance.now();
    await app.query('SELECT count(*) FROM orders');
    const appWaited = performance.now() - t0;
    const [stmt] = await traced;
    await holder.release();
    // the default lock_timeout is 2 s; the application waits for what is left of it
    expect(appWaited).toBeLessThan(2_000 + 1_000);
    expect(stmt!.status).toBe('error');
    expect(stmt!.error).toMatch(/lock timeout: waited \d+(\.\d)? s for ACCESS EXCLUSIVE on public\.orders/);
    expect(stmt!.error).toContain(`blocked by pid ${holder.pid} (${user()}, application "app"`);
    expect(stmt!.error).toMatch(/idle in transaction for \d/);
    expect(stmt!.error).toContain("pgkeel's lock_timeout on this database, 2s: --lock-timeout");
    expect(stmt!.line).toBe(1);
  });

  it('keep the ceiling when the migration asks for a longer lock_timeout, and honour a shorter one', async () => {
    await server.exec('CREATE TABLE items (id int)');
    const holder = await holdReadLock('items', 8_000);
    const longer = file(
      'longer.sql',
      "SET lock_timeout = '10min';\nSELECT 1;\nALTER TABLE items ADD COLUMN a int;\n",
    );
    const t0 = performance.now();
    const statements = await trace(longer, {
      engine: { kind: 'url', url: server.url, lockTimeoutMs: 1_000 },
    });
    expect(performance.now() - t0).toBeLessThan(1_000 + 2_000);
    expect(statements[2]!.error).toContain('the migration asks for 10min, which pgkeel does not allow');
    const shorter = file('shorter.sql', "SET lock_timeout = '300ms';\nALTER TABLE items ADD COLUMN a int;\n");
    const statementsShorter = await trace(shorter);
    expect(statementsShorter[1]!.error).toContain("(the migration's lock_timeout, 300ms)");
    await holder.release();
  });

  it('are cancelled by the watcher when a DO block lifts lock_timeout where no SET of pgkeel reaches', async () => {
    await server.exec('CREATE TABLE lifted (id int)');
    const holder = await holdReadLock('lifted', 10_000);
    const path = file(
      'lifted.sql',
      "DO $$ BEGIN PERFORM set_config('lock_timeout', '0', true); ALTER TABLE lifted ADD COLUMN a int; END $$;\n",
    );
    const t0 = performance.now();
    const [stmt] = await trace(path, { engine: { kind: 'url', url: server.url, lockTimeoutMs: 1_000 } });
    expect(performance.now() - t0).toBeLessThan(1_000 + 1_000 + 2_000);
    expect(stmt!.status).toBe('error');
    expect(stmt!.error).toMatch(/waited .* for ACCESS EXCLUSIVE on public\.lifted; blocked by pid \d+/);
    await holder.release();
  });

  it('set lock_timeout and statement_timeout in every session pgkeel opens', async () => {
    const { connectUrl } = await import('../../src/trace/engines/url.js');
    const db = await connectUrl(server.url, { lockTimeoutMs: 1_500, statementTimeoutMs: 45_000 });
    try {
      await db.exec('BEGIN');
      expect(
        await db.query(
          "SELECT current_setting('lock_timeout') AS l, current_setting('statement_timeout') AS s",
        ),
      ).toEqual([{ l: '1500ms', s: '45s' }]);
      // a ROLLBACK of the trace's transaction does not lose them
      await db.exec('ROLLBACK');
      await db.exec('BEGIN');
      expect(await db.query("SELECT current_setting('lock_timeout') AS l")).toEqual([{ l: '1500ms' }]);
      const observer = await db.openObserver!();
      expect(await observer.query("SELECT current_setting('lock_timeout') AS l")).toEqual([{ l: '1500ms' }]);
      await observer.close();
    } finally {
      await db.close();
    }
  });
});

describe('statements that cancel or end pgkeel’s own session', () => {
  it('fail as statements, at their location, instead of crashing the trace', async () => {
    await server.exec('CREATE TABLE own (id int)');
    const tiny = file(
      'tiny.sql',
      "SET statement_timeout = '1ms';\nSELECT pg_sleep(0.05);\nALTER TABLE own ADD COLUMN a int;\n",
    );
    const statements = await trace(tiny);
    expect(statements.map((s) => s.status)).toEqual(['match', 'error', 'not-run']);
    expect(statements[1]!.error).toMatch(/statement timeout/);
    expect(statements[1]!.error).toContain("(the migration's statement_timeout, 1ms)");
    expect(statements[1]!.line).toBe(2);

    const kill = file(
      'kill.sql',
      'SELECT pg_terminate_backend(pg_backend_pid());\nALTER TABLE own ADD COLUMN b int;\n',
    );
    const killed = await trace(kill, { allowSideEffects: true });
    expect(killed.map((s) => s.status)).toEqual(['error', 'not-run']);
    expect(killed[0]!.error).toMatch(/terminating connection/);
    // without --allow-side-effects it is not run at all
    const refused = await trace(kill);
    expect(refused[0]!.status).toBe('not-traced');
    expect(refused[0]!.reason).toContain('pg_terminate_backend(…) ends a database session at once (line 1)');
  });
});

describe('side effects a rollback does not undo', () => {
  it('are not run on the user’s database, each reported with its location; --allow-side-effects runs them', async () => {
    await server.exec('CREATE SEQUENCE counter; CREATE TABLE people (id serial PRIMARY KEY, name text)');
    await server.exec("SELECT setval('counter', 41)");
    const sequences = async () =>
      (
        await server.query(
          'SELECT (SELECT last_value FROM counter)::int AS counter, (SELECT last_value FROM people_id_seq)::int AS people',
        )
      )[0];
    const before = await sequences();
    const path = file(
      'effects.sql',
      [
        "SELECT setval('counter', 1000);",
        "INSERT INTO people (name) VALUES ('x');",
        "INSERT INTO people (id, name) VALUES (7, 'y');",
        "DO $$ DECLARE n bigint; BEGIN n := nextval('counter'); END $$;",
        'CREATE SEQUENCE fresh;',
        "SELECT nextval('fresh');",
        "COPY (SELECT 1) TO '/tmp/pgkeel-should-not-exist';",
        'ALTER TABLE people ADD COLUMN note text;',
      ].join('\n'),
    );
    const statements = await trace(path);
    expect(statements.map((s) => s.status)).toEqual([
      'not-traced',
      'not-traced',
      'match',
      'not-traced',
      'match',
      'match',
      'not-traced',
      'match',
    ]);
    expect(statements[0]!.reason).toContain(
      "setval('counter') sets a sequence, which a rollback does not undo (line 1)",
    );
    expect(statements[1]!.reason).toContain('INSERT into people takes the default of id');
    expect(statements[3]!.reason).toContain('nextval(…) in the DO block advances a sequence');
    expect(statements[6]!.reason).toContain('COPY … TO a file writes it on the database server (line 7)');
    expect(await sequences()).toEqual(before);

    // pgkeel's own seeding would advance them too
    const seeded = await traceFiles([file('seed.sql', "UPDATE people SET name = 'z';\n")], {
      engine: { kind: 'url', url: server.url },
      cwd: dir,
      seedRows: 5,
    });
    expect(seeded.files[0]!.setup.problems).toContain(
      'public.people not seeded: its id would advance a sequence that the rollback does not undo (--allow-side-effects)',
    );
    expect(await sequences()).toEqual(before);

    const allowed = await trace(file('allowed.sql', "SELECT setval('counter', 1000);\n"), {
      allowSideEffects: true,
    });
    expect(allowed[0]!.status).toBe('match');
    // what "side effect" means: the rollback did not undo it
    expect((await sequences())!.counter).toBe(1000);
  });
});

describe('connection strings', () => {
  it('accepts libpq keyword/value pairs, quoted values included', async () => {
    const u = new URL(server.url);
    const password = decodeURIComponent(u.password);
    const conn = `host='${server.dir}' port=${server.port} dbname=postgres user=${u.username} password='${password.replace(/['\\]/g, '\\$&')}' application_name='pgkeel kv'`;
    const report = await traceFiles([file('kv.sql', 'SELECT 1;\n')], {
      engine: { kind: 'url', url: conn },
      cwd: dir,
    });
    expect(report.files[0]!.statements[0]!.status).toBe('match');
    expect(report.engine.name).toMatch(new RegExp(`^postgresql://${u.username}@/postgres\\?host=`));
    expect(JSON.stringify(report)).not.toContain(password);
    // a wrong password: the message names the server, never the password
    const wrong = conn.replace(/password='(?:[^'\\]|\\.)*'/, "password='not-it-42'");
    await expect(
      trace(file('kv2.sql', 'SELECT 1;\n'), { engine: { kind: 'url', url: wrong } }),
    ).rejects.toThrow(
      new RegExp(
        `^cannot start the trace engine: cannot connect to postgresql://${u.username}@/postgres\\?host=[^ ]*: password authentication failed`,
      ),
    );
    await expect(
      trace(file('kv2.sql', 'SELECT 1;\n'), { engine: { kind: 'url', url: wrong } }),
    ).rejects.not.toThrow(/not-it-42/);
  });

  it('takes `--database-url a.sql` as the path, and the URL from DATABASE_URL', async () => {
    await server.exec('CREATE TABLE cli_t (id int)');
    const path = file('cli.sql', 'ALTER TABLE cli_t ADD COLUMN a int;\n');
    let out = '';
    let err = '';
    const io: CliIo = {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      isTTY: false,
      cwd: dir,
      env: { DATABASE_URL: server.url },
    };
    const code = await main(['trace', '--database-url', path, '--format', 'json'], io);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out).files[0].statements[0].status).toBe('match');
  });
});

describe('Ctrl-C during a trace on the user’s database', () => {
  it('cancels the running statement, rolls back, leaves no lock, and exits 130', async () => {
    await server.exec('CREATE TABLE interrupted (id int)');
    const path = file('slow.sql', 'ALTER TABLE interrupted ADD COLUMN a int;\nSELECT pg_sleep(20);\n');
    const code = `import { main } from ${JSON.stringify(MAIN_TS)};
process.exitCode = await main(JSON.parse(process.env.PGKEEL_ARGS));`;
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PGKEEL_ARGS: JSON.stringify(['trace', path, `--database-url=${server.url}`]) },
      },
    );
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      const watcher = await session();
      const tracePid = async () =>
        (
          await watcher.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgkeel trace' AND query LIKE 'SELECT pg_sleep%' AND state = 'active'",
          )
        ).rows[0]?.pid as number | undefined;
      let pid: number | undefined;
      for (let i = 0; i < 300 && pid === undefined; i++) {
        pid = await tracePid();
        if (pid === undefined) await sleep(50);
      }
      expect(pid, `the trace did not reach pg_sleep; stderr: ${stderr}`).toBeDefined();
      const locked = async () =>
        Number(
          (
            await watcher.query(
              "SELECT count(*) AS n FROM pg_locks WHERE pid = $1 AND locktype = 'relation'",
              [pid],
            )
          ).rows[0].n,
        );
      expect(await locked()).toBeGreaterThan(0);
      child.kill('SIGINT');
      const deadline = Date.now() + 2_000;
      let state: string | undefined = 'active';
      let locks = 1;
      while (Date.now() < deadline) {
        state = (await watcher.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]
          ?.state;
        locks = await locked();
        if (locks === 0 && (state === undefined || state === 'idle')) break;
        await sleep(50);
      }
      expect(locks).toBe(0);
      expect(state === undefined || state === 'idle').toBe(true);
      const status = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      expect(status).toBe(130);
      expect(stderr).toContain('interrupted');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
