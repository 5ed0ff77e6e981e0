/**
 * `lint --fix`, `--fix-dry-run` and `--fix-unsafe` on temporary directories: safe fixes only unless
 * asked, nothing written in a dry run, no fix that brings a new finding, files that cannot be
 * written back exactly left alone.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileResult } from '../src/diagnostics.js';
import { fixFile } from '../src/fix/fix-file.js';
import { lintSql, lintSqlSync } from '../src/lint/lint.js';
import { runCli } from './run-cli.js';

const MIGRATION = `CREATE INDEX orders_c_idx ON orders (customer_id);
ALTER TABLE orders ADD COLUMN note json;
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-fix-'));
  await writeFile(join(dir, '001.sql'), MIGRATION);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rules = (json: string) =>
  (JSON.parse(json) as { files: { diagnostics: { rule: string }[] }[] }).files.flatMap((f) =>
    f.diagnostics.map((d) => d.rule),
  );

describe('lint --fix', () => {
  it('applies the safe fixes, leaves the unsafe ones, and reports what is left', async () => {
    const r = await runCli(['lint', '--fix', '--format', 'json', '001.sql'], { cwd: dir });
    expect(await readFile(join(dir, '001.sql'), 'utf8')).toBe(
      "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_c_idx ON orders (customer_id);\nALTER TABLE orders ADD COLUMN note json;\n",
    );
    expect(rules(r.stdout)).toEqual(['prefer-jsonb']);
    expect(r.stderr).toContain('applied 2 fixes in 1 file; unsafe fixes need --fix-unsafe');
  });

  it('--fix-unsafe also applies the fixes that change meaning', async () => {
    await runCli(['lint', '--fix-unsafe', '001.sql'], { cwd: dir });
    expect(await readFile(join(dir, '001.sql'), 'utf8')).toContain('ADD COLUMN note jsonb;');
  });

  it('--fix-dry-run writes nothing and puts the fixed text in the JSON output', async () => {
    const r = await runCli(['lint', '--fix-dry-run', '--format', 'json', '001.sql'], { cwd: dir });
    expect(await readFile(join(dir, '001.sql'), 'utf8')).toBe(MIGRATION);
    const file = (JSON.parse(r.stdout) as { files: { output?: string; fixesApplied?: number }[] }).files[0]!;
    expect(file.fixesApplied).toBe(2);
    expect(file.output).toContain('CREATE INDEX CONCURRENTLY');
    expect(r.stderr).toContain('would apply 2 fixes in 1 file (nothing written)');
  });

  it('every reported fix carries its safety class', async () => {
    const result = await lintSql(MIGRATION, { presets: ['all'] });
    const safety = Object.fromEntries(
      result.diagnostics.filter((d) => d.fix).map((d) => [d.rule, d.fix!.safety]),
    );
    expect(safety).toMatchObject({
      'create-index-non-concurrently': 'safe',
      'lock-timeout-missing': 'safe',
      'prefer-jsonb': 'unsafe',
    });
  });

  it('refuses to fix standard input in place', async () => {
    const r = await runCli(['lint', '--fix', '-'], { cwd: dir, readStdin: async () => MIGRATION });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use --fix-dry-run');
  });

  it('does not write back a file whose linted text differs from its bytes (a goose Down section)', async () => {
    const goose = `-- +goose Up\nCREATE INDEX orders_c_idx ON orders (customer_id);\n-- +goose Down\nDROP INDEX orders_c_idx;\n`;
    await writeFile(join(dir, '001.sql'), goose);
    const r = await runCli(['lint', '--fix', '--runner', 'goose', '001.sql'], { cwd: dir });
    expect(await readFile(join(dir, '001.sql'), 'utf8')).toBe(goose);
    expect(r.stderr).toContain('not written');
  });

  it('a fix that would bring a finding the file did not have is not applied', () => {
    const sql = 'BEGIN;\nCREATE INDEX orders_c_idx ON orders (customer_id);\nCOMMIT;\n';
    const lint = (text: string) => lintSqlSync(text, { presets: ['all'] });
    const first = lint(sql);
    // a CONCURRENTLY inside the transaction block: Postgres refuses it (concurrently-in-transaction)
    const at = sql.indexOf('INDEX') + 'INDEX'.length;
    const withFix: FileResult = {
      ...first,
      diagnostics: [
        ...first.diagnostics,
        {
          ...first.diagnostics[0]!,
          rule: 'create-index-non-concurrently',
          fix: {
            title: 'concurrently',
            edits: [{ start: at, end: at, text: ' CONCURRENTLY' }],
            safety: 'safe',
          },
        },
      ],
    };
    const done = fixFile(withFix, lint);
    // the other safe fixes (a SET lock_timeout) still apply; the one that breaks the file does not
    expect(done.result.source).not.toContain('CONCURRENTLY');
    expect(done.result.diagnostics.map((d) => d.rule)).not.toContain('concurrently-in-transaction');
  });

  it('fixes with the schema the earlier migrations build (a CHECK that proves the column)', async () => {
    const setNotNull = "SET lock_timeout = '2s';\nALTER TABLE t ALTER COLUMN x SET NOT NULL;\n";
    const fix = ['lint', '--fix', '--rule', 'set-not-null', '002.sql'];
    await writeFile(join(dir, '001.sql'), 'CREATE TABLE t (x int);\n');
    await writeFile(join(dir, '002.sql'), setNotNull);
    await runCli(fix, { cwd: dir });
    expect(await readFile(join(dir, '002.sql'), 'utf8')).toContain('NOT VALID');
    // a validated CHECK (x IS NOT NULL) from an earlier migration spares the scan: nothing to fix
    await writeFile(
      join(dir, '001.sql'),
      'CREATE TABLE t (x int CONSTRAINT t_x_nn CHECK (x IS NOT NULL));\n',
    );
    await writeFile(join(dir, '002.sql'), setNotNull);
    await runCli(fix, { cwd: dir });
    expect(await readFile(join(dir, '002.sql'), 'utf8')).toBe(setNotNull);
  });
});
