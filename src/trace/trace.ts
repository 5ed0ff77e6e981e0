/**
 * `trace`: runs migrations in a real Postgres, statement by statement, with the transactions the
 * runner and the file would open, and puts what Postgres did (locks, rewrites, scans) next to what
 * the catalog claims, flagging every difference.
 *
 * Setup makes the touched tables exist first: the migration files that precede the traced one in
 * its directory (in the runner's order), a schema file, and optionally generated rows.
 */

import { Analyzer, type StatementFacts } from '../analyze/analyze.js';
import { runnerModel } from '../analyze/runners.js';
import {
  endsTransactionBlock,
  opensTransactionBlock,
  transactionControl,
} from '../analyze/transaction-control.js';
import { type LockMode, lockStrength } from '../catalog/locks.js';
import { parseInterval } from '../config/interval.js';
import type { RunnerName } from '../config/types.js';
import { type MigrationInput, type MigrationInputOptions, resolveMigrations } from '../explain/inputs.js';
import { loadParser, openSource, type SourceFile, type Statement } from '../parse/parse.js';
import { type EmbeddedBody, type EmbeddedRun, EmbeddedSql } from '../parse/plpgsql.js';
import {
  compareCodePoints,
  earlierMigrations,
  historyOf,
  type InputProblem,
  type MigrationFile,
  readMigrationFile,
  resolveInputs,
} from '../sources/index.js';
import { type Claim, claimsFor, compare, type Mismatch, mergeClaims, mismatchText } from './compare.js';
import { connectionSecrets } from './conninfo.js';
import type { EngineSpec, TraceEngine } from './engine.js';
import { startEngine } from './engines/index.js';
import { type Observation, type ObservedLock, Observer } from './observe.js';
import { teachSchema } from './schema.js';
import { ident, literal, MAX_SEED_ROWS, seedTables } from './seed.js';
import { SideEffectDetector, sequenceColumnsSql } from './side-effects.js';

export type TraceStatus = 'match' | 'mismatch' | 'error' | 'not-traced' | 'not-run';

/** A claim the trace could not check, and why (not a mismatch). */
export interface Unverified {
  relation: string;
  reason: string;
}

/** Where a piece of SQL is in its file. */
export interface TracedSpan {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  start: number;
  end: number;
  sql: string;
}

/** A statement of a DO block or function body: its claims are part of the running statement's. */
export interface TracedEmbeddedStatement extends TracedSpan {
  kind: string;
  /** it runs only under a condition (IF, CASE, a loop, an exception handler): its claims may not happen */
  conditional?: boolean;
  claimed: Claim[];
}

/** The statements of a DO block, or of a function defined in the file, that a traced statement runs. */
export interface TracedBody {
  kind: 'do' | 'function';
  /** the function's name, for `function` */
  name?: string;
  /** where the DO statement or CREATE FUNCTION starts */
  line: number;
  column: number;
  statements: TracedEmbeddedStatement[];
  /** SQL it runs that is not statically known (EXECUTE of a string built at run time): nothing is claimed for it */
  notStaticallyKnown: (TracedSpan & { reason: string })[];
}

export interface TracedStatement {
  /** 0-based ordinal among the file's statements, parse errors included */
  index: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  start: number;
  end: number;
  sql: string;
  /** parser node type; absent for parse errors */
  kind?: string;
  status: TraceStatus;
  /** why it was not traced / not run */
  reason?: string;
  /** the error Postgres (or the parser) reported */
  error?: string;
  durationMs?: number;
  /** it ran inside a transaction block (the file's, the runner's, or one opened just to watch it) */
  inTransaction?: boolean;
  /** what Postgres did; absent when it did not run */
  observed?: {
    /** absent when locks could not be observed (a statement that cannot run in a transaction block) */
    locks?: ObservedLock[];
    rewritten: string[];
    seqScans?: string[];
  };
  /** relations the statement itself creates (their locks concern no other session) */
  created: string[];
  /** what the catalog claims, per relation (with those of the statements it runs, in `embedded`) */
  claimed: Claim[];
  /** the DO block's statements, or those of functions defined in the file that it calls */
  embedded?: TracedBody[];
  mismatches: Mismatch[];
  unverified: Unverified[];
  notes: string[];
}

export interface TraceSetup {
  /** earlier migration files applied first, as shown to users */
  earlier: string[];
  /** schema files loaded first */
  schema: string[];
  seeded: { table: string; rows: number }[];
  /** statements of the setup that failed, tables that could not be seeded: the trace went on */
  problems: string[];
}

export interface TracedFile {
  path: string;
  runner: RunnerName;
  /** the engine's major version: the version the claims are made for */
  pgVersion: number;
  setup: TraceSetup;
  statements: TracedStatement[];
  notes: string[];
}

export interface TraceReport {
  engine: { name: string; majorVersion: number };
  files: TracedFile[];
}

export interface TraceProgress {
  /** 0-based file number and total */
  file: number;
  files: number;
  path: string;
  /** statements done in this file, of its total */
  statement: number;
  statements: number;
  phase: 'setup' | 'trace' | 'done';
}

