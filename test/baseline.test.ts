/**
 * Baselines on a slice of a real corpus (langfuse's Prisma migrations), copied into a temporary
 * directory at test time: record, re-lint, then the edits users make and what each must show.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baseline, formatBaseline } from '../src/lint/baseline.js';
import { runCli } from './run-cli.js';

const CORPUS = join(import.meta.dirname, '../../shared/corpora/langfuse');

let dir: string;
let names: string[];

interface JsonReport {
  files: { path: string; diagnostics: { rule: string; line: number }[] }[];
}

const run = (argv: string[], cwd = dir) => runCli(argv, { cwd });
/** lints `migrations/` as JSON; returns the exit code, findings by file, and stderr */
async function lint(extra: string[], cwd = dir, paths = ['migrations']) {
  const r = await run(['lint', ...paths, '--runner', 'prisma', '--format', 'json', ...extra], cwd);
  expect(r.stderr).not.toMatch(/Error|at .*\.ts/);
  const report = JSON.parse(r.stdout) as JsonReport;
  const found = report.files
    .filter((f) => f.diagnostics.length > 0)
    .map((f) => ({ path: f.path, rules: f.diagnostics.map((d) => d.rule) }));
  return { code: r.code, found, stderr: r.stderr };
}
const file = (name: string) => join(dir, 'migrations', name);
const entries = async (path = join(dir, 'pgkeel-baseline.json')) =>
  (
    JSON.parse(await readFile(path, 'utf8')) as {
      entries: { file: string; rule: string; fingerprint: string }[];
    }
  ).entries;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-baseline-'));
  await mkdir(join(dir, 'migrations'));
  names = (await readdir(CORPUS))
    .filter((n) => n.endsWith('.sql'))
    .sort()
    .slice(0, 30);
  expect(names).toHaveLength(30);
  for (const name of names) await copyFile(join(CORPUS, name), file(name));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('baseline round trip on a corpus', () => {
  it('records the findings, exits 0, and hides all of them afterwards', async () => {
    const before = await lint([]);
    expect(before.code).toBe(1);
    const total = before.found.reduce((n, f) => n + f.rules.length, 0);
    expect(total).toBeGreaterThan(50);

    const w = await run(['lint', 'migrations', '--runner', 'prisma', '--write-baseline']);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain(
      `wrote pgkeel-baseline.json: ${total} findings in ${before.found.length} files`,
    );
    // recording is not a lint report: no "no problems" line that would be untrue
    expect(w.stdout).toBe('');
    const recorded = await entries();
    expect(recorded).toHaveLength(total);
    // paths relative to the baseline's directory, no line numbers in what is matched
    expect(recorded.every((e) => e.file.startsWith('migrations/'))).toBe(true);
    expect(Object.keys(recorded[0]!).sort()).toEqual(['file', 'fingerprint', 'message', 'rule']);

    const after = await lint(['--baseline', 'pgkeel-baseline.json']);
    expect(after.found).toEqual([]);
    expect(after.code).toBe(0);
    expect(after.stderr).toContain(`baseline pgkeel-baseline.json hid ${total} findings`);
    expect(after.stderr).not.toContain('stale');
  });

  it('writes the same bytes again, entries sorted one per line', async () => {
    const first = await readFile(join(dir, 'pgkeel-baseline.json'), 'utf8');
    await run(['lint', 'migrations', '--runner', 'prisma', '--write-baseline']);
    expect(await readFile(join(dir, 'pgkeel-baseline.json'), 'utf8')).toBe(first);
    const list = await entries();
    const keys = list.map((e) => `${e.file}\0${e.rule}\0${e.fingerprint}`);
    expect(keys).toEqual([...keys].sort());
    expect(first.split('\n').filter((l) => l.includes('"fingerprint"'))).toHaveLength(list.length);
  });

  it('works from another working directory: paths are relative to the baseline file', async () => {
    const sub = await lint(['--baseline', '../pgkeel-baseline.json'], join(dir, 'migrations'), ['.']);
    expect(sub.found).toEqual([]);
    expect(sub.code).toBe(0);
  });

  it('reports a new unsafe migration, and only it', async () => {
    await writeFile(file('20990101000000_new.sql'), 'CREATE INDEX "t_x_idx" ON "traces" ("x");\n');
    try {
      const r = await lint(['--baseline', 'pgkeel-baseline.json']);
      expect(r.found).toEqual([
        {
          path: 'migrations/20990101000000_new.sql',
          rules: expect.arrayContaining(['create-index-non-concurrently']),
        },
      ]);
      expect(r.code).toBe(1);
    } finally {
      await unlink(file('20990101000000_new.sql'));
    }
  });

  it('keeps old findings hidden after unrelated edits: lines inserted above, comments, re-indenting', async () => {
    const name = '20230618125818_remove_status_from_trace.sql';
    const original = await readFile(file(name), 'utf8');
    try {
      const reindented = original.replace(/^(ALTER|DROP)/gm, '        $1').replace(/,\n/g, ',\n\n   ');
      await writeFile(
        file(name),
        `-- reviewed 2024\n\n/* moved here */\n\n\n${reindented}\n-- trailing note\n`,
      );
      const r = await lint(['--baseline', 'pgkeel-baseline.json']);
      expect(r.found).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('stale');
    } finally {
      await writeFile(file(name), original);
    }
  });

  it('reports a baselined statement that was changed, and its old entry as stale', async () => {
    const name = '20230522094431_endtime_optional.sql';
    const original = await readFile(file(name), 'utf8');
    try {
      await writeFile(file(name), original.replace('"end_time"', '"start_time"'));
      const r = await lint(['--baseline', 'pgkeel-baseline.json']);
      expect(r.found).toEqual([
        { path: `migrations/${name}`, rules: expect.arrayContaining(['drop-not-null']) },
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/entries are stale \(run --write-baseline to prune\)/);
      expect(r.stderr).toContain(`stale: migrations/${name}: drop-not-null`);
    } finally {
      await writeFile(file(name), original);
    }
  });

  it('reports the entries of a deleted file as stale, and --write-baseline prunes them', async () => {
    const name = '20230530204241_auth_api_ui.sql';
    const forFile = (await entries()).filter((e) => e.file === `migrations/${name}`).length;
    expect(forFile).toBeGreaterThan(10);
    await unlink(file(name));
    const r = await lint(['--baseline', 'pgkeel-baseline.json']);
    expect(r.found).toEqual([]);
    // stale entries warn; they don't fail the run
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`; ${forFile} entries are stale (run --write-baseline to prune)`);
    expect(r.stderr).toContain(`stale: migrations/${name}: `);

    const w = await run(['lint', 'migrations', '--runner', 'prisma', '--write-baseline']);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain(`(0 new, ${forFile} pruned)`);
    expect((await entries()).some((e) => e.file === `migrations/${name}`)).toBe(false);
    const again = await lint(['--baseline', 'pgkeel-baseline.json']);
    expect(again.stderr).not.toContain('stale');
    await copyFile(join(CORPUS, name), file(name));
  });
});

