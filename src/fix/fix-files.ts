/**
 * `pgkeel fix`: the plan of each migration given, written in its runner's layout. A migration that
 * may already be applied is never rewritten (Prisma and Flyway keep checksums, and a database that
 * ran the old text would never run the new): only files past the config's `applied` mark, or
 * changed since `changedSince`, are written — otherwise the plan is only shown.
 */

import { readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SchemaHistory } from '../analyze/history.js';
import { runnerModel } from '../analyze/runners.js';
import type { RunnerName } from '../config/types.js';
import { type LintFilesOptions, ruleSelection } from '../lint/files.js';
import { loadParser } from '../parse/parse.js';
import { type ConfiguredInputOptions, configuredFiles, fileSettings } from '../sources/configured.js';
import type { MigrationFile } from '../sources/index.js';
import { historyOf } from '../sources/index.js';
import { type FileWrite, LayoutError, layoutPlan, type PlanLayout } from './layouts.js';
import { type MigrationPlan, planMigration } from './plan.js';

export interface FixPlansOptions extends ConfiguredInputOptions {
  overrides?: LintFilesOptions['overrides'];
  /** use fixes classified unsafe too */
  unsafe?: boolean;
  /** analyse each file with the schema of its earlier migrations (default true) */
  history?: boolean;
  /** write files (default: only plan) */
  write?: boolean;
  onFile?: (result: FilePlanResult) => void;
}

export interface FilePlanResult {
  path: string;
  plan?: MigrationPlan;
  layout?: PlanLayout;
  /** why the plan was not written (or not made) */
  refused?: string;
  /** files written, as shown to users */
  written: string[];
  /** left alone: the config's `applied` marks it as applied */
  applied?: boolean;
}

/** Plans (and with `write`, writes) the migrations of `args`. Throws InputError / ConfigError. */
export async function fixPlans(
  args: readonly string[],
  options: FixPlansOptions = {},
): Promise<FilePlanResult[]> {
  await loadParser();
  const results: FilePlanResult[] = [];
  const cwd = options.cwd ?? process.cwd();
  const history = options.history === false ? undefined : new SchemaHistory(cwd);
  const done = (r: FilePlanResult) => {
    results.push(r);
    options.onFile?.(r);
  };
  const skipped: FilePlanResult[] = [];
  for await (const configured of configuredFiles(args, {
    ...options,
    skipApplied: true,
    onSkipped: (p, reason) => {
      options.onSkipped?.(p, reason);
      if (reason === 'applied')
        skipped.push({
          path: p,
          refused: 'already applied (config "applied"): an applied migration is never rewritten',
          written: [],
          applied: true,
        });
    },
  })) {
    for (const s of skipped.splice(0)) done(s);
    const { file, config } = configured;
    if (file.down) continue;
    if (file.unreadable) {
      done({ path: file.path, refused: file.problems?.[0]?.message ?? 'unreadable', written: [] });
      continue;
    }
    const settings = fileSettings(configured, options.overrides ?? {});
    const analyzeWith = { pgVersion: settings.pgVersion, runner: runnerModel(settings.runner) };
    const schema = await history?.before(file, analyzeWith);
    let plan: MigrationPlan;
    try {
      plan = planMigration(file.text, {
        path: file.path,
        pgVersion: settings.pgVersion,
        runner: settings.runner,
        noTransaction: settings.noTransaction,
        ...ruleSelection(config, options.overrides ?? {}),
        timeouts: settings.timeouts,
        schema,
        unsafe: options.unsafe,
        ...(history ? { onAnalyzed: (state) => history.after(file, state) } : {}),
      });
    } catch (e) {
      // a bug of a fix or of the planner costs this file only
      done({
        path: file.path,
        refused: `pgkeel failed to plan it (a bug, please report it): ${(e as Error)?.message ?? e}`,
        written: [],
      });
      continue;
    }
    const result: FilePlanResult = { path: file.path, plan, written: [] };
    if (plan.parseErrors > 0) {
      const error = plan.findings.find((d) => d.rule === 'parse-error')!;
      done({
        ...result,
        refused: `${file.path}:${error.line}:${error.column}: ${error.message} — fix the syntax first; nothing was planned`,
      });
      continue;
    }
    if (!plan.changed || !options.write) {
      done(result);
      continue;
    }
    const mayWrite =
      file.absPath === undefined
        ? 'standard input is never written: use --stdout'
        : options.changedSince === undefined && config.applied === undefined
          ? 'pgkeel cannot tell whether it is already applied: set "applied" in the config or pass --changed-since <ref> (or use --stdout to print the plan)'
          : undefined;
    if (mayWrite) {
      done({ ...result, refused: mayWrite });
      continue;
    }
    try {
      const layout = layoutPlan(plan, await targetOf(file, settings.runner));
      const written = await writeAll([...layout.writes, ...layout.later], file.absPath!, cwd);
      done({ ...result, layout, written });
    } catch (e) {
      if (!(e instanceof LayoutError)) throw e;
      done({ ...result, refused: e.message });
    }
  }
  for (const s of skipped.splice(0)) done(s);
  return results;
}

/** Where the plan of `file` goes: its directory's other migrations, its raw text, Drizzle's journal. */
async function targetOf(file: MigrationFile, runner: RunnerName) {
  const absPath = file.absPath!;
  const history = historyOf(file);
  const dir = history?.dir ?? path.dirname(absPath);
  let siblings: string[] = [];
  try {
    siblings = readdirSync(dir);
  } catch {
    siblings = [];
  }
  const journal =
    runner === 'drizzle'
      ? await readFile(path.join(path.dirname(absPath), 'meta', '_journal.json'), 'utf8').catch(
          () => undefined,
        )
      : undefined;
  return {
    runner,
    absPath,
    raw: await readFile(absPath, 'utf8'),
    siblings,
    ...(journal !== undefined ? { journal } : {}),
  };
}

/**
 * Writes every file through a temporary one renamed into place, new files first and the original
 * last, so that an interruption never leaves half a file. A new file must not exist yet.
 */
async function writeAll(writes: readonly FileWrite[], original: string, cwd: string): Promise<string[]> {
  const replaced = new Set([
    original,
    ...writes.filter((w) => w.absPath.endsWith('_journal.json')).map((w) => w.absPath),
  ]);
  for (const w of writes) {
    if (replaced.has(w.absPath)) continue;
    const exists = await stat(w.absPath).then(
      () => true,
      () => false,
    );
    if (exists) throw new LayoutError(`${path.relative(cwd, w.absPath)} exists already: not overwritten`);
  }
  const ordered = [
    ...writes.filter((w) => w.absPath !== original),
    ...writes.filter((w) => w.absPath === original),
  ];
  const mode = (await stat(original)).mode;
  const written: string[] = [];
  for (const w of ordered) {
    await mkdir(path.dirname(w.absPath), { recursive: true });
    const tmp = `${w.absPath}.pgkeel-fix-${process.pid}`;
    try {
      await writeFile(tmp, w.content, { mode });
      await rename(tmp, w.absPath);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    written.push(path.relative(cwd, w.absPath) || w.absPath);
  }
  return written;
}
