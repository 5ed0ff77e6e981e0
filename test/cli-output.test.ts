import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useColor } from '../src/cli/output.js';
import { runCli } from './run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-cli-output-'));
  await writeFile(join(dir, 'unsafe.sql'), 'CREATE INDEX a ON t (x);\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (argv: string[], env: Record<string, string | undefined> = {}) => runCli(argv, { cwd: dir, env });

describe('-o/--output-file', () => {
  it('writes the report to the file, nothing to stdout, and the same exit code', async () => {
    const r = await run(['lint', 'unsafe.sql', '-f', 'json', '-o', 'out/report.json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const report = JSON.parse(await readFile(join(dir, 'out/report.json'), 'utf8'));
    expect(report.files[0].diagnostics.map((d: { rule: string }) => d.rule)).toContain(
      'create-index-non-concurrently',
    );
    // no temporary file left beside it
    expect(await readdir(join(dir, 'out'))).toEqual(['report.json']);
  });

  it('keeps an earlier report when the run fails, and exits 2', async () => {
    await writeFile(join(dir, 'kept.txt'), 'earlier report\n');
    const r = await run(['lint', 'missing.sql', '-o', 'kept.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing.sql');
    expect(await readFile(join(dir, 'kept.txt'), 'utf8')).toBe('earlier report\n');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a path it cannot write as a usage error', async () => {
    await writeFile(join(dir, 'afile'), '');
    const r = await run(['lint', 'unsafe.sql', '-o', 'afile/report.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('afile/report.txt: cannot write the output file');
  });

  it('also writes explain output, which defaults to the current directory', async () => {
    const r = await run(['explain', '-o', 'explain.txt']);
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, 'explain.txt'), 'utf8')).toContain('CREATE INDEX a ON t (x)');
  });
});

describe('colour', () => {
  it('follows --color / --no-color first, then NO_COLOR and FORCE_COLOR, then the terminal', () => {
    expect(useColor({ flag: true, env: { NO_COLOR: '1' }, isTTY: false })).toBe(true);
    expect(useColor({ flag: false, env: { FORCE_COLOR: '1' }, isTTY: true })).toBe(false);
    expect(useColor({ env: { NO_COLOR: '1', FORCE_COLOR: '1' }, isTTY: true })).toBe(false);
    expect(useColor({ env: { FORCE_COLOR: '1' }, isTTY: false })).toBe(true);
    expect(useColor({ env: { FORCE_COLOR: '0' }, isTTY: true })).toBe(false);
    expect(useColor({ env: {}, isTTY: true })).toBe(true);
    expect(useColor({ env: {}, isTTY: false })).toBe(false);
  });

  it('colours piped output with --color or FORCE_COLOR, and a file only when asked', async () => {
    expect((await run(['lint', 'unsafe.sql'])).stdout).not.toContain('\x1b[');
    expect((await run(['lint', 'unsafe.sql', '--color'])).stdout).toContain('\x1b[');
    expect((await run(['lint', 'unsafe.sql'], { FORCE_COLOR: '1' })).stdout).toContain('\x1b[');
    expect((await run(['lint', 'unsafe.sql', '--color', '--no-color'])).stdout).not.toContain('\x1b[');
    await run(['lint', 'unsafe.sql', '-o', 'plain.txt']);
    expect(await readFile(join(dir, 'plain.txt'), 'utf8')).not.toContain('\x1b[');
    await run(['lint', 'unsafe.sql', '-o', 'coloured.txt', '--color']);
    expect(await readFile(join(dir, 'coloured.txt'), 'utf8')).toContain('\x1b[');
  });
});
