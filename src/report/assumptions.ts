/**
 * The assumptions a report rests on, in words: which Postgres version and runner were used and
 * where each came from. Every format that gives version-dependent advice prints them, so no user
 * acts on advice for a version they did not see.
 */

import type { SettingOrigin } from '../diagnostics.js';

/** ` (default — set pgVersion)`, ` (--runner)`, ` (detected from …)`; '' when unknown. */
export function settingSource(origin: SettingOrigin | undefined, key: 'pgVersion' | 'runner'): string {
  if (!origin) return '';
  switch (origin.from) {
    case 'default':
      return ` (default — set ${key})`;
    case 'detected':
      return ` (detected${origin.detail ? ` from ${origin.detail}` : ''})`;
    case 'flag':
      return ` (${origin.detail ?? 'flag'})`;
    case 'config':
      return ` (${origin.detail ?? 'config'})`;
  }
}

/** `PG 18 (default — set pgVersion)`, `PG 16 (--pg-version)`, `PG 15 (db/pgkeel.config.json)` */
export function pgVersionLabel(pgVersion: number, origin?: SettingOrigin): string {
  return `PG ${pgVersion}${settingSource(origin, 'pgVersion')}`;
}

/** `prisma (detected from prisma/migrations/<name>/migration.sql)`, `psql (default — set runner)` */
export function runnerLabel(runner: string, origin?: SettingOrigin): string {
  return `${runner}${settingSource(origin, 'runner')}`;
}

/** Both, for a header: `PG 18 (default — set pgVersion) · prisma (--runner)`. */
export function assumptionsLabel(file: {
  pgVersion: number;
  runner: string;
  pgVersionFrom?: SettingOrigin;
  runnerFrom?: SettingOrigin;
}): string {
  return `${pgVersionLabel(file.pgVersion, file.pgVersionFrom)} · ${runnerLabel(file.runner, file.runnerFrom)}`;
}

/** Distinct settings shown by name in a summary; the rest are counted together. */
const SETTINGS_SHOWN = 4;

/**
 * The settings of every file of a run, for a summary line: one of each when all files agree
 * (`PG 18 (default — set pgVersion), runner prisma (--runner)`), else how many files had each
 * (`PG 16 (db/pgkeel.config.json) in 2 files, PG 18 (--pg-version) in 1 file; runner knex (--runner)`).
 */
export class AssumptionTally {
  private readonly pg = new Map<string, number>();
  private readonly runner = new Map<string, number>();

  /** Counts `file`; returns its own labels. */
  add(file: Parameters<typeof assumptionsLabel>[0]): { pg: string; runner: string } {
    const pg = pgVersionLabel(file.pgVersion, file.pgVersionFrom);
    const runner = runnerLabel(file.runner, file.runnerFrom);
    this.pg.set(pg, (this.pg.get(pg) ?? 0) + 1);
    this.runner.set(runner, (this.runner.get(runner) ?? 0) + 1);
    return { pg, runner };
  }

  get files(): number {
    let n = 0;
    for (const count of this.pg.values()) n += count;
    return n;
  }

  /** The summary text; `safe` makes each label safe for the output (terminal, Markdown). */
  describe(safe: (label: string) => string = (s) => s): string {
    const part = (counts: Map<string, number>, prefix: string) => {
      if (counts.size === 1) return prefix + safe([...counts.keys()][0]!);
      const sorted = [...counts].sort((a, b) => b[1] - a[1]);
      const named = sorted
        .slice(0, SETTINGS_SHOWN)
        .map(([label, n]) => `${prefix}${safe(label)} in ${n} ${n === 1 ? 'file' : 'files'}`);
      const rest = sorted.slice(SETTINGS_SHOWN).reduce((sum, [, n]) => sum + n, 0);
      if (rest > 0) named.push(`other settings in ${rest} ${rest === 1 ? 'file' : 'files'}`);
      return named.join(', ');
    };
    return `${part(this.pg, '')}${this.pg.size === 1 && this.runner.size === 1 ? ', ' : '; '}${part(this.runner, 'runner ')}`;
  }
}
