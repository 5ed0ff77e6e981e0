import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blank,
  compareCodePoints,
  detectOrigin,
  InputError,
  type InputRef,
  invalidUtf8,
  type MigrationFile,
  readMigrationFile,
  resolveInputs,
  runnerView,
} from '../src/sources/index.js';

const tempDirs: string[] = [];

/** A fresh temp directory holding `files` (paths relative to it, `/`-separated). */
async function tree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pgkeel-sources-'));
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

const shown = (refs: InputRef[]) => refs.map((r) => (r.kind === 'stdin' ? '-' : r.path));

/** The InputError a promise rejects with. */
async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

/** Offsets of every line break: blanking must not move any of them. */
const breaks = (text: string) => [...text.matchAll(/\r?\n/g)].map((m) => m.index);

describe('resolveInputs', () => {
  it('walks directories recursively for .sql files, skipping node_modules and dot-directories', async () => {
    const root = await tree({
      'db/001_init.sql': '',
      'db/nested/002_more.SQL': '',
      'db/README.md': '',
      'db/node_modules/pkg/x.sql': '',
      'db/.cache/y.sql': '',
      'db/.hidden.sql': '',
    });
    const refs = await resolveInputs(['db'], { cwd: root });
    expect(shown(refs)).toEqual(['db/.hidden.sql', 'db/001_init.sql', 'db/nested/002_more.SQL']);
    expect(refs[0]).toEqual({
      kind: 'file',
      path: 'db/.hidden.sql',
      absPath: path.join(root, 'db', '.hidden.sql'),
    });
  });

  it('sorts by code point within an argument and keeps the order of arguments', async () => {
    const root = await tree({
      'm/b.sql': '',
      'm/B.sql': '',
      'm/10_x.sql': '',
      'm/9_x.sql': '',
      'm/a/z.sql': '',
      'm/\u{1F600}.sql': '',
      'm/\uFF21.sql': '',
      'z.sql': '',
    });
    const refs = await resolveInputs(['z.sql', 'm'], { cwd: root });
    // astral characters sort after U+FF21 by code point, though not by UTF-16 unit
    expect(shown(refs)).toEqual([
      'z.sql',
      'm/10_x.sql',
      'm/9_x.sql',
      'm/B.sql',
      'm/a/z.sql',
      'm/b.sql',
      'm/\uFF21.sql',
      'm/\u{1F600}.sql',
    ]);
  });

  it('expands quoted globs relative to cwd', async () => {
    const root = await tree({
      'a/1.up.sql': '',
      'a/1.down.sql': '',
      'b/c/2.up.sql': '',
      'b/c/notes.txt': '',
      'node_modules/x/3.up.sql': '',
    });
    expect(shown(await resolveInputs(['**/*.up.sql'], { cwd: root }))).toEqual([
      'a/1.up.sql',
      'b/c/2.up.sql',
    ]);
    expect(shown(await resolveInputs(['a/*.sql'], { cwd: root }))).toEqual(['a/1.down.sql', 'a/1.up.sql']);
  });

  it('narrows a glob ending in a bare wildcard to .sql files, walking matched directories', async () => {
    const root = await tree({
      'prisma/migrations/20240101_init/migration.sql': '',
      'prisma/migrations/20240202_more/migration.sql': '',
      'prisma/migrations/migration_lock.toml': '',
    });
    expect(shown(await resolveInputs(['prisma/migrations/*'], { cwd: root }))).toEqual([
      'prisma/migrations/20240101_init/migration.sql',
      'prisma/migrations/20240202_more/migration.sql',
    ]);
  });

  it('lists a file once, where first reached', async () => {
    const root = await tree({ 'm/1.sql': '', 'm/2.sql': '' });
    const refs = await resolveInputs(['m/2.sql', 'm', './m/1.sql', 'm/*.sql'], { cwd: root });
    expect(shown(refs)).toEqual(['m/2.sql', 'm/1.sql']);
  });

  it('always includes explicitly named files, whatever their extension', async () => {
    const root = await tree({ 'schema.psql': '', 'm/notes.txt': '' });
    expect(shown(await resolveInputs(['schema.psql', 'm/notes.txt'], { cwd: root }))).toEqual([
      'schema.psql',
      'm/notes.txt',
    ]);
  });

  it('applies the ignore predicate to directory, glob and explicit files', async () => {
    const root = await tree({ 'm/1.sql': '', 'm/old/0.sql': '', 'x/old/9.sql': '' });
    const ignore = (abs: string) => abs.split(path.sep).includes('old');
    const ignored: string[] = [];
    const refs = await resolveInputs(['m', 'x/**/*.sql', 'x/old/9.sql'], {
      cwd: root,
      ignore,
      onIgnored: (p) => ignored.push(p),
    });
    expect(shown(refs)).toEqual(['m/1.sql']);
    // only explicitly named files are reported: dropping files found by walking is expected
    expect(ignored).toEqual(['x/old/9.sql']);
  });

  it('reads stdin for "-", at most once', async () => {
    const root = await tree({ 'a.sql': '' });
    expect(await resolveInputs(['a.sql', '-'], { cwd: root })).toEqual([
      { kind: 'file', path: 'a.sql', absPath: path.join(root, 'a.sql') },
      { kind: 'stdin' },
    ]);
    const twice = await inputError(resolveInputs(['-', '-'], { cwd: root }));
    expect(twice.message).toBe('-: standard input can be given only once');
  });

  it('fails on a missing path, naming it', async () => {
    const root = await tree({ 'a.sql': '' });
    const error = await inputError(resolveInputs(['a.sql', 'missing/b.sql'], { cwd: root }));
    expect(error.path).toBe('missing/b.sql');
    expect(error.message).toBe('missing/b.sql: no such file or directory');
    expect(error.exitCode).toBe(2);
  });

  it('fails on a glob that matches nothing', async () => {
    const root = await tree({ 'a.sql': '' });
    const error = await inputError(resolveInputs(['migrations/**/*.sql'], { cwd: root }));
    expect(error.message).toBe('migrations/**/*.sql: no files match this pattern');
  });

  it('fails on a directory without .sql files', async () => {
    const root = await tree({ 'docs/readme.md': '', 'docs/node_modules/x.sql': '' });
    const error = await inputError(resolveInputs(['docs'], { cwd: root }));
    expect(error.message).toBe('docs: no .sql files in this directory');
  });

  it('shows files outside cwd by absolute path', async () => {
    const root = await tree({ 'app/.keep': '', 'shared/1.sql': '' });
    const refs = await resolveInputs(['../shared'], { cwd: path.join(root, 'app') });
    expect(shown(refs)).toEqual([path.join(root, 'shared', '1.sql')]);
  });

  it('follows symlinked directories without looping', async () => {
    const root = await tree({ 'm/1.sql': '' });
    await symlink(path.join(root, 'm'), path.join(root, 'm', 'loop'));
    expect(shown(await resolveInputs(['m'], { cwd: root }))).toEqual(['m/1.sql']);
  });
});

