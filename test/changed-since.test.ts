/**
 * `--changed-since` on a real temporary git repository, and config `applied` with `--all-history`:
 * exactly the expected files are linted.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedSince } from '../src/sources/changed.js';
import { runCli } from './run-cli.js';

/** every migration has a finding, so every linted file shows up in the JSON report */
const UNSAFE = (n: string) => `CREATE INDEX i_${n} ON t (x);\n`;

async function linted(argv: string[], cwd: string) {
  const r = await runCli(['lint', ...argv, '--format', 'json'], { cwd });
  const files =
    r.code === 2 ? [] : (JSON.parse(r.stdout) as { files: { path: string }[] }).files.map((f) => f.path);
  return { code: r.code, files, stderr: r.stderr };
}

describe('--changed-since', () => {
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      // the user's global git config (signing, hooks, default branch) must not change the test
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    });
  const write = (rel: string, text: string) => writeFile(join(repo, rel), text);
  const SPACED = '004 with space é.sql';

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'pgkeel-git-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.name', 'pgkeel test');
    git('config', 'user.email', 'test@example.com');
    git('config', 'commit.gpgsign', 'false');
    await mkdir(join(repo, 'migrations'));
    await mkdir(join(repo, 'other'));
    for (const n of ['001_a', '002_b', '003_c', '009_shared']) await write(`migrations/${n}.sql`, UNSAFE(n));
    await write(`migrations/${SPACED}`, UNSAFE('spaced'));
    await write('other/100_elsewhere.sql', UNSAFE('elsewhere'));
    await write('.gitignore', 'migrations/007_ignored.sql\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'history');

    git('checkout', '-q', '-b', 'feature');
    await write('migrations/005_new.sql', UNSAFE('new'));
    await write('migrations/002_b.sql', `${UNSAFE('b')}${UNSAFE('b2')}`);
    git('add', '-A');
    git('commit', '-q', '-m', 'add and modify');
    git('rm', '-q', 'migrations/003_c.sql');
    git('mv', 'migrations/001_a.sql', 'migrations/001_renamed.sql');
    await write('other/100_elsewhere.sql', `${UNSAFE('elsewhere')}${UNSAFE('more')}`);
    git('commit', '-q', '-a', '-m', 'delete and rename');

    // the base branch moves on after the branch point: its changes are not this branch's
    git('checkout', '-q', 'main');
    await write('migrations/009_shared.sql', `${UNSAFE('shared')}${UNSAFE('main-only')}`);
    git('commit', '-q', '-a', '-m', 'main moves on');
    git('checkout', '-q', 'feature');

    // the work tree: an uncommitted edit, an untracked file and an ignored one
    await write(`migrations/${SPACED}`, `${UNSAFE('spaced')}${UNSAFE('edited')}`);
    await write('migrations/006_untracked.sql', UNSAFE('untracked'));
    await write('migrations/007_ignored.sql', UNSAFE('ignored'));
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  it('lints the files added, changed, renamed, edited or created since the merge base, and no others', async () => {
    const r = await linted(['migrations', '--changed-since', 'main'], repo);
    expect(r.files).toEqual([
      'migrations/001_renamed.sql',
      'migrations/002_b.sql',
      `migrations/${SPACED}`,
      'migrations/005_new.sql',
      'migrations/006_untracked.sql',
    ]);
    expect(r.code).toBe(1);
    // 003 (deleted) never reaches the linter; 007 (git-ignored) and 009 (changed on main only) are skipped
    expect(r.stderr).toBe('pgkeel: skipped 2 files unchanged since main\n');
  });

  it('lints only the intersection with the paths given', async () => {
    const r = await linted(
      ['migrations/005_new.sql', 'migrations/009_shared.sql', 'other', '--changed-since', 'main'],
      repo,
    );
    expect(r.files).toEqual(['migrations/005_new.sql', 'other/100_elsewhere.sql']);
  });

  it('works from a subdirectory, and with a commit id', async () => {
    const base = git('rev-parse', 'main~1').trim();
    const r = await linted(['.', '--changed-since', base], join(repo, 'migrations'));
    expect(r.files).toEqual(['001_renamed.sql', '002_b.sql', SPACED, '005_new.sql', '006_untracked.sql']);
  });

  it('lints nothing when nothing changed, and says so', async () => {
    const r = await linted(['migrations', '--changed-since', 'HEAD'], repo);
    // the uncommitted and untracked files still count
    expect(r.files).toEqual([`migrations/${SPACED}`, 'migrations/006_untracked.sql']);
    const clean = await linted(['migrations/005_new.sql', '--changed-since', 'HEAD'], repo);
    expect(clean.files).toEqual([]);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain('skipped 1 file unchanged since HEAD');
  });

  it('an unknown revision is a usage error, exit 2, before any output', async () => {
    const r = await runCli(['lint', 'migrations', '--changed-since', 'no-such-branch'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'pgkeel: --changed-since: unknown git revision "no-such-branch" (not fetched? a CI checkout may need the base branch fetched, e.g. actions/checkout with fetch-depth: 0)\n',
    );
    const dash = await runCli(['lint', 'migrations', '--changed-since=--output=x'], { cwd: repo });
    expect(dash.code).toBe(2);
    expect(dash.stderr).toContain('expected a git revision');
  });

  it('outside a git repository is a usage error, exit 2', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'pgkeel-nogit-'));
    const ceiling = process.env.GIT_CEILING_DIRECTORIES;
    // a repository further up (a home directory under git) must not be found
    process.env.GIT_CEILING_DIRECTORIES = tmpdir();
    try {
      await writeFile(join(outside, 'a.sql'), UNSAFE('a'));
      const r = await runCli(['lint', 'a.sql', '--changed-since', 'main'], { cwd: outside });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^pgkeel: --changed-since: .* is not in a git repository \(git: /);
    } finally {
      if (ceiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = ceiling;
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('the library reports the merge base and real paths', async () => {
    const changed = await changedSince('main', repo);
    expect(changed.base).toBe(git('merge-base', 'main', 'HEAD').trim());
    expect(await changed.has(join(repo, 'migrations', SPACED))).toBe(true);
    expect(await changed.has(join(repo, 'migrations', '003_c.sql'))).toBe(false);
    expect(await changed.has(join(repo, 'migrations', '009_shared.sql'))).toBe(false);
  });
});

describe('config applied', () => {
  let root: string;
  const write = async (rel: string, text: string) => {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), text);
  };
  const config = (applied: unknown) => write('pgkeel.config.json', JSON.stringify({ applied }));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pgkeel-applied-'));
    for (const n of ['20230101_a', '20230201_b', '20240101_c', '20240101_c_fix', '20250101_d']) {
      await write(`migrations/${n}.sql`, UNSAFE(n));
    }
    // Prisma's layout: the migration's name is its directory's
    for (const n of ['20230101000000_init', '20240301000000_users', '20250101000000_new']) {
      await write(`prisma/migrations/${n}/migration.sql`, UNSAFE(n.slice(-4)));
    }
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('a name or glob marks the last applied migration: it and everything before it are skipped', async () => {
    // in each directory on its own: the last match is 20240101_c_fix.sql, and 20240301000000_users
    await config('20240*');
    const r = await linted(['migrations', 'prisma'], root);
    expect(r.files).toEqual([
      'migrations/20250101_d.sql',
      'prisma/migrations/20250101000000_new/migration.sql',
    ]);
    expect(r.stderr).toBe(
      'pgkeel: skipped 6 applied migrations (config "applied"; --all-history lints them)\n',
    );
    const all = await linted(['migrations', 'prisma', '--all-history'], root);
    expect(all.files).toHaveLength(8);
    expect(all.stderr).toBe('');
  });

  it('finds the mark on disk, so a single new file is linted and a single old one is not', async () => {
    await config('20240101_c.sql');
    expect((await linted(['migrations/20240101_c_fix.sql'], root)).files).toEqual([
      'migrations/20240101_c_fix.sql',
    ]);
    expect((await linted(['migrations/20230201_b.sql'], root)).files).toEqual([]);
    expect((await linted(['migrations/20230201_b.sql', '--all-history'], root)).files).toEqual([
      'migrations/20230201_b.sql',
    ]);
  });

  it('a pattern with a slash is relative to the config file; a list names the applied files themselves', async () => {
    await config('prisma/migrations/20240301000000_users');
    expect((await linted(['migrations', 'prisma'], root)).files).toEqual([
      'migrations/20230101_a.sql',
      'migrations/20230201_b.sql',
      'migrations/20240101_c.sql',
      'migrations/20240101_c_fix.sql',
      'migrations/20250101_d.sql',
      'prisma/migrations/20250101000000_new/migration.sql',
    ]);
    await config(['20230201_b.sql', 'prisma/migrations/2023*']);
    expect((await linted(['migrations', 'prisma'], root)).files).toEqual([
      'migrations/20230101_a.sql',
      'migrations/20240101_c.sql',
      'migrations/20240101_c_fix.sql',
      'migrations/20250101_d.sql',
      'prisma/migrations/20240301000000_users/migration.sql',
      'prisma/migrations/20250101000000_new/migration.sql',
    ]);
  });

  it('does not change explain', async () => {
    await config('20250101_*');
    const r = await runCli(['explain', 'migrations/20230101_a.sql', '--format', 'json'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('20230101_a.sql');
  });

  it('an invalid value is a config error naming the key, exit 2', async () => {
    await config(['20240101_*', 7]);
    const r = await runCli(['lint', 'migrations'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pgkeel.config.json: applied[1]: expected a migration name or glob');
    await unlink(join(root, 'pgkeel.config.json'));
  });
});
