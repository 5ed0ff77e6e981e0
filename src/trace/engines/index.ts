/** One entry point for the three engines; each module loads only when its engine is asked for. */

import { DEFAULT_STATEMENT_TIMEOUT_MS, type EngineSpec, type TraceEngine } from '../engine.js';

export interface StartEngineOptions {
  /** cache root for PostgreSQL binaries and PGlite snapshots (default: `defaultCacheRoot()`) */
  cacheDir?: string;
  /** progress and server log lines; never contains a password */
  log?: (line: string) => void;
  /** the user's database: on abort the running statement is cancelled and everything rolled back */
  signal?: AbortSignal;
}

export async function startEngine(spec: EngineSpec, options: StartEngineOptions = {}): Promise<TraceEngine> {
  switch (spec.kind) {
    case 'pglite': {
      const { startPglite } = await import('./pglite.js');
      return startPglite({ ...options, statementTimeoutMs: spec.statementTimeoutMs });
    }
    case 'postgres': {
      const { startPostgres } = await import('./postgres.js');
      const engine = await startPostgres(spec.major, options);
      // a real server enforces statement_timeout itself; set at session level, a new session of the
      // tracer keeps it (it restores the engine's session settings)
      const ms = spec.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
      if (ms > 0) await engine.exec(`SET statement_timeout = ${Math.floor(ms)}`);
      return engine;
    }
    case 'url': {
      const { connectUrl } = await import('./url.js');
      return connectUrl(spec.url, {
        allowCommit: spec.allowCommit,
        log: options.log,
        lockTimeoutMs: spec.lockTimeoutMs,
        statementTimeoutMs: spec.statementTimeoutMs,
        signal: options.signal,
      });
    }
  }
}

export { defaultCacheRoot } from './cache.js';
