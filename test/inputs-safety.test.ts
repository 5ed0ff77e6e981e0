/**
 * Inputs that cannot be read, or should not be: a binary file in the middle of a directory, an
 * endless device, links out of the tree, broken links, text that is not UTF-8, and a report that
 * cannot be written. Each is reported where it is, and nothing else of the run is lost.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { lintFiles } from '../src/lint/files.js';
import { InputError, type InputRef, readMigrationFile, resolveInputs } from '../src/sources/index.js';
import { runCli } from './run-cli.js';

const tempDirs: string[] = [];

async function tree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pgkeel-inputs-'));
  tempDirs.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
  return root;
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const BINARY = Buffer.from([0x50, 0x47, 0x44, 0x4d, 0x50, 0x00, 0x01, 0x02]);
const UNSAFE = 'CREATE INDEX i ON t (a);\n';

/** A migrations directory whose second file is binary: the third must still be linted. */
const withBinaryInTheMiddle = () =>
  tree({ 'm/001_a.sql': UNSAFE, 'm/002_dump.sql': BINARY, 'm/003_b.sql': UNSAFE });

interface JsonFile {
  path: string;
  diagnostics: { rule: string; severity: string; message: string; line: number; column: number }[];
}

describe('an unreadable input among others', () => {
  it('is a finding of its own in valid JSON, the later files are linted, and the run exits 2', async () => {
    const cwd = await withBinaryInTheMiddle();
    const { code, stdout, stderr } = await runCli(['lint', 'm', '--format', 'json'], { cwd });
    const doc = JSON.parse(stdout) as { files: JsonFile[] };
    expect(doc.files.map((f) => f.path)).toEqual(['m/001_a.sql', 'm/002_dump.sql', 'm/003_b.sql']);
    const [, bad, after] = doc.files;
    expect(bad!.diagnostics).toEqual([
      expect.objectContaining({
        rule: 'unreadable-input',
        severity: 'error',
        line: 1,
        column: 1,
        message: 'Cannot read this input: not a text file (it contains NUL bytes).',
      }),
    ]);
    expect(after!.diagnostics.map((d) => d.rule)).toContain('create-index-non-concurrently');
    expect(code).toBe(2);
    expect(stderr).toMatch(/1 input could not be read/);
  });

  it('keeps every report format complete', async () => {
    const cwd = await withBinaryInTheMiddle();
    for (const format of ['pretty', 'compact', 'markdown', 'github', 'sarif', 'gitlab', 'junit', 'json']) {
      const { code, stdout } = await runCli(['lint', 'm', '-f', format, '--no-color'], { cwd });
      expect(code, format).toBe(2);
      // the file after the unreadable one is in every report
      expect(stdout, format).toContain('003_b.sql');
      expect(stdout, format).toContain('unreadable-input');
      if (format === 'sarif' || format === 'gitlab' || format === 'json')
        expect(() => JSON.parse(stdout)).not.toThrow();
      if (format === 'junit') expect(stdout.trimEnd()).toMatch(/<\/testsuites>$/);
    }
  });

  it('is explained as unreadable, and the other files are explained', async () => {
    const cwd = await withBinaryInTheMiddle();
    const { code, stdout } = await runCli(['explain', 'm', '--format', 'json'], { cwd });
    const doc = JSON.parse(stdout) as {
      files: {
        path: string;
        unreadable?: boolean;
        inputProblems?: { rule: string }[];
        statementCount: number;
      }[];
    };
    expect(doc.files.map((f) => [f.path, f.unreadable ?? false, f.statementCount])).toEqual([
      ['m/001_a.sql', false, 1],
      ['m/002_dump.sql', true, 0],
      ['m/003_b.sql', false, 1],
    ]);
    expect(doc.files[1]!.inputProblems?.map((p) => p.rule)).toEqual(['unreadable-input']);
    expect(code).toBe(2);
    const pretty = await runCli(['explain', 'm', '--no-color'], { cwd });
    expect(pretty.stdout).toMatch(/m\/002_dump\.sql.*\n\s+error\s+Cannot read this input: not a text file/);
    expect(pretty.stdout).toContain('m/003_b.sql');
  });

  it('closes the JSON document when a later config stops the run, which exits 2 saying why', async () => {
    const cwd = await tree({
      'm/001_a.sql': UNSAFE,
      'm/sub/pgkeel.config.json': '{ "pgVersion": ',
      'm/sub/002_b.sql': UNSAFE,
    });
    const { code, stdout, stderr } = await runCli(['lint', 'm', '--format', 'json'], { cwd });
    const doc = JSON.parse(stdout) as { files: JsonFile[] };
    expect(doc.files.map((f) => f.path)).toEqual(['m/001_a.sql']);
    expect(stderr).toMatch(/^pgkeel: .*m\/sub\/pgkeel\.config\.json/);
    expect(code).toBe(2);
  });

  it('is reported on standard input too', async () => {
    const cwd = await tree({});
    const { code, stdout } = await runCli(['lint', '-', '-f', 'json'], {
      cwd,
      readStdin: async () => BINARY,
    });
    expect((JSON.parse(stdout) as { files: JsonFile[] }).files[0]!.diagnostics[0]!.rule).toBe(
      'unreadable-input',
    );
    expect(code).toBe(2);
  });
});