export interface TraceOptions extends Omit<MigrationInputOptions, 'pgVersion'> {
  /** the engine to start (default PGlite), or a running one (used as is and not closed) */
  engine?: EngineSpec | TraceEngine;
  /** SQL files (or directories of them) loaded before the migrations */
  schema?: string[];
  /** generated rows added to each existing table a migration touches */
  seedRows?: number;
  /**
   * apply the migration files that precede each traced file in its directory (default: yes, except
   * on a database URL, which is expected to be at the state before the migration already)
   */
  applyEarlier?: boolean;
  /** the whole run happens in one transaction that is rolled back (always on a rollback-only engine) */
  rollbackOnly?: boolean;
  /**
   * on the user's database (a rollback-only engine), run statements whose effects a rollback does
   * not undo (nextval, setval, dblink, COPY TO a file, …); by default they are not traced
   */
  allowSideEffects?: boolean;
  /** the user's database: on abort the running statement is cancelled, everything rolled back, and traceFiles rejects */
  signal?: AbortSignal;
  onFile?: (file: TracedFile) => void;
  onProgress?: (progress: TraceProgress) => void;
  /** engine progress (binaries being installed) and server log lines; never a password */
  onLog?: (line: string) => void;
  /** told about inputs that cannot be read (left out) and other input problems (invalid UTF-8) */
  onInputProblem?: (path: string, problem: InputProblem) => void;
  /** called once the engine is up, before any file is traced */
  onEngine?: (engine: { name: string; majorVersion: number }) => void;
}

/** The engine could not be started or reached: a usage/environment problem (exit 2), not a finding. */
export class TraceEngineError extends Error {
  override readonly name = 'TraceEngineError';
  readonly exitCode = 2;
}

/**
 * Traces migration files: resolves them like lint, groups them by migration directory (each group
 * gets a fresh engine, so unrelated histories do not collide), applies what comes before each file,
 * and traces its statements.
 */
export async function traceFiles(args: readonly string[], options: TraceOptions = {}): Promise<TraceReport> {
  const cwd = options.cwd ?? process.cwd();
  if ((options.seedRows ?? 0) > MAX_SEED_ROWS)
    throw new RangeError(`seedRows is at most ${MAX_SEED_ROWS.toLocaleString('en-US')}`);
  // an input that cannot be read is told about and left out; the others are still traced
  const inputs: MigrationInput[] = [];
  for (const input of await resolveMigrations(args, { ...options, cwd })) {
    for (const problem of input.file.problems ?? []) options.onInputProblem?.(input.file.path, problem);
    if (!input.file.unreadable) inputs.push(input);
  }
  const schema: MigrationFile[] = [];
  if (options.schema?.length) {
    for (const ref of await resolveInputs(options.schema, { cwd })) schema.push(await readMigrationFile(ref));
  }
  const groups = groupByHistory(inputs);
  const total = inputs.length;
  const report: TraceReport = { engine: { name: '', majorVersion: 0 }, files: [] };
  const secrets = secretsOf(options.engine);
  const given = isEngine(options.engine) ? options.engine : undefined;
  const spec: EngineSpec = isEngine(options.engine)
    ? { kind: 'pglite' }
    : (options.engine ?? { kind: 'pglite' });
  const onUrl = !given && spec.kind === 'url';
  let done = 0;
  for (const group of groups) {
    let engine: TraceEngine;
    try {
      engine = given ?? (await startEngine(spec, { log: options.onLog, signal: options.signal }));
    } catch (e) {
      throw new TraceEngineError(
        scrub(`cannot start the trace engine: ${(e as Error)?.message ?? e}`, secrets),
      );
    }
    try {
      if (!report.engine.name) {
        report.engine = { name: scrub(engine.name, secrets), majorVersion: engine.majorVersion };
        options.onEngine?.(report.engine);
      }
      const session = new TraceSession(engine, {
        // the engine's word wins: a user's database refuses to commit whatever the caller asks
        rollbackOnly: engine.rollbackOnly === true || options.rollbackOnly === true,
        seedRows: options.seedRows ?? 0,
        // a database is expected to be at the state before the migration already
        applyEarlier: options.applyEarlier ?? !(onUrl || engine.rollbackOnly === true),
        allowSideEffects: options.allowSideEffects === true,
        secrets,
        cwd,
      });
      await session.open();
      try {
        const schemaProblems = await session.applySchema(schema);
        for (const input of group) {
          const file = await session.trace(input, (statement, statements, phase) =>
            options.onProgress?.({
              file: done,
              files: total,
              path: input.file.path,
              statement,
              statements,
              phase,
            }),
          );
          // the schema is loaded once per engine: shown with the first file traced on it
          if (input === group[0]) {
            file.setup.schema = schema.map((s) => s.path);
            file.setup.problems.unshift(...schemaProblems);
          }
          done++;
          report.files.push(file);
          options.onFile?.(file);
        }
      } finally {
        await session.close();
      }
    } finally {
      if (!given) await engine.close().catch(() => {});
    }
  }
  return report;
}

