/** One entry point for the three engines; each module loads only when its engine is asked for. */

import type { EngineSpec, TraceEngine } from '../engine.js';

export interface StartEngineOptions {
  /** cache root for PostgreSQL binaries and PGlite snapshots (default: `defaultCacheRoot()`) */
  cacheDir?: string;
  /** progress and server log lines; never contains a password */
  log?: (line: string) => void;
}

export async function startEngine(spec: EngineSpec, options: StartEngineOptions = {}): Promise<TraceEngine> {
  switch (spec.kind) {
    case 'pglite': {
      const { startPglite } = await import('./pglite.js');
      return startPglite(options);
    }
    case 'postgres': {
      const { startPostgres } = await import('./postgres.js');
      return startPostgres(spec.major, options);
    }
    case 'url': {
      const { connectUrl } = await import('./url.js');
      return connectUrl(spec.url, { allowCommit: spec.allowCommit, log: options.log });
    }
  }
}

export { defaultCacheRoot } from './cache.js';
