/** The `pgkeel` command line: parses flags, calls the library, sets the exit code. Nothing else. */

import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { parseInterval } from '../config/interval.js';
import { RUNNER_NAMES, type RunnerName, SUPPORTED_PG_VERSIONS } from '../config/types.js';
import type { FileResult } from '../diagnostics.js';
import { explainFiles } from '../explain/explain.js';
import {
  createExplainReporter,
  EXPLAIN_FORMATS,
  type ExplainFormat,
  isExplainFormat,
} from '../explain/index.js';
import { DEFAULT_BASELINE_FILE } from '../lint/baseline.js';
import { type LintFilesOptions, lintFiles, UNREADABLE_INPUT } from '../lint/files.js';
import { createReporter, isReportFormat, REPORT_FORMATS, type ReportFormat } from '../report/index.js';
import { InputError } from '../sources/errors.js';
import type { EngineSpec } from '../trace/engine.js';
import {
  createTraceReporter,
  TRACE_FORMATS,
  type TraceFormat,
  TraceProgressBar,
  TraceProgressLines,
} from '../trace/report.js';
import { MAX_SEED_ROWS } from '../trace/seed.js';
import { TraceEngineError, traceFiles } from '../trace/trace.js';
import { chooseDatabaseUrl, Interruption } from './database-url.js';
import type { FixFlags } from './fix-command.js';
import { type HistoryFlags, historyScope } from './history.js';
import type { CliIo } from './io.js';
import { useColor as decideColor, openFileSink } from './output.js';
import type { RunFlags } from './run-command.js';

export type { CliIo };

import { ruleIdArg } from './rule-args.js';

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

interface LintFlags extends HistoryFlags {
  fix?: boolean;
  fixDryRun?: boolean;
  fixUnsafe?: boolean;
  followSymlinks?: boolean;
  /** `--no-history`: false */
  history?: boolean;
  pgVersion?: number;
  runner?: RunnerName;
  format?: string;
  config?: string;
  maxWarnings?: number;
  quiet?: boolean;
  assumeInTransaction?: boolean;
  stdinFilename?: string;
  color?: boolean;
  outputFile?: string;
  all?: boolean;
  rule?: string[];
  enable?: string[];
  disable?: string[];
  printConfig?: string;
  lockTimeout?: string;
  statementTimeout?: string;
}

/**
 * Output to a pipe or file is gathered into 64 kB writes: one write per finding cost a third of
 * the run time on large reports. A terminal gets every chunk at once.
 */
function processIo(): CliIo {
  const tty = !!process.stdout.isTTY;
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    process.stdout.write(pending.join(''));
    pending = [];
    size = 0;
  };
  return {
    stdout: tty
      ? (s) => process.stdout.write(s)
      : (s) => {
          pending.push(s);
          size += s.length;
          if (size >= 65536) flush();
        },
    flush,
    stderr: (s) => process.stderr.write(s),
    isTTY: tty,
    stderrIsTTY: !!process.stderr.isTTY,
    stdinIsTTY: !!process.stdin.isTTY,
    ask: askOnTerminal,
    cwd: process.cwd(),
    ...(tty && process.stdout.columns ? { columns: process.stdout.columns } : {}),
  };
}