export interface TraceSqlOptions {
  /** a running engine; not closed */
  engine: TraceEngine;
  runner?: RunnerName;
  noTransaction?: boolean;
  /** display path */
  path?: string;
  seedRows?: number;
  rollbackOnly?: boolean;
  /** see TraceOptions.allowSideEffects */
  allowSideEffects?: boolean;
  timeouts?: { lockTimeout?: string; statementTimeout?: string };
}

/** Traces SQL text on a running engine, without earlier files (the library's simplest entry point). */
export async function traceSql(sql: string, options: TraceSqlOptions): Promise<TracedFile> {
  await loadParser();
  const session = new TraceSession(options.engine, {
    rollbackOnly: options.engine.rollbackOnly === true || options.rollbackOnly === true,
    seedRows: options.seedRows ?? 0,
    applyEarlier: false,
    allowSideEffects: options.allowSideEffects === true,
    secrets: [],
    cwd: process.cwd(),
  });
  await session.open();
  try {
    return await session.trace({
      file: { path: options.path ?? '<input>', text: sql },
      pgVersion: options.engine.majorVersion,
      runner: options.runner ?? 'psql',
      noTransaction: options.noTransaction ?? false,
      timeouts: options.timeouts ?? {},
      // a trace runs on the engine's own version; the runner is what the caller said
      pgVersionFrom: { from: 'detected', detail: 'the engine' },
      runnerFrom: options.runner === undefined ? { from: 'default' } : { from: 'flag', detail: 'runner' },
    });
  } finally {
    await session.close();
  }
}

function isEngine(e: EngineSpec | TraceEngine | undefined): e is TraceEngine {
  return e !== undefined && 'query' in e;
}

interface SessionOptions {
  rollbackOnly: boolean;
  seedRows: number;
  applyEarlier: boolean;
  allowSideEffects: boolean;
  secrets: string[];
  cwd: string;
}

const SETUP_PROBLEMS_PER_FILE = 20;

/** One engine session: what has been applied and seeded, and the transaction the trace is in. */
class TraceSession {
  readonly observer: Observer;
  private readonly applied = new Set<string>();
  private readonly seeded = new Set<string>();
  /** rollback-only: the one transaction was aborted by an error; nothing more can run */
  private aborted: { path: string; line: number } | undefined;
  /** the schema files, applied again should the engine start a new database */
  private schema: MigrationFile[] = [];
  /** the engine's `generation` when the session last looked: a change means the database is new */
  private generation = 0;
  /** the database was replaced: the next file applies the setup again */
  private replaced = false;
  /** files whose statement the engine had to stop (absolute path → line): not applied again */
  private readonly stoppedIn = new Map<string, number>();
  /** setup (schema, earlier files) ran in the current session: the traced file gets a new one */
  private setupInSession = false;
  /** a traced file ran in the current session: a runner with a session per file gives the next one a new one */
  private tracedInSession = false;
  /** the engine's own lock_timeout and statement_timeout, restored in every new session */
  private engineSettings: { name: string; value: string }[] = [];

  /** the user's database: statements whose effects outlive the rollback are not run */
  private readonly sideEffects: SideEffectDetector | undefined;

  constructor(
    readonly engine: TraceEngine,
    readonly options: SessionOptions,
  ) {
    this.observer = new Observer(engine);
    if (engine.rollbackOnly === true && !options.allowSideEffects)
      this.sideEffects = new SideEffectDetector();
  }

  private clean(s: string): string {
    return scrub(s, this.options.secrets);
  }

  async open(): Promise<void> {
    await loadParser();
    this.generation = this.engine.generation ?? 0;
    // what the engine set before any migration ran (the URL engine's ceilings): part of every session
    try {
      const rows = await this.engine.query(
        "SELECT name, setting FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout') AND source = 'session'",
      );
      this.engineSettings = rows.map((r) => ({ name: String(r.name), value: String(r.setting) }));
    } catch {
      // no settings to restore: a new session keeps the server's defaults
    }
    if (this.options.rollbackOnly) {
      const o = await this.observer.run('BEGIN', { transactionControl: 'begin' });
      if (!o.ok) throw new TraceEngineError(this.clean(`cannot open the trace transaction: ${o.error}`));
    }
  }

  async close(): Promise<void> {
    // rollback-only: nothing the trace did may stay; otherwise the engine is thrown away anyway
    if (this.options.rollbackOnly) await this.engine.exec('ROLLBACK').catch(() => {});
  }

  /** Loads the schema files (again after the engine started a new database); returns what failed. */
  async applySchema(files: MigrationFile[]): Promise<string[]> {
    this.schema = files;
    const problems: string[] = [];
    for (const f of files) problems.push(...(await this.applySetup(f)));
    return problems;
  }

  /**
   * The engine started a new, empty database (PGlite after a statement it had to stop): nothing
   * applied or seeded is there any more. Returns true when that happened since the last look.
   */
  private databaseReplaced(): boolean {
    const now = this.engine.generation ?? 0;
    if (now === this.generation) return false;
    this.generation = now;
    this.replaced = true;
    this.applied.clear();
    this.seeded.clear();
    this.observer.forget();
    this.setupInSession = false;
    this.tracedInSession = false;
    return true;
  }

