/**
 * `pgkeel run`: applies the pending migrations of a directory to a live database, as production
 * needs. Each migration is cut into the steps `pgkeel fix` plans (its own statements, not rewritten):
 * a transaction per step as the file and runner have it, except where Postgres or safety needs a
 * boundary. A step that waits for a lock on an existing table does so with a short lock_timeout and
 * bounded retries (the whole transaction again, timeouts set again); long steps (concurrent builds,
 * VALIDATE, backfills) get a long lock_timeout and no statement_timeout. The history (history.ts)
 * makes every run resumable: a done step never runs twice, a half-done one is reconciled.
 */

import pg from 'pg';
import { SchemaHistory } from '../analyze/history.js';
import { runnerModel } from '../analyze/runners.js';
import type { RunnerName } from '../config/types.js';
import type { Diagnostic } from '../diagnostics.js';
import {
  concurrentIndexName,
  type MigrationPlan,
  type PlanStep,
  type PlanUnit,
  planMigration,
} from '../fix/plan.js';
import { ruleSelection } from '../lint/files.js';
import { loadParser, openSource } from '../parse/parse.js';
import { type ConfiguredInputOptions, configuredFiles, fileSettings } from '../sources/configured.js';
import { historyOf } from '../sources/index.js';
import { redactUrl, scrubSecrets, toConnectionUri } from '../trace/conninfo.js';
import { type BatchSettings, batchDirective, batchTarget, runBatches } from './batch.js';
import {
  chainHashes,
  ensureHistory,
  finishMigration,
  type RecordedStep,
  readHistory,
  recordStep,
  sha256,
  startMigration,
} from './history.js';
import {
  acquireRunLock,
  type Blocker,
  BRIEF_SCHEDULE,
  isLockTimeout,
  LONG_SCHEDULE,
  lockTimeoutFor,
  type RetrySchedule,
  releaseRunLock,
  sleep,
  sleepFor,
  watchBlockers,
} from './locking.js';
import { recordInToolHistory } from './tool-history.js';

export interface RunOptions extends ConfiguredInputOptions {
  /** the database; its password never appears in output or errors */
  databaseUrl?: string;
  /** read the history (catalog reads only) and say what would run; change nothing */
  dryRun?: boolean;
  /** apply migrations whose plan still has error findings */
  allowUnsafe?: boolean;
  overrides?: { pgVersion?: number; runner?: RunnerName };
  /** the retry schedule of steps that take brief locks (defaults: BRIEF_SCHEDULE) */
  schedule?: Partial<RetrySchedule>;
  /** how long to wait for another runner's lock, in ms (default 60 s) */
  lockWaitMs?: number;
  /** give up an attempt early when more sessions than this queue behind the waiting step */
  maxBlocked?: number;
  /** also record each applied migration in the tool's own history table (default true) */
  toolHistory?: boolean;
  /** run the UPDATE/DELETE statements unbatched-data-migration reports as batched backfills */
  batchUnbatched?: boolean;
  /** progress, for the CLI */
  onEvent?: (event: RunEvent) => void;
}

export type RunEvent =
  | {
      kind: 'migration';
      name: string;
      status: 'pending' | 'applied' | 'resumed' | 'up to date';
      steps: number;
    }
  | {
      kind: 'step';
      migration: string;
      unit: number;
      step: number;
      sql: string;
      status: 'done' | 'skipped';
      attempts: number;
      ms: number;
      /** what else is worth saying (a batched backfill's rows and batches) */
      note?: string;
    }
  | { kind: 'retry'; migration: string; unit: number; attempt: number; sleepMs: number; blockers: Blocker[] }
  | { kind: 'reconciled'; migration: string; what: string }
  | { kind: 'batch'; migration: string; rows: number; last: string; end: string; batches: number };

