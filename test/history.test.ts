/**
 * The static schema of earlier migrations: a migration is analysed with what the migrations before
 * it in its history created, whether the whole history is linted or the migration alone.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { explainFiles } from '../src/explain/explain.js';
import { lintFiles } from '../src/lint/files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function history(files: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), sql);
  }
}

/** `rule line:column` of every finding of `file`, linted alone or with its whole directory */
async function findings(file: string, options: { whole?: boolean; history?: boolean } = {}) {
  const summary = await lintFiles([options.whole ? dir : join(dir, file)], {
    cwd: dir,
    ...(options.history === false ? { history: false } : {}),
  });
  const result = summary.files.find((f) => f.path === file);
  expect(result, `${file} was linted`).toBeDefined();
  return result!.diagnostics.map((d) => `${d.rule} ${d.line}:${d.column}`);
}

const INIT = `CREATE TABLE users (id bigint PRIMARY KEY, name varchar(26), bio varchar(2000), org_id bigint);
CREATE TABLE orgs (id bigint PRIMARY KEY);
ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);
`;

describe('the schema of earlier migrations', () => {
  it('a widening varchar change after an earlier migration is silent, a narrowing one is reported', async () => {
    await history({
      '001_init.sql': INIT,
      '002_widen.sql': `SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);
ALTER TABLE users ALTER COLUMN bio TYPE text;
`,
      '003_narrow.sql': `SET lock_timeout = '2s';
SET statement_timeout = '5s';
ALTER TABLE users ALTER COLUMN name TYPE varchar(10);
`,
    });
    for (const whole of [false, true]) {
      expect(await findings('002_widen.sql', { whole })).toEqual([]);
      expect(await findings('003_narrow.sql', { whole })).toContain('change-column-type 3:32');
    }
  });

  it('without the history the same change cannot be judged (--no-history)', async () => {
    await history({
      '001_init.sql': INIT,
      '002_widen.sql': 'ALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n',
    });
    expect(await findings('002_widen.sql', { history: false })).toContain('change-column-type 1:32');
  });

  it('follows renames and drops of tables and columns across migrations', async () => {
    await history({
      '001_init.sql': INIT,
      '002_rename.sql':
        'ALTER TABLE users RENAME TO members;\nALTER TABLE members RENAME COLUMN name TO nick;\n',
      '003_widen.sql': `SET lock_timeout = '2s';\nALTER TABLE members ALTER COLUMN nick TYPE varchar(200);\n`,
      '004_recreate.sql': `DROP TABLE orgs CASCADE;\nCREATE TABLE orgs (id int PRIMARY KEY, name varchar(5));\n`,
      '005_widen.sql': `SET lock_timeout = '2s';\nALTER TABLE orgs ALTER COLUMN name TYPE varchar(50);\n`,
    });
    expect(await findings('003_widen.sql', { whole: true })).toEqual([]);
    expect(await findings('005_widen.sql')).toEqual([]);
  });

  it('dropping a foreign key an earlier migration added locks the referenced table too (explain)', async () => {
    await history({
      '001_init.sql': INIT,
      '002_drop_fk.sql': 'ALTER TABLE users DROP CONSTRAINT users_org_fk;\n',
    });
    const report = await explainFiles([join(dir, '002_drop_fk.sql')], { cwd: dir });
    const locks = report.files[0]!.statements[0]!.locks.map((l) => `${l.mode} ${l.relation}`);
    expect(locks).toEqual(['ACCESS EXCLUSIVE public.users', 'ACCESS EXCLUSIVE public.orgs']);
    const alone = await explainFiles([join(dir, '002_drop_fk.sql')], { cwd: dir, history: false });
    expect(alone.files[0]!.statements[0]!.locks.map((l) => l.relation)).toEqual(['public.users']);
  });

  it('tables of earlier migrations are not new: their index builds are reported', async () => {
    await history({
      '001_init.sql': INIT,
      '002_index.sql': 'CREATE INDEX IF NOT EXISTS users_name_idx ON users (name);\n',
    });
    expect(await findings('002_index.sql', { whole: true })).toContain('create-index-non-concurrently 1:1');
  });

  it('reads Prisma histories (one folder per migration)', async () => {
    await history({
      'prisma/migrations/20240101000000_init/migration.sql': INIT,
      'prisma/migrations/20240201000000_widen/migration.sql':
        'ALTER TABLE "users" ALTER COLUMN "name" SET DATA TYPE VARCHAR(100);\n',
    });
    const summary = await lintFiles([join(dir, 'prisma/migrations/20240201000000_widen/migration.sql')], {
      cwd: dir,
      overrides: { presets: ['all'] },
    });
    expect(summary.files[0]!.diagnostics.map((d) => d.rule)).not.toContain('change-column-type');
  });

  it('a down migration does not become part of the schema the next migration sees', async () => {
    await history({
      '001_init.up.sql': INIT,
      '001_init.down.sql': 'DROP TABLE users;\nDROP TABLE orgs;\n',
      '002_widen.up.sql': `SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n`,
    });
    expect(await findings('002_widen.up.sql', { whole: true })).toEqual([]);
  });
});