  /**
   * Gives what runs next a new session, as a migration tool's new connection would: default
   * settings (plus the engine's own timeouts), the initial role, no temporary objects.
   */
  private async newSession(): Promise<string | undefined> {
    if (this.aborted) return undefined;
    const inTransaction = this.observer.inTransaction;
    try {
      if (this.engine.newSession) await this.engine.newSession({ inTransaction });
      else {
        // one statement per call: a multi-statement query is a transaction block, where DISCARD ALL cannot run
        const reset = [
          'SET SESSION AUTHORIZATION DEFAULT',
          'RESET ROLE',
          inTransaction ? 'RESET ALL' : 'DISCARD ALL',
        ];
        for (const sql of reset) await this.engine.exec(sql);
      }
      for (const s of this.engineSettings) await this.engine.exec(`SET ${s.name} = ${literal(s.value)}`);
    } catch (e) {
      return `cannot start a new session: ${(e as Error)?.message ?? e}`;
    } finally {
      this.setupInSession = false;
      this.tracedInSession = false;
    }
    return undefined;
  }

  /** Runs a file's statements without observing them; returns what failed. */
  async applySetup(file: MigrationFile): Promise<string[]> {
    const problems: string[] = [];
    let more = 0;
    const source = openSource(file.text);
    this.setupInSession = true;
    for (const item of source.items()) {
      const line = source.position(item.start).line;
      let error: string | undefined;
      const refused = item.type === 'statement' ? this.engine.refuse?.(item.node) : undefined;
      if (item.type === 'error') error = `cannot parse: ${item.message}`;
      else if (item.kind === 'TransactionStmt')
        continue; // every setup statement runs on its own
      else if (refused) error = `not run on ${this.engineKind()}: ${refused}`;
      else error = await this.execQuietly(item.text);
      if (this.databaseReplaced()) {
        if (file.absPath) this.stoppedIn.set(file.absPath, line);
        problems.push(
          this.clean(`${file.path}:${line}: ${error ?? 'failed'}; the rest of the setup was not applied`),
        );
        return problems;
      }
      if (error === undefined) continue;
      if (problems.length < SETUP_PROBLEMS_PER_FILE)
        problems.push(this.clean(`${file.path}:${line}: ${error}`));
      else more++;
    }
    if (more > 0) problems.push(`${file.path}: ${more} more statements failed`);
    if (file.absPath) this.applied.add(file.absPath);
    return problems;
  }

