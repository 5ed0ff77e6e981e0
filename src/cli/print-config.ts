/**
 * `pgkeel lint --print-config <file>`: the settings one file is linted with, and where each came
 * from, as JSON. Built from the same pieces `lintFiles` uses (configuredFiles, fileSettings,
 * ruleSelection, activeRules), so what it prints is what lint does.
 */

import type { TimeoutSettings } from '../config/types.js';
import type { SettingOrigin, Severity } from '../diagnostics.js';
import { type LintFilesOptions, ruleSelection } from '../lint/files.js';
import { activeRules } from '../lint/lint.js';
import { type ConfiguredFile, configuredFiles, fileSettings } from '../sources/configured.js';
import { InputError } from '../sources/errors.js';

export interface ResolvedConfig {
  file: string;
  /** the config file that applies, or null when defaults apply */
  configFile: string | null;
  pgVersion: { value: number } & SettingOrigin;
  runner: { value: string } & SettingOrigin;
  /** the file opts out of its runner's transaction (goose NO TRANSACTION, dbmate transaction:false) */
  noTransaction: boolean;
  presets: string[];
  /** the rules that run, with their severity and options (defaults merged with the config's) */
  rules: Record<string, { severity: Severity; options?: Readonly<Record<string, unknown>> }>;
  timeouts: TimeoutSettings;
  ignorePaths: string[];
}

export async function printConfig(
  file: string,
  options: Pick<LintFilesOptions, 'cwd' | 'configPath' | 'stdinFilename' | 'readStdin' | 'overrides'>,
): Promise<ResolvedConfig> {
  const found: ConfiguredFile[] = [];
  for await (const configured of configuredFiles([file], options)) {
    found.push(configured);
    if (found.length > 1)
      throw new InputError(file, '--print-config takes a single file, not a directory or glob');
  }
  const configured = found[0];
  if (!configured) throw new InputError(file, 'no migration file to print the config for');
  // its settings depend on its content (the runner detected from it): an unreadable file has none
  const unreadable = configured.file.unreadable ? configured.file.problems?.[0] : undefined;
  if (unreadable) throw new InputError(file, unreadable.message);
  const overrides = options.overrides ?? {};
  const settings = fileSettings(configured, overrides);
  const selection = ruleSelection(configured.config, overrides);
  const rules: ResolvedConfig['rules'] = {};
  for (const { rule, severity, options: ruleOptions } of activeRules(selection)) {
    rules[rule.id] = rule.options ? { severity, options: ruleOptions } : { severity };
  }
  const timeouts = { ...settings.timeouts };
  if (overrides.timeouts?.lockTimeout !== undefined) timeouts.lockTimeout = overrides.timeouts.lockTimeout;
  if (overrides.timeouts?.statementTimeout !== undefined)
    timeouts.statementTimeout = overrides.timeouts.statementTimeout;
  return {
    file: configured.file.path,
    configFile: configured.configFile ?? null,
    pgVersion: { value: settings.pgVersion, ...settings.pgVersionFrom },
    runner: { value: settings.runner, ...settings.runnerFrom },
    noTransaction: settings.noTransaction,
    presets: selection.presets ?? ['recommended'],
    rules,
    timeouts,
    ignorePaths: configured.config.ignorePaths ?? [],
  };
}
