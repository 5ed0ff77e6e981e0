/**
 * `pgkeel init`: writes pgkeel.config.json in the current directory with the project's migration
 * tool (detected) and production Postgres version (asked, or --pg-version), and says why.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE_NAMES } from '../config/load.js';
import { DEFAULT_PG_VERSION, type PgkeelConfig, SUPPORTED_PG_VERSIONS } from '../config/types.js';
import { detectProjectRunner, migrationDirs } from '../sources/project.js';
import type { CliIo } from './io.js';

export interface InitOptions {
  /** the migrations directory to look at (default: the usual places) */
  dir?: string;
  pgVersion?: number;
  force: boolean;
}

const FILE = 'pgkeel.config.json';
/** a wrong answer is asked again, a few times, before giving up */
const ATTEMPTS = 3;

/** Config files in `cwd` that already configure pgkeel (package.json only with a `pgkeel` key). */
function existingConfigs(cwd: string): string[] {
  return CONFIG_FILE_NAMES.filter((name) => {
    const file = path.join(cwd, name);
    if (!existsSync(file)) return false;
    if (name !== 'package.json') return true;
    try {
      return 'pgkeel' in JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
  });
}

async function askVersion(io: CliIo): Promise<number | undefined> {
  const supported = SUPPORTED_PG_VERSIONS.join(', ');
  for (let i = 0; i < ATTEMPTS; i++) {
    const answer = (
      await io.ask!(
        `Which Postgres major version runs in production? (${supported}) [${DEFAULT_PG_VERSION}] `,
      )
    ).trim();
    if (answer === '') return DEFAULT_PG_VERSION;
    const n = Number(answer);
    if ((SUPPORTED_PG_VERSIONS as readonly number[]).includes(n)) return n;
    io.stderr(`pgkeel init: "${answer}" is not a supported major version (${supported})\n`);
  }
  return undefined;
}

export async function initCommand(options: InitOptions, io: CliIo): Promise<number> {
  const cwd = io.cwd;
  const existing = existingConfigs(cwd);
  if (existing.length > 0 && !options.force) {
    io.stderr(
      existing.includes(FILE)
        ? `pgkeel init: ${FILE} already exists; pass --force to overwrite it\n`
        : `pgkeel init: ${existing.join(', ')} already configure${existing.length === 1 ? 's' : ''} pgkeel here; pass --force to write ${FILE} anyway (it is found first)\n`,
    );
    return 2;
  }
  if (options.dir !== undefined && migrationDirs(cwd, options.dir).length === 0) {
    io.stderr(`pgkeel init: ${options.dir}: no such directory\n`);
    return 2;
  }

  let pgVersion: number;
  let versionWhy: string;
  if (options.pgVersion !== undefined) {
    pgVersion = options.pgVersion;
    versionWhy = 'from --pg-version';
  } else if (io.stdinIsTTY && io.ask) {
    const answer = await askVersion(io);
    if (answer === undefined) {
      io.stderr('pgkeel init: no version chosen; nothing written (pass --pg-version)\n');
      return 2;
    }
    pgVersion = answer;
    versionWhy = 'your answer';
  } else {
    pgVersion = DEFAULT_PG_VERSION;
    versionWhy = `the default: no terminal to ask on and no --pg-version; set it to the version production runs, which decides what is safe`;
  }

  const runner = detectProjectRunner(cwd, options.dir);
  const config: PgkeelConfig = { pgVersion, ...(runner ? { runner: runner.runner } : {}) };
  writeFileSync(path.join(cwd, FILE), `${JSON.stringify(config, null, 2)}\n`);

  const lines = [
    `${existing.includes(FILE) ? 'Overwrote' : 'Wrote'} ${FILE}:`,
    `  pgVersion: ${pgVersion} (${versionWhy})`,
    runner
      ? `  runner: ${runner.runner} (${runner.reason})`
      : '  runner: not set: no migration tool recognised, so files are linted as plain psql scripts (statements autocommit); set "runner" if a tool wraps each migration in a transaction',
  ];
  const shadowed = existing.filter((f) => f !== FILE);
  if (shadowed.length > 0)
    lines.push(`${FILE} is found before ${shadowed.join(', ')}, which no longer apply.`);
  lines.push(
    'Next: `pgkeel lint`; `pgkeel lint --print-config <file>` shows the settings a file is linted with.',
  );
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