  /** A setup statement: autocommit, or a savepoint inside the rollback-only transaction. */
  private async execQuietly(sql: string): Promise<string | undefined> {
    if (this.aborted) return 'not run: the trace transaction was aborted';
    if (!this.observer.inTransaction) {
      try {
        await this.engine.exec(sql);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    }
    try {
      await this.engine.exec('SAVEPOINT pgkeel_setup');
    } catch (e) {
      return (e as Error).message;
    }
    try {
      await this.engine.exec(sql);
      await this.engine.exec('RELEASE SAVEPOINT pgkeel_setup');
      return undefined;
    } catch (e) {
      try {
        await this.engine.exec('ROLLBACK TO SAVEPOINT pgkeel_setup');
        await this.engine.exec('RELEASE SAVEPOINT pgkeel_setup');
      } catch {
        // the session is gone (the statement ended it): the next statement will say so
      }
      return (e as Error).message;
    }
  }

  /** the engine's name without its version, for messages: `PGlite`, `PostgreSQL` */
  private engineKind(): string {
    return this.engine.name.split(' (')[0] ?? this.engine.name;
  }

  async trace(
    input: MigrationInput,
    progress: (statement: number, statements: number, phase: TraceProgress['phase']) => void = () => {},
  ): Promise<TracedFile> {
    const setup: TraceSetup = { earlier: [], schema: [], seeded: [], problems: [] };
    const notes: string[] = [];
    const source = openSource(input.file.text);
    const count = source.statementCount;
    progress(0, count, 'setup');
    const perFile = runnerModel(input.runner).sessionPerFile === true;
    this.databaseReplaced();
    if (this.replaced) {
      this.replaced = false;
      notes.push(
        `${this.engineKind()} started a new, empty database after the statement it had to stop: the setup was applied again.`,
      );
      if (this.schema.length > 0) {
        setup.schema = this.schema.map((f) => f.path);
        setup.problems.push(...(await this.applySchema(this.schema)));
      }
    }
    // after an error in a rollback-only trace its transaction is gone: anything run now would commit
    const usable = !this.aborted;
    if (usable && this.options.applyEarlier && input.file.absPath) {
      for (const earlier of await earlierMigrations(input.file, this.options.cwd)) {
        if (earlier.absPath && this.applied.has(earlier.absPath)) continue;
        const stoppedAt = earlier.absPath ? this.stoppedIn.get(earlier.absPath) : undefined;
        if (stoppedAt !== undefined) {
          setup.problems.push(
            `${earlier.path}: not applied again: ${this.engineKind()} had to stop its statement at line ${stoppedAt}`,
          );
          continue;
        }
        if (earlier.unreadable) {
          setup.problems.push(
            `${earlier.path}: not applied, it cannot be read: ${earlier.problems?.[0]?.message}`,
          );
          continue;
        }
        // what one file SETs reaches the next only on a runner that keeps one session for all
        if (perFile && this.setupInSession) {
          const problem = await this.newSession();
          if (problem) setup.problems.push(this.clean(problem));
        }
        setup.earlier.push(earlier.path);
        setup.problems.push(...(await this.applySetup(earlier)));
      }
    }
    // earlier files were applied by an earlier run of the tool: the traced file starts in a session
    // of its own, as does each file of a runner that starts one per file
    if (usable && (this.setupInSession || (perFile && this.tracedInSession))) {
      const problem = await this.newSession();
      if (problem) setup.problems.push(this.clean(problem));
    }
    this.tracedInSession = true;
    if (input.file.absPath) this.applied.add(input.file.absPath);

    const pgVersion = this.engine.majorVersion;
    const analyzer = new Analyzer({
      pgVersion,
      runner: runnerModel(input.runner),
      noTransaction: input.noTransaction,
      statementCount: count,
      lockTimeoutMs: ms(input.timeouts.lockTimeout),
      statementTimeoutMs: ms(input.timeouts.statementTimeout),
    });
    // what the database already knows (an index's table, foreign keys) sharpens the claims
    if (usable) await teachSchema(this.engine, analyzer).catch(() => {});
    // the claims do not depend on what Postgres does: analyse first, so the tables to seed are known
    const embeddedSql = new EmbeddedSql(source);
    /** a statement's facts, then those of the DO block or functions it runs, in their transaction */
    interface Analysed {
      stmt: Statement;
      facts: StatementFacts;
      runs: EmbeddedRun<Analysed>[];
    }
    const analyse = (stmt: Statement, depth: number): Analysed => {
      const facts = analyzer.analyze(stmt);
      analyzer.apply(facts);
      return { stmt, facts, runs: embeddedSql.run(stmt, depth, analyzer, analyse) };
    };
    const planned = [...source.items()].map((item) => {
      const none = { item, facts: undefined, created: new Set<string>(), embedded: undefined };
      if (item.type === 'error')
        return { ...none, problem: `pgkeel cannot parse this statement: ${item.message}` };
      const before = new Set(analyzer.state.created.keys());
      try {
        const { facts, runs } = analyse(item, 0);
        const created = new Set([...analyzer.state.created.keys()].filter((k) => !before.has(k)));
        return { item, facts, created, embedded: flattenRuns(runs), problem: undefined };
      } catch (e) {
        // a bug in the analyzer costs this statement's claims, not the trace
        return { ...none, problem: `pgkeel failed to analyse this statement: ${(e as Error)?.message ?? e}` };
      }
    });
    analyzer.finish();

    if (usable && this.options.seedRows > 0) {
      const touched = new Set<string>();
      for (const p of planned) {
        const all = [p.facts, ...(p.embedded ?? []).flatMap((b) => b.statements.map((s) => s.facts))];
        for (const l of all.flatMap((f) => f?.locks ?? []))
          if (!l.isNew && !this.seeded.has(l.relation.key)) touched.add(l.relation.key);
      }
      // on the user's database, rows that take a serial or identity default advance its sequence for good
      if (this.sideEffects) {
        for (const t of [...touched]) {
          const dot = t.indexOf('.');
          const name = `${ident(t.slice(0, dot))}.${ident(t.slice(dot + 1))}`;
          const columns = await this.engine.query(sequenceColumnsSql(literal(name))).catch(() => []);
          if (columns.length === 0) continue;
          touched.delete(t);
          this.seeded.add(t);
          setup.problems.push(
            `${t} not seeded: its ${columns.map((c) => String(c.name)).join(', ')} would advance a sequence that the rollback does not undo (--allow-side-effects)`,
          );
        }
      }
      if (touched.size > 0) {
        const outcome = await seedTables(this.engine, [...touched], this.options.seedRows, {
          inTransaction: this.observer.inTransaction,
        });
        for (const t of [...touched, ...outcome.seeded.map((x) => x.table)]) this.seeded.add(t);
        setup.seeded.push(...outcome.seeded);
        for (const f of outcome.failed)
          setup.problems.push(this.clean(`cannot seed ${f.table}: ${f.reason}`));
      }
    }

    const statements: TracedStatement[] = [];
    /** the strongest lock observed per relation in the engine's current transaction */
    const held = new Map<string, { mode: LockMode; line: number }>();
    let stopped: { line: number } | undefined;
    let synthetic = false;
    for (const { item, facts, created, problem, embedded } of planned) {
      const line = source.position(item.start).line;
      const base = {
        index: item.index,
        line,
        column: source.position(item.start).column,
        endLine: source.position(item.end).line,
        endColumn: source.position(item.end).column,
        start: item.start,
        end: item.end,
        sql: item.type === 'statement' ? item.text : source.sql.slice(item.start, item.end),
        ...(item.type === 'statement' ? { kind: item.kind } : {}),
        created: [] as string[],
        claimed: [] as Claim[],
        mismatches: [] as Mismatch[],
        unverified: [] as Unverified[],
        notes: [] as string[],
      };
      progress(statements.length, count, 'trace');
      if (this.aborted) {
        statements.push({
          ...base,
          status: 'not-run',
          reason: `the trace transaction was aborted by the error at ${this.aborted.path}:${this.aborted.line}`,
        });
        continue;
      }
      if (stopped) {
        statements.push({
          ...base,
          status: 'not-run',
          reason: `an earlier statement failed (line ${stopped.line}); a migration tool stops there`,
        });
        continue;
      }
      if (item.type === 'error' || !facts) {
        statements.push({ ...base, status: 'error', error: problem ?? 'not analysed' });
        stopped = { line };
        continue;
      }
      const traced = await this.traceStatement(item, facts, created, held, {
        base,
        synthetic,
        embedded: embedded ?? [],
        source,
      });
      synthetic = traced.synthetic;
      statements.push(traced.statement);
      // the engine stopped the statement and lost its database (PGlite): nothing more runs on it here
      if (this.databaseReplaced() && input.file.absPath) this.stoppedIn.set(input.file.absPath, line);
      if (traced.statement.status === 'error') {
        if (this.options.rollbackOnly) this.aborted = { path: input.file.path, line };
        else stopped = { line };
      }
    }
    // the runner commits its transaction after the last statement
    if (!this.options.rollbackOnly && this.observer.inTransaction) {
      if (!synthetic) notes.push('The file ends inside the transaction it opened; pgkeel committed it.');
      const o = await this.observer.run('COMMIT', { transactionControl: 'end' });
      if (!o.ok) notes.push(this.clean(`COMMIT at the end of the file failed: ${o.error}`));
    }
    progress(count, count, 'done');
    return { path: input.file.path, runner: input.runner, pgVersion, setup, statements, notes };
  }

  private async traceStatement(
    stmt: Statement,
    facts: StatementFacts,
    created: ReadonlySet<string>,
    held: Map<string, { mode: LockMode; line: number }>,
    ctx: {
      base: Omit<TracedStatement, 'status'>;
      synthetic: boolean;
      /** the DO block's or called functions' statements: their claims are this statement's too */
      embedded: PlannedBody[];
      source: SourceFile;
    },
  ): Promise<{ statement: TracedStatement; synthetic: boolean }> {
    const embedded = ctx.embedded.map((b) => tracedBody(ctx.source, b));
    const base = {
      ...ctx.base,
      created: [...created].sort(),
      ...(embedded.length > 0 ? { embedded } : {}),
    };
    let synthetic = ctx.synthetic;
    const control = blockControl(stmt);
    const noTransactionBlock = facts.actions.some((a) => a.facts.noTransactionBlock);
    const inner = ctx.embedded.flatMap((b) => b.statements);
    const claimed = mergeClaims([claimsFor(facts), ...inner.map((s) => claimsFor(s.facts))]);
    const dynamic = embedded.flatMap((b) => b.notStaticallyKnown);
    if (this.options.rollbackOnly && (control || noTransactionBlock)) {
      const reason = control
        ? 'transaction control: the trace runs in one transaction that is rolled back'
        : 'it cannot run inside a transaction block, and this trace runs in one that is rolled back (--allow-commit traces it on a scratch database)';
      return { statement: { ...base, claimed, status: 'not-traced', reason }, synthetic };
    }
    const refusals = this.engine.refuse
      ? [stmt, ...inner.map((x) => x.stmt)].flatMap((x) => {
          const why = this.engine.refuse?.(x.node);
          return why ? [`${why} (line ${ctx.source.position(x.start).line})`] : [];
        })
      : [];
    if (refusals.length > 0) {
      const reason = `not traced on ${this.engineKind()}: ${refusals.join('; ')}`;
      return { statement: { ...base, claimed, status: 'not-traced', reason }, synthetic };
    }
    if (this.sideEffects) {
      const effects = await this.sideEffects.check(
        stmt,
        inner.map((s) => s.stmt),
        ctx.source,
        async (relation) =>
          (await this.engine.query(sequenceColumnsSql(literal(relation)))).map((r) => String(r.name)),
      );
      if (effects.length > 0) {
        const reason = `it has effects that the rollback does not undo: ${effects
          .map((e) => `${e.reason} (line ${e.line})`)
          .join('; ')} (--allow-side-effects runs it anyway)`;
        return { statement: { ...base, claimed, status: 'not-traced', reason }, synthetic };
      }
    }
    if (!this.options.rollbackOnly && !control && facts.transaction && !this.observer.inTransaction) {
      // the runner's implicit transaction: opened here so locks accumulate as in production
      const o = await this.observer.run('BEGIN', { transactionControl: 'begin' });
      if (o.ok) {
        synthetic = true;
        held.clear();
      }
    }
    if (control === 'begin') synthetic = false;
    const wasInTransaction = this.observer.inTransaction;
    let observation = await this.observer.run(stmt.text, {
      transactionControl: control,
      noTransactionBlock,
    });
    const notes: string[] = [];
    if (
      !observation.ok &&
      !control &&
      !noTransactionBlock &&
      !wasInTransaction &&
      /cannot (run|be executed) inside a transaction block/i.test(observation.error ?? '')
    ) {
      // wrapped in a transaction only to watch it: run it as autocommit would
      observation = await this.observer.run(stmt.text, { noTransactionBlock: true });
      notes.push('The catalog does not know that this statement cannot run inside a transaction block.');
    }
    if (!this.observer.inTransaction) held.clear();
    if (!observation.ok) {
      return {
        statement: {
          ...base,
          claimed,
          status: 'error',
          error: this.clean(observation.error ?? 'failed'),
          durationMs: observation.durationMs,
          inTransaction: observation.inTransaction,
          notes,
        },
        synthetic,
      };
    }
    // what it created is the migration's own: using those sequences and tables later leaves nothing behind
    if (this.sideEffects)
      for (const s of [stmt, ...inner.map((x) => x.stmt)]) this.sideEffects.record(s, created);
    const conditional = [facts, ...inner.map((s) => s.facts)].some((f) =>
      f.actions.some((a) => a.detail?.ifNotExists),
    );
    // a statement of the block that runs only under a condition may not have run at all
    const branch = inner.some((s) => s.stmt.embeddedIn?.conditional);
    const { mismatches, unverified } = await this.judge(claimed, observation, created, held, {
      conditional,
      branch,
      dynamic: dynamic.map((d) => `${d.reason} at line ${d.line}`),
    });
    if (dynamic.length > 0)
      notes.push(
        `It runs SQL that is not statically known (${dynamic
          .map((d) => `line ${d.line}: ${d.reason}`)
          .join('; ')}): the catalog claims nothing for it.`,
      );
    if (this.observer.inTransaction && observation.locks) {
      for (const l of observation.locks) {
        const h = held.get(l.relation);
        if (!h || lockStrength(l.mode) > lockStrength(h.mode))
          held.set(l.relation, { mode: l.mode, line: base.line });
      }
    }
    if (observation.locks === undefined)
      notes.push(
        'Locks and scans cannot be observed for a statement that runs outside a transaction block here.',
      );
    return {
      statement: {
        ...base,
        claimed,
        status: mismatches.length > 0 ? 'mismatch' : 'match',
        durationMs: observation.durationMs,
        inTransaction: observation.inTransaction,
        observed: {
          ...(observation.locks ? { locks: observation.locks } : {}),
          rewritten: observation.rewritten,
          ...(observation.seqScans ? { seqScans: observation.seqScans } : {}),
        },
        mismatches,
        unverified,
        notes,
      },
      synthetic,
    };
  }

  /**
   * compare(), minus what a trace cannot see: a lock the transaction already holds in the same or a
   * stronger mode is not acquired again (pg_locks shows nothing new), a relation that does not exist
   * after the statement (`IF EXISTS` on a missing table) was never locked, `IF NOT EXISTS` on
   * something that exists does nothing, and a relation the statement creates is locked by nobody else.
   */
  private async judge(
    claimed: Claim[],
    observed: Observation,
    created: ReadonlySet<string>,
    held: ReadonlyMap<string, { mode: LockMode; line: number }>,
    how: {
      /** IF [NOT] EXISTS: the statement may do nothing */
      conditional: boolean;
      /** some embedded statements run only under a condition (IF, CASE, a loop, an exception handler) */
      branch: boolean;
      /** SQL the statement runs that is not statically known, in words */
      dynamic: string[];
    },
  ): Promise<{ mismatches: Mismatch[]; unverified: Unverified[] }> {
    const mismatches: Mismatch[] = [];
    const unverified: Unverified[] = [];
    const claimOf = new Map(claimed.map((c) => [c.relation, c]));
    for (const m of compare(claimed, observed)) {
      if (m.kind === 'unclaimed-lock' && created.has(m.relation)) continue;
      // more than claimed, from SQL built at run time: it cannot be claimed, and is not a mismatch
      const more =
        m.kind === 'unclaimed-lock' ||
        (m.kind === 'lock-mode' &&
          lockStrength(m.observed as LockMode) >
            lockStrength(claimOf.get(m.relation)?.mode ?? 'ACCESS SHARE')) ||
        (m.kind === 'rewrite' && m.observed !== 'no rewrite') ||
        (m.kind === 'scan' && m.observed === 'full scan');
      if (how.dynamic.length > 0 && more) {
        unverified.push({
          relation: m.relation,
          reason: `not statically known: the statement runs ${how.dynamic.join('; ')} (${mismatchText(m)})`,
        });
        continue;
      }
      if (m.kind === 'missing-lock' || m.kind === 'lock-mode') {
        const claim = claimOf.get(m.relation);
        const h = held.get(m.relation);
        const weaker =
          m.kind === 'missing-lock' ||
          (claim !== undefined && lockStrength(m.observed as LockMode) < lockStrength(claim.mode));
        if (claim && h && weaker && lockStrength(h.mode) >= lockStrength(claim.mode)) {
          unverified.push({
            relation: m.relation,
            reason: `the transaction holds ${h.mode} on it since line ${h.line}, and a held mode is not taken again`,
          });
          continue;
        }
        if (m.kind === 'missing-lock' && !(await this.exists(m.relation))) {
          unverified.push({ relation: m.relation, reason: 'it does not exist after the statement' });
          continue;
        }
      }
      // claimed work that did not happen, on a statement that skips itself when its object exists
      const skipped =
        m.kind === 'missing-lock' ||
        (m.kind === 'scan' && m.observed === 'no scan') ||
        (m.kind === 'rewrite' && m.observed === 'no rewrite');
      if (how.conditional && skipped) {
        unverified.push({
          relation: m.relation,
          reason: `IF [NOT] EXISTS: the statement may have had nothing to do (${mismatchText(m)})`,
        });
        continue;
      }
      const weaker =
        m.kind === 'lock-mode' &&
        lockStrength(m.observed as LockMode) < lockStrength(claimOf.get(m.relation)?.mode ?? 'ACCESS SHARE');
      if (how.branch && (skipped || weaker)) {
        unverified.push({
          relation: m.relation,
          reason: `a statement of the block runs only under a condition and may not have run (${mismatchText(m)})`,
        });
        continue;
      }
      mismatches.push(m);
    }
    return { mismatches, unverified };
  }

  private async exists(relation: string): Promise<boolean> {
    const dot = relation.indexOf('.');
    const name = `${ident(relation.slice(0, dot))}.${ident(relation.slice(dot + 1))}`;
    try {
      const rows = await this.engine.query(`SELECT to_regclass(${literal(name)}) IS NOT NULL AS x`);
      return rows[0]?.x === true;
    } catch {
      return true;
    }
  }
}

/**
 * BEGIN / START TRANSACTION open a block, COMMIT / ROLLBACK / PREPARE TRANSACTION (and COMMIT / ROLLBACK
 * PREPARED) end it; savepoints do neither.
 */
function blockControl(stmt: Statement): 'begin' | 'end' | undefined {
  const control = transactionControl(stmt);
  if (opensTransactionBlock(control)) return 'begin';
  if (endsTransactionBlock(control)) return 'end';
  return undefined;
}

/** Groups inputs by the migration history they belong to, each sorted in the runner's order. */
function groupByHistory(inputs: MigrationInput[]): MigrationInput[][] {
  const groups = new Map<string, MigrationInput[]>();
  for (const input of inputs) {
    const key = historyOf(input.file)?.dir ?? `\0${input.file.path}`;
    const g = groups.get(key) ?? [];
    g.push(input);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) =>
    g.sort((a, b) => compareCodePoints(historyOf(a.file)?.name ?? '', historyOf(b.file)?.name ?? '')),
  );
}

