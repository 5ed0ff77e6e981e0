/** Lints files and stdin: resolves inputs, finds each file's config, merges settings, runs the linter. */

import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { copySchema } from '../analyze/analyze.js';
import { SchemaHistory } from '../analyze/history.js';
import { runnerModel } from '../analyze/runners.js';
import type { PgkeelConfig } from '../config/types.js';
import type { Diagnostic, FileResult, LintSummary } from '../diagnostics.js';
import { fixFile } from '../fix/fix-file.js';
import { loadParser } from '../parse/parse.js';
import { type ConfiguredInputOptions, configuredFiles, fileSettings } from '../sources/configured.js';
import type { MigrationFile } from '../sources/index.js';
import type { InputProblem } from '../sources/types.js';
import { statementFingerprint } from './fingerprint.js';
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
  /** analyse each file with the schema of the earlier migrations of its history (default true) */
  history?: boolean;
  /**
   * apply fixes (`--fix`: write the files; `dryRun`: put the fixed text in the result's `output`).
   * Each re-lint of a fixed text gets its own copy of the history's schema.
   */
  fix?: { dryRun?: boolean; unsafe?: boolean; onWriteProblem?: (path: string, reason: string) => void };
}

/** Lints paths, directories, globs and `-` (stdin). Throws InputError / ConfigError for bad input. */
export async function lintFiles(
  args: readonly string[],
  options: LintFilesOptions = {},
): Promise<LintSummary> {
  await loadParser();
  const summary: LintSummary = { files: [], errorCount: 0, warningCount: 0, infoCount: 0 };
  const overrides = options.overrides ?? {};
  const history = options.history === false ? undefined : new SchemaHistory(options.cwd);
  for await (const configured of configuredFiles(args, { ...options, skipApplied: !options.allHistory })) {
    const { file, config } = configured;
    const settings = fileSettings(configured, overrides);
    const analyzeWith = { pgVersion: settings.pgVersion, runner: runnerModel(settings.runner) };
    const schema = file.unreadable ? undefined : await history?.before(file, analyzeWith);
    const lintOptions: LintOptions = {
      path: file.path,
      pgVersion: settings.pgVersion,
      runner: settings.runner,
      noTransaction: settings.noTransaction,
      ...ruleSelection(config, overrides),
      timeouts: { ...settings.timeouts, ...definedOnly(overrides.timeouts ?? {}) },
    };
    let result: FileResult = file.unreadable
      ? {
          path: file.path,
          source: '',
          diagnostics: [],
          statementCount: 0,
          pgVersion: settings.pgVersion,
          runner: settings.runner,
        }
      : lintSqlSync(file.text, {
          ...lintOptions,
          // fixing lints the file again: each lint needs a schema of its own (analysers mutate it)
          schema: options.fix && schema ? copySchema(schema) : schema,
          onAnalyzed: history && ((state) => history.after(file, state)),
        });
    if (options.fix && !file.unreadable)
      result = await fixed(file, result, { ...lintOptions, schema }, options.fix);
    if (file.problems) result.diagnostics = withInputProblems(result.diagnostics, file.problems);
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

/**
 * A file with its fixes applied (see fix/fix-file.ts): written in place, or for a dry run (and stdin)
 * returned in `output`. A file whose text lint saw differs from its bytes (a BOM, a blanked Down
 * section, invalid UTF-8 replaced) is not written: the edits would not map back exactly.
 */
async function fixed(
  file: MigrationFile,
  result: FileResult,
  lintOptions: LintOptions,
  fix: NonNullable<LintFilesOptions['fix']>,
): Promise<FileResult> {
  const { schema, ...options } = lintOptions;
  const done = fixFile(
    result,
    (text) => lintSqlSync(text, { ...options, schema: schema ? copySchema(schema) : undefined }),
    { unsafe: fix.unsafe },
  );
  const out: FileResult = { ...done.result, path: result.path, fixesApplied: done.applied };
  if (done.applied === 0) return out;
  if (fix.dryRun || !file.absPath) {
    out.output = done.result.source;
    return out;
  }
  const raw = await readFile(file.absPath, 'utf8').catch(() => undefined);
  if (raw !== file.text) {
    fix.onWriteProblem?.(
      file.path,
      'its text is not exactly what was linted (a BOM, a down section, or invalid UTF-8): not written',
    );
    return { ...result, fixesApplied: 0 };
  }
  // a new file renamed over the old one: an interrupted write never leaves half a migration
  const tmp = `${file.absPath}.pgkeel-fix-${process.pid}`;
  try {
    const { mode } = await stat(file.absPath);
    await writeFile(tmp, done.result.source, { mode });
    await rename(tmp, file.absPath);
  } catch (error) {
    await rm(tmp, { force: true });
    fix.onWriteProblem?.(file.path, `cannot write it: ${(error as Error).message}`);
    return { ...result, fixesApplied: 0 };
  }
  return out;
}

/** The rule id of the finding on an input that could not be read (the CLI exits 2 when there is one). */
export const UNREADABLE_INPUT = 'unreadable-input';

/**
 * A file's findings with those about the file itself (unreadable, not UTF-8) merged in, in file
 * order. These are not rules: `--rule`, presets and `pgkeel-ignore` do not turn them off.
 */
function withInputProblems(diagnostics: Diagnostic[], problems: readonly InputProblem[]): Diagnostic[] {
  const extra: Diagnostic[] = problems.map((p) => ({
    rule: p.rule,
    severity: p.severity,
    message: p.message,
    ...(p.help ? { help: p.help } : {}),
    start: p.start,
    end: p.end,
    line: p.line,
    column: p.column,
    endLine: p.line,
    endColumn: p.column + (p.end - p.start),
    statement: -1,
    // no statement text to identify it by: the rule alone, as there is one such finding per file
    fingerprint: statementFingerprint(p.rule, ''),
  }));
  if (diagnostics.length === 0) return extra;
  return [...diagnostics, ...extra].sort((a, b) => a.start - b.start);
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
