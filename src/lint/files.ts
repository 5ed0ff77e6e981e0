/** Lints files and stdin: resolves inputs, finds each file's config, merges settings, runs the linter. */

import type { PgkeelConfig } from '../config/types.js';
import type { FileResult, LintSummary } from '../diagnostics.js';
import { loadParser } from '../parse/parse.js';
import { type ConfiguredInputOptions, configuredFiles, fileSettings } from '../sources/configured.js';
import { type LintOptions, lintSqlSync } from './lint.js';

export interface LintFilesOptions extends ConfiguredInputOptions {
  /** settings that win over config files (CLI flags) */
  overrides?: Pick<
    LintOptions,
    'pgVersion' | 'runner' | 'presets' | 'rules' | 'timeouts' | 'only' | 'enable' | 'disable'
  > & {
    /** the flag that set `runner`, when not `--runner` (shown as the runner's source) */
    runnerFlag?: string;
  };
  /** called after each file, e.g. to stream output */
  onFile?: (result: FileResult) => void;
  /** keep FileResults (with sources) in the summary; default true */
  keepResults?: boolean;
  /** lint the migrations config `applied` marks as applied too (skipped by default) */
  allHistory?: boolean;
}

/** Lints paths, directories, globs and `-` (stdin). Throws InputError / ConfigError for bad input. */
export async function lintFiles(
  args: readonly string[],
  options: LintFilesOptions = {},
): Promise<LintSummary> {
  await loadParser();
  const summary: LintSummary = { files: [], errorCount: 0, warningCount: 0, infoCount: 0 };
  const overrides = options.overrides ?? {};
  for await (const configured of configuredFiles(args, { ...options, skipApplied: !options.allHistory })) {
    const { file, config } = configured;
    const settings = fileSettings(configured, overrides);
    const result = lintSqlSync(file.text, {
      path: file.path,
      pgVersion: settings.pgVersion,
      runner: settings.runner,
      noTransaction: settings.noTransaction,
      ...ruleSelection(config, overrides),
      timeouts: { ...settings.timeouts, ...definedOnly(overrides.timeouts ?? {}) },
    });
    result.pgVersionFrom = settings.pgVersionFrom;
    result.runnerFrom = settings.runnerFrom;
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

/** Which rules run for a file: its config's presets and `rules`, under the CLI's overrides and focus. */
export function ruleSelection(
  config: PgkeelConfig,
  overrides: NonNullable<LintFilesOptions['overrides']>,
): Pick<LintOptions, 'presets' | 'rules' | 'only' | 'enable' | 'disable'> {
  return {
    presets: overrides.presets ?? config.presets,
    rules: { ...config.rules, ...overrides.rules },
    only: overrides.only,
    enable: overrides.enable,
    disable: overrides.disable,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
