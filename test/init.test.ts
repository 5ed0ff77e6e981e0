import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectProjectRunner } from '../src/sources/project.js';
import { runCli } from './run-cli.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A project directory with these files. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgkeel-init-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const written = async (dir: string) => JSON.parse(await readFile(join(dir, 'pgkeel.config.json'), 'utf8'));

describe('detectProjectRunner', () => {
  it.each([
    [
      { 'prisma/schema.prisma': '', 'prisma/migrations/1_init/migration.sql': 'SELECT 1;' },
      'prisma',
      'prisma/schema.prisma',
    ],
    [
      { 'drizzle/meta/_journal.json': '{}', 'drizzle/0000_init.sql': 'SELECT 1;' },
      'drizzle',
      '_journal.json',
    ],
    [{ 'knexfile.ts': '' }, 'knex', 'knexfile.ts'],
    [{ 'alembic.ini': '' }, 'alembic', 'alembic.ini'],
    [{ '.sqlx/query-1.json': '{}' }, 'transaction-per-file', 'sqlx'],
    [
      { 'package.json': JSON.stringify({ devDependencies: { 'node-pg-migrate': '7' } }) },
      'node-pg-migrate',
      'package.json',
    ],
    [
      {
        'db/migrations/001_a.sql': '-- +goose Up\nSELECT 1;',
        'db/migrations/002_b.sql': '-- +goose Up\nSELECT 2;',
      },
      'goose',
      '2 of 2 .sql files in db/migrations have a -- +goose Up annotation',
    ],
    [{ 'db/migrations/1.sql': '-- migrate:up\nSELECT 1;\n-- migrate:down\n' }, 'dbmate', 'migrate:up'],
    [
      { 'migrations/1_a.up.sql': 'SELECT 1;', 'migrations/1_a.down.sql': 'SELECT 1;' },
      'golang-migrate',
      '.up.sql',
    ],
  ] as const)('%j → %s', async (files, runner, reason) => {
    const found = detectProjectRunner(await project(files));
    expect(found?.runner).toBe(runner);
    expect(found?.reason).toContain(reason);
  });

  it('markers inside the migrations outrank a dependency in package.json', async () => {
    const dir = await project({
      'package.json': JSON.stringify({ dependencies: { knex: '3' } }),
      'migrations/001.sql': '-- +goose Up\nSELECT 1;',
    });
    expect(detectProjectRunner(dir)?.runner).toBe('goose');
  });

  it('finds nothing in a project without a migration tool', async () => {
    expect(detectProjectRunner(await project({ 'migrations/001.sql': 'SELECT 1;' }))).toBeUndefined();
  });
});

describe('pgkeel init', () => {
  it('without a terminal or --pg-version, writes the default version and says so', async () => {
    const dir = await project({ 'prisma/schema.prisma': '' });
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(await written(dir)).toEqual({ pgVersion: 18, runner: 'prisma' });
    expect(r.stdout).toContain('Wrote pgkeel.config.json');
    expect(r.stdout).toContain('pgVersion: 18 (the default: no terminal to ask on and no --pg-version');
    expect(r.stdout).toContain('runner: prisma (found prisma/schema.prisma)');
  });

  it('asks for the version on a terminal, again after a wrong answer', async () => {
    const dir = await project({ 'knexfile.js': '' });
    const answers = ['9.6', '16'];
    const questions: string[] = [];
    const r = await runCli(['init'], {
      cwd: dir,
      stdinIsTTY: true,
      ask: async (q) => {
        questions.push(q);
        return answers.shift()!;
      },
    });
    expect(r.code).toBe(0);
    expect(questions).toHaveLength(2);
    expect(questions[0]).toContain('Which Postgres major version runs in production?');
    expect(r.stderr).toContain('"9.6" is not a supported major version');
    expect(await written(dir)).toEqual({ pgVersion: 16, runner: 'knex' });
    expect(r.stdout).toContain('pgVersion: 16 (your answer)');
  });

  it('an empty answer takes the default; --pg-version skips the question', async () => {
    const dir = await project({});
    await runCli(['init'], { cwd: dir, stdinIsTTY: true, ask: async () => '' });
    expect(await written(dir)).toEqual({ pgVersion: 18 });
    const asked: string[] = [];
    const r = await runCli(['init', '--force', '--pg-version', '14'], {
      cwd: dir,
      stdinIsTTY: true,
      ask: async (q) => {
        asked.push(q);
        return '';
      },
    });
    expect(asked).toEqual([]);
    expect(await written(dir)).toEqual({ pgVersion: 14 });
    expect(r.stdout).toContain('runner: not set: no migration tool recognised');
  });

  it('refuses to overwrite a config unless --force', async () => {
    const dir = await project({ 'pgkeel.config.json': '{"pgVersion": 13}\n', 'alembic.ini': '' });
    const r = await runCli(['init', '--pg-version', '15'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pgkeel.config.json already exists; pass --force to overwrite it');
    expect(await written(dir)).toEqual({ pgVersion: 13 });
    const forced = await runCli(['init', '--pg-version', '15', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Overwrote pgkeel.config.json');
    expect(await written(dir)).toEqual({ pgVersion: 15, runner: 'alembic' });
  });

  it('refuses when another config file already configures pgkeel', async () => {
    const dir = await project({ 'package.json': JSON.stringify({ pgkeel: { pgVersion: 12 } }) });
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('package.json already configures pgkeel here');
  });

  it('looks at the migrations directory it is given', async () => {
    const dir = await project({ 'sql/up/001.sql': '-- migrate:up\nSELECT 1;' });
    const r = await runCli(['init', 'sql/up', '--pg-version', '17'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(await written(dir)).toEqual({ pgVersion: 17, runner: 'dbmate' });
    const missing = await runCli(['init', 'nope', '--force'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope: no such directory');
  });
});