describe('invalidUtf8', () => {
  it('agrees with TextDecoder on where replacements start and how many bytes they take', () => {
    // bytes biased towards lead and continuation bytes, so that every kind of bad sequence occurs
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const pool = [
      0x41, 0x0a, 0x80, 0xbf, 0x9f, 0xa0, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
    ];
    for (let n = 0; n < 3000; n++) {
      const data = Uint8Array.from({ length: 1 + (random() % 12) }, () => pool[random() % pool.length]!);
      const text = new TextDecoder().decode(data);
      const { bytes, first } = invalidUtf8(data);
      if (Buffer.from(data).includes(Buffer.from([0xef, 0xbf, 0xbd]))) continue; // a real U+FFFD
      const kept = Buffer.byteLength(text.replaceAll('\uFFFD', ''));
      expect(bytes, Buffer.from(data).toString('hex')).toBe(data.length - kept);
      expect(first === -1 ? -1 : new TextDecoder().decode(data.subarray(0, first)).length).toBe(
        text.indexOf('\uFFFD'),
      );
    }
  });
});

describe('compareCodePoints', () => {
  it('orders by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('\u{1F600}', '\uFF21')).toBeGreaterThan(0);
    expect('\u{1F600}' < '\uFF21').toBe(true);
    expect(compareCodePoints('a', 'b')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('x', 'x')).toBe(0);
  });
});

