/**
 * The embedded default: PGlite, real Postgres compiled to wasm, in a worker thread of this process.
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
import { Worker } from 'node:worker_threads';
import { gunzip, gzip } from 'node:zlib';
import { DEFAULT_STATEMENT_TIMEOUT_MS, type TraceEngine } from '../engine.js';
import { defaultCacheRoot, ensureCacheRoot } from './cache.js';
import { pgliteRefusal } from './pglite-limits.js';

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
  /** the longest a statement may run before PGlite is stopped (default 60 s; 0: no limit) */
  statementTimeoutMs?: number;
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

/**
 * PGlite runs in a worker thread. Its wasm Postgres has no timer interrupts: `statement_timeout`
 * never fires and `pg_sleep(600)` busy-waits for ten minutes. Nothing in the same thread can stop it,
 * but a worker can be terminated. A statement that runs past the timeout, or that crashes PGlite,
 * fails as a statement; the database is then gone, and the next call starts a pristine one
 * (`generation` counts these starts, so the tracer knows to apply its setup again).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.entry);
let db;
const message = (e) => String((e && e.message) || e);
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'open') {
      const extensions = {};
      for (const [name, file] of workerData.extensions) {
        const mod = require(file);
        if (mod[name]) extensions[name] = mod[name];
      }
      db = await PGlite.create(m.data ? { loadDataDir: new Blob([m.data]), extensions } : { extensions });
      parentPort.postMessage({ id: m.id });
    } else if (m.op === 'query') {
      parentPort.postMessage({ id: m.id, result: (await db.query(m.sql)).rows });
    } else if (m.op === 'exec') {
      await db.exec(m.sql);
      parentPort.postMessage({ id: m.id });
    } else if (m.op === 'dump') {
      const buffer = await (await db.dumpDataDir('none')).arrayBuffer();
      parentPort.postMessage({ id: m.id, result: buffer }, [buffer]);
    } else if (m.op === 'close') {
      await db.close();
      parentPort.postMessage({ id: m.id });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: message(e) });
  }
});
`;

/** bounds on what is not a migration's statement: starting PGlite (initdb in wasm takes ~3 s), dumping it, closing it */
const OPEN_TIMEOUT_MS = 120_000;
const CLOSE_TIMEOUT_MS = 5_000;

type WorkerOp = 'open' | 'query' | 'exec' | 'dump' | 'close';

/** Why a worker stopped: the statement timed out, or PGlite crashed (an uncaught error, an exit). */
class WorkerGone extends Error {
  override readonly name = 'WorkerGone';
}

/** One PGlite in one worker thread; every call is bounded, and a call past its bound ends the worker. */
class PgliteWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** set once the worker is gone: every later call fails at once */
  gone: string | undefined;

  /** told once, when the worker is gone */
  onGone: () => void = () => {};

  constructor(entry: string, extensions: [string, string][]) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { entry, extensions } });
    this.worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
    });
    this.worker.on('error', (e) => this.end(`PGlite crashed: ${e?.message ?? e}`));
    this.worker.on('exit', (code) => this.end(`PGlite stopped (exit code ${code})`));
    // an idle worker must not keep the process alive; one with a call under way must (ref in `call`),
    // or a long statement without a timeout would see the process exit under it
    this.worker.unref();
  }

  private end(reason: string): void {
    if (this.gone === undefined) {
      this.gone = reason;
      this.onGone();
    }
    for (const p of this.pending.values()) p.reject(new WorkerGone(this.gone));
    this.pending.clear();
  }

  call(
    op: WorkerOp,
    payload: { sql?: string; data?: ArrayBuffer },
    timeoutMs: number,
    onTimeout: string,
  ): Promise<unknown> {
    if (this.gone) return Promise.reject(new WorkerGone(this.gone));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.end(onTimeout);
              void this.worker.terminate();
            }, timeoutMs)
          : undefined;
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          f(v);
        };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.worker.ref();
      this.worker.postMessage({ id, op, ...payload }, payload.data ? [payload.data] : []);
    });
  }

  async terminate(): Promise<void> {
    this.end('PGlite was closed');
    await this.worker.terminate();
  }
}

function isTar(data: Uint8Array): boolean {
  // a POSIX tar header carries "ustar" at byte 257
  return data.length > 262 && Buffer.from(data.subarray(257, 262)).toString('latin1') === 'ustar';
}