describe('input size', () => {
  it('stops reading an endless device at the limit and reports the file', async () => {
    const cwd = await tree({ 'ok.sql': UNSAFE });
    const { code, stdout } = await runCli(['lint', '/dev/zero', 'ok.sql', '-f', 'json'], { cwd });
    const files = (JSON.parse(stdout) as { files: JsonFile[] }).files;
    expect(files[0]!.diagnostics[0]!.message).toBe(
      'Cannot read this input: larger than 64 MB, the most pgkeel reads from one input.',
    );
    expect(files[1]!.diagnostics.length).toBeGreaterThan(0);
    expect(code).toBe(2);
  });

  it('refuses a regular file over the limit before reading it, and stdin past it', async () => {
    const cwd = await tree({ 'big.sql': 'SELECT 1;\n'.repeat(100), 'small.sql': 'SELECT 1;' });
    const summary = await lintFiles(['big.sql', 'small.sql'], { cwd, maxFileSize: 500 });
    expect(summary.files.map((f) => f.diagnostics.map((d) => d.message))).toEqual([
      ['Cannot read this input: larger than 500 bytes, the most pgkeel reads from one input.'],
      [],
    ]);
    const stdin = await lintFiles(['-'], { cwd, maxFileSize: 4, readStdin: async () => 'SELECT 1;' });
    expect(stdin.files[0]!.diagnostics[0]!.rule).toBe('unreadable-input');
  });
});

describe('symbolic links', () => {
  /** `m/` with a migration, a link to a secret outside it, a link inside it and a broken link. */
  async function linkedTree() {
    const root = await tree({
      'secret/credentials.sql': "SELECT 'password=hunter2';\n",
      'm/001.sql': 'SELECT 1;\n',
      'm/sub/002.sql': 'SELECT 2;\n',
    });
    await symlink(path.join(root, 'secret', 'credentials.sql'), path.join(root, 'm', '003_out.sql'));
    await symlink(path.join(root, 'secret'), path.join(root, 'm', 'outdir'));
    await symlink(path.join('sub', '002.sql'), path.join(root, 'm', '004_in.sql'));
    await symlink('gone.sql', path.join(root, 'm', '005_broken.sql'));
    return root;
  }

  it('follows links out of a walked directory only with --follow-symlinks, and says which it skipped', async () => {
    const cwd = await linkedTree();
    const { stdout, code } = await runCli(['explain', 'm', '-f', 'json'], { cwd });
    expect(stdout).not.toContain('hunter2');
    const files = (
      JSON.parse(stdout) as { files: { path: string; inputProblems?: { rule: string; message: string }[] }[] }
    ).files;
    const problems = Object.fromEntries(
      files.map((f) => [f.path, f.inputProblems?.map((p) => p.rule) ?? []]),
    );
    expect(problems).toEqual({
      'm/001.sql': [],
      'm/003_out.sql': ['skipped-symlink'],
      'm/004_in.sql': [],
      'm/005_broken.sql': ['unreadable-input'],
      'm/outdir': ['skipped-symlink'],
      'm/sub/002.sql': [],
    });
    const skipped = files.find((f) => f.path === 'm/003_out.sql')!.inputProblems![0]!.message;
    expect(skipped).toBe(
      `Not read: a symbolic link to ${path.join(await realRoot(cwd), 'secret', 'credentials.sql')}, outside m.`,
    );
    const broken = files.find((f) => f.path === 'm/005_broken.sql')!.inputProblems![0]!.message;
    expect(broken).toBe('Cannot read this input: a broken symbolic link to gone.sql (it does not exist).');
    expect(code).toBe(2); // the broken link

    const followed = await runCli(['explain', 'm', '-f', 'json', '--follow-symlinks'], { cwd });
    expect(followed.stdout).toContain('hunter2');
    expect(followed.stdout).toContain('m/outdir/credentials.sql');
  });

  it("holds glob matches to the same rule, the tree being the pattern's leading directories", async () => {
    const cwd = await linkedTree();
    const refs = await resolveInputs(['m/**/*.sql'], { cwd });
    const problems = refs.map((r) => (r.kind === 'file' ? [r.path, r.problem?.rule ?? null] : null));
    expect(problems).toEqual([
      ['m/001.sql', null],
      ['m/003_out.sql', 'skipped-symlink'],
      ['m/004_in.sql', null],
      ['m/outdir/credentials.sql', 'skipped-symlink'],
      ['m/sub/002.sql', null],
    ]);
    const followed = await resolveInputs(['m/**/*.sql'], { cwd, followSymlinks: true });
    expect(followed.every((r) => r.kind === 'file' && r.problem === undefined)).toBe(true);
    const { stdout } = await runCli(['explain', 'm/*.sql', '-f', 'json'], { cwd });
    expect(stdout).not.toContain('hunter2');
  });

  it('follows a link named as an argument: that is the user choosing it', async () => {
    const cwd = await linkedTree();
    const { stdout } = await runCli(['explain', 'm/003_out.sql', '-f', 'json'], { cwd });
    expect(stdout).toContain('hunter2');
  });

  it('lists skipped and broken links in resolveInputs with their problem', async () => {
    const cwd = await linkedTree();
    const refs = await resolveInputs(['m'], { cwd });
    const problems = refs.map((r) => (r.kind === 'file' ? [r.path, r.problem?.rule ?? null] : null));
    expect(problems).toEqual([
      ['m/001.sql', null],
      ['m/003_out.sql', 'skipped-symlink'],
      ['m/004_in.sql', null],
      ['m/005_broken.sql', 'unreadable-input'],
      ['m/outdir', 'skipped-symlink'],
      ['m/sub/002.sql', null],
    ]);
    // read directly (trace's --schema), such a ref is an input error
    const skipped = refs[1] as InputRef;
    await expect(readMigrationFile(skipped)).rejects.toBeInstanceOf(InputError);
  });
});

