/**
 * Which migration tool a project uses, from its files: markers inside the migrations (goose, dbmate,
 * drizzle), the tool's own config files (prisma/schema.prisma, knexfile, alembic.ini, …), its
 * package.json dependencies, and finally migration file names (prisma's layout, `*.up.sql`).
 * Used by `pgkeel init`; per-file detection while linting stays in detect.ts.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunnerName } from '../config/types.js';
import { detectOriginWithReason } from './detect.js';

export interface ProjectRunner {
  runner: RunnerName;
  /** what gave it away, for people: `prisma/schema.prisma`, `12 of 12 files in db/migrations have a -- +goose Up annotation` */
  reason: string;
}

/** Where migrations usually live, relative to the project root. */
export const MIGRATION_DIRS = [
  'migrations',
  'db/migrations',
  'prisma/migrations',
  'drizzle',
  'supabase/migrations',
  'src/migrations',
  'database/migrations',
  'sql/migrations',
  'db/migrate',
] as const;

/** SQL files looked at per directory: enough to see a pattern, bounded for huge histories. */
const MAX_FILES = 200;

/** Tool config files at the project root, by the tool they belong to. */
const MARKER_FILES: [RunnerName, string[]][] = [
  ['prisma', ['prisma/schema.prisma', 'schema.prisma']],
  ['drizzle', ['drizzle.config.ts', 'drizzle.config.js', 'drizzle.config.mjs', 'drizzle.config.json']],
  ['knex', ['knexfile.js', 'knexfile.ts', 'knexfile.cjs', 'knexfile.mjs']],
  ['sequelize', ['.sequelizerc']],
  ['typeorm', ['ormconfig.json', 'ormconfig.js', 'ormconfig.ts']],
  ['flyway', ['flyway.conf', 'flyway.toml', 'conf/flyway.conf']],
  ['sqitch', ['sqitch.plan', 'sqitch.conf']],
  ['alembic', ['alembic.ini']],
  ['django', ['manage.py']],
  ['rails', ['bin/rails', 'config/application.rb']],
];

/** package.json dependencies that name the migration tool. */
const PACKAGES: [RunnerName, string[]][] = [
  ['prisma', ['prisma', '@prisma/client']],
  ['drizzle', ['drizzle-kit']],
  ['node-pg-migrate', ['node-pg-migrate']],
  ['typeorm', ['typeorm']],
  ['sequelize', ['sequelize-cli']],
  ['knex', ['knex']],
];

/** Content markers are the tool's own syntax: they outrank config files and file names. */
const CONTENT_MARKED = new Set<RunnerName>(['goose', 'dbmate', 'drizzle']);

function sqlFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, depth: number) => {
    if (out.length >= MAX_FILES || depth > 3) return;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= MAX_FILES) return;
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const child = path.join(abs, e.name);
      if (e.isDirectory()) walk(child, depth + 1);
      else if (e.isFile() && e.name.endsWith('.sql')) out.push(child);
    }
  };
  walk(path.resolve(root, dir), 0);
  return out;
}

const shown = (root: string, abs: string) => path.relative(root, abs).split(path.sep).join('/') || '.';

/** The runner most migration files in `dir` point at, with how many do. */
function fromMigrationFiles(root: string, dir: string): (ProjectRunner & { content: boolean }) | undefined {
  const files = sqlFiles(root, dir);
  const votes = new Map<RunnerName, { count: number; reason: string }>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const hit = detectOriginWithReason(shown(root, file), text);
    if (!hit) continue;
    const vote = votes.get(hit.runner) ?? { count: 0, reason: hit.reason };
    vote.count++;
    votes.set(hit.runner, vote);
  }
  let best: [RunnerName, { count: number; reason: string }] | undefined;
  for (const entry of votes) if (!best || entry[1].count > best[1].count) best = entry;
  if (!best) return undefined;
  const [runner, { count, reason }] = best;
  return {
    runner,
    reason: `${count} of ${files.length} .sql files in ${shown(root, path.resolve(root, dir))} ${reason.startsWith('a ') ? 'have' : 'match'} ${reason}`,
    content: CONTENT_MARKED.has(runner),
  };
}

function fromPackageJson(root: string): ProjectRunner | undefined {
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const [runner, names] of PACKAGES) {
    const name = names.find((n) => n in deps);
    if (name) return { runner, reason: `package.json depends on ${name}` };
  }
  return undefined;
}

/** The migration directories that exist: `dir` when given, else the usual places. */
export function migrationDirs(root: string, dir?: string): string[] {
  const candidates = dir !== undefined ? [dir] : MIGRATION_DIRS;
  return candidates.filter((d) => {
    try {
      return statSync(path.resolve(root, d)).isDirectory();
    } catch {
      return false;
    }
  });
}

/** The project's migration tool, or undefined when nothing gives it away. */
export function detectProjectRunner(root: string, dir?: string): ProjectRunner | undefined {
  let byName: ProjectRunner | undefined;
  for (const d of migrationDirs(root, dir)) {
    const hit = fromMigrationFiles(root, d);
    if (hit?.content) return { runner: hit.runner, reason: hit.reason };
    byName ??= hit && { runner: hit.runner, reason: hit.reason };
  }
  for (const [runner, files] of MARKER_FILES) {
    const file = files.find((f) => existsSync(path.join(root, f)));
    if (file) return { runner, reason: `found ${file}` };
  }
  // drizzle-kit keeps a journal beside its migrations
  for (const d of [...migrationDirs(root, dir), 'drizzle']) {
    const journal = path.join(d, 'meta/_journal.json');
    if (existsSync(path.join(root, journal))) return { runner: 'drizzle', reason: `found ${journal}` };
  }
  // sqlx (Rust) keeps offline query data in .sqlx/ and runs each migration in a transaction
  if (existsSync(path.join(root, '.sqlx')))
    return {
      runner: 'transaction-per-file',
      reason: 'found .sqlx/ (sqlx runs each migration in a transaction)',
    };
  return fromPackageJson(root) ?? byName;
}