function ms(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseInterval(value);
}

/** The password of a database URL, in the forms it may appear in messages. */
function secretsOf(spec: EngineSpec | TraceEngine | undefined): string[] {
  if (!spec || isEngine(spec) || spec.kind !== 'url') return [];
  // keyword/value strings (`password='…'`) included
  const found = connectionSecrets(spec.url);
  if (found.length > 0) return found;
  try {
    const url = new URL(spec.url);
    if (!url.password) return [];
    const raw = url.password;
    const decoded = decodeURIComponent(raw);
    return [...new Set([raw, decoded, encodeURIComponent(decoded)])].filter((s) => s.length > 0);
  } catch {
    // an unparsable URL: hide everything between `://` and `@`
    const m = /:\/\/[^/@]*:([^/@]+)@/.exec(spec.url);
    return m?.[1] ? [m[1]] : [];
  }
}

/** Replaces every secret in `text` with `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** A body a traced statement runs, with the facts of its statements. */
interface PlannedBody {
  body: EmbeddedBody;
  statements: { stmt: Statement; facts: StatementFacts }[];
}

/** Bodies in the order they run, nested ones (a function a DO block calls) after their own. */
function flattenRuns(
  runs: EmbeddedRun<{ stmt: Statement; facts: StatementFacts; runs: EmbeddedRun<unknown>[] }>[],
): PlannedBody[] {
  const out: PlannedBody[] = [];
  for (const r of runs) {
    out.push({ body: r.body, statements: r.results.map((x) => ({ stmt: x.stmt, facts: x.facts })) });
    for (const x of r.results) out.push(...flattenRuns(x.runs as typeof runs));
  }
  return out;
}

function tracedSpan(source: SourceFile, start: number, end: number): TracedSpan {
  const s = source.position(start);
  const e = source.position(end);
  return {
    line: s.line,
    column: s.column,
    endLine: e.line,
    endColumn: e.column,
    start,
    end,
    sql: source.sql.slice(start, end),
  };
}

function tracedBody(source: SourceFile, b: PlannedBody): TracedBody {
  const at = source.position(b.body.in.start);
  return {
    kind: b.body.in.kind,
    ...(b.body.in.kind === 'function' && b.body.in.name ? { name: b.body.in.name } : {}),
    line: at.line,
    column: at.column,
    statements: b.statements.map(({ stmt, facts }) => ({
      ...tracedSpan(source, stmt.start, stmt.end),
      kind: stmt.kind,
      ...(stmt.embeddedIn?.conditional ? { conditional: true } : {}),
      claimed: claimsFor(facts),
    })),
    notStaticallyKnown: b.body.unknown.map((u) => ({
      ...tracedSpan(source, u.start, u.end),
      reason: u.reason,
    })),
  };
}
