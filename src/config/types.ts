/** The contract between config files, CLI flags and the linter. */

export const RUNNER_NAMES = [
  'psql',
  'transaction-per-file',
  'prisma',
  'drizzle',
  'knex',
  'typeorm',
  'node-pg-migrate',
  'sequelize',
  'flyway',
  'golang-migrate',
  'goose',
  'dbmate',
  'sqitch',
  'alembic',
  'django',
  'rails',
] as const;
export type RunnerName = (typeof RUNNER_NAMES)[number];

export const SUPPORTED_PG_VERSIONS = [11, 12, 13, 14, 15, 16, 17, 18] as const;
export const DEFAULT_PG_VERSION = 18;

export type RuleLevel = 'off' | 'warn' | 'error';
/** `"warn"` or `["error", { …options }]` */
export type RuleSetting = RuleLevel | [RuleLevel] | [RuleLevel, Record<string, unknown>];

export type Preset = 'recommended' | 'all';

/**
 * Timeouts that are already in effect when a migration starts (set on the role, the database or
 * by the runner), as Postgres interval strings: `"2s"`, `"500ms"`, `"1min"`.
 */
export interface TimeoutSettings {
  lockTimeout?: string;
  statementTimeout?: string;
}

/** What a `pgkeel.config.*` file (or package.json's `pgkeel` key) may contain. */
export interface PgkeelConfig {
  pgVersion?: number;
  runner?: RunnerName;
  presets?: Preset[];
  rules?: Record<string, RuleSetting>;
  ignorePaths?: string[];
  timeouts?: TimeoutSettings;
  /**
   * migrations already applied, linted only with `--all-history`: a name or glob marking the last
   * applied one (it and everything sorting before it), or a list of globs naming them all
   */
  applied?: string | string[];
}

/** A config file after loading: where it came from, and its directory (ignorePaths are relative to it). */
export interface LoadedConfig {
  config: PgkeelConfig;
  /** absolute path of the file, or undefined when defaults apply */
  filepath?: string;
  dir: string;
}