/** One question on the terminal, through node:readline (one prompt needs no prompt library). */
async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const out = io.stdout;
  const program = new Command('pgkeel')
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
    .option('--rule <id>', 'run only this rule, whatever the config says (repeatable)', ruleIdArg)
    .option('--enable <id>', 'run this rule too, opt-in ones included (repeatable)', ruleIdArg)
    .option('--disable <id>', 'do not run this rule (repeatable)', ruleIdArg)
    .option('--print-config <file>', 'print the settings this file would be linted with, as JSON, and exit')
    .option('--lock-timeout <interval>', 'lock_timeout already set by the role or runner', intervalArg)
    .option(
      '--statement-timeout <interval>',
      'statement_timeout already set by the role or runner',
      intervalArg,
    )
    .option('--max-warnings <n>', 'exit 1 when there are more warnings than this', intArg)
    .option('-q, --quiet', 'report errors only')
    .option(
      '--changed-since <ref>',
      'lint only files added or changed since this git revision (merge base with HEAD; uncommitted and untracked files count)',
    )
    .option('--baseline <file>', 'report only findings not recorded in this baseline file')
    .option(
      '--write-baseline [file]',
      `record the findings in a baseline file (default: --baseline's file, else ${DEFAULT_BASELINE_FILE}) and exit 0`,
    )
    .option('--all-history', 'also lint the migrations config "applied" marks as already applied')
    .option('--fix', 'apply the safe fixes to the files, then report what is left')
    .option('--fix-dry-run', 'as --fix, without writing: the JSON report has each fixed file in "output"')
    .option(
      '--fix-unsafe',
      'with --fix or --fix-dry-run (or alone: --fix), also apply fixes that change meaning',
    )
    .option(
      '--no-history',
      'analyse each file alone, without the schema that the earlier migrations of its directory build',
    )
    .option('--stdin-filename <name>', 'name to show for stdin (also used to find its config)')
    .option('-o, --output-file <file>', 'write the report to this file instead of stdout')
    .option('--color', 'ANSI colours even when stdout is not a terminal (also FORCE_COLOR=1)')
    .option('--no-color', 'no ANSI colours (also NO_COLOR=1)')
    .option(
      '--follow-symlinks',
      'follow symbolic links out of the directories given (by default only links inside them are)',
    )
    .action(async (paths: string[], flags: LintFlags) => {
      exitCode = await lintCommand(paths, flags, io);
    });

  program
    .command('fix')
    .description(
      'rewrite unsafe migrations into the safe plan: steps split across transactions and files as the runner needs',
    )
    .argument('[paths...]', 'files, directories, quoted globs, or - for stdin', ['.'])
    .option(
      '--pg-version <major>',
      `target Postgres version (${SUPPORTED_PG_VERSIONS.join(', ')})`,
      pgVersionArg,
    )
    .addOption(new Option('--runner <name>', 'how migrations are executed').choices(RUNNER_NAMES))
    .option('-c, --config <file>', 'use this config file instead of searching for one')
    .option('--stdout', 'print each plan as annotated SQL (psql runs it as is); write nothing')
    .option('--dry-run', 'say what would be written, with each plan; write nothing')
    .option('--unsafe', 'also use fixes that change meaning (a type, a validation left for later)')
    .option(
      '--changed-since <ref>',
      'only migrations added or changed since this git revision (these may be rewritten)',
    )
    .option(
      '--no-history',
      'analyse each file alone, without the schema that the earlier migrations of its directory build',
    )
    .addOption(new Option('-f, --format <format>', 'output format').choices(['pretty', 'json']))
    .option('--stdin-filename <name>', 'name to show for stdin (also used to find its config)')
    .option(
      '--follow-symlinks',
      'follow symbolic links out of the directories given (by default only links inside them are)',
    )
    .action(async (paths: string[], flags: FixFlags) => {
      // loaded when used: the planner and its layouts are not on lint's path
      const { fixCommand } = await import('./fix-command.js');
      exitCode = await fixCommand(paths, flags, io);
    });

  const runOptions = (command: Command) =>
    command
      .argument('[paths...]', 'the migrations directory (or files), in the runner’s order', [])
      .option('--database-url [url]', 'the database (default: DATABASE_URL); its password is never printed')
      .option(
        '--pg-version <major>',
        `target Postgres version (${SUPPORTED_PG_VERSIONS.join(', ')})`,
        pgVersionArg,
      )
      .addOption(new Option('--runner <name>', 'how migrations are executed').choices(RUNNER_NAMES))
      .option('-c, --config <file>', 'use this config file instead of searching for one')
      .addOption(new Option('-f, --format <format>', 'output format').choices(['pretty', 'json']));

  runOptions(
    program
      .command('run')
      .description(
        'apply the pending migrations: short lock_timeout with bounded retries, CONCURRENTLY outside transactions, resumable',
      ),
  )
    .option('--dry-run', 'say what would run, step by step, reading only the catalog; change nothing')
    .option('--allow-unsafe', 'apply migrations whose plan still has error findings')
    .option(
      '--lock-timeout <interval>',
      'lock_timeout of the first attempt of a brief step (it doubles per attempt up to 2s)',
      intervalArg,
    )
    .option('--retries <n>', 'retries of a step whose lock is not granted in time (default 9)', intArg)
    .option(
      '--lock-wait <interval>',
      'how long to wait for another pgkeel run to finish (default 60s)',
      intervalArg,
    )
    .option(
      '--max-blocked <n>',
      'give up an attempt early (and retry) when more than n sessions queue behind the waiting step',
      intArg,
    )
    .option(
      '--batch-unbatched',
      'run the UPDATE/DELETE statements unbatched-data-migration reports as batched backfills (as if marked -- pgkeel:batch)',
    )
    .option(
      '--no-tool-history',
      'do not record applied migrations in the tool’s own table (_prisma_migrations, schema_migrations, …)',
    )
    .action(async (paths: string[], flags: RunFlags) => {
      const { runCommand } = await import('./run-command.js');
      exitCode = await runCommand(paths, flags, io);
    });

  runOptions(
    program
      .command('status')
      .description('applied, pending and failed migrations, from the database’s history'),
  ).action(async (paths: string[], flags: RunFlags) => {
    const { statusCommand } = await import('./run-command.js');
    exitCode = await statusCommand(paths, flags, io);
  });

  program
    .command('explain')
    .description('per statement: the locks it takes, what they block, rewrites/scans, how long they are held')
    .argument('[paths...]', 'files, directories, quoted globs, or - for stdin', ['.'])
    .option(
      '--pg-version <major>',
      `target Postgres version (${SUPPORTED_PG_VERSIONS.join(', ')})`,
      pgVersionArg,
    )
    .addOption(new Option('--runner <name>', 'how migrations are executed').choices(RUNNER_NAMES))
    .addOption(new Option('-f, --format <format>', 'output format').choices(EXPLAIN_FORMATS))
    .option('-c, --config <file>', 'use this config file instead of searching for one')
    .option('--stdin-filename <name>', 'name to show for stdin (also used to find its config)')
    .option('-o, --output-file <file>', 'write the explanation to this file instead of stdout')
    .option(
      '--no-history',
      'analyse each file alone, without the schema that the earlier migrations of its directory build',
    )
    .option('--color', 'ANSI colours even when stdout is not a terminal (also FORCE_COLOR=1)')
    .option('--no-color', 'no ANSI colours (also NO_COLOR=1)')
    .option(
      '--follow-symlinks',
      'follow symbolic links out of the directories given (by default only links inside them are)',
    )
    .action(async (paths: string[], flags: ExplainFlags) => {
      exitCode = await explainCommand(paths, flags, io);
    });

  program
    .command('trace')
    .description(
      'run migrations in a real Postgres and check every lock, rewrite and scan against the catalog',
    )
    // optional for commander, required by traceCommand: `--database-url a.sql` may have taken the only path
    .argument('[paths...]', 'files, directories, quoted globs, or - for stdin')
    .option(
      '--pg <major>',
      `a real Postgres of this major version from npm (${SUPPORTED_PG_VERSIONS.join(', ')})`,
      pgVersionArg,
    )
    .option(
      '--database-url [url]',
      'trace on this database (default: $DATABASE_URL), inside a transaction that is rolled back',
    )
    .option(
      '--allow-commit',
      'with --database-url: commit, so statements that cannot run in a transaction are traced too (scratch databases only)',
    )
    .option(
      '--allow-side-effects',
      'with --database-url: also run statements whose effects the rollback does not undo (nextval, setval, dblink, COPY TO a file, …)',
    )
    .option(
      '--lock-timeout <interval>',
      'with --database-url: the longest any lock wait of pgkeel may take there (default 2s; 0: none)',
      intervalArg,
    )
    .option(
      '--statement-timeout <interval>',
      'the longest any statement may run (default 60s; with --database-url 30s; 0: none)',
      intervalArg,
    )
    .option('--schema <file>', 'SQL to load before the migrations (repeatable)', collect)
    .option(
      '--seed-rows <n>',
      `add this many generated rows to every existing table a migration touches (at most ${MAX_SEED_ROWS.toLocaleString('en-US')})`,
      intArg,
    )
    .option(
      '--apply-earlier',
      'apply the migrations that precede each file in its directory first (default, except with --database-url)',
    )
    .option('--no-apply-earlier', 'do not apply them')
    .addOption(new Option('--runner <name>', 'how migrations are executed').choices(RUNNER_NAMES))
    .addOption(new Option('-f, --format <format>', 'output format').choices(TRACE_FORMATS))
    .option('-c, --config <file>', 'use this config file instead of searching for one')
    .option('--stdin-filename <name>', 'name to show for stdin (also used to find its config)')
    .option('--color', 'ANSI colours even when stdout is not a terminal (also FORCE_COLOR=1)')
    .option('--no-color', 'no ANSI colours (also NO_COLOR=1)')
    .option(
      '--follow-symlinks',
      'follow symbolic links out of the directories given (by default only links inside them are)',
    )
    .action(async (paths: string[], flags: TraceFlags) => {
      exitCode = await traceCommand(paths, flags, io);
    });

  program
    .command('rules')
    .description("list the rules, or print one rule's page")
    .argument('[id]', 'rule id')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['pretty', 'json', 'markdown']))
    .option('-c, --config <file>', 'show which rules are on under this config file')
    .action(async (id: string | undefined, flags: RulesFlags) => {
      // loaded on demand: rule pages describe option types through zod, which lint does not need
      const { rulesCommand } = await import('./rules-command.js');
      const result = await rulesCommand({
        id,
        format: flags.format,
        configPath: flags.config,
        cwd: io.cwd,
        columns: io.columns,
      });
      if (result.ok) out(result.output);
      else {
        io.stderr(`pgkeel: ${result.message}\n`);
        exitCode = EXIT.usage;
      }
    });

  program
    .command('init')
    .description('write a pgkeel.config.json for this project: its migration tool and Postgres version')
    .argument('[migrations]', 'the migrations directory to look at (default: the usual places)')
    .option(
      '--pg-version <major>',
      `the Postgres version production runs (${SUPPORTED_PG_VERSIONS.join(', ')})`,
      pgVersionArg,
    )
    .option('--force', 'overwrite an existing config')
    .action(async (dir: string | undefined, flags: { pgVersion?: number; force?: boolean }) => {
      const { initCommand } = await import('./init.js');
      exitCode = await initCommand({ dir, pgVersion: flags.pgVersion, force: flags.force === true }, io);
    });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    io.flush?.();
  } catch (e) {
    io.flush?.();
    if (e instanceof CommanderError) {
      // --help and --version are not errors
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof InputError || e instanceof ConfigError || e instanceof TraceEngineError) {
      io.stderr(`pgkeel: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  return exitCode;
}

interface RulesFlags {
  format?: 'pretty' | 'json' | 'markdown';
  config?: string;
}

interface ExplainFlags {
  followSymlinks?: boolean;
  /** `--no-history`: false */
  history?: boolean;
  pgVersion?: number;
  runner?: RunnerName;
  format?: string;
  config?: string;
  stdinFilename?: string;
  color?: boolean;
  outputFile?: string;
}

async function explainCommand(paths: string[], flags: ExplainFlags, io: CliIo): Promise<number> {
  const format: ExplainFormat = flags.format && isExplainFormat(flags.format) ? flags.format : 'pretty';
  const output = reportOutput(flags, io);
  const reporter = createExplainReporter(format, { toolVersion: VERSION, color: output.color }, output.write);
  let parseErrors = 0;
  let unreadable = 0;
  await output.around(() =>
    explainFiles(paths, {
      cwd: io.cwd,
      readStdin: io.readStdin,
      configPath: flags.config,
      stdinFilename: flags.stdinFilename,
      pgVersion: flags.pgVersion,
      runner: flags.runner,
      ...(flags.followSymlinks ? { followSymlinks: true } : {}),
      ...(flags.history === false ? { history: false } : {}),
      onFile: (file) => {
        parseErrors += file.parseErrors;
        if (file.inputProblems?.some((p) => p.rule === UNREADABLE_INPUT)) unreadable++;
        reporter.file(file);
      },
    }).then(() => reporter.finish()),
  );
  // as lint: the report covers every input, and an input that could not be read exits 2
  if (unreadable > 0) {
    io.stderr(
      `pgkeel: ${unreadable === 1 ? '1 input' : `${unreadable} inputs`} could not be read (see the report); the others were explained\n`,
    );
    return EXIT.usage;
  }
  return parseErrors > 0 ? EXIT.problems : EXIT.ok;
}

interface TraceFlags {
  followSymlinks?: boolean;
  pg?: number;
  databaseUrl?: string | boolean;
  allowCommit?: boolean;
  allowSideEffects?: boolean;
  lockTimeout?: string;
  statementTimeout?: string;
  schema?: string[];
  seedRows?: number;
  applyEarlier?: boolean;
  runner?: RunnerName;
  format?: string;
  config?: string;
  stdinFilename?: string;
  color?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function traceCommand(paths: string[], flags: TraceFlags, io: CliIo): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`pgkeel trace: ${message}\n`);
    return EXIT.usage;
  };
  let engine: EngineSpec = { kind: 'pglite' };
  const statementTimeout =
    flags.statementTimeout !== undefined ? { statementTimeoutMs: parseInterval(flags.statementTimeout) } : {};
  if (flags.databaseUrl !== undefined) {
    const chosen = chooseDatabaseUrl(
      flags.databaseUrl === true || flags.databaseUrl === false ? true : flags.databaseUrl,
      paths,
      io.env ?? process.env,
      io.cwd,
    );
    if ('error' in chosen) return usage(chosen.error);
    paths = chosen.paths;
    if (flags.pg !== undefined) return usage('--pg and --database-url cannot be combined');
    engine = {
      kind: 'url',
      url: chosen.url,
      allowCommit: flags.allowCommit === true,
      ...(flags.lockTimeout !== undefined ? { lockTimeoutMs: parseInterval(flags.lockTimeout) } : {}),
      ...(flags.statementTimeout !== undefined
        ? { statementTimeoutMs: parseInterval(flags.statementTimeout) }
        : {}),
    };
  } else if (flags.allowCommit) {
    return usage('--allow-commit applies to --database-url only');
  } else if (flags.allowSideEffects) {
    return usage('--allow-side-effects applies to --database-url only');
  } else if (flags.lockTimeout !== undefined) {
    return usage(
      '--lock-timeout applies to --database-url only: nothing else waits for locks on a server of pgkeel',
    );
  } else if (flags.pg !== undefined) {
    engine = { kind: 'postgres', major: flags.pg, ...statementTimeout };
  } else {
    engine = { kind: 'pglite', ...statementTimeout };
  }
  if (paths.length === 0) return usage('expected the migration files to trace');
  // each row is generated and inserted in the trace's Postgres: bounded so a typo cannot fill a disk
  if (flags.seedRows !== undefined && flags.seedRows > MAX_SEED_ROWS)
    return usage(`--seed-rows is at most ${MAX_SEED_ROWS.toLocaleString('en-US')}`);
  const format: TraceFormat = flags.format === 'json' ? 'json' : 'pretty';
  const reporter = createTraceReporter(
    format,
    { toolVersion: VERSION, color: useColor(flags, io) },
    io.stdout,
  );
  const progress = io.stderrIsTTY ? new TraceProgressBar() : undefined;
  // a log (stderr redirected) gets a plain line now and then instead of the bar
  const lines = io.stderrIsTTY ? undefined : new TraceProgressLines((line) => io.stderr(line));
  // the bar and the report share the terminal when both go there: clear the bar before writing
  const write = (f: () => void) => {
    progress?.clear(io.isTTY);
    f();
  };
  let failed = false;
  let unreadable = false;
  // Ctrl-C on the user's database: cancel, roll back, close, then exit 130
  const interruption =
    engine.kind === 'url'
      ? new Interruption((line) => write(() => io.stderr(`pgkeel trace: ${line}\n`)))
      : undefined;
  try {
    await traceFiles(paths, {
      ...(interruption ? { signal: interruption.signal } : {}),
      ...(flags.allowSideEffects ? { allowSideEffects: true } : {}),
      cwd: io.cwd,
      readStdin: io.readStdin,
      configPath: flags.config,
      stdinFilename: flags.stdinFilename,
      runner: flags.runner,
      ...(flags.followSymlinks ? { followSymlinks: true } : {}),
      // not traced, and the run exits 2, as lint and explain do
      onInputProblem: (path, problem) => {
        if (problem.severity === 'error') unreadable = true;
        write(() =>
          io.stderr(
            `pgkeel: ${path}:${problem.line}:${problem.column}: ${problem.severity}: ${problem.message}\n`,
          ),
        );
      },
      engine,
      schema: flags.schema,
      seedRows: flags.seedRows,
      applyEarlier: flags.applyEarlier,
      // installing binaries takes a while the first time: say so; server logs only when debugging
      onLog: (line) => {
        if (/^(installing |ignoring the PGlite snapshot)/.test(line) || (io.env ?? process.env).PGKEEL_DEBUG)
          write(() => io.stderr(`pgkeel: ${line}\n`));
      },
      onEngine: (e) => write(() => reporter.engine(e)),
      onProgress: (p) => {
        progress?.update(p);
        lines?.update(p);
      },
      onFile: (file) => {
        if (file.statements.some((s) => s.status === 'error' || s.status === 'mismatch')) failed = true;
        write(() => reporter.file(file));
      },
    });
  } catch (e) {
    if (interruption?.exitCode === undefined) throw e;
  } finally {
    progress?.stop();
    lines?.stop();
    interruption?.dispose();
  }
  if (interruption?.exitCode !== undefined) return interruption.exitCode;
  reporter.finish();
  if (unreadable) return EXIT.usage;
  return failed ? EXIT.problems : EXIT.ok;
}

async function printConfigCommand(file: string, flags: LintFlags, io: CliIo): Promise<number> {
  const { printConfig } = await import('./print-config.js');
  const resolved = await printConfig(file, {
    cwd: io.cwd,
    readStdin: io.readStdin,
    configPath: flags.config,
    stdinFilename: flags.stdinFilename,
    overrides: lintOverrides(flags),
  });
  io.stdout(`${JSON.stringify(resolved, null, 2)}\n`);
  return EXIT.ok;
}

/** The settings lint's flags give, which win over config files (lint and --print-config alike). */
function lintOverrides(flags: LintFlags): NonNullable<LintFilesOptions['overrides']> {
  const runner = flags.runner ?? (flags.assumeInTransaction ? 'transaction-per-file' : undefined);
  return {
    pgVersion: flags.pgVersion,
    runner,
    ...(flags.runner === undefined && runner ? { runnerFlag: '--assume-in-transaction' } : {}),
    presets: flags.all ? ['all'] : undefined,
    timeouts: { lockTimeout: flags.lockTimeout, statementTimeout: flags.statementTimeout },
    only: flags.rule,
    enable: flags.enable,
    disable: flags.disable,
  };
}

function useColor(flags: { color?: boolean }, io: CliIo): boolean {
  return decideColor({ flag: flags.color, env: io.env ?? process.env, isTTY: io.isTTY });
}

/**
 * Where a command's report goes: stdout, or `-o <file>` (written whole or not at all), and whether
 * it is coloured (a file only with --color or FORCE_COLOR).
 */
function reportOutput(flags: { color?: boolean; outputFile?: string }, io: CliIo) {
  const env = io.env ?? process.env;
  if (flags.outputFile === undefined) {
    return {
      write: io.stdout,
      color: decideColor({ flag: flags.color, env, isTTY: io.isTTY }),
      columns: io.columns,
      around: <T>(run: () => Promise<T>) => run(),
    };
  }
  const sink = openFileSink(flags.outputFile, io.cwd);
  return {
    write: (s: string) => sink.write(s),
    color: decideColor({ flag: flags.color, env, isTTY: false }),
    columns: undefined,
    around: async <T>(run: () => Promise<T>) => {
      let result: T;
      try {
        result = await run();
      } catch (e) {
        sink.abort();
        throw e;
      }
      sink.commit();
      return result;
    },
  };
}

async function lintCommand(paths: string[], flags: LintFlags, io: CliIo): Promise<number> {
  if (flags.printConfig !== undefined) return printConfigCommand(flags.printConfig, flags, io);
  const format: ReportFormat = flags.format && isReportFormat(flags.format) ? flags.format : 'pretty';
  const output = reportOutput(flags, io);
  const reporter = createReporter(
    format,
    { toolVersion: VERSION, color: output.color, ...(output.columns ? { maxWidth: output.columns } : {}) },
    output.write,
  );
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  // --max-warnings counts the warnings --quiet hides, as ESLint does: quiet changes the output, not the verdict
  let allWarnings = 0;
  // inputs that could not be read: reported as findings of their own, and the run exits 2
  let unreadable = 0;
  let started = false;
  const fixing = flags.fix || flags.fixDryRun || flags.fixUnsafe;
  const dryRun = !!flags.fixDryRun;
  if (fixing && !dryRun && paths.includes('-')) {
    io.stderr(
      'pgkeel: standard input cannot be fixed in place: use --fix-dry-run --format json ("output" holds the fixed text)\n',
    );
    return EXIT.usage;
  }
  let fixesApplied = 0;
  let filesFixed = 0;
  const history = await historyScope(flags, io);
  await output.around(() =>
    lintFiles(paths, {
      cwd: io.cwd,
      readStdin: io.readStdin,
      configPath: flags.config,
      stdinFilename: flags.stdinFilename,
      keepResults: false,
      ...(flags.followSymlinks ? { followSymlinks: true } : {}),
      ...(flags.history === false ? { history: false } : {}),
      ...(fixing
        ? {
            fix: {
              dryRun,
              unsafe: !!flags.fixUnsafe,
              onWriteProblem: (path: string, reason: string) => io.stderr(`pgkeel: ${path}: ${reason}\n`),
            },
          }
        : {}),
      ...history.lintOptions,
      overrides: lintOverrides(flags),
      onFile: (linted: FileResult) => {
        started = true;
        if (linted.diagnostics.some((d) => d.rule === UNREADABLE_INPUT)) unreadable++;
        if (linted.fixesApplied) {
          fixesApplied += linted.fixesApplied;
          filesFixed++;
        }
        const result = history.filter(linted);
        // recording a baseline reports nothing: a "no problems" report would be untrue
        if (history.writing) return;
        for (const d of result.diagnostics) if (d.severity === 'warning') allWarnings++;
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
    }).then(
      () => {
        if (!history.writing)
          reporter.finish({ errorCount: errors, warningCount: warnings, infoCount: infos });
      },
      (error: unknown) => {
        // a failure after output began (a broken config further down the tree): close the document
        // so that JSON, SARIF and XML stay parseable; the error itself goes to stderr, exit 2
        if (started && !history.writing)
          reporter.finish({ errorCount: errors, warningCount: warnings, infoCount: infos });
        throw error;
      },
    ),
  );
  await history.finish();
  if (fixing) {
    const what = `${fixesApplied} ${fixesApplied === 1 ? 'fix' : 'fixes'} in ${filesFixed} ${filesFixed === 1 ? 'file' : 'files'}`;
    io.stderr(
      `pgkeel: ${dryRun ? `would apply ${what} (nothing written)` : `applied ${what}`}${flags.fixUnsafe ? '' : '; unsafe fixes need --fix-unsafe'}\n`,
    );
  }
  if (unreadable > 0) {
    io.stderr(
      `pgkeel: ${unreadable === 1 ? '1 input' : `${unreadable} inputs`} could not be read (${UNREADABLE_INPUT} in the report); the others were linted\n`,
    );
    return EXIT.usage;
  }
  // recording a baseline accepts what it found
  if (history.writing) return EXIT.ok;
  if (errors > 0) return EXIT.problems;
  if (flags.maxWarnings !== undefined && allWarnings > flags.maxWarnings) return EXIT.problems;
  return EXIT.ok;
}
