/**
 * `npm run bench:run`: what an application sees while migrations run on its busy table, applied
 * naively and with `pgkeel fix` + `pgkeel run`, on a real Postgres (embedded, loopback only).
 *
 *   npm run bench:run                       PG 16 and 18, 1,000,000 rows
 *   BENCH_RUN_PG=18 BENCH_RUN_ROWS=200000 npm run bench:run
 *
 * For each arm: a fresh table of BENCH_RUN_ROWS rows; CLIENTS sessions doing point reads and writes
 * at a fixed rate (bounded in count and time); a transaction that reads the table and stays open for
 * HOLD_MS when the migrations start (the lock queue's trigger); then the migration set. Prints the
 * application's p50 / p99 / max latency and errors during the migrations, and their duration.
 */

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres } from '../src/trace/engines/postgres.js';

const BIN = fileURLToPath(new URL('../bin/pgkeel.js', import.meta.url));
const ROWS = Number(process.env.BENCH_RUN_ROWS ?? 1_000_000);
const VERSIONS = (process.env.BENCH_RUN_PG ?? '16,18').split(',').map(Number);
const CLIENTS = 8;
/** one operation per client every INTERVAL_MS: 8 clients ≈ 800 operations a second */
const INTERVAL_MS = 10;
const HOLD_MS = 3_000;
/** the load never runs longer than this, whatever happens */
const MAX_LOAD_MS = 15 * 60_000;

const MIGRATIONS: Record<string, string> = {
  '001_unique.sql': 'ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);\n',
  '002_check.sql': 'ALTER TABLE accounts ADD CONSTRAINT accounts_balance_check CHECK (balance >= 0);\n',
  '003_fk.sql':
    'ALTER TABLE accounts ADD CONSTRAINT accounts_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n',
  '004_not_null.sql': 'ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n',
  '005_index.sql': 'CREATE INDEX accounts_user ON accounts (user_id);\n',
  '006_column.sql': 'ALTER TABLE accounts ADD COLUMN flag boolean DEFAULT false;\n',
  '007_backfill.sql': "UPDATE accounts SET note = 'migrated' WHERE note IS NULL;\n",
};

interface Load {
  latencies: number[];
  errors: number;
}

