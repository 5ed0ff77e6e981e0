/**
 * `trace --database-url`: which database, and what to do on Ctrl-C while a trace runs there.
 *
 * `--database-url [url]` takes an optional value, so `--database-url a.sql` hands the path to the
 * option. A value that is not a connection string but names an existing file or directory (or ends
 * in `.sql`, or is `-`) is taken back as a path, and the URL then comes from $DATABASE_URL; without
 * it, that is a usage error saying how to write the URL.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { looksLikeConnectionString } from '../trace/conninfo.js';

export type DatabaseUrlChoice = { url: string; paths: string[] } | { error: string };

export function chooseDatabaseUrl(
  value: string | true,
  paths: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): DatabaseUrlChoice {
  const fromEnv = env.DATABASE_URL || undefined;
  if (value === true) {
    if (!fromEnv) return { error: '--database-url needs a URL, or DATABASE_URL set in the environment' };
    return { url: fromEnv, paths: [...paths] };
  }
  if (looksLikeConnectionString(value)) return { url: value, paths: [...paths] };
  const isPath =
    value === '-' || /\.sql$/i.test(value) || existsSync(path.resolve(cwd, value)) || /[*?[]/.test(value);
  if (!isPath) {
    return {
      error: `--database-url ${JSON.stringify(value)} is not a connection string: expected postgres://user@host:port/dbname or libpq keyword/value pairs (host=… dbname=…)`,
    };
  }
  if (!fromEnv) {
    return {
      error: `--database-url took ${JSON.stringify(value)}, which is a path, not a connection string: write --database-url=<url>, put the URL right after --database-url, or set DATABASE_URL`,
    };
  }
  return { url: fromEnv, paths: [value, ...paths] };
}

/** Exit codes after a signal, as shells report them (128 + the signal's number). */
const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * While a trace works on the user's database: the first SIGINT/SIGTERM aborts `signal` (the engine
 * cancels the running statement, rolls back and closes) and the command then exits with the
 * signal's code; a second one, or cleanup that takes longer than `graceMs`, exits at once.
 */
export class Interruption {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  private caught: 'SIGINT' | 'SIGTERM' | undefined;
  private readonly onInt = () => this.on('SIGINT');
  private readonly onTerm = () => this.on('SIGTERM');

  constructor(
    private readonly say: (line: string) => void,
    private readonly graceMs = 10_000,
  ) {
    process.on('SIGINT', this.onInt);
    process.on('SIGTERM', this.onTerm);
  }

  /** the exit code when a signal came, else undefined */
  get exitCode(): number | undefined {
    return this.caught ? SIGNAL_EXIT[this.caught] : undefined;
  }

  private on(sig: 'SIGINT' | 'SIGTERM'): void {
    if (this.caught) process.exit(SIGNAL_EXIT[this.caught]);
    this.caught = sig;
    this.say('interrupted: cancelling the running statement and rolling back');
    this.controller.abort();
    // cleanup waits for the database; a user who pressed Ctrl-C must not wait long for it
    setTimeout(() => process.exit(SIGNAL_EXIT[sig]), this.graceMs).unref();
  }

  dispose(): void {
    process.off('SIGINT', this.onInt);
    process.off('SIGTERM', this.onTerm);
    if (this.caught)
      this.say('interrupted: the running statement was cancelled and its transaction rolled back');
  }
}
