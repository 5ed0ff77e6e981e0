/**
 * Migration inputs for `explain` and `trace`: the same paths, globs, stdin, config search and
 * runner detection as `lint`, resolved into files with the settings that apply to each
 * (CLI flags > config file > the origin detected from the file).
 */

import type { RunnerName } from '../config/types.js';
import { loadParser } from '../parse/parse.js';
import { configuredFiles, type FileSettings, fileSettings } from '../sources/configured.js';
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
  /** follow symbolic links out of the directories walked (see ResolveOptions) */
  followSymlinks?: boolean;
}

/** A migration file and the settings it is analysed with (and where the version and runner came from). */
export interface MigrationInput extends FileSettings {
  file: MigrationFile;
}

/** Resolves CLI-style arguments into migrations. Throws InputError / ConfigError for bad input. */
export async function resolveMigrations(
  args: readonly string[],
  options: MigrationInputOptions = {},
): Promise<MigrationInput[]> {
  await loadParser();
  const out: MigrationInput[] = [];
  for await (const configured of configuredFiles(args, options)) {
    out.push({ file: configured.file, ...fileSettings(configured, options) });
  }
  return out;
}