async function setup(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('DROP SCHEMA IF EXISTS pgkeel CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  await c.query('CREATE TABLE users (id bigint PRIMARY KEY)');
  await c.query('INSERT INTO users SELECT g FROM generate_series(1, 10000) g');
  await c.query(
    'CREATE TABLE accounts (id bigint PRIMARY KEY, email text, balance int NOT NULL DEFAULT 0, user_id bigint, note text)',
  );
  await c.query(
    `INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g % 1000, 1 + g % 10000, NULL FROM generate_series(1, ${ROWS}) g`,
  );
  await c.query('VACUUM ANALYZE accounts');
  await c.end();
}

/** CLIENTS sessions, each a point read or write every INTERVAL_MS until `stop()`. */
function startLoad(url: string): { stop: () => Promise<Load> } {
  const load: Load = { latencies: [], errors: 0 };
  let running = true;
  const started = Date.now();
  const workers = Array.from({ length: CLIENTS }, async (_, w) => {
    const c = new pg.Client({ connectionString: url, application_name: 'bench app' });
    c.on('error', () => {});
    await c.connect();
    for (let i = 0; running && Date.now() - started < MAX_LOAD_MS; i++) {
      const id = 1 + Math.floor(Math.random() * ROWS);
      const t0 = performance.now();
      try {
        if ((i + w) % 2 === 0) await c.query('SELECT balance FROM accounts WHERE id = $1', [id]);
        else await c.query('UPDATE accounts SET balance = balance + 1 WHERE id = $1', [id]);
      } catch {
        load.errors++;
      }
      const ms = performance.now() - t0;
      load.latencies.push(ms);
      if (ms < INTERVAL_MS) await new Promise((r) => setTimeout(r, INTERVAL_MS - ms));
    }
    await c.end();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return load;
    },
  };
}

/** A session that reads the table and keeps its transaction open for HOLD_MS. */
async function holdReader(url: string): Promise<Promise<void>> {
  const c = new pg.Client({ connectionString: url, application_name: 'bench long transaction' });
  await c.connect();
  await c.query('BEGIN');
  await c.query('SELECT count(*) FROM accounts WHERE id < 10');
  return (async () => {
    await new Promise((r) => setTimeout(r, HOLD_MS));
    await c.query('COMMIT');
    await c.end();
  })();
}

/** The files as written, each sent as one query (what a naive runner does). */
async function naive(url: string, dir: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const c = new pg.Client({ connectionString: url, application_name: 'naive runner' });
  await c.connect();
  for (const name of Object.keys(MIGRATIONS).sort()) await c.query(await readFile(join(dir, name), 'utf8'));
  await c.end();
}

function cli(args: string[], cwd: string, url: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, DATABASE_URL: url },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function arm(label: string, url: string, apply: () => Promise<unknown>) {
  await setup(url);
  const load = startLoad(url);
  await new Promise((r) => setTimeout(r, 1_000));
  const released = await holdReader(url);
  const t0 = performance.now();
  let failed: string | undefined;
  try {
    await apply();
  } catch (e) {
    failed = (e as Error).message;
  }
  const duration = performance.now() - t0;
  await released;
  const result = await load.stop();
  const sorted = [...result.latencies].sort((a, b) => a - b);
  return {
    label,
    migrationSeconds: Math.round(duration / 100) / 10,
    operations: sorted.length,
    errors: result.errors,
    p50: Math.round(percentile(sorted, 50) * 10) / 10,
    p99: Math.round(percentile(sorted, 99) * 10) / 10,
    max: Math.round((sorted.at(-1) ?? 0) * 10) / 10,
    ...(failed ? { failed } : {}),
  };
}

async function main(): Promise<void> {
  const rows: Awaited<ReturnType<typeof arm>>[] = [];
  for (const major of VERSIONS) {
    const server = await startPostgres(major, { superuser: true });
    const dir = await mkdtemp(join(tmpdir(), 'pgkeel-bench-run-'));
    try {
      await mkdir(join(dir, 'm'));
      for (const [name, sql] of Object.entries(MIGRATIONS)) await writeFile(join(dir, 'm', name), sql);
      await writeFile(
        join(dir, 'pgkeel.config.json'),
        JSON.stringify({ runner: 'psql', applied: [], pgVersion: major }),
      );
      rows.push({ ...(await arm(`PG ${major} naive`, server.url, () => naive(server.url, join(dir, 'm')))) });
      rows.push({
        ...(await arm(`PG ${major} pgkeel fix + run`, server.url, async () => {
          const fixed = await cli(['fix', '--unsafe', 'm'], dir, server.url);
          if (fixed !== 0) throw new Error(`pgkeel fix exited ${fixed}`);
          const ran = await cli(['run', 'm'], dir, server.url);
          if (ran !== 0) throw new Error(`pgkeel run exited ${ran}`);
        })),
      });
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(
    `\n${ROWS.toLocaleString('en-US')} rows, ${CLIENTS} clients (~${Math.round((CLIENTS * 1000) / INTERVAL_MS)} ops/s), a transaction holding ACCESS SHARE for ${HOLD_MS / 1000} s as the migrations start\n`,
  );
  console.log('arm                        migrations  app ops  errors  p50 ms  p99 ms  max ms');
  for (const r of rows)
    console.log(
      `${r.label.padEnd(26)} ${`${r.migrationSeconds} s`.padStart(10)} ${String(r.operations).padStart(8)} ${String(r.errors).padStart(7)} ${String(r.p50).padStart(7)} ${String(r.p99).padStart(7)} ${String(r.max).padStart(7)}${r.failed ? `  failed: ${r.failed}` : ''}`,
    );
}

await main();
