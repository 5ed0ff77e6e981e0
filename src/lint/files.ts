/** Lints files and stdin: resolves inputs, finds each file's config, merges settings, runs the linter. */

import path from 'node:path';
import { ignoreMatcherFor } from '../config/ignore.js';
import { loadConfig } from '../config/load.js';
import type { LoadedConfig, PgsafeConfig } from '../config/types.js';
import type { FileResult, LintSummary } from '../diagnostics.js';
import { loadParser } from '../parse/parse.js';
import { allRules } from '../rules/index.js';
import { type InputRef, readMigrationFile, resolveInputs } from '../sources/index.js';
import { type LintOptions, lintSqlSync } from './lint.js';

export interface LintFilesOptions {
  cwd?: string;
  /** use exactly this config file instead of searching upward from each file */
  configPath?: string;
  /** settings that win over config files (CLI flags) */
  overrides?: Pick<LintOptions, 'pgVersion' | 'runner' | 'presets' | 'rules' | 'timeouts'>;
  /** name shown for stdin (and used to detect its origin) */
  stdinFilename?: string;
  readStdin?: () => Promise<string | Uint8Array>;
  /** called after each file, e.g. to stream output */
  onFile?: (result: FileResult) => void;
  /** keep FileResults (with sources) in the summary; default true */
  keepResults?: boolean;
}

const KNOWN_RULES = allRules.map((r) => r.id);

/** Lints paths, directories, globs and `-` (stdin). Throws InputError / ConfigError for bad input. */
export async function lintFiles(
  args: readonly string[],
  options: LintFilesOptions = {},
): Promise<LintSummary> {
  const cwd = options.cwd ?? process.cwd();
  await loadParser();
  const rootConfig = await loadConfig({
    cwd,
    configPath: options.configPath,
    searchFrom: cwd,
    knownRules: KNOWN_RULES,
  });
  const refs = await resolveInputs(args, { cwd, ignore: ignoreMatcherFor(rootConfig) });
  const summary: LintSummary = { files: [], errorCount: 0, warningCount: 0, infoCount: 0 };
  for (const ref of refs) {
    const file = await readMigrationFile(ref, {
      stdinFilename: options.stdinFilename,
      readStdin: options.readStdin,
    });
    const loaded = options.configPath
      ? rootConfig
      : await configFor(ref, cwd, options.stdinFilename, rootConfig);
    const settings = { ...loaded.config, ...definedOnly(options.overrides ?? {}) } as PgsafeConfig;
    const result = lintSqlSync(file.text, {
      path: file.path,
      pgVersion: settings.pgVersion,
      runner: options.overrides?.runner ?? loaded.config.runner ?? file.origin,
      noTransaction: file.noTransaction,
      presets: settings.presets,
      rules: { ...loaded.config.rules, ...options.overrides?.rules },
      timeouts: { ...loaded.config.timeouts, ...definedOnly(options.overrides?.timeouts ?? {}) },
    });
    for (const d of result.diagnostics) {
      if (d.severity === 'error') summary.errorCount++;
      else if (d.severity === 'warning') summary.warningCount++;
      else summary.infoCount++;
    }
    options.onFile?.(result);
    if (options.keepResults !== false) summary.files.push(result);
  }
  return summary;
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

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