export async function startPglite(options: StartPgliteOptions = {}): Promise<PgliteEngine> {
  const require = createRequire(import.meta.url);
  // PGlite and its extensions load in the worker (their CommonJS builds: the worker runs a script)
  const entry = require.resolve('@electric-sql/pglite');
  const extensions: [string, string][] = [];
  for (const name of CONTRIB_EXTENSIONS) {
    try {
      extensions.push([name, require.resolve(`@electric-sql/pglite/contrib/${name}`)]);
    } catch {
      // not in this PGlite version: CREATE EXTENSION will say so
    }
  }
  const timeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const file = options.snapshot === false ? undefined : snapshotFile(options);

  const open = async (data: Uint8Array | undefined): Promise<PgliteWorker> => {
    const w = new PgliteWorker(entry, extensions);
    try {
      // handed over to the worker, not copied (40 MB); a view into a larger buffer is copied out first
      const whole =
        data?.buffer instanceof ArrayBuffer &&
        data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength;
      const copy = data ? ((whole ? data.buffer : data.slice().buffer) as ArrayBuffer) : undefined;
      await w.call('open', copy ? { data: copy } : {}, OPEN_TIMEOUT_MS, 'PGlite did not start in time');
      return w;
    } catch (e) {
      await w.terminate();
      throw e;
    }
  };
  /** the snapshot, when it is a readable one; a broken file is removed (the next start rebuilds it) */
  const readSnapshot = async (): Promise<Uint8Array | undefined> => {
    if (!file) return undefined;
    const data = await readFile(file).catch(() => undefined);
    if (!data) return undefined;
    try {
      // gzip: 4.5 MB on disk instead of 40 MB. zlib inflates it in ~0.1 s, which a larger file
      // costs in reading anyway; PGlite's own (JS) decompression would add ~0.2 s
      const tar = new Uint8Array(await gunzipAsync(data));
      // PGlite does not reject a file that is no tar: it fails later, outside any promise
      if (!isTar(tar)) throw new Error('not a tar archive');
      return tar;
    } catch (e) {
      options.log?.(`ignoring the PGlite snapshot ${file}: ${(e as Error).message}; rebuilding it`);
      await rm(file, { force: true });
      return undefined;
    }
  };

  let worker: PgliteWorker | undefined;
  let fromSnapshot = false;
  const snapshot = await readSnapshot();
  if (snapshot) {
    try {
      worker = await open(snapshot);
      fromSnapshot = true;
    } catch (e) {
      // a truncated or foreign file: start fresh and replace it
      options.log?.(`ignoring the PGlite snapshot ${file}: ${(e as Error).message}; rebuilding it`);
      if (file) await rm(file, { force: true });
    }
  }
  if (!worker) {
    worker = await open(undefined);
    if (file) await saveSnapshot(worker, file, options.log);
  }
  let generation = 0;
  /** the database migrations run in: its loss is counted at once, so the tracer applies its setup again */
  const adopt = (w: PgliteWorker): PgliteWorker => {
    w.onGone = () => generation++;
    return w;
  };
  let current = adopt(worker);
  /** a new database after the last one was stopped: from the snapshot, or a fresh initdb */
  const live = async (): Promise<PgliteWorker> => {
    if (!current.gone) return current;
    current = adopt(await open(await readSnapshot()));
    return current;
  };
  const timedOut = `canceling statement due to statement timeout: it ran longer than ${formatMs(timeoutMs)} (PGlite cannot interrupt a statement, so pgkeel stopped PGlite; the database was started afresh)`;
  const run = async (op: 'query' | 'exec', sql: string): Promise<unknown> => {
    // the transaction of a stopped statement went with its database: a new one need not start for this
    if (current.gone && op === 'exec' && /^\s*ROLLBACK\s*;?\s*$/i.test(sql)) return undefined;
    const w = await live();
    try {
      return await w.call(op, { sql }, timeoutMs, timedOut);
    } catch (e) {
      if (e instanceof WorkerGone && !e.message.startsWith('canceling'))
        throw new Error(`${e.message} (the database was started afresh)`);
      // Postgres would PANIC and restart here; PGlite goes on, failing every later query the same way
      if (/ERRORDATA_STACK_SIZE exceeded/.test((e as Error).message)) {
        await w.terminate();
        throw new Error(`${(e as Error).message}: PGlite was left broken, and started afresh`);
      }
      throw e;
    }
  };

  const version = (await run(
    'query',
    "select current_setting('server_version_num') as v, current_setting('server_version') as full, session_user as u",
  )) as { v: string; full: string; u: string }[];
  const row = version[0]!;
  const sessionUser = row.u;
  return {
    name: `PGlite (PostgreSQL ${row.full})`,
    majorVersion: Math.floor(Number(row.v) / 10000),
    canObserveConcurrently: false,
    rollbackOnly: false,
    fromSnapshot,
    get generation() {
      return generation;
    },
    query: async (sql) => (await run('query', sql)) as Record<string, unknown>[],
    exec: async (sql) => {
      await run('exec', sql);
    },
    refuse: pgliteRefusal,
    backendPid: async () =>
      Number(((await run('query', 'select pg_backend_pid() as pid')) as { pid: number }[])[0]!.pid),
    // PGlite has one session: a new one is the settings, role and session state of a fresh start.
    // SET SESSION AUTHORIZATION DEFAULT does not return to the initial user in PGlite; naming it does.
    newSession: async ({ inTransaction }) => {
      const user = `"${sessionUser.replaceAll('"', '""')}"`;
      // one statement per call: a multi-statement query is a transaction block, where DISCARD ALL cannot run
      for (const sql of [
        `SET SESSION AUTHORIZATION ${user}`,
        'RESET ROLE',
        inTransaction ? 'RESET ALL' : 'DISCARD ALL',
      ])
        await run('exec', sql);
    },
    close: async () => {
      const w = current;
      if (!w.gone)
        await w.call('close', {}, CLOSE_TIMEOUT_MS, 'PGlite did not close in time').catch(() => {});
      await w.terminate();
    },
  };
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Taken before anything runs, so the snapshot is a pristine initdb. Written under a temporary name
 * and renamed: concurrent first starts each write a whole file, and a reader never sees half of one.
 * A cache that cannot be written costs speed, not correctness.
 */
async function saveSnapshot(
  worker: PgliteWorker,
  file: string,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const dump = (await worker.call(
      'dump',
      {},
      OPEN_TIMEOUT_MS,
      'PGlite did not dump in time',
    )) as ArrayBuffer;
    const data = await gzipAsync(new Uint8Array(dump));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    log?.(`could not save the PGlite snapshot ${file}: ${(e as Error).message}`);
    await rm(tmp, { force: true });
  }
}