export interface PlannedMigration {
  name: string;
  path: string;
  /** on disk (undefined for stdin) */
  absPath?: string;
  checksum: string;
  plan: MigrationPlan;
  /** error findings left on the plan: the gate refuses the migration unless allowed */
  unsafe: Diagnostic[];
}

export interface RunResult {
  migrations: PlannedMigration[];
  /** applied in this run */
  applied: string[];
  /** pending (a dry run: what would be applied) */
  pending: string[];
  /** why the run stopped: a refused or failed migration */
  failure?: RunFailure;
}

export interface RunFailure {
  migration: string;
  /** `refused`: the gate, an edited applied migration, another runner; `failed`: Postgres said no */
  kind: 'refused' | 'failed';
  message: string;
  blockers?: Blocker[];
}

/** Thrown for what the user must fix before a run (usage, an unreadable migration). */
export class RunError extends Error {}

/** Plans the migrations of `args`, in the runner's order, with the schema of their history. */
export async function planRun(
  args: readonly string[],
  options: RunOptions = {},
): Promise<PlannedMigration[]> {
  await loadParser();
  const out: PlannedMigration[] = [];
  const history = new SchemaHistory(options.cwd);
  for await (const configured of configuredFiles(args, { ...options, skipApplied: false })) {
    const { file, config } = configured;
    if (file.down) continue;
    if (file.unreadable)
      throw new RunError(`${file.path}: ${file.problems?.[0]?.message ?? 'cannot be read'}`);
    const settings = fileSettings(configured, options.overrides ?? {});
    const schema = await history.before(file, {
      pgVersion: settings.pgVersion,
      runner: runnerModel(settings.runner),
    });
    const planWith = (batch?: ReadonlySet<number>) =>
      planMigration(file.text, {
        path: file.path,
        pgVersion: settings.pgVersion,
        runner: settings.runner,
        noTransaction: settings.noTransaction,
        ...ruleSelection(config, {}),
        timeouts: settings.timeouts,
        schema,
        rewrite: false,
        ...(batch ? { batch } : { onAnalyzed: (state) => history.after(file, state) }),
      });
    let plan = planWith();
    if (options.batchUnbatched) {
      // the statements unbatched-data-migration reports, run as batched backfills instead
      const flagged = new Set(
        plan.findings.filter((d) => d.rule === 'unbatched-data-migration').map((d) => d.statement),
      );
      if (flagged.size > 0) plan = planWith(flagged);
    }
    if (plan.parseErrors > 0) {
      const e = plan.findings.find((d) => d.rule === 'parse-error')!;
      throw new RunError(`${file.path}:${e.line}:${e.column}: ${e.message}`);
    }
    const name = historyOf(file)?.name ?? file.path;
    out.push({
      name,
      path: file.path,
      ...(file.absPath ? { absPath: file.absPath } : {}),
      checksum: sha256(file.text),
      plan,
      // what the runner guarantees (its timeouts, its transactions) is in the plan: what is left is not
      unsafe: plan.remaining.filter((d) => d.severity === 'error'),
    });
  }
  return out;
}

