/**
 * `pgkeel fix`: the plan (steps, transactions, timeout classes, deploy boundaries, versions), the
 * pitfalls peers fell into, each runner's layout written to a temporary directory, and the files it
 * must refuse to rewrite.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunnerName } from '../src/config/types.js';
import { type MigrationPlan, type PlanOptions, planMigration } from '../src/fix/plan.js';
import { loadParser } from '../src/parse/parse.js';
import { runCli } from './run-cli.js';

beforeAll(async () => {
  await loadParser();
});

const plan = (sql: string, options: PlanOptions = {}) =>
  planMigration(sql, { presets: ['recommended'], ...options });
/** Each unit as `tx|auto:class: statements`, statements cut at their first 40 chars. */
const shape = (p: MigrationPlan) =>
  p.units.map(
    (u) =>
      `${u.deployBefore ? 'after deploy, ' : ''}${u.transaction ? 'tx' : 'auto'}:${u.timeout}: ${u.steps
        .map((s) => s.sql.replace(/\s+/g, ' ').slice(0, 40))
        .join(' | ')}`,
  );

describe('the plan', () => {
  it('splits NOT VALID and VALIDATE into two transactions, even when written in one', () => {
    const p = plan(
      'BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCOMMIT;',
    );
    expect(shape(p)).toEqual([
      'tx:brief: ALTER TABLE orders ADD CONSTRAINT orders',
      'tx:long: ALTER TABLE orders VALIDATE CONSTRAINT o',
    ]);
    expect(p.changed).toBe(true);
    expect(p.remaining.map((d) => d.rule)).toEqual([]);
  });

  it('adds a foreign key NOT VALID and validates it later; both tables are only briefly locked', () => {
    const p = plan('ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);', {
      runner: 'goose',
    });
    expect(p.units.map((u) => u.steps.map((s) => s.sql))).toEqual([
      [
        'ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID',
      ],
      ['ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey'],
    ]);
    expect(p.units.map((u) => u.timeout)).toEqual(['brief', 'long']);
    expect(p.changes).toEqual([
      expect.objectContaining({ rule: 'add-foreign-key', safety: 'safe', planned: true }),
    ]);
  });

  it('drops an INVALID leftover before a concurrent build, IF NOT EXISTS or not', () => {
    for (const sql of [
      'CREATE INDEX orders_user ON orders (user_id);',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user ON orders (user_id);',
    ]) {
      const p = plan(sql, { runner: 'golang-migrate' });
      expect(p.units.flatMap((u) => u.steps.map((s) => s.sql))).toEqual([
        'DROP INDEX CONCURRENTLY IF EXISTS orders_user',
        expect.stringMatching(/^CREATE INDEX CONCURRENTLY (IF NOT EXISTS )?orders_user ON orders/),
      ]);
      expect(p.units.every((u) => !u.transaction && u.timeout === 'long')).toBe(true);
    }
    // an index some earlier migration made is left alone: IF NOT EXISTS keeps it, as the original would
    const schemaOf = planMigration('CREATE INDEX CONCURRENTLY orders_user ON orders (user_id);');
    expect(schemaOf.changed).toBe(false);
  });

  it('a volatile default: the column bare, its DEFAULT set before the backfill, batches, then NOT NULL', () => {
    const p = plan('ALTER TABLE accounts ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();', {
      pgVersion: 16,
    });
    const sql = p.units.flatMap((u) => u.steps.map((s) => s.sql));
    expect(sql[0]).toBe('ALTER TABLE accounts ADD COLUMN token uuid');
    expect(sql[1]).toBe('ALTER TABLE accounts ALTER COLUMN token SET DEFAULT gen_random_uuid()');
    // rows inserted during the backfill get the default: the backfill and VALIDATE cannot miss them
    expect(sql.indexOf(sql[1]!)).toBeLessThan(sql.findIndex((s) => s.startsWith('DO $pgkeel$')));
    expect(sql.slice(3)).toEqual([
      'ALTER TABLE accounts ADD CONSTRAINT accounts_token_not_null CHECK (token IS NOT NULL) NOT VALID',
      'ALTER TABLE accounts VALIDATE CONSTRAINT accounts_token_not_null',
      'ALTER TABLE accounts ALTER COLUMN token SET NOT NULL',
      'ALTER TABLE accounts DROP CONSTRAINT accounts_token_not_null',
    ]);
    const backfill = p.units.find((u) => u.steps.some((s) => s.sql.startsWith('DO')))!;
    expect(backfill).toMatchObject({ transaction: false, timeout: 'long' });
    expect(p.remaining).toEqual([]);
  });

  it('a stable default is kept from PG 11 (now() is evaluated once); only a lock_timeout is added', () => {
    const p = plan('ALTER TABLE accounts ADD COLUMN seen timestamptz DEFAULT now();', { pgVersion: 11 });
    expect(p.changes).toEqual([]);
    expect(shape(p)).toEqual(['auto:brief: ALTER TABLE accounts ADD COLUMN seen tim']);
  });

  it('is version-aware: SET NOT NULL has no online path on PG 11, a CHECK on 12–17, NOT VALID on 18', () => {
    const sql = 'ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;';
    const on11 = plan(sql, { pgVersion: 11 });
    expect(on11.units.flatMap((u) => u.steps.map((s) => s.blocking))).toEqual([
      'holds ACCESS EXCLUSIVE on accounts while it scans the table',
    ]);
    expect(on11.remaining.map((d) => d.rule)).toContain('set-not-null');
    expect(plan(sql, { pgVersion: 12 }).units.flatMap((u) => u.steps.map((s) => s.sql))[0]).toContain(
      'CHECK (email IS NOT NULL) NOT VALID',
    );
    expect(plan(sql, { pgVersion: 18 }).units.flatMap((u) => u.steps.map((s) => s.sql))[0]).toBe(
      'ALTER TABLE accounts ADD CONSTRAINT accounts_email_not_null NOT NULL email NOT VALID',
    );
  });

  it('uses fixes that change meaning only when asked', () => {
    const sql = 'ALTER TABLE orders ADD CHECK (amount > 0);';
    const safe = plan(sql);
    expect(safe.changed).toBe(true);
    expect(safe.unsafeSkipped).toBe(1);
    expect(safe.changes).toEqual([]);
    // an unnamed CHECK has no name the plan could VALIDATE: only the unsafe NOT VALID edit exists
    const unsafe = plan(sql, { unsafe: true });
    expect(unsafe.changes).toEqual([
      expect.objectContaining({ rule: 'add-check-constraint', safety: 'unsafe' }),
    ]);
  });

  it('puts a drop after a deploy boundary, and keeps what does not depend on it in this release', () => {
    const p = plan(
      'ALTER TABLE orders DROP COLUMN legacy;\nCREATE INDEX accounts_email ON accounts (email);\nALTER TABLE items ADD COLUMN note text;',
    );
    expect(shape(p)).toEqual([
      'auto:long: DROP INDEX CONCURRENTLY IF EXISTS accoun | CREATE INDEX CONCURRENTLY accounts_email',
      'auto:brief: ALTER TABLE items ADD COLUMN note text',
      'after deploy, auto:brief: ALTER TABLE orders DROP COLUMN legacy',
    ]);
    // what the deploy answers is not left over
    expect(p.remaining.map((d) => d.rule)).toEqual([]);
  });

  it('a statement that reuses what the contract step drops stays after it', () => {
    const p = plan('ALTER TABLE orders DROP COLUMN legacy;\nALTER TABLE orders ADD COLUMN legacy int;');
    expect(shape(p)).toEqual([
      'after deploy, auto:brief: ALTER TABLE orders DROP COLUMN legacy | ALTER TABLE orders ADD COLUMN legacy int',
    ]);
  });

  it('leaves a migration that is already safe unchanged, and a second plan of a plan changes nothing', () => {
    const safe = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY a ON t (x);\n";
    expect(plan(safe).changed).toBe(false);
    const p = plan('ALTER TABLE orders ADD CONSTRAINT c CHECK (amount > 0);');
    expect(p.changed).toBe(true);
  });

  it('does not plan a file Postgres cannot parse', () => {
    const p = plan('ALTER TABLE orders ADD CONSTRAINT;');
    expect(p.parseErrors).toBe(1);
    expect(p.units).toEqual([]);
  });
});

