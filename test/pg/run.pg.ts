/**
 * `pgkeel run` and `pgkeel status` against a real Postgres server (loopback, from npm): applying,
 * resuming, retrying a lock with a budget and naming who blocks it, INVALID index recovery, the
 * one-runner lock, the gate, and never printing the password.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SUPPORTED_PG_VERSIONS } from '../../src/config/types.js';
import { type PostgresEngine, startPostgres } from '../../src/trace/engines/postgres.js';
import { runCli } from '../run-cli.js';

/** every supported major by default; PG_RUN_VERSIONS=11,18 for a quicker run */
const VERSIONS = process.env.PG_RUN_VERSIONS
  ? process.env.PG_RUN_VERSIONS.split(',').map(Number)
  : [...SUPPORTED_PG_VERSIONS];

describe.each(VERSIONS)('PostgreSQL %i', (major) => {
  let server: PostgresEngine;
  let dir: string;
  let admin: pg.Client;

  beforeAll(async () => {
    server = await startPostgres(major);
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.close();
  });

  const INIT = `CREATE TABLE users (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount int);
INSERT INTO users SELECT g FROM generate_series(1, 100) g;
INSERT INTO orders SELECT g, 1 + g % 100, g FROM generate_series(1, 1000) g;
`;

  beforeEach(async () => {
    await admin.query(
      'DROP SCHEMA IF EXISTS pgkeel CASCADE; DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;',
    );
    dir = await mkdtemp(join(tmpdir(), 'pgkeel-run-'));
    await mkdir(join(dir, 'm'));
    await writeFile(join(dir, 'pgkeel.config.json'), JSON.stringify({ runner: 'psql', applied: [] }));
    await writeFile(join(dir, 'm', '001_init.sql'), INIT);
    return async () => rm(dir, { recursive: true, force: true });
  });

  /** The rows of the tool's own history table, as short strings. */
  async function toolHistory(runner: string): Promise<string[]> {
    const q = async (sql: string) => (await admin.query(sql)).rows.map((r) => Object.values(r).join(' '));
    switch (runner) {
      case 'goose':
        return q('SELECT version_id, is_applied FROM goose_db_version ORDER BY id');
      case 'dbmate':
        return q('SELECT version FROM schema_migrations ORDER BY version');
      case 'golang-migrate':
        return q('SELECT version, dirty FROM schema_migrations');
      case 'prisma':
        return q(
          'SELECT migration_name, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
        );
      case 'drizzle':
        return q('SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY id');
      default:
        return [];
    }
  }

  const run = (args: string[]) => runCli(args, { cwd: dir, env: { DATABASE_URL: server.url } });
  const write = (name: string, sql: string) => writeFile(join(dir, 'm', name), sql);
  const invalidIndexes = async () =>
    (
      await admin.query('SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid')
    ).rows.map((r) => r.name);

  describe('pgkeel run', () => {
    it('applies pending migrations step by step, once; --dry-run and status read only', async () => {
      await write(
        '002_fk.sql',
        'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCREATE INDEX CONCURRENTLY orders_user ON orders (user_id);\n',
      );
      const dry = await run(['run', '--dry-run', 'm']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('002_fk.sql: pending');
      expect(dry.stdout).toMatch(/outside a transaction \(Postgres requires it\); long/);
      expect(dry.stdout).toContain('locks SHARE UPDATE EXCLUSIVE on orders');
      // a dry run creates nothing, not even the history
      expect((await admin.query("SELECT to_regclass('pgkeel.migrations') AS t")).rows[0].t).toBeNull();

      const first = await run(['run', 'm']);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('applied 2 migrations');
      const again = await run(['run', 'm']);
      expect(again.stdout).toContain('nothing to apply: up to date');
      const status = await run(['status', 'm']);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/002_fk\.sql {2}applied /);
      const steps = await admin.query("SELECT count(*)::int AS n FROM pgkeel.steps WHERE status = 'done'");
      expect(steps.rows[0].n).toBe(7);
      const fk = await admin.query("SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_fk'");
      expect(fk.rows[0].convalidated).toBe(true);
    });

    it('retries a lock that is not granted, with short timeouts, and names who blocked it', async () => {
      await run(['run', 'm']);
      await write('002_col.sql', 'ALTER TABLE orders ADD COLUMN note text;\n');
      const blocker = new pg.Client({ connectionString: server.url });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT count(*) FROM orders');
      const pid = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const released = new Promise<void>((resolve) =>
        setTimeout(async () => {
          await blocker.query('COMMIT');
          await blocker.end();
          resolve();
        }, 1_500),
      );
      const r = await run(['run', '--lock-timeout', '100ms', 'm']);
      await released;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/lock not granted \(attempt 1\); retrying in \d+ ms; blocked by pid \d+/);
      expect(r.stdout).toContain(`blocked by pid ${pid}`);
      expect(r.stdout).toContain('applied 1 migration');
    });

    it('fails cleanly when the retries are spent, says who blocks, and resumes on the next run', async () => {
      await run(['run', 'm']);
      await write('002_col.sql', 'ALTER TABLE orders ADD COLUMN note text;\n');
      const blocker = new pg.Client({ connectionString: server.url });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT count(*) FROM orders');
      try {
        const r = await run(['run', '--lock-timeout', '50ms', '--retries', '2', 'm']);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /lock timeout.*\(lock_timeout on each of 3 attempts\); blocked by pid \d+ \(idle in transaction/s,
        );
        const status = await run(['status', 'm']);
        expect(status.code).toBe(1);
        expect(status.stdout).toMatch(/002_col\.sql {2}failed after 0 of 1 statements/);
      } finally {
        await blocker.query('COMMIT');
        await blocker.end();
      }
      const resumed = await run(['run', 'm']);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain('002_col.sql: resuming');
    });

    it('--max-blocked gives up an attempt as soon as the queue behind the waiting step grows past it', async () => {
      await run(['run', 'm']);
      await write('002_col.sql', 'ALTER TABLE orders ADD COLUMN note text;\n');
      const blocker = new pg.Client({ connectionString: server.url });
      const queued = [
        new pg.Client({ connectionString: server.url }),
        new pg.Client({ connectionString: server.url }),
      ];
      await blocker.connect();
      for (const q of queued) await q.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT count(*) FROM orders');
      try {
        // a long lock_timeout: only the queue can end the wait early
        const running = run(['run', '--lock-timeout', '20s', '--retries', '0', '--max-blocked', '1', 'm']);
        await new Promise((r) => setTimeout(r, 300));
        // two readers queue behind the waiting ALTER
        const reads = queued.map((q) => q.query('SELECT count(*) FROM orders'));
        const r = await running;
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/gave up waiting: 2 sessions queued behind the step \(--max-blocked\)/);
        await Promise.all(reads);
      } finally {
        await blocker.query('COMMIT');
        await Promise.all([blocker, ...queued].map((c) => c.end()));
      }
    });

    it('runs a `-- pgkeel:batch` backfill in committed keyset batches, and resumes after the last one', async () => {
      await run(['run', 'm']);
      await admin.query('CREATE TABLE gate (ok int)');
      const before = (await admin.query('SELECT sum(amount)::int AS s FROM orders')).rows[0].s;
      // the row with id 650 fails until the gate opens: the batches before it stay committed
      await write(
        '002_backfill.sql',
        '-- pgkeel:batch size=100 pause=0ms\nUPDATE orders SET amount = amount + 1 + 0 * (1 / CASE WHEN id = 650 AND NOT EXISTS (SELECT 1 FROM gate) THEN 0 ELSE 1 END);\n',
      );
      const failed = await run(['run', 'm']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('division by zero');
      const progress = await admin.query(
        "SELECT progress FROM pgkeel.steps WHERE migration = '002_backfill.sql'",
      );
      // at least the first batch (100 rows) committed; the batch size then grows toward 200 ms
      expect(Number(progress.rows[0].progress)).toBeGreaterThanOrEqual(100);
      expect(Number(progress.rows[0].progress)).toBeLessThan(650);
      await admin.query('INSERT INTO gate VALUES (1)');
      const resumed = await run(['run', 'm']);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/rows in \d+ batches, resumed after key \d+/);
      // every row changed exactly once
      const after = (await admin.query('SELECT sum(amount)::int AS s FROM orders')).rows[0].s;
      expect(after - before).toBe(1000);
    });

    it('--batch-unbatched runs the statements unbatched-data-migration reports as batched backfills', async () => {
      await run(['run', 'm']);
      const before = (await admin.query('SELECT sum(amount)::int AS s FROM orders')).rows[0].s;
      await write('002_all.sql', 'UPDATE orders SET amount = amount + 1;\n');
      const refused = await run(['run', 'm']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('unbatched-data-migration');
      const batched = await run(['run', '--batch-unbatched', 'm']);
      expect(batched.code).toBe(0);
      expect(batched.stdout).toMatch(/1,000 rows in \d+ batches/);
      const after = (await admin.query('SELECT sum(amount)::int AS s FROM orders')).rows[0].s;
      expect(after - before).toBe(1000);
    });

    it('drops the INVALID index a failed concurrent build leaves, and builds it again on the next run', async () => {
      await run(['run', 'm']);
      await admin.query('INSERT INTO orders VALUES (1001, 1, 5), (1002, 1, 5)');
      await write('002_uniq.sql', 'CREATE UNIQUE INDEX CONCURRENTLY orders_amount_key ON orders (amount);\n');
      const failed = await run(['run', 'm']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('could not create unique index');
      expect(await invalidIndexes()).toEqual([]);
      await admin.query('DELETE FROM orders WHERE id > 1000');
      const ok = await run(['run', 'm']);
      expect(ok.code).toBe(0);
      expect(await invalidIndexes()).toEqual([]);
      const built = await admin.query(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_amount_key'::regclass",
      );
      expect(built.rows[0].indisvalid).toBe(true);
    });

    it('before a build, removes an INVALID leftover of an earlier interrupted attempt', async () => {
      await run(['run', 'm']);
      await admin.query('INSERT INTO orders VALUES (1001, 1, 5), (1002, 1, 5)');
      // a build that failed outside pgkeel leaves an INVALID index under the migration's name
      await admin
        .query('CREATE UNIQUE INDEX CONCURRENTLY orders_amount_key ON orders (amount)')
        .catch(() => {});
      expect(await invalidIndexes()).toEqual(['orders_amount_key']);
      await admin.query('DELETE FROM orders WHERE id > 1000');
      await write('002_uniq.sql', 'CREATE UNIQUE INDEX CONCURRENTLY orders_amount_key ON orders (amount);\n');
      const r = await run(['run', 'm']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('dropped the INVALID index orders_amount_key');
      expect(await invalidIndexes()).toEqual([]);
    });

    it('refuses an applied migration that was edited, and a migration the runner cannot make safe', async () => {
      await run(['run', 'm']);
      await write('001_init.sql', `${INIT}-- edited\n`);
      const edited = await run(['run', 'm']);
      expect(edited.code).toBe(2);
      expect(edited.stderr).toContain('001_init.sql was applied, and has changed since');
      await write('001_init.sql', INIT);
      await write('002_type.sql', 'ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n');
      const unsafe = await run(['run', 'm']);
      expect(unsafe.code).toBe(2);
      expect(unsafe.stderr).toMatch(
        /002_type\.sql still has 1 error finding.*change-column-type.*--allow-unsafe/,
      );
      const allowed = await run(['run', '--allow-unsafe', 'm']);
      expect(allowed.code).toBe(0);
    });

    it('two runners at once: one waits for the other, nothing is applied twice', async () => {
      await write('002_idx.sql', 'CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n');
      const [a, b] = await Promise.all([run(['run', 'm']), run(['run', 'm'])]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const applied = [a.stdout, b.stdout].filter((o) => o.includes('applied 2 migrations'));
      expect(applied).toHaveLength(1);
      const rows = await admin.query('SELECT count(*)::int AS n FROM pgkeel.migrations');
      expect(rows.rows[0].n).toBe(2);
    });

    it.each([
      {
        runner: 'goose',
        files: {
          'db/00001_init.sql': `-- +goose Up\n${INIT}\n-- +goose Down\nDROP TABLE orders;\n`,
          'db/00002_idx.sql':
            '-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n-- +goose Down\nDROP INDEX orders_amount;\n',
        },
        dir: 'db',
        names: ['00001_init.sql', '00002_idx.sql'],
        tool: ['0 true', '1 true', '2 true'],
      },
      {
        runner: 'dbmate',
        files: {
          'db/20240101000000_init.sql': `-- migrate:up\n${INIT}\n-- migrate:down\nDROP TABLE orders;\n`,
          'db/20240102000000_idx.sql':
            '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n-- migrate:down\nDROP INDEX orders_amount;\n',
        },
        dir: 'db',
        names: ['20240101000000_init.sql', '20240102000000_idx.sql'],
        tool: ['20240101000000', '20240102000000'],
      },
      {
        runner: 'flyway',
        files: {
          'sql/V1__init.sql': INIT,
          'sql/V2__idx.sql': 'CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n',
          'sql/V2__idx.sql.conf': 'executeInTransaction=false\n',
        },
        dir: 'sql',
        names: ['V1__init.sql', 'V2__idx.sql'],
        tool: [],
      },
      {
        runner: 'golang-migrate',
        files: {
          'mig/000001_init.up.sql': INIT,
          'mig/000001_init.down.sql': 'DROP TABLE orders;\n',
          'mig/000002_idx.up.sql': 'CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n',
        },
        dir: 'mig',
        names: ['000001_init.up.sql', '000002_idx.up.sql'],
        tool: ['2 false'],
      },
      {
        runner: 'prisma',
        files: {
          'prisma/migrations/20240101000000_init/migration.sql': INIT,
          'prisma/migrations/20240102000000_idx/migration.sql':
            'CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n',
        },
        dir: 'prisma/migrations',
        names: ['20240101000000_init', '20240102000000_idx'],
        tool: ['20240101000000_init 1', '20240102000000_idx 1'],
      },
      {
        runner: 'drizzle',
        files: {
          'drizzle/0000_init.sql': INIT.replace(/;\n(?=.)/g, ';\n--> statement-breakpoint\n'),
          'drizzle/0001_idx.sql': 'CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n',
          'drizzle/meta/_journal.json': JSON.stringify({
            version: '7',
            dialect: 'postgresql',
            entries: [
              { idx: 0, version: '7', when: 1000, tag: '0000_init', breakpoints: true },
              { idx: 1, version: '7', when: 2000, tag: '0001_idx', breakpoints: true },
            ],
          }),
        },
        dir: 'drizzle',
        names: ['0000_init.sql', '0001_idx.sql'],
        tool: ['1000', '2000'],
      },
    ])(
      'applies the $runner layout: its order, its transactions, never its down migrations',
      async (layout) => {
        await writeFile(
          join(dir, 'pgkeel.config.json'),
          JSON.stringify({ runner: layout.runner, applied: [] }),
        );
        for (const [name, text] of Object.entries(layout.files)) {
          await mkdir(join(dir, name, '..'), { recursive: true });
          await writeFile(join(dir, name), text);
        }
        const r = await run(['run', layout.dir]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const names = await admin.query('SELECT name FROM pgkeel.migrations ORDER BY started_at, name');
        expect(names.rows.map((x) => x.name)).toEqual(layout.names);
        expect(await toolHistory(layout.runner)).toEqual(layout.tool);
        const orders = await admin.query(
          "SELECT to_regclass('orders') IS NOT NULL AS t, to_regclass('orders_amount') IS NOT NULL AS i",
        );
        expect(orders.rows[0]).toEqual({ t: true, i: true });
      },
    );

    it('drizzle’s own migrator finds nothing pending after pgkeel run (its history written as it writes it)', async () => {
      await writeFile(join(dir, 'pgkeel.config.json'), JSON.stringify({ runner: 'drizzle', applied: [] }));
      await mkdir(join(dir, 'drizzle', 'meta'), { recursive: true });
      await writeFile(
        join(dir, 'drizzle', '0000_init.sql'),
        INIT.replace(/;\n(?=.)/g, ';\n--> statement-breakpoint\n'),
      );
      await writeFile(
        join(dir, 'drizzle', '0001_idx.sql'),
        'CREATE INDEX CONCURRENTLY orders_amount ON orders (amount);\n',
      );
      await writeFile(
        join(dir, 'drizzle', 'meta', '_journal.json'),
        JSON.stringify({
          version: '7',
          dialect: 'postgresql',
          entries: [
            { idx: 0, version: '7', when: 1000, tag: '0000_init', breakpoints: true },
            { idx: 1, version: '7', when: 2000, tag: '0001_idx', breakpoints: true },
          ],
        }),
      );
      expect((await run(['run', 'drizzle'])).code).toBe(0);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        // had it found either migration pending, it would fail: the tables exist, and CONCURRENTLY
        // cannot run in the one transaction drizzle applies migrations in
        await migrate(drizzle(client), { migrationsFolder: join(dir, 'drizzle') });
      } finally {
        await client.end();
      }
      const rows = await admin.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(rows.rows[0].n).toBe(2);
    });

    it('never prints the password', async () => {
      const url = new URL(server.url);
      url.password = 'hunter2-secret';
      const r = await runCli(['run', 'm'], { cwd: dir, env: { DATABASE_URL: url.toString() } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot connect');
      expect(`${r.stdout}${r.stderr}`).not.toContain('hunter2-secret');
    });
  });
});