describe('baseline details', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pgkeel-baseline-unit-'));
    await mkdir(join(work, 'db'));
    await writeFile(join(work, 'db', 'a.sql'), 'CREATE INDEX a ON t (x);\n');
    await writeFile(join(work, 'db', 'b.sql'), 'CREATE INDEX b ON t (x);\n');
  });
  afterAll(() => rm(work, { recursive: true, force: true }));
  const at = (argv: string[]) => runCli(argv, { cwd: work });

  it('hides one finding per entry: a statement repeated in a file is tracked per occurrence', async () => {
    const twice = 'CREATE INDEX a ON t (x);\nCREATE INDEX a ON t (x);\n';
    await writeFile(join(work, 'db', 'a.sql'), twice);
    try {
      expect((await at(['lint', 'db/a.sql', '--write-baseline', 'base.json'])).code).toBe(0);
      // a third copy is new
      await writeFile(join(work, 'db', 'a.sql'), `${twice}CREATE INDEX a ON t (x);\n`);
      const r = await at(['lint', 'db/a.sql', '--baseline', 'base.json', '--format', 'json']);
      expect(r.code).toBe(1);
      const diags = JSON.parse(r.stdout).files[0].diagnostics as { rule: string; line: number }[];
      expect(diags.filter((d) => d.rule === 'create-index-non-concurrently').map((d) => d.line)).toEqual([3]);
    } finally {
      await writeFile(join(work, 'db', 'a.sql'), 'CREATE INDEX a ON t (x);\n');
    }
  });

  it('recording a subset of the files keeps the entries of the others', async () => {
    await at(['lint', 'db', '--write-baseline', 'sub.json']);
    const all = (
      JSON.parse(await readFile(join(work, 'sub.json'), 'utf8')) as { entries: { file: string }[] }
    ).entries;
    expect(new Set(all.map((e) => e.file))).toEqual(new Set(['db/a.sql', 'db/b.sql']));
    const w = await at(['lint', 'db/a.sql', '--write-baseline', 'sub.json']);
    expect(w.stderr).toContain('(0 new, 0 pruned)');
    const after = JSON.parse(await readFile(join(work, 'sub.json'), 'utf8')).entries;
    expect(after).toEqual(all);
    // and linting a subset with it does not call the other files' entries stale
    const r = await at(['lint', 'db/a.sql', '--baseline', 'sub.json']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('stale');
  });

  it('--write-baseline without a file writes into the --baseline file', async () => {
    await at(['lint', 'db', '--write-baseline', 'both.json']);
    await writeFile(join(work, 'db', 'c.sql'), 'CREATE INDEX c ON t (x);\n');
    try {
      const w = await at(['lint', 'db', '--baseline', 'both.json', '--write-baseline']);
      expect(w.stderr).toContain('wrote both.json:');
      expect((await at(['lint', 'db', '--baseline', 'both.json'])).code).toBe(0);
    } finally {
      await unlink(join(work, 'db', 'c.sql'));
    }
  });

  it('a malformed baseline is an error naming the file and position, exit 2', async () => {
    await writeFile(join(work, 'bad.json'), '{\n  "tool": "pgkeel",\n  "version": 1,\n  "entries": [,]\n}\n');
    const r = await at(['lint', 'db', '--baseline', 'bad.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pgkeel: bad\.json:4:15: baseline is not valid JSON: /);
    expect(r.stdout).toBe('');

    await writeFile(
      join(work, 'shape.json'),
      '{\n  "tool": "pgkeel",\n  "version": 1,\n  "entries": [\n    { "file": "db/a.sql", "rule": 3, "fingerprint": "x" }\n  ]\n}\n',
    );
    const s = await at(['lint', 'db', '--baseline', 'shape.json']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('pgkeel: shape.json:5:35: entries[0].rule: expected a non-empty string');

    await writeFile(join(work, 'other.json'), '{ "version": 1, "entries": [] }');
    const o = await at(['lint', 'db', '--baseline', 'other.json']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('other.json:1:1: tool: not a pgkeel baseline');

    await writeFile(join(work, 'newer.json'), '{ "tool": "pgkeel", "version": 2, "entries": [] }');
    const n = await at(['lint', 'db', '--baseline', 'newer.json']);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('newer.json:1:32: version: baseline version 2 was written by a newer pgkeel');

    // writing does not overwrite a file it cannot read: nothing is lost
    const w = await at(['lint', 'db', '--write-baseline', 'bad.json']);
    expect(w.code).toBe(2);
    expect(await readFile(join(work, 'bad.json'), 'utf8')).toContain('[,]');
  });

  it('a missing --baseline file and a --write-baseline value that is no .json name are usage errors', async () => {
    const m = await at(['lint', 'db', '--baseline', 'nope.json']);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('nope.json: baseline file not found (record one with --write-baseline)');
    const d = await at(['lint', '--write-baseline', 'db']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--write-baseline: expected a .json file name, got "db"');
    const both = await at(['lint', 'db', '--baseline', 'x.json', '--write-baseline', 'y.json']);
    expect(both.code).toBe(2);
  });

  it('formats an empty baseline, and the library reads what it writes', async () => {
    expect(formatBaseline([])).toBe('{\n  "tool": "pgkeel",\n  "version": 1,\n  "entries": []\n}\n');
    await writeFile(join(work, 'empty.json'), formatBaseline([]));
    const b = await Baseline.load('empty.json', { cwd: work });
    expect(b.entries).toEqual([]);
    expect(b.fileKey('db/a.sql')).toBe('db/a.sql');
    const fromDb = await Baseline.load('../empty.json', { cwd: join(work, 'db') });
    expect(fromDb.fileKey('a.sql')).toBe('db/a.sql');
  });
});
