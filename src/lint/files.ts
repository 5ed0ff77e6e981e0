/** Lints files and stdin: resolves inputs, finds each file's config, merges settings, runs the linter. */

import type { PgkeelConfig } from '../config/types.js';
import type { FileResult, LintSummary } from '../diagnostics.js';
import { loadParser } from '../parse/parse.js';
import { type ConfiguredInputOptions, configuredFiles } from '../sources/configured.js';
import { type LintOptions, lintSqlSync } from './lint.js';

export interface LintFilesOptions extends ConfiguredInputOptions {
  /** settings that win over config files (CLI flags) */
  overrides?: Pick<LintOptions, 'pgVersion' | 'runner' | 'presets' | 'rules' | 'timeouts'>;
  /** called after each file, e.g. to stream output */
  onFile?: (result: FileResult) => void;
  /** keep FileResults (with sources) in the summary; default true */
  keepResults?: boolean;
}

/** Lints paths, directories, globs and `-` (stdin). Throws InputError / ConfigError for bad input. */
export async function lintFiles(
  args: readonly string[],
  options: LintFilesOptions = {},
): Promise<LintSummary> {
  await loadParser();
  const summary: LintSummary = { files: [], errorCount: 0, warningCount: 0, infoCount: 0 };
  for await (const { file, config } of configuredFiles(args, options)) {
    const settings = { ...config, ...definedOnly(options.overrides ?? {}) } as PgkeelConfig;
    const result = lintSqlSync(file.text, {
      path: file.path,
      pgVersion: settings.pgVersion,
      runner: options.overrides?.runner ?? config.runner ?? file.origin,
      noTransaction: file.noTransaction,
      presets: settings.presets,
      rules: { ...config.rules, ...options.overrides?.rules },
      timeouts: { ...config.timeouts, ...definedOnly(options.overrides?.timeouts ?? {}) },
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

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