/** Applies the pending migrations of `args` (or, with `dryRun`, says which would run). */
export async function runMigrations(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const migrations = await planRun(args, options);
  const result: RunResult = { migrations, applied: [], pending: [] };
  const url = options.databaseUrl;
  if (!url) {
    if (!options.dryRun) throw new RunError('a database URL is needed (--database-url or DATABASE_URL)');
    result.pending = migrations.map((m) => m.name);
    return result;
  }
  const scrub = (text: string) => scrubSecrets(text, url);
  const connect = async (name: string) => {
    const client = new pg.Client({
      connectionString: toConnectionUri(url),
      application_name: name,
      connectionTimeoutMillis: 15_000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (e) {
      throw new RunError(`cannot connect to ${redactUrl(url)}: ${scrub((e as Error).message)}`);
    }
    return client;
  };
  const client = await connect('pgkeel run');
  let monitor: pg.Client | undefined;
  try {
    if (options.dryRun) {
      const { migrations: applied } = await readHistory(client);
      result.pending = migrations.filter((m) => applied.get(m.name)?.status !== 'applied').map((m) => m.name);
      return result;
    }
    const pid: number = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // a pooler in transaction mode (PgBouncer) hands each transaction another server session: the
    // advisory lock and session timeouts would not hold, so the run stops before it changes anything
    const again: number = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    if (again !== pid) {
      result.failure = {
        migration: '',
        kind: 'refused',
        message:
          'the connection goes through a pooler in transaction mode (each statement met another server session): connect to Postgres directly, or through a session-mode pool, to run migrations',
      };
      return result;
    }
    if (!(await acquireRunLock(client, options.lockWaitMs ?? 60_000))) {
      result.failure = {
        migration: '',
        kind: 'refused',
        message:
          'another pgkeel run holds the migration lock (a session-level advisory lock) and did not finish in time',
      };
      return result;
    }
    await ensureHistory(client);
    monitor = await connect('pgkeel run (lock monitor)');
    const schedule = { ...BRIEF_SCHEDULE, ...options.schedule };
    const history = await readHistory(client);
    for (const m of migrations) {
      const known = history.migrations.get(m.name);
      if (known?.status === 'applied') {
        if (known.checksum !== m.checksum) {
          result.failure = {
            migration: m.name,
            kind: 'refused',
            message: `${m.path} was applied, and has changed since: an applied migration must not be edited (restore it and write a new migration)`,
          };
          break;
        }
        options.onEvent?.({
          kind: 'migration',
          name: m.name,
          status: 'up to date',
          steps: stepCount(m.plan),
        });
        continue;
      }
      if (m.unsafe.length > 0 && !options.allowUnsafe) {
        result.failure = {
          migration: m.name,
          kind: 'refused',
          message: `${m.path} still has ${m.unsafe.length} error finding${m.unsafe.length === 1 ? '' : 's'} the runner cannot make safe (${[...new Set(m.unsafe.map((d) => d.rule))].join(', ')}): fix it (pgkeel fix), acknowledge them in the file (pgkeel-ignore), or pass --allow-unsafe`,
        };
        break;
      }
      const done = history.steps.get(m.name) ?? [];
      const chains = chainHashes(m.plan.units.flatMap((u) => u.steps.map((s) => s.sql)));
      const stale = staleSteps(m.plan, chains, done);
      if (stale) {
        result.failure = { migration: m.name, kind: 'refused', message: `${m.path} ${stale}` };
        break;
      }
      options.onEvent?.({
        kind: 'migration',
        name: m.name,
        status: known ? 'resumed' : 'pending',
        steps: stepCount(m.plan),
      });
      await startMigration(client, m.name, m.checksum);
      try {
        await applyMigration(client, pid, monitor, m, chains, done, schedule, options);
      } catch (e) {
        const message = scrub(e instanceof Error ? e.message : String(e));
        await finishMigration(client, m.name, 'failed', message).catch(() => {});
        result.failure = {
          migration: m.name,
          kind: 'failed',
          message,
          ...((e as { blockers?: Blocker[] }).blockers
            ? { blockers: (e as { blockers: Blocker[] }).blockers }
            : {}),
        };
        break;
      }
      await finishMigration(client, m.name, 'applied');
      // the tool's own table too, so that the tool finds nothing pending afterwards
      if (options.toolHistory !== false && m.absPath) {
        const problem = await recordInToolHistory(client, m.plan.runner, {
          name: m.name,
          absPath: m.absPath,
        });
        if (problem) options.onEvent?.({ kind: 'reconciled', migration: m.name, what: problem });
      }
      result.applied.push(m.name);
      options.onEvent?.({ kind: 'migration', name: m.name, status: 'applied', steps: stepCount(m.plan) });
    }
    await releaseRunLock(client).catch(() => {});
    return result;
  } finally {
    await monitor?.end().catch(() => {});
    await client.end().catch(() => {});
  }
}

const stepCount = (plan: MigrationPlan) => plan.units.reduce((n, u) => n + u.steps.length, 0);

/**
 * Why a half-applied migration cannot resume: a step recorded done whose SQL (or a step before it)
 * has changed since. Undefined when the recorded prefix still matches.
 */
function staleSteps(
  plan: MigrationPlan,
  chains: readonly string[],
  done: readonly RecordedStep[],
): string | undefined {
  let i = 0;
  for (const [u, unit] of plan.units.entries())
    for (const [s] of unit.steps.entries()) {
      const recorded = done.find((d) => d.unit === u && d.step === s);
      if (recorded?.status === 'done' && recorded.chain !== chains[i])
        return `changed after step ${i + 1} of it was applied: its applied steps no longer match the file (restore it, or finish it by hand and record it)`;
      i++;
    }
  return undefined;
}

async function applyMigration(
  client: pg.Client,
  pid: number,
  monitor: pg.Client,
  m: PlannedMigration,
  chains: readonly string[],
  done: readonly RecordedStep[],
  brief: RetrySchedule,
  options: RunOptions,
): Promise<void> {
  let flat = 0;
  for (const [u, unit] of m.plan.units.entries()) {
    const first = flat;
    flat += unit.steps.length;
    const status = (s: number) => done.find((d) => d.unit === u && d.step === s)?.status;
    if (unit.steps.every((_, s) => status(s) === 'done')) {
      for (const [s, step] of unit.steps.entries())
        options.onEvent?.({
          kind: 'step',
          migration: m.name,
          unit: u,
          step: s,
          sql: step.sql,
          status: 'skipped',
          attempts: 0,
          ms: 0,
        });
      continue;
    }
    const schedule = unit.timeout === 'long' ? LONG_SCHEDULE : brief;
    const ctx = { client, pid, monitor, m, unit: u, schedule, options };
    if (unit.transaction) {
      await runTransaction(
        ctx,
        unit.steps.map((step, s) => ({ step, s, chain: chains[first + s]! })),
        unit,
      );
      continue;
    }
    // autocommit: each step on its own, from the first not done
    for (const [s, step] of unit.steps.entries()) {
      if (status(s) === 'done') continue;
      const item = { step, s, chain: chains[first + s]! };
      const recorded = done.find((d) => d.unit === u && d.step === s);
      if (step.outsideTransaction) await runOutside(ctx, item, unit, recorded);
      else await runTransaction(ctx, [item], unit);
    }
  }
}

interface StepContext {
  client: pg.Client;
  /** the runner's server process, whose blockers the monitor reads */
  pid: number;
  monitor: pg.Client;
  m: PlannedMigration;
  unit: number;
  schedule: RetrySchedule;
  options: RunOptions;
}

interface StepItem {
  step: PlanStep;
  s: number;
  chain: string;
}

const interval = (ms: number) => `'${ms}ms'`;

/**
 * Steps in one transaction, their history rows committed with them. A lock_timeout reruns the whole
 * transaction after a pause, its timeouts set again (SET LOCAL ends with each attempt).
 */
async function runTransaction(ctx: StepContext, items: readonly StepItem[], unit: PlanUnit): Promise<void> {
  const { client, schedule } = ctx;
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    const lockTimeout = lockTimeoutFor(schedule, attempt);
    const watch = watchBlockers(ctx.monitor, ctx.pid, lockTimeout, ctx.options.maxBlocked);
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${interval(lockTimeout)}`);
      if (unit.timeout === 'long') await client.query('SET LOCAL statement_timeout = 0');
      for (const { step } of items) await client.query(step.sql);
      for (const { s, chain } of items)
        await recordStep(client, {
          migration: ctx.m.name,
          unit: ctx.unit,
          step: s,
          chain,
          status: 'done',
          attempts: attempt + 1,
        });
      await client.query('COMMIT');
      await watch.stop();
      for (const { step, s } of items) stepDone(ctx, s, step.sql, attempt + 1, started);
      return;
    } catch (e) {
      const blockers = await watch.stop();
      await client.query('ROLLBACK').catch(() => {});
      const retryable = isLockTimeout(e) || watch.gaveUp() !== undefined;
      if (!retryable || attempt + 1 >= schedule.attempts)
        throw failure(e, attempt + 1, blockers, watch.gaveUp());
      const pause = sleepFor(schedule, attempt);
      ctx.options.onEvent?.({
        kind: 'retry',
        migration: ctx.m.name,
        unit: ctx.unit,
        attempt: attempt + 1,
        sleepMs: pause,
        blockers,
      });
      await sleep(pause);
    }
  }
}

/**
 * A step Postgres refuses in a transaction block (CREATE INDEX CONCURRENTLY, …): session-level
 * timeouts, `running` recorded before it and `done` after. An INVALID index left by a failed or
 * interrupted build is dropped (DROP INDEX CONCURRENTLY, never a plain DROP) before the build runs
 * again; a build a crash interrupted after it finished is recognised as done.
 */
async function runOutside(
  ctx: StepContext,
  item: StepItem,
  unit: PlanUnit,
  recorded: RecordedStep | undefined,
): Promise<void> {
  const { client, schedule, m } = ctx;
  const interrupted = recorded?.status === 'running' || recorded?.status === 'failed';
  const batch = batchDirective(item.step.comments);
  if (batch) return runBatched(ctx, item, batch, recorded?.progress ?? undefined);
  const index = concurrentIndex(item.step.sql);
  const row = { migration: m.name, unit: ctx.unit, step: item.s, chain: item.chain };
  if (index) {
    const valid = await indexValidity(client, index);
    if (valid === true && interrupted) {
      // the build finished before the runner could record it
      await recordStep(client, { ...row, status: 'done', attempts: 1 });
      ctx.options.onEvent?.({
        kind: 'reconciled',
        migration: m.name,
        what: `${index} was built before an interruption: recorded as done`,
      });
      return;
    }
    if (valid === false) {
      await dropInvalid(client, index);
      ctx.options.onEvent?.({
        kind: 'reconciled',
        migration: m.name,
        what: `dropped the INVALID index ${index} a failed build left`,
      });
    }
  }
  await recordStep(client, { ...row, status: 'running', attempts: 0 });
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    const lockTimeout = lockTimeoutFor(schedule, attempt);
    const watch = watchBlockers(ctx.monitor, ctx.pid, lockTimeout, ctx.options.maxBlocked);
    try {
      await client.query(`SET lock_timeout = ${interval(lockTimeout)}`);
      await client.query(unit.timeout === 'long' ? 'SET statement_timeout = 0' : 'RESET statement_timeout');
      await client.query(item.step.sql);
      await watch.stop();
      await resetTimeouts(client);
      await recordStep(client, { ...row, status: 'done', attempts: attempt + 1 });
      stepDone(ctx, item.s, item.step.sql, attempt + 1, started);
      return;
    } catch (e) {
      const blockers = await watch.stop();
      await resetTimeouts(client).catch(() => {});
      if (index && (await indexValidity(client, index).catch(() => undefined)) === false)
        await dropInvalid(client, index);
      if (!isLockTimeout(e) || attempt + 1 >= schedule.attempts) {
        await recordStep(client, {
          ...row,
          status: 'failed',
          attempts: attempt + 1,
          error: (e as Error).message,
        }).catch(() => {});
        throw failure(e, attempt + 1, blockers);
      }
      const pause = sleepFor(schedule, attempt);
      ctx.options.onEvent?.({
        kind: 'retry',
        migration: m.name,
        unit: ctx.unit,
        attempt: attempt + 1,
        sleepMs: pause,
        blockers,
      });
      await sleep(pause);
    }
  }
}

/** A `-- pgkeel:batch` data change: keyset batches, each committed with its progress (batch.ts). */
async function runBatched(
  ctx: StepContext,
  item: StepItem,
  settings: BatchSettings,
  resumeFrom: string | undefined,
): Promise<void> {
  const { client, m } = ctx;
  const target = batchTarget(item.step.sql);
  if ('error' in target) throw new Error(`${m.path}: cannot run this statement in batches: ${target.error}`);
  const row = { migration: m.name, unit: ctx.unit, step: item.s };
  await recordStep(client, { ...row, chain: item.chain, status: 'running', attempts: 1 });
  const started = Date.now();
  const progress = await runBatches(
    client,
    target,
    settings,
    row,
    resumeFrom,
    BRIEF_SCHEDULE.maxLockTimeoutMs,
    (p) => ctx.options.onEvent?.({ kind: 'batch', migration: m.name, ...p }),
  );
  await recordStep(client, { ...row, chain: item.chain, status: 'done', attempts: 1 });
  stepDone(
    ctx,
    item.s,
    item.step.sql,
    1,
    started,
    `${progress.rows.toLocaleString('en-US')} rows in ${progress.batches} batches${resumeFrom ? `, resumed after key ${resumeFrom}` : ''}`,
  );
}

/** Tells the caller a step is done. */
function stepDone(
  ctx: StepContext,
  step: number,
  sql: string,
  attempts: number,
  started: number,
  note?: string,
): void {
  ctx.options.onEvent?.({
    kind: 'step',
    migration: ctx.m.name,
    unit: ctx.unit,
    step,
    sql,
    status: 'done',
    attempts,
    ms: Date.now() - started,
    ...(note ? { note } : {}),
  });
}

async function resetTimeouts(client: pg.Client): Promise<void> {
  await client.query('RESET lock_timeout');
  await client.query('RESET statement_timeout');
}

/** The index a CREATE [UNIQUE] INDEX CONCURRENTLY builds, as SQL names it (schema-qualified like its table). */
function concurrentIndex(sql: string): string | undefined {
  const [item] = openSource(sql).items();
  return item?.type === 'statement' ? concurrentIndexName(item.node) : undefined;
}

/** true: a valid index of that name; false: an INVALID one; undefined: none. */
async function indexValidity(client: pg.Client, index: string): Promise<boolean | undefined> {
  const r = await client.query('SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)', [index]);
  return r.rows.length === 0 ? undefined : r.rows[0].indisvalid === true;
}

/** DROP INDEX CONCURRENTLY of an INVALID leftover: it takes no lock that blocks the table's traffic. */
async function dropInvalid(client: pg.Client, index: string): Promise<void> {
  await client.query(`SET lock_timeout = ${interval(LONG_SCHEDULE.lockTimeoutMs)}`);
  try {
    await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`);
  } finally {
    await client.query('RESET lock_timeout');
  }
}

/** The step's error, with how many attempts it had and who blocked it. */
function failure(
  e: unknown,
  attempts: number,
  blockers: Blocker[],
  queued?: number,
): Error & { blockers?: Blocker[] } {
  const base =
    queued !== undefined
      ? `gave up waiting: ${queued} sessions queued behind the step (--max-blocked)`
      : e instanceof Error
        ? e.message
        : String(e);
  const plural = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const tried =
    queued !== undefined
      ? ` (after ${plural})`
      : isLockTimeout(e)
        ? ` (lock_timeout on each of ${plural})`
        : '';
  const who =
    blockers.length > 0
      ? `; blocked by ${blockers.map((b) => `pid ${b.pid} (${b.state ?? 'unknown'}${b.transactionAge !== null ? `, transaction open ${b.transactionAge}s` : ''}: ${b.query})`).join(', ')}`
      : '';
  const err = new Error(`${base}${tried}${who}`) as Error & { blockers?: Blocker[] };
  if (blockers.length > 0) err.blockers = blockers;
  return err;
}
