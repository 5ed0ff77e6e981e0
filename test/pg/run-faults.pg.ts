/**
 * `pgkeel run` under faults, on a real Postgres server (loopback): the runner killed with SIGKILL
 * at 20 seeded points across a migration set, and its connection terminated mid-step. Each time a
 * rerun completes, the schema equals that of an undisturbed run, no INVALID index is left, every
 * step is recorded done exactly once and nothing is left running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresEngine, startPostgres } from '../../src/trace/engines/postgres.js';

const BIN = fileURLToPath(new URL('../../bin/pgkeel.js', import.meta.url));

const MIGRATIONS: Record<string, string> = {
  '001_init.sql': `CREATE TABLE users (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount int, note text);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, g, NULL FROM generate_series(1, 50000) g;
`,
  '002_fk.sql': `ALTER TABLE orders ADD COLUMN status text;
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
`,
  '003_indexes.sql': `CREATE INDEX CONCURRENTLY orders_user ON orders (user_id);
CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);
`,
  '004_unique.sql': `ALTER TABLE users ADD CONSTRAINT users_email_present CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_present;
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
`,
  // a backfill that commits batch by batch: interrupted, it goes on where it stopped
  '005_backfill.sql': `DO $$
DECLARE lo bigint := 0;
BEGIN
  WHILE lo <= 50000 LOOP
    UPDATE orders SET note = 'n' || id WHERE note IS NULL AND id >= lo AND id < lo + 5000;
    COMMIT;
    lo := lo + 5000;
  END LOOP;
END
$$;
`,
};

/** A deterministic PRNG (mulberry32): the same seed, the same kill points. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let server: PostgresEngine;
let admin: pg.Client;
let dir: string;

beforeAll(async () => {
  server = await startPostgres(Number(process.env.PG_FAULT_VERSION ?? 18));
  admin = new pg.Client({ connectionString: server.url });
  // a crash test ends this session too: its error is expected there
  admin.on('error', () => {});
  await admin.connect();
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-faults-'));
  await mkdir(join(dir, 'm'));
  await writeFile(join(dir, 'pgkeel.config.json'), JSON.stringify({ runner: 'psql', applied: [] }));
  for (const [name, sql] of Object.entries(MIGRATIONS)) await writeFile(join(dir, 'm', name), sql);
});
afterAll(async () => {
  await admin?.end();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The runner as a child process; `killAfterSteps`: SIGKILL once that many steps printed ✓, after `delayMs`. */
function runner(
  killAfterSteps?: number,
  delayMs = 0,
): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [BIN, 'run', 'm', '--lock-wait', '2min'], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: server.url, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let steps = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const now = (out.match(/✓/g) ?? []).length;
    if (killAfterSteps !== undefined && steps < killAfterSteps && now >= killAfterSteps)
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    steps = now;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  // bounded: a runner that hangs fails the test instead of hanging it
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
  return { child, done };
}

async function reset(): Promise<void> {
  // the sessions a killed runner left finish or are ended first
  await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pgkeel run%'",
  );
  await admin.query(
    'DROP SCHEMA IF EXISTS pgkeel CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;',
  );
}

/** The schema as the catalogs describe it, and what the history recorded. */
async function snapshot() {
  const q = async (sql: string) =>
    (await admin.query(sql)).rows.map((r) => Object.values(r).join(' | ')).sort();
  return {
    columns: await q(
      "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
    ),
    constraints: await q(
      "SELECT conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    ),
    indexes: await q(
      "SELECT indexrelid::regclass, pg_get_indexdef(indexrelid), indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace",
    ),
    filled: (await admin.query('SELECT count(*)::int AS n FROM orders WHERE note IS NULL')).rows[0].n,
    migrations: await q('SELECT name, status FROM pgkeel.migrations'),
    steps: await q('SELECT migration, unit, step, status FROM pgkeel.steps'),
  };
}

/** Runs again until the runner exits 0 (a killed runner's session may hold the lock a little longer). */
async function rerun(): Promise<string> {
  let last = '';
  for (let i = 0; i < 3; i++) {
    const { code, out } = await runner().done;
    last = out;
    if (code === 0) return out;
  }
  throw new Error(`rerun did not complete:\n${last}`);
}

describe('pgkeel run under faults', () => {
  let reference: Awaited<ReturnType<typeof snapshot>>;
  let totalSteps = 0;

  it('an undisturbed run, for reference', async () => {
    await reset();
    const { code, out } = await runner().done;
    expect(out).toContain('applied 5 migrations');
    expect(code).toBe(0);
    totalSteps = (out.match(/✓/g) ?? []).length;
    reference = await snapshot();
    expect(reference.filled).toBe(0);
    expect(reference.steps.every((s) => s.endsWith('done'))).toBe(true);
  });

  // 20 seeded kill points: after the k-th step, k spread over the set, plus a seeded delay
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))(
    'SIGKILL at seeded point %i, then a rerun completes',
    async (seed) => {
      const random = prng(seed);
      const after = 1 + Math.floor(random() * (totalSteps - 1));
      const delay = Math.floor(random() * 10);
      await reset();
      const killed = await runner(after, delay).done;
      // it was killed before it could finish: the history says so
      expect(killed.code).toBeNull();
      const applied = await admin.query(
        "SELECT count(*)::int AS n FROM pgkeel.migrations WHERE status = 'applied'",
      );
      expect(applied.rows[0].n).toBeLessThan(5);
      await rerun();
      const now = await snapshot();
      expect(now).toEqual(reference);
    },
  );

  it('a server crash mid-build (a backend killed: Postgres restarts every session and recovers), then a rerun completes', async () => {
    await reset();
    const { done } = runner();
    for (let i = 0; i < 400; i++) {
      const r = await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgkeel run' AND state = 'active' AND query ILIKE '%CONCURRENTLY%'",
      );
      if (r.rows.length > 0) {
        // SIGKILL of a backend: the postmaster ends every session, recovers from the WAL and restarts
        process.kill(r.rows[0].pid, 'SIGKILL');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = await done;
    expect(first.code).not.toBe(0);
    // the test's own session went with the others
    await admin.end().catch(() => {});
    for (let i = 0; ; i++) {
      admin = new pg.Client({ connectionString: server.url });
      admin.on('error', () => {});
      try {
        await admin.connect();
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await rerun();
    expect(await snapshot()).toEqual(reference);
  });

  it('the runner’s connection terminated mid-step, then a rerun completes', async () => {
    await reset();
    const { child, done } = runner();
    // the moment the runner works on the concurrent builds, its session is ended from outside
    for (let i = 0; i < 400; i++) {
      const r = await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgkeel run' AND state = 'active' AND query ILIKE '%CONCURRENTLY%'",
      );
      if (r.rows.length > 0) {
        await admin.query('SELECT pg_terminate_backend($1)', [r.rows[0].pid]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = await done;
    expect(child.killed).toBe(false);
    expect(first.code).not.toBe(0);
    await rerun();
    expect(await snapshot()).toEqual(reference);
  });
});