describe('readMigrationFile', () => {
  async function readOne(files: Record<string, string | Uint8Array>, name: string): Promise<MigrationFile> {
    const root = await tree(files);
    const [ref] = await resolveInputs([name], { cwd: root });
    return readMigrationFile(ref!);
  }

  it('reads a file with its display and absolute paths', async () => {
    const root = await tree({ 'm/1.sql': 'select 1;\n' });
    const [ref] = await resolveInputs(['m/1.sql'], { cwd: root });
    expect(await readMigrationFile(ref!)).toEqual({
      path: 'm/1.sql',
      absPath: path.join(root, 'm', '1.sql'),
      text: 'select 1;\n',
    });
  });

  it('removes a UTF-8 byte order mark', async () => {
    const file = await readOne({ 'a.sql': '\uFEFFselect 1;' }, 'a.sql');
    expect(file.text).toBe('select 1;');
  });

  it('decodes UTF-16 files that carry a byte order mark', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('select \u00e9;', 'utf16le')]);
    expect((await readOne({ 'a.sql': le }, 'a.sql')).text).toBe('select \u00e9;');
  });

  it('replaces invalid UTF-8 instead of failing', async () => {
    const bytes = Buffer.concat([Buffer.from('select '), Buffer.from([0xc3, 0x28]), Buffer.from(';')]);
    expect((await readOne({ 'a.sql': bytes }, 'a.sql')).text).toBe('select \uFFFD(;');
  });

  it('refuses binary files', async () => {
    const root = await tree({ 'dump.sql': Buffer.from([0x50, 0x47, 0x44, 0x4d, 0x50, 0x00, 0x01]) });
    const [ref] = await resolveInputs(['dump.sql'], { cwd: root });
    const error = await inputError(readMigrationFile(ref!));
    expect(error.message).toBe('dump.sql: not a text file (it contains NUL bytes)');
    expect(error.path).toBe('dump.sql');
  });

  it('reports an unreadable file, naming it', async () => {
    const root = await tree({ 'dir.sql/x': '' });
    const ref: InputRef = { kind: 'file', path: 'dir.sql', absPath: path.join(root, 'dir.sql') };
    const error = await inputError(readMigrationFile(ref));
    expect(error.message).toBe('dir.sql: cannot read: is a directory');
    expect(error.code).toBe('EISDIR');
  });

  it('reads stdin, shown as <stdin> or the given file name', async () => {
    const fromStdin = await readMigrationFile(
      { kind: 'stdin' },
      { readStdin: async () => '\uFEFFselect 1;' },
    );
    expect(fromStdin).toEqual({ path: '<stdin>', text: 'select 1;' });
    const named = await readMigrationFile(
      { kind: 'stdin' },
      {
        stdinFilename: 'prisma/migrations/20240101_init/migration.sql',
        readStdin: async () => Buffer.from('select 1;'),
      },
    );
    expect(named).toEqual({
      path: 'prisma/migrations/20240101_init/migration.sql',
      text: 'select 1;',
      origin: 'prisma',
      originReason: 'prisma/migrations/<name>/migration.sql',
    });
    const binary = await inputError(
      readMigrationFile({ kind: 'stdin' }, { readStdin: async () => new Uint8Array([0x61, 0x00]) }),
    );
    expect(binary.message).toBe('<stdin>: not a text file (it contains NUL bytes)');
  });

  it('detects prisma by the absolute path, even when cwd is the migration folder', async () => {
    const root = await tree({ 'prisma/migrations/20240101_init/migration.sql': 'CREATE TABLE a ();' });
    const cwd = path.join(root, 'prisma', 'migrations', '20240101_init');
    const [ref] = await resolveInputs(['migration.sql'], { cwd });
    expect(await readMigrationFile(ref!)).toMatchObject({ path: 'migration.sql', origin: 'prisma' });
  });

  it('detects drizzle from its journal when the file has no breakpoint', async () => {
    const file = await readOne(
      { 'drizzle/0001_x.sql': 'ALTER TABLE "a" ADD COLUMN "b" text;', 'drizzle/meta/_journal.json': '{}' },
      'drizzle/0001_x.sql',
    );
    expect(file.origin).toBe('drizzle');
  });

  it('marks golang-migrate down files without changing them', async () => {
    const file = await readOne({ '1_init.down.sql': 'DROP TABLE a;' }, '1_init.down.sql');
    expect(file).toMatchObject({ origin: 'golang-migrate', down: true, text: 'DROP TABLE a;' });
    const up = await readOne({ '1_init.up.sql': 'CREATE TABLE a ();' }, '1_init.up.sql');
    expect(up.down).toBeUndefined();
  });

  it('blanks a goose Down section on read', async () => {
    const text = '-- +goose Up\nCREATE TABLE a ();\n-- +goose Down\nDROP TABLE a;\n';
    const file = await readOne({ '1.sql': text }, '1.sql');
    expect(file.origin).toBe('goose');
    expect(file.text).toBe('-- +goose Up\nCREATE TABLE a ();\n-- +goose Down\n             \n');
  });
});