/** The real path of a temp dir (macOS: /var → /private/var). */
async function realRoot(dir: string): Promise<string> {
  const { realpath } = await import('node:fs/promises');
  return realpath(dir);
}

describe('text that is not UTF-8', () => {
  it('is a warning at the first replaced byte, with the count', async () => {
    // Latin-1: é is 0xE9; line 2 has two of them, line 3 one more
    const latin1 = Buffer.concat([
      Buffer.from("SELECT 1;\nSELECT 'caf"),
      Buffer.from([0xe9, 0xe9]),
      Buffer.from("';\nSELECT '"),
      Buffer.from([0xe9]),
      Buffer.from("';\n"),
    ]);
    const cwd = await tree({ 'latin1.sql': latin1 });
    const summary = await lintFiles(['latin1.sql'], { cwd });
    const [d] = summary.files[0]!.diagnostics;
    expect(d).toEqual(
      expect.objectContaining({
        rule: 'invalid-utf8',
        severity: 'warning',
        line: 2,
        column: 12,
        message:
          'Not valid UTF-8: 3 bytes were replaced by U+FFFD, the first at line 2, column 12; names and strings there are not what the file says.',
      }),
    );
    expect(summary.files[0]!.source.slice(d!.start, d!.end)).toBe('\uFFFD');
    expect(summary.warningCount).toBe(1);
  });

  it('counts a truncated multi-byte sequence as one replacement of its bytes, after a BOM too', async () => {
    // BOM, "é" (valid), then 0xE2 0x82 (a cut-off "€") before ";"
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x53, 0xc3, 0xa9, 0xe2, 0x82, 0x3b]);
    const cwd = await tree({ 'cut.sql': bytes });
    const file = await readMigrationFile((await resolveInputs(['cut.sql'], { cwd }))[0]!);
    expect(file.text).toBe('S\u00e9\uFFFD;');
    expect(file.problems).toEqual([
      expect.objectContaining({ rule: 'invalid-utf8', start: 2, line: 1, column: 3 }),
    ]);
    expect(file.problems![0]!.message).toMatch(/^Not valid UTF-8: 2 bytes were replaced/);
  });

  it('says nothing about a U+FFFD that the file really contains', async () => {
    const cwd = await tree({ 'ok.sql': "SELECT '\uFFFD';" });
    const file = await readMigrationFile((await resolveInputs(['ok.sql'], { cwd }))[0]!);
    expect(file.problems).toBeUndefined();
  });
});

describe('a report that cannot be written', () => {
  const bin = fileURLToPath(new URL('../bin/pgkeel.js', import.meta.url));
  const examples = fileURLToPath(new URL('../examples/', import.meta.url));

  // needs the build (dist/), as bin/pgkeel.js loads it; CI builds through npm ci
  it('stops with one line and exit 2 when stdout is full (ENOSPC), not a stack trace', () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const format of ['pretty', 'json']) {
        const run = spawnSync(process.execPath, [bin, 'lint', examples, '-f', format], {
          stdio: ['ignore', full, 'pipe'],
          encoding: 'utf8',
        });
        expect(run.stderr, format).toBe(
          'pgkeel: cannot write to standard output: no space left on device (ENOSPC); the report is incomplete\n',
        );
        expect(run.status, format).toBe(2);
      }
    } finally {
      closeSync(full);
    }
  });

  it('names the -o file it cannot write, exit 2, and writes a device in place', async () => {
    // through a link, so that a regression replaces the link, never /dev/full itself
    const cwd = await tree({});
    await symlink('/dev/full', path.join(cwd, 'full'));
    const { code, stderr } = await runCli(['lint', examples, '-o', 'full'], { cwd });
    expect(stderr).toBe(
      'pgkeel: full: cannot write the output file: ENOSPC: no space left on device, write\n',
    );
    expect(code).toBe(2);
    expect(statSync(path.join(cwd, 'full')).isCharacterDevice()).toBe(true);
  });
});
