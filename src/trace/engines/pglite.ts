/**
 * The embedded default: PGlite, real Postgres compiled to wasm, in this process.
 *
 * A fresh PGlite runs initdb in wasm at every start (~3 s). Loading a data directory snapshot taken
 * right after that initdb skips it (~0.7 s), so the first start on a machine saves one to the cache
 * and later starts load it. Snapshots are keyed by the PGlite version: the data directory format is
 * the wasm build's, not Postgres's.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Extension, Extensions, PGlite as PGliteDb } from '@electric-sql/pglite';
import type { TraceEngine } from '../engine.js';
import { defaultCacheRoot, ensureCacheRoot } from './cache.js';

export interface PgliteEngine extends TraceEngine {
  /** the data directory came from the cached snapshot rather than a fresh initdb */
  readonly fromSnapshot: boolean;
}

export interface StartPgliteOptions {
  /** the cache root (default: `defaultCacheRoot()`) */
  cacheDir?: string;
  /** use and create the snapshot (default true) */
  snapshot?: boolean;
  log?: (line: string) => void;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Bumped when what goes into a snapshot changes. */
const SNAPSHOT_FORMAT = 1;

export function pgliteVersion(): string {
  // PGlite's exports do not include its package.json; it sits two levels above the entry point.
  // PGlite stays external to the CLI bundle, so this resolves in the published package too.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  let dir = dirname(entry);
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    } catch {
      // not here: go up
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the version of @electric-sql/pglite');
}

export function pgliteSnapshotPath(cacheDir = defaultCacheRoot()): string {
  return join(cacheDir, 'pglite', `datadir-${pgliteVersion()}-v${SNAPSHOT_FORMAT}.tar.gz`);
}

function snapshotFile(options: StartPgliteOptions): string | undefined {
  try {
    return pgliteSnapshotPath(ensureCacheRoot(options.cacheDir ?? defaultCacheRoot()));
  } catch (e) {
    // an unusable cache only costs start-up time
    options.log?.(`PGlite snapshots disabled: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The contrib extensions migrations commonly create (`CREATE EXTENSION …`), in the names of PGlite's
 * `contrib/<module>` exports. Registering costs nothing: PGlite loads an extension's files only when
 * it is created.
 */
const CONTRIB_EXTENSIONS = [
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'earthdistance',
  'fuzzystrmatch',
  'hstore',
  'intarray',
  'isn',
  'ltree',
  'pg_trgm',
  'pgcrypto',
  'seg',
  'tablefunc',
  'unaccent',
  'uuid_ossp',
] as const;

async function contribExtensions(): Promise<Extensions> {
  const loaded = await Promise.all(
    CONTRIB_EXTENSIONS.map(async (name) => {
      const module = (await import(`@electric-sql/pglite/contrib/${name}`)) as Record<string, Extension>;
      return [name, module[name]] as const;
    }),
  );
  const extensions: Extensions = {};
  for (const [name, extension] of loaded) if (extension) extensions[name] = extension;
  return extensions;
}

export async function startPglite(options: StartPgliteOptions = {}): Promise<PgliteEngine> {
  // loaded on demand: PGlite is large and only `trace` needs it
  const { PGlite } = await import('@electric-sql/pglite');
  const extensions = await contribExtensions();
  const file = options.snapshot === false ? undefined : snapshotFile(options);

  let db: PGliteDb | undefined;
  let fromSnapshot = false;
  if (file) {
    const data = await readFile(file).catch(() => undefined);
    if (data) {
      try {
        // gzip: 4.5 MB on disk instead of 40 MB. zlib inflates it in ~0.1 s, which a larger file
        // costs in reading anyway; PGlite's own (JS) decompression would add ~0.2 s
        db = await PGlite.create({ loadDataDir: new Blob([await gunzipAsync(data)]), extensions });
        fromSnapshot = true;
      } catch (e) {
        // a truncated or foreign file: start fresh and replace it
        options.log?.(`ignoring the PGlite snapshot ${file}: ${(e as Error).message}`);
        await rm(file, { force: true });
      }
    }
  }
  if (!db) {
    db = await PGlite.create({ extensions });
    if (file) await saveSnapshot(db, file, options.log);
  }
  const version = await db.query<{ v: string; full: string }>(
    "select current_setting('server_version_num') as v, current_setting('server_version') as full",
  );
  const row = version.rows[0]!;
  const session = db;
  return {
    name: `PGlite (PostgreSQL ${row.full})`,
    majorVersion: Math.floor(Number(row.v) / 10000),
    canObserveConcurrently: false,
    rollbackOnly: false,
    fromSnapshot,
    query: async (sql) => (await session.query(sql)).rows as Record<string, unknown>[],
    exec: async (sql) => {
      await session.exec(sql);
    },
    backendPid: async () =>
      Number((await session.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid),
    close: () => session.close(),
  };
}

/**
 * Taken before anything runs, so the snapshot is a pristine initdb. Written under a temporary name
 * and renamed: concurrent first starts each write a whole file, and a reader never sees half of one.
 * A cache that cannot be written costs speed, not correctness.
 */
async function saveSnapshot(
  db: { dumpDataDir(c?: 'gzip' | 'none' | 'auto'): Promise<Blob> },
  file: string,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const blob = await db.dumpDataDir('none');
    const data = await gzipAsync(new Uint8Array(await blob.arrayBuffer()));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    log?.(`could not save the PGlite snapshot ${file}: ${(e as Error).message}`);
    await rm(tmp, { force: true });
  }
}