describe('detectOrigin', () => {
  it('recognises each tool by content, then by path', () => {
    expect(detectOrigin('x.sql', '-- +goose Up\nselect 1;')).toBe('goose');
    expect(detectOrigin('x.sql', '--+goose up\nselect 1;')).toBe('goose');
    expect(detectOrigin('x.sql', '-- migrate:up\nselect 1;\n-- migrate:down\n')).toBe('dbmate');
    expect(detectOrigin('x.sql', 'CREATE TABLE a ();\n--> statement-breakpoint\nCREATE TABLE b ();')).toBe(
      'drizzle',
    );
    expect(detectOrigin('prisma/migrations/20240101_init/migration.sql', 'select 1;')).toBe('prisma');
    expect(detectOrigin('prisma\\migrations\\20240101_init\\migration.sql', 'select 1;')).toBe('prisma');
    expect(detectOrigin('migrations/0001_users.up.sql', 'select 1;')).toBe('golang-migrate');
    expect(detectOrigin('migrations/0001_users.sql', 'select 1;')).toBeUndefined();
    // content wins over path
    expect(detectOrigin('db/1_x.up.sql', '-- +goose Up\nselect 1;')).toBe('goose');
  });

  it('does not mistake look-alikes for markers', () => {
    expect(detectOrigin('x.sql', 'select 1; -- +goose Up')).toBeUndefined();
    expect(detectOrigin('x.sql', '-- migrate:upgrade\nselect 1;')).toBeUndefined();
    expect(detectOrigin('x.sql', '-- Migrate:up\nselect 1;')).toBeUndefined();
    expect(detectOrigin('migration.sql', 'select 1;')).toBeUndefined();
  });
});

describe('runnerView', () => {
  it('blanks a goose Down section to the end, keeping offsets and line breaks', () => {
    const text = [
      '-- +goose Up',
      '-- +goose StatementBegin',
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;',
      '-- +goose StatementEnd',
      'CREATE INDEX i ON t (c);',
      '-- +goose Down',
      'DROP INDEX i;',
      "DROP FUNCTION f(); -- 'ünïcødé' 😀",
      '',
    ].join('\n');
    const view = runnerView(text, 'goose');
    expect(view.text).toHaveLength(text.length);
    expect(breaks(view.text)).toEqual(breaks(text));
    const downAt = text.indexOf('-- +goose Down') + '-- +goose Down'.length;
    expect(view.text.slice(0, downAt)).toBe(text.slice(0, downAt));
    expect(view.text.slice(downAt).trim()).toBe('');
    expect(view.noTransaction).toBe(false);
  });

  it('ends a goose Down section at a later Up, and keeps CRLF', () => {
    const text = '-- +goose Up\r\nA;\r\n-- +goose down\r\nB;\r\n-- +goose Up\r\nC;\r\n';
    const view = runnerView(text, 'goose');
    expect(view.text).toBe('-- +goose Up\r\nA;\r\n-- +goose down\r\n  \r\n-- +goose Up\r\nC;\r\n');
    expect(breaks(view.text)).toEqual(breaks(text));
  });

  it('sees goose NO TRANSACTION anywhere in the file', () => {
    expect(
      runnerView('-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (c);', 'goose'),
    ).toMatchObject({ noTransaction: true });
    expect(
      runnerView('-- +goose Up\nselect 1;\n-- +goose Down\n-- +goose no transaction\n', 'goose')
        .noTransaction,
    ).toBe(true);
  });

  it('blanks the dbmate down block and reads transaction:false', () => {
    const text =
      '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n\n-- migrate:down\nDROP INDEX i;\n';
    const view = runnerView(text, 'dbmate');
    expect(view).toEqual({
      text: '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (c);\n\n-- migrate:down\n             \n',
      noTransaction: true,
    });
    expect(runnerView('-- migrate:up\nselect 1;\n-- migrate:down\n', 'dbmate').noTransaction).toBe(false);
    expect(runnerView('-- migrate:up transaction:true\nselect 1;', 'dbmate').noTransaction).toBe(false);
  });

  it('blanks a dbmate down block written before up only up to the up directive', () => {
    const text = '-- migrate:down\nDROP TABLE a;\n-- migrate:up\nCREATE TABLE a ();\n';
    expect(runnerView(text, 'dbmate').text).toBe(
      '-- migrate:down\n             \n-- migrate:up\nCREATE TABLE a ();\n',
    );
  });

  it('leaves other origins alone', () => {
    const text = '-- +goose Down\nDROP TABLE a;';
    expect(runnerView(text, 'prisma')).toEqual({ text, noTransaction: false });
    expect(runnerView(text, undefined)).toEqual({ text, noTransaction: false });
  });

  it('blanks surrogate pairs unit by unit so UTF-16 offsets hold', () => {
    expect(blank('a😀b\nc', 0, 5)).toBe('    \nc');
  });
});
