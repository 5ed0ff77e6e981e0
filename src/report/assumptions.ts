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
