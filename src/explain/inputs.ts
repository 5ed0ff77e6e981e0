/**
 * Migration inputs for `explain` and `trace`: the same paths, globs, stdin, config search and
 * runner detection as `lint`, resolved into files with the settings that apply to each
 * (CLI flags > config file > the origin detected from the file).
 */

import type { RunnerName, TimeoutSettings } from '../config/types.js';
import type { SettingOrigin } from '../diagnostics.js';
import { loadParser } from '../parse/parse.js';
import { configuredFiles, fileSettings } from '../sources/configured.js';
import type { MigrationFile } from '../sources/index.js';

export interface MigrationInputOptions {
  cwd?: string;
  /** use exactly this config file instead of searching upward from each file */
  configPath?: string;
  /** target Postgres major version; wins over config */
  pgVersion?: number;
  /** how the migration is run; wins over config and the detected origin */
  runner?: RunnerName;
  /** name shown for stdin (and used to detect its origin and find its config) */
  stdinFilename?: string;
  readStdin?: () => Promise<string | Uint8Array>;
}

/** A migration file and the settings it is analysed with. */
export interface MigrationInput {
  file: MigrationFile;
  pgVersion: number;
  runner: RunnerName;
  noTransaction: boolean;
  timeouts: TimeoutSettings;
  /** where the version and the runner came from */
  pgVersionFrom: SettingOrigin;
  runnerFrom: SettingOrigin;
}

/** Resolves CLI-style arguments into migrations. Throws InputError / ConfigError for bad input. */
export async function resolveMigrations(
  args: readonly string[],
  options: MigrationInputOptions = {},
): Promise<MigrationInput[]> {
  await loadParser();
  const out: MigrationInput[] = [];
  for await (const configured of configuredFiles(args, options)) {
    const s = fileSettings(configured, options);
    out.push({
      file: configured.file,
      pgVersion: s.pgVersion,
      runner: s.runner,
      noTransaction: s.noTransaction,
      timeouts: s.timeouts,
      pgVersionFrom: s.pgVersionFrom,
      runnerFrom: s.runnerFrom,
    });
  }
  return out;
}