// ─── layouts ────────────────────────────────────────────────────────────────────

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-fix-plan-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const UNSAFE = `ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
CREATE INDEX orders_user ON orders (user_id);
`;

async function project(runner: RunnerName, files: Record<string, string>, applied?: string) {
  await writeFile(
    join(dir, 'pgkeel.config.json'),
    JSON.stringify({ runner, ...(applied ? { applied } : { applied: [] }) }),
  );
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

const read = (name: string) => readFile(join(dir, name), 'utf8');
const list = async (sub: string) => (await readdir(join(dir, sub))).sort();

describe('runner layouts', () => {
  it('goose: a file per transaction, NO TRANSACTION where needed, the Down section kept', async () => {
    await project('goose', {
      'db/00001_init.sql': '-- +goose Up\nCREATE TABLE orders (id int);\n',
      'db/00002_fk.sql': `-- +goose Up\n${UNSAFE}\n-- +goose Down\nDROP INDEX orders_user;\n`,
    });
    const r = await runCli(['fix', 'db'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(await list('db')).toEqual([
      '00001_init.sql',
      '00002_fk.sql',
      '00003_fk_step2.sql',
      '00004_fk_step3.sql',
    ]);
    const first = await read('db/00002_fk.sql');
    expect(first).toMatch(/^-- \+goose Up\n/);
    expect(first).toContain("SET LOCAL lock_timeout = '2s';");
    expect(first).toContain('NOT VALID;');
    expect(first).toMatch(/-- \+goose Down\nDROP INDEX orders_user;\n$/);
    expect(await read('db/00003_fk_step2.sql')).toContain('VALIDATE CONSTRAINT orders_user_fk;');
    const third = await read('db/00004_fk_step3.sql');
    expect(third).toMatch(/^-- \+goose NO TRANSACTION\n-- \+goose Up\n/);
    expect(third).toContain(
      'DROP INDEX CONCURRENTLY IF EXISTS orders_user;\nCREATE INDEX CONCURRENTLY orders_user',
    );
    // the result lints clean, and fixing again changes nothing
    expect((await runCli(['lint', 'db'], { cwd: dir })).code).toBe(0);
    const again = await runCli(['fix', 'db'], { cwd: dir });
    expect(again.stderr).toContain('0 with a plan');
  });

  it('dbmate: transaction:false, one statement per file sent as one query', async () => {
    await project('dbmate', {
      'db/migrations/20240101000000_fk.sql': `-- migrate:up\n${UNSAFE}\n-- migrate:down\nDROP INDEX orders_user;\n`,
    });
    expect((await runCli(['fix', 'db/migrations'], { cwd: dir })).code).toBe(0);
    expect(await list('db/migrations')).toEqual([
      '20240101000000_fk.sql',
      '20240101000001_fk_step2.sql',
      '20240101000002_fk_step3.sql',
      '20240101000003_fk_step4.sql',
    ]);
    expect(await read('db/migrations/20240101000000_fk.sql')).toMatch(
      /-- migrate:down\nDROP INDEX orders_user;\n$/,
    );
    const build = await read('db/migrations/20240101000003_fk_step4.sql');
    expect(build).toMatch(/^-- migrate:up transaction:false\n/);
    // alone in its file: a SET would make the query a transaction block, where CONCURRENTLY fails
    expect(build).not.toContain('SET ');
    expect(build.match(/;\n/g)).toHaveLength(1);
  });

  it('flyway: minor versions after the original, a .conf with executeInTransaction=false', async () => {
    await project('flyway', { 'sql/V3__fk.sql': UNSAFE, 'sql/V4__next.sql': 'SELECT 1;\n' });
    expect((await runCli(['fix', 'sql/V3__fk.sql'], { cwd: dir })).code).toBe(0);
    expect(await list('sql')).toEqual([
      'V3.1__fk_step2.sql',
      'V3.2__fk_step3.sql',
      'V3.2__fk_step3.sql.conf',
      'V3__fk.sql',
      'V4__next.sql',
    ]);
    expect(await read('sql/V3.2__fk_step3.sql.conf')).toBe('executeInTransaction=false\n');
  });

  it('golang-migrate: the next versions with empty down files; refuses when no version is free', async () => {
    await project('golang-migrate', {
      'm/000001_fk.up.sql': UNSAFE,
      'm/000001_fk.down.sql': 'DROP INDEX orders_user;\n',
      'm/000009_later.up.sql': 'SELECT 1;\n',
    });
    expect((await runCli(['fix', 'm/000001_fk.up.sql'], { cwd: dir })).code).toBe(0);
    expect(await list('m')).toEqual([
      '000001_fk.down.sql',
      '000001_fk.up.sql',
      '000002_fk_step2.down.sql',
      '000002_fk_step2.up.sql',
      '000003_fk_step3.down.sql',
      '000003_fk_step3.up.sql',
      '000004_fk_step4.down.sql',
      '000004_fk_step4.up.sql',
      '000009_later.up.sql',
    ]);
    expect(await read('m/000001_fk.up.sql')).toMatch(
      /BEGIN;\nSET LOCAL lock_timeout = '2s';\n.*NOT VALID;\nCOMMIT;/s,
    );
    expect(await read('m/000004_fk_step4.up.sql')).toMatch(
      /^-- pgkeel fix: .*\nCREATE INDEX CONCURRENTLY orders_user ON orders \(user_id\);\n$/,
    );

    await rm(join(dir, 'm'), { recursive: true });
    await project('golang-migrate', { 'm/000001_fk.up.sql': UNSAFE, 'm/000002_next.up.sql': 'SELECT 1;\n' });
    const r = await runCli(['fix', 'm/000001_fk.up.sql'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('no free version between 000001 and the next migration');
    expect(await read('m/000001_fk.up.sql')).toBe(UNSAFE);
  });

  it('prisma: new migration folders after the original, one statement where no transaction', async () => {
    await project('prisma', {
      'prisma/migrations/20240101000000_init/migration.sql': 'CREATE TABLE orders (id int, user_id int);\n',
      'prisma/migrations/20240102000000_fk/migration.sql': UNSAFE,
    });
    expect((await runCli(['fix', 'prisma/migrations'], { cwd: dir })).code).toBe(0);
    expect(await list('prisma/migrations')).toEqual([
      '20240101000000_init',
      '20240102000000_fk',
      '20240102000000_fk_step2',
      '20240102000000_fk_step3',
      '20240102000000_fk_step4',
    ]);
    expect(await read('prisma/migrations/20240102000000_fk_step4/migration.sql')).toMatch(
      /^-- pgkeel fix: .*\nCREATE INDEX CONCURRENTLY orders_user ON orders \(user_id\);\n$/,
    );
  });

  it('drizzle: breakpoints, journal entries for the transactional files, a clear note for the others', async () => {
    const journal = {
      version: '7',
      dialect: 'postgresql',
      entries: [
        { idx: 0, version: '7', when: 1000, tag: '0000_fk', breakpoints: true },
        { idx: 1, version: '7', when: 2000, tag: '0001_next', breakpoints: true },
      ],
    };
    await project('drizzle', {
      'drizzle/0000_fk.sql': UNSAFE.replace(';\nCREATE', ';\n--> statement-breakpoint\nCREATE'),
      'drizzle/0001_next.sql': 'SELECT 1;\n',
      'drizzle/meta/_journal.json': JSON.stringify(journal),
    });
    const r = await runCli(['fix', 'drizzle/0000_fk.sql'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('drizzle-kit migrate runs all pending migrations in one transaction');
    const written = JSON.parse(await read('drizzle/meta/_journal.json')) as typeof journal;
    expect(written.entries.map((e) => [e.idx, e.tag, e.when])).toEqual([
      [0, '0000_fk', 1000],
      [1, '0000_fk_step2', 1001],
      [2, '0001_next', 2000],
    ]);
    expect(await list('drizzle')).toEqual([
      '0000_fk.sql',
      '0000_fk_step2.sql',
      '0000_fk_step3.sql',
      '0001_next.sql',
      'meta',
    ]);
  });

  it('psql: one script, BEGIN … COMMIT where the file had a transaction; --stdout and --dry-run write nothing', async () => {
    const inTransaction = `BEGIN;\n${UNSAFE}COMMIT;\n`;
    await project('psql', { 'm/001_fk.sql': inTransaction });
    const printed = await runCli(['fix', '--stdout', 'm'], { cwd: dir });
    expect(printed.stdout).toContain('-- step 1 of 3: in one transaction');
    expect(await read('m/001_fk.sql')).toBe(inTransaction);
    const dry = await runCli(['fix', '--dry-run', 'm'], { cwd: dir });
    expect(dry.stdout).toContain('not written (--dry-run)');
    expect(await read('m/001_fk.sql')).toBe(inTransaction);
    expect((await runCli(['fix', 'm'], { cwd: dir })).code).toBe(0);
    expect(await list('m')).toEqual(['001_fk.sql']);
    const written = await read('m/001_fk.sql');
    expect(written).toMatch(
      /^-- step 1 of 3: in one transaction.*\nBEGIN;\nSET LOCAL lock_timeout = '2s';\n.*NOT VALID;\nCOMMIT;\n/s,
    );
    expect(written).toMatch(
      /step 3 of 3: outside a transaction.*\nSET lock_timeout = '1min';\nSET statement_timeout = '0';\nDROP INDEX CONCURRENTLY IF EXISTS orders_user;\nCREATE INDEX CONCURRENTLY/s,
    );
  });

  it('writes what waits for a deploy to pgkeel-later/, not among the migrations', async () => {
    await project('psql', { 'm/001_drop.sql': 'ALTER TABLE orders DROP COLUMN legacy;\n' });
    const r = await runCli(['fix', 'm'], { cwd: dir });
    expect(r.stdout).toContain('waits for an application deploy');
    expect(await list('pgkeel-later')).toEqual(['001_drop.release-2.sql']);
    expect(await read('pgkeel-later/001_drop.release-2.sql')).toContain('Deploy the application first');
    expect(await read('m/001_drop.sql')).not.toContain('DROP COLUMN');
  });
});

describe('what fix refuses to rewrite', () => {
  it('a migration marked applied, and any file when nothing says what is applied', async () => {
    await project(
      'psql',
      { 'm/001_fk.sql': UNSAFE, 'm/002_fk.sql': UNSAFE.replace(/orders/g, 'items') },
      '001_fk.sql',
    );
    const r = await runCli(['fix', 'm'], { cwd: dir });
    expect(r.stderr).toContain('1 applied left alone');
    expect(await read('m/001_fk.sql')).toBe(UNSAFE);
    expect(await read('m/002_fk.sql')).not.toBe(UNSAFE.replace(/orders/g, 'items'));

    await writeFile(join(dir, 'pgkeel.config.json'), JSON.stringify({ runner: 'psql' }));
    await writeFile(join(dir, 'm/003_fk.sql'), UNSAFE);
    const unknown = await runCli(['fix', 'm/003_fk.sql'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toContain('cannot tell whether it is already applied');
    expect(await read('m/003_fk.sql')).toBe(UNSAFE);
  });

  it('a file Postgres cannot parse: its location, nothing planned, exit 1', async () => {
    const r = await runCli(['fix', '--stdout', '-'], {
      cwd: dir,
      readStdin: async () => 'SELECT 1;\nALTER TABLE t ADD CONSTRAINT;\n',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('<stdin>:2:29: Postgres cannot parse this statement');
    expect(r.stdout).not.toContain('SELECT 1');
  });

  it('stdin is printed, never written; migrations that are code are not written yet', async () => {
    const r = await runCli(['fix', '--stdout', '-'], { cwd: dir, readStdin: async () => UNSAFE });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CREATE INDEX CONCURRENTLY orders_user');
    await project('knex', { 'm/001_fk.sql': UNSAFE });
    const knex = await runCli(['fix', 'm'], { cwd: dir });
    expect(knex.code).toBe(2);
    expect(knex.stdout).toContain('knex migrations are code');
  });
});
