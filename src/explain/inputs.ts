/**
 * Migration inputs for `explain` and `trace`: the same paths, globs, stdin, config search and
 * runner detection as `lint`, resolved into files with the settings that apply to each
 * (CLI flags > config file > the origin detected from the file).
 */

import path from 'node:path';
import { ignoreMatcherFor } from '../config/ignore.js';
import { loadConfig } from '../config/load.js';
import {
  DEFAULT_PG_VERSION,
  type LoadedConfig,
  type RunnerName,
  type TimeoutSettings,
} from '../config/types.js';
import { loadParser } from '../parse/parse.js';
import { allRules } from '../rules/index.js';
import { type InputRef, type MigrationFile, readMigrationFile, resolveInputs } from '../sources/index.js';

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
}

const KNOWN_RULES = allRules.map((r) => r.id);

/** Resolves CLI-style arguments into migrations. Throws InputError / ConfigError for bad input. */
export async function resolveMigrations(
  args: readonly string[],
  options: MigrationInputOptions = {},
): Promise<MigrationInput[]> {
  const cwd = options.cwd ?? process.cwd();
  await loadParser();
  const rootConfig = await loadConfig({
    cwd,
    configPath: options.configPath,
    searchFrom: cwd,
    knownRules: KNOWN_RULES,
  });
  const refs = await resolveInputs(args, { cwd, ignore: ignoreMatcherFor(rootConfig) });
  const out: MigrationInput[] = [];
  for (const ref of refs) {
    const file = await readMigrationFile(ref, {
      stdinFilename: options.stdinFilename,
      readStdin: options.readStdin,
    });
    const loaded = options.configPath ? rootConfig : await configFor(ref, cwd, options, rootConfig);
    out.push(settingsFor(file, loaded, options));
  }
  return out;
}

function settingsFor(
  file: MigrationFile,
  loaded: LoadedConfig,
  options: MigrationInputOptions,
): MigrationInput {
  return {
    file,
    pgVersion: options.pgVersion ?? loaded.config.pgVersion ?? DEFAULT_PG_VERSION,
    runner: options.runner ?? loaded.config.runner ?? file.origin ?? 'psql',
    noTransaction: file.noTransaction ?? false,
    timeouts: loaded.config.timeouts ?? {},
  };
}

function configFor(
  ref: InputRef,
  cwd: string,
  options: MigrationInputOptions,
  rootConfig: LoadedConfig,
): Promise<LoadedConfig> | LoadedConfig {
  if (ref.kind === 'stdin') {
    if (!options.stdinFilename) return rootConfig;
    return loadConfig({
      cwd,
      searchFrom: path.dirname(path.resolve(cwd, options.stdinFilename)),
      knownRules: KNOWN_RULES,
    });
  }
  return loadConfig({ cwd, searchFrom: path.dirname(ref.absPath), knownRules: KNOWN_RULES });
}
