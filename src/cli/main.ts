/** The `pgsafe` command line: parses flags, calls the library, sets the exit code. Nothing else. */

import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { parseInterval } from '../config/interval.js';
import { RUNNER_NAMES, type RunnerName, SUPPORTED_PG_VERSIONS } from '../config/types.js';
import type { FileResult } from '../diagnostics.js';
import { lintFiles } from '../lint/files.js';
import { createReporter, isReportFormat, REPORT_FORMATS, type ReportFormat } from '../report/index.js';
import { rulePage, rulesJson, rulesTable } from '../rules/docs.js';
import { allRules } from '../rules/index.js';
import { InputError } from '../sources/errors.js';

const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/** Exit codes: 0 clean, 1 problems found, 2 usage / config / input errors. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

function pgVersionArg(value: string): number {
  const n = Number(value);
  if (!(SUPPORTED_PG_VERSIONS as readonly number[]).includes(n)) {
    throw new InvalidArgumentError(`expected one of ${SUPPORTED_PG_VERSIONS.join(', ')}`);
  }
  return n;
}

function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function intervalArg(value: string): string {
  try {
    parseInterval(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

interface LintFlags {
  pgVersion?: number;
  runner?: RunnerName;
  format?: string;
  config?: string;
  maxWarnings?: number;
  quiet?: boolean;
  assumeInTransaction?: boolean;
  stdinFilename?: string;
  color?: boolean;
  all?: boolean;
  lockTimeout?: string;
  statementTimeout?: string;
}

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** colours and pretty output defaults follow it */
  isTTY: boolean;
  cwd: string;
  readStdin?: () => Promise<string | Uint8Array>;
}

const processIo = (): CliIo => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
  cwd: process.cwd(),
});

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const out = io.stdout;
  const program = new Command('pgsafe')
    .description('Find and fix Postgres migrations that would block a live database.')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: io.stderr });

  program
    .command('lint')
    .description('report unsafe statements (exit 1 when errors are found)')
    .argument('[paths...]', 'files, directories, quoted globs, or - for stdin', ['.'])
    .option(
      '--pg-version <major>',
      `target Postgres version (${SUPPORTED_PG_VERSIONS.join(', ')})`,
      pgVersionArg,
    )
    .addOption(new Option('--runner <name>', 'how migrations are executed').choices(RUNNER_NAMES))
    .option(
      '--assume-in-transaction',
      'every file runs in one transaction (same as --runner transaction-per-file)',
    )
    .addOption(new Option('-f, --format <format>', 'output format').choices(REPORT_FORMATS))
    .option('-c, --config <file>', 'use this config file instead of searching for one')
    .option('--all', 'enable every rule, including opt-in ones')
    .option('--lock-timeout <interval>', 'lock_timeout already set by the role or runner', intervalArg)
    .option(
      '--statement-timeout <interval>',
      'statement_timeout already set by the role or runner',
      intervalArg,
    )
    .option('--max-warnings <n>', 'exit 1 when there are more warnings than this', intArg)
    .option('-q, --quiet', 'report errors only')
    .option('--stdin-filename <name>', 'name to show for stdin (also used to find its config)')
    .option('--no-color', 'no ANSI colours in pretty output')
    .action(async (paths: string[], flags: LintFlags) => {
      exitCode = await lintCommand(paths, flags, io);
    });

  program
    .command('rules')
    .description("list the rules, or print one rule's page")
    .argument('[id]', 'rule id')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['pretty', 'json', 'markdown']))
    .action((id: string | undefined, flags: { format?: string }) => {
      if (id === undefined) {
        out(
          flags.format === 'json'
            ? `${JSON.stringify(rulesJson(allRules), null, 2)}\n`
            : rulesTable(allRules),
        );
        return;
      }
      const rule = allRules.find((r) => r.id === id);
      if (!rule) {
        io.stderr(`pgsafe: unknown rule "${id}"; \`pgsafe rules\` lists them\n`);
        exitCode = EXIT.usage;
        return;
      }
      out(flags.format === 'json' ? `${JSON.stringify(rulesJson([rule])[0], null, 2)}\n` : rulePage(rule));
    });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not errors
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof InputError || e instanceof ConfigError) {
      io.stderr(`pgsafe: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  return exitCode;
}

async function lintCommand(paths: string[], flags: LintFlags, io: CliIo): Promise<number> {
  const format: ReportFormat = flags.format && isReportFormat(flags.format) ? flags.format : 'pretty';
  const runner = flags.runner ?? (flags.assumeInTransaction ? 'transaction-per-file' : undefined);
  const reporter = createReporter(
    format,
    { toolVersion: VERSION, color: flags.color !== false && io.isTTY && !process.env.NO_COLOR },
    io.stdout,
  );
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  await lintFiles(paths, {
    cwd: io.cwd,
    readStdin: io.readStdin,
    configPath: flags.config,
    stdinFilename: flags.stdinFilename,
    keepResults: false,
    overrides: {
      pgVersion: flags.pgVersion,
      runner,
      presets: flags.all ? ['all'] : undefined,
      timeouts: { lockTimeout: flags.lockTimeout, statementTimeout: flags.statementTimeout },
    },
    onFile: (result: FileResult) => {
      const shown = flags.quiet
        ? { ...result, diagnostics: result.diagnostics.filter((d) => d.severity === 'error') }
        : result;
      for (const d of shown.diagnostics) {
        if (d.severity === 'error') errors++;
        else if (d.severity === 'warning') warnings++;
        else infos++;
      }
      reporter.file(shown);
    },
  });
  reporter.finish({ errorCount: errors, warningCount: warnings, infoCount: infos });
  if (errors > 0) return EXIT.problems;
  if (flags.maxWarnings !== undefined && warnings > flags.maxWarnings) return EXIT.problems;
  return EXIT.ok;
}
