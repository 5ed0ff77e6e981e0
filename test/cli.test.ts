import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-cli-'));
  await writeFile(join(dir, 'unsafe.sql'), 'CREATE INDEX a ON t (x);\n');
  await writeFile(join(dir, 'safe.sql'), "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY a ON t (x);\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (argv: string[], stdin?: string) =>
  runCli(argv, { cwd: dir, readStdin: async () => stdin ?? '' });

describe('pgkeel lint', () => {
  it('exits 1 with findings and 0 when clean', async () => {
    const bad = await run(['lint', 'unsafe.sql']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('unsafe.sql:1:1');
    expect(bad.stdout).not.toContain('\x1b[');
    const good = await run(['lint', 'safe.sql']);
    expect(good.stdout).toContain('No problems');
    expect(good.code).toBe(0);
  });

  it('reads stdin and names it with --stdin-filename', async () => {
    const r = await run(
      ['lint', '-', '--stdin-filename', 'up.sql', '--format', 'json'],
      'CREATE INDEX a ON t (x);',
    );
    const report = JSON.parse(r.stdout);
    expect(report.files[0].path).toBe('up.sql');
    expect(report.files[0].diagnostics.map((d: { rule: string }) => d.rule)).toContain(
      'create-index-non-concurrently',
    );
    expect(r.code).toBe(1);
  });

  it('applies --pg-version, --runner and --assume-in-transaction', async () => {
    const sql = 'CREATE INDEX CONCURRENTLY a ON t (x);';
    const inTx = await run(['lint', '-', '--assume-in-transaction', '--format', 'json'], sql);
    expect(JSON.parse(inTx.stdout).files[0].runner).toBe('transaction-per-file');
    const v = await run(['lint', '-', '--pg-version', '13', '--runner', 'knex', '--format', 'json'], sql);
    expect(JSON.parse(v.stdout).files[0]).toMatchObject({ pgVersion: 13, runner: 'knex' });
  });

  it('counts warnings against --max-warnings, also those --quiet hides', async () => {
    await writeFile(
      join(dir, 'pgkeel.config.json'),
      JSON.stringify({ rules: { 'create-index-non-concurrently': 'warn' } }),
    );
    try {
      expect((await run(['lint', 'unsafe.sql', '--lock-timeout', '2s'])).code).toBe(0);
      expect((await run(['lint', 'unsafe.sql', '--lock-timeout', '2s', '--max-warnings', '0'])).code).toBe(1);
      const quiet = await run([
        'lint',
        'unsafe.sql',
        '--quiet',
        '--lock-timeout',
        '2s',
        '--max-warnings',
        '0',
      ]);
      expect(quiet.stdout).not.toContain('create-index-non-concurrently');
      // as in ESLint, --quiet hides warnings from the output but --max-warnings still counts them
      expect(quiet.code).toBe(1);
      const quietUnder = await run([
        'lint',
        'unsafe.sql',
        '--quiet',
        '--lock-timeout',
        '2s',
        '--max-warnings',
        '2', // create-index-non-concurrently and statement-timeout-missing
      ]);
      expect(quietUnder.code).toBe(0);
    } finally {
      await rm(join(dir, 'pgkeel.config.json'));
    }
  });

  it('exits 2 naming the file for missing input, bad config and bad flags', async () => {
    const missing = await run(['lint', 'nope.sql']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.sql');

    await writeFile(join(dir, 'bad.json'), '{ "pgVersion": 9 }');
    const config = await run(['lint', 'unsafe.sql', '--config', 'bad.json']);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/bad\.json.*pgVersion/s);

    const flag = await run(['lint', 'unsafe.sql', '--pg-version', '9']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--pg-version');
    expect((await run(['lint', '--format', 'xml'])).code).toBe(2);
  });

  it('reports a statement that does not parse and still lints the rest', async () => {
    const r = await run(['lint', '-', '--format', 'json'], 'SELEC 1;\nCREATE INDEX a ON t (x);');
    const rules = JSON.parse(r.stdout).files[0].diagnostics.map(
      (d: { rule: string; line: number }) => `${d.line}:${d.rule}`,
    );
    expect(rules).toEqual(expect.arrayContaining(['1:parse-error', '2:create-index-non-concurrently']));
    expect(r.code).toBe(1);
  });
});

describe('pgkeel rules', () => {
  it('lists every rule as JSON with its equivalents', async () => {
    const r = await run(['rules', '--format', 'json']);
    const rules = JSON.parse(r.stdout);
    const unique = rules.find((x: { id: string }) => x.id === 'add-unique-constraint');
    expect(unique.equivalents.squawk).toEqual(['disallowed-unique-constraint']);
    expect(unique.verdict).toBe('alternative');
  });

  it('prints one rule page, and exits 2 for an unknown id', async () => {
    const page = await run(['rules', 'add-check-constraint']);
    expect(page.stdout).toContain('# add-check-constraint');
    expect(page.stdout).toContain('NOT VALID');
    expect((await run(['rules', 'nope'])).code).toBe(2);
  });
});
