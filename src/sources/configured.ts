/**
 * Inputs with their settings: resolves paths, globs and stdin, reads each migration, and finds the
 * config that applies to it (searched upward from the file, or the one given). Shared by lint,
 * explain and trace so that all three see the same files the same way.
 */

import path from 'node:path';
import { ignoreMatcherFor } from '../config/ignore.js';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig, PgkeelConfig } from '../config/types.js';
import { allRules } from '../rules/index.js';
import { readMigrationFile } from './read.js';
import { resolveInputs } from './resolve.js';
import type { InputRef, MigrationFile } from './types.js';

export interface ConfiguredInputOptions {
  cwd?: string;
  /** use exactly this config file instead of searching upward from each file */
  configPath?: string;
  /** name shown for stdin (and used to detect its origin and find its config) */
  stdinFilename?: string;
  readStdin?: () => Promise<string | Uint8Array>;
}

export interface ConfiguredFile {
  file: MigrationFile;
  config: PgkeelConfig;
}

const KNOWN_RULES = allRules.map((r) => r.id);

/** One file at a time, in input order, so a long run never holds every file in memory. */
export async function* configuredFiles(
  args: readonly string[],
  options: ConfiguredInputOptions = {},
): AsyncGenerator<ConfiguredFile> {
  const cwd = options.cwd ?? process.cwd();
  const rootConfig = await loadConfig({
    cwd,
    configPath: options.configPath,
    searchFrom: cwd,
    knownRules: KNOWN_RULES,
  });
  const refs = await resolveInputs(args, { cwd, ignore: ignoreMatcherFor(rootConfig) });
  for (const ref of refs) {
    const file = await readMigrationFile(ref, {
      stdinFilename: options.stdinFilename,
      readStdin: options.readStdin,
    });
    const loaded = options.configPath
      ? rootConfig
      : await configFor(ref, cwd, options.stdinFilename, rootConfig);
    yield { file, config: loaded.config };
  }
}

function configFor(
  ref: InputRef,
  cwd: string,
  stdinFilename: string | undefined,
  rootConfig: LoadedConfig,
): Promise<LoadedConfig> | LoadedConfig {
  if (ref.kind === 'stdin') {
    if (!stdinFilename) return rootConfig;
    return loadConfig({
      cwd,
      searchFrom: path.dirname(path.resolve(cwd, stdinFilename)),
      knownRules: KNOWN_RULES,
    });
  }
  return loadConfig({ cwd, searchFrom: path.dirname(ref.absPath), knownRules: KNOWN_RULES });
}
