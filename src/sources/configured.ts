/**
 * Inputs with their settings: resolves paths, globs and stdin, reads each migration, and finds the
 * config that applies to it (searched upward from the file, or the one given). Shared by lint,
 * explain and trace so that all three see the same files the same way.
 */

import path from 'node:path';
import { ignoreMatcherFor } from '../config/ignore.js';
import { loadConfig } from '../config/load.js';
import {
  DEFAULT_PG_VERSION,
  type LoadedConfig,
  type PgkeelConfig,
  type RunnerName,
  type TimeoutSettings,
} from '../config/types.js';
import type { SettingOrigin } from '../diagnostics.js';
import { allRules } from '../rules/index.js';
import { type AppliedMatcher, appliedMatcherFor } from './applied.js';
import { changedSince } from './changed.js';
import { InputError } from './errors.js';
import { readMigrationFile, STDIN_NAME } from './read.js';
import { resolveInputs } from './resolve.js';
import type { InputProblem, InputRef, MigrationFile } from './types.js';

export interface ConfiguredInputOptions {
  cwd?: string;
  /** use exactly this config file instead of searching upward from each file */
  configPath?: string;
  /** name shown for stdin (and used to detect its origin and find its config) */
  stdinFilename?: string;
  readStdin?: () => Promise<string | Uint8Array>;
  /**
   * only files added or changed since this git revision (merge-base semantics, work tree and
   * untracked files included; see sources/changed.ts); stdin is always kept
   */
  changedSince?: string;
  /** skip the files a config's `applied` marks as already applied (lint does, unless --all-history) */
  skipApplied?: boolean;
  /** told about each file left out by `changedSince` or `skipApplied`, with the reason */
  onSkipped?: (path: string, reason: SkipReason) => void;
  /** follow symbolic links out of the directories walked (see ResolveOptions) */
  followSymlinks?: boolean;
  /** the most bytes read from one input (default MAX_FILE_SIZE, 64 MB) */
  maxFileSize?: number;
}

/** Why an input file was not yielded: unchanged since the `changedSince` ref, or already applied. */
export type SkipReason = 'unchanged' | 'applied';

export interface ConfiguredFile {
  file: MigrationFile;
  config: PgkeelConfig;
  /** the config file that applies, as shown to users; undefined when none was found */
  configFile?: string;
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
  const refs = await resolveInputs(args, {
    cwd,
    ignore: ignoreMatcherFor(rootConfig),
    ...(options.followSymlinks ? { followSymlinks: true } : {}),
  });
  // asked before reading any file, so a bad ref fails fast
  const changed =
    options.changedSince === undefined ? undefined : await changedSince(options.changedSince, cwd);
  const appliedMatchers = new WeakMap<LoadedConfig, AppliedMatcher | undefined>();
  for (const ref of refs) {
    if (changed && ref.kind === 'file' && !(await changed.has(ref.absPath))) {
      options.onSkipped?.(ref.path, 'unchanged');
      continue;
    }
    const loaded = options.configPath
      ? rootConfig
      : await configFor(ref, cwd, options.stdinFilename, rootConfig);
    if (options.skipApplied && ref.kind === 'file') {
      if (!appliedMatchers.has(loaded)) appliedMatchers.set(loaded, appliedMatcherFor(loaded));
      const isApplied = appliedMatchers.get(loaded);
      if (isApplied && (await isApplied(ref.absPath))) {
        options.onSkipped?.(ref.path, 'applied');
        continue;
      }
    }
    const file = await readOrReport(ref, options);
    yield {
      file,
      config: loaded.config,
      ...(loaded.filepath ? { configFile: shownPath(loaded.filepath, cwd) } : {}),
    };
  }
}

/**
 * Reads an input; one that cannot be read (or is a link not to follow) becomes a file with no text
 * and its problem, so that callers report it with the others instead of stopping the run halfway.
 */
async function readOrReport(ref: InputRef, options: ConfiguredInputOptions): Promise<MigrationFile> {
  const shown = ref.kind === 'stdin' ? (options.stdinFilename ?? STDIN_NAME) : ref.path;
  const problemFile = (problem: Omit<InputProblem, 'start' | 'end' | 'line' | 'column'>): MigrationFile => ({
    path: shown,
    ...(ref.kind === 'file' ? { absPath: ref.absPath } : {}),
    text: '',
    unreadable: true,
    problems: [{ ...problem, start: 0, end: 0, line: 1, column: 1 }],
  });
  if (ref.kind === 'file' && ref.problem) return problemFile(ref.problem);
  try {
    return await readMigrationFile(ref, {
      stdinFilename: options.stdinFilename,
      readStdin: options.readStdin,
      ...(options.maxFileSize !== undefined ? { maxFileSize: options.maxFileSize } : {}),
    });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const prefix = `${error.path}: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return problemFile({
      rule: 'unreadable-input',
      severity: 'error',
      message: `Cannot read this input: ${reason}.`,
      help: 'The other inputs were still checked; fix or remove this one (a migration must be a readable UTF-8 text file).',
    });
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

function shownPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

/** Settings given by the caller (CLI flags), which win over config files and detection. */
export interface SettingOverrides {
  pgVersion?: number;
  runner?: RunnerName;
  /** the flag that set `runner`, when it was not `--runner` (e.g. `--assume-in-transaction`) */
  runnerFlag?: string;
}

/** The settings a file is checked with, and where the version and runner came from. */
export interface FileSettings {
  pgVersion: number;
  runner: RunnerName;
  noTransaction: boolean;
  timeouts: TimeoutSettings;
  pgVersionFrom: SettingOrigin;
  runnerFrom: SettingOrigin;
}

/** The one place that decides a file's settings: flags > config file > detected from the file > default. */
export function fileSettings(configured: ConfiguredFile, overrides: SettingOverrides = {}): FileSettings {
  const { file, config, configFile } = configured;
  const fromConfig: SettingOrigin = { from: 'config', ...(configFile ? { detail: configFile } : {}) };
  let pgVersion: number;
  let pgVersionFrom: SettingOrigin;
  if (overrides.pgVersion !== undefined) {
    pgVersion = overrides.pgVersion;
    pgVersionFrom = { from: 'flag', detail: '--pg-version' };
  } else if (config.pgVersion !== undefined) {
    pgVersion = config.pgVersion;
    pgVersionFrom = fromConfig;
  } else {
    pgVersion = DEFAULT_PG_VERSION;
    pgVersionFrom = { from: 'default' };
  }
  let runner: RunnerName;
  let runnerFrom: SettingOrigin;
  if (overrides.runner !== undefined) {
    runner = overrides.runner;
    runnerFrom = { from: 'flag', detail: overrides.runnerFlag ?? '--runner' };
  } else if (config.runner !== undefined) {
    runner = config.runner;
    runnerFrom = fromConfig;
  } else if (file.origin !== undefined) {
    runner = file.origin;
    runnerFrom = { from: 'detected', ...(file.originReason ? { detail: file.originReason } : {}) };
  } else {
    runner = 'psql';
    runnerFrom = { from: 'default' };
  }
  return {
    pgVersion,
    runner,
    noTransaction: file.noTransaction ?? false,
    timeouts: config.timeouts ?? {},
    pgVersionFrom,
    runnerFrom,
  };
}
