/**
 * `explain`: what each statement of a migration does to the database, from the catalog — the
 * relations it locks and in which mode, what that mode blocks and lets through, whether the table is
 * rewritten, scanned or indexed while the lock is held, how long the lock lasts, and the
 * transaction it runs in with the locks earlier statements still hold there.
 */

import {
  Analyzer,
  type KnownSchema,
  type MigrationState,
  type StatementFacts,
  type Timeout,
} from '../analyze/analyze.js';
import type { RelationRef, RelationSet } from '../analyze/ast.js';
import { SchemaHistory } from '../analyze/history.js';
import { runnerModel } from '../analyze/runners.js';
import { endsTransactionBlock, transactionControl } from '../analyze/transaction-control.js';
import {
  blockedWorkloads,
  blockSummary,
  blocksApplication,
  type LockMode,
  lockStrength,
  WORKLOADS,
} from '../catalog/locks.js';
import { lockDuration, type OperationId, type RelationRole } from '../catalog/operations.js';
import { parseInterval } from '../config/interval.js';
import { DEFAULT_PG_VERSION, type RunnerName, type TimeoutSettings } from '../config/types.js';
import type { SettingOrigin } from '../diagnostics.js';
import { loadParser, openSource, type SourceFile, type Statement } from '../parse/parse.js';
import { type EmbeddedRun, EmbeddedSql } from '../parse/plpgsql.js';
import type { InputProblem } from '../sources/types.js';
import { type MigrationInputOptions, resolveMigrations } from './inputs.js';

/** Where a statement is in its file. Lines and columns are 1-based, offsets 0-based UTF-16 units. */
export interface Span {
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface ExplainedAction {
  /** catalog operation id, e.g. `add-check` */
  operation: OperationId;
  title: string;
  /** `schema.name` of each relation involved, by its role in the operation */
  relations: Partial<Record<RelationRole, string>>;
  column?: string;
  constraint?: string;
  rewrite: boolean;
  scan: boolean;
  indexBuild: boolean;
  noTransactionBlock: boolean;
  /** the operation does not exist on the target version */
  unsupported?: boolean;
}

/** Where a lock was first taken in the current transaction. */
export interface LockOrigin {
  /** 0-based statement index */
  statement: number;
  line: number;
}

export interface ExplainedLock {
  /** `schema.name` (the schema resolved from search_path) */
  relation: string;
  /** the name as written in the statement; for a set, the set in words */
  display: string;
  /**
   * the lock is on relations the statement does not name and pgkeel could not list, described by
   * what they have in common (`relation` is then a `<kind …>` key, not a name)
   */
  set?: RelationSet;
  /** the relation's role in the operation: `table`, `referenced`, `index`, `parent`, `partition` */
  role: RelationRole;
  mode: LockMode;
  /** work that waits while the lock is held (and while the statement queues for it) */
  blocks: string[];
  /** work that runs alongside */
  allows: string[];
  /** SELECT, SELECT FOR UPDATE or INSERT/UPDATE/DELETE wait */
  blocksApplication: boolean;
  /** e.g. "blocks all reads and writes" */
  summary: string;
  /** this relation is rewritten / read in full / indexed while the locks are held */
  rewrite: boolean;
  scan: boolean;
  indexBuild: boolean;
  /** how long the statement itself holds it: `brief`, or `table-size` (while a table is rewritten, scanned or indexed) */
  duration: 'brief' | 'table-size';
  /** for `table-size`: the relation whose size decides */
  sizeOf?: string;
  /** when the lock is released: at the end of the statement (autocommit) or at the transaction's end */
  heldUntil: 'statement-end' | 'commit';
  /** created earlier in this migration */
  isNew: boolean;
  /** created earlier in this very transaction: no other session can see it yet */
  newInTransaction: boolean;
  /** the transaction already holds a lock covering this one: the statement does not wait for it */
  alreadyHeld: boolean;
  /** the statement that first locked this relation in the current transaction */
  heldSince?: LockOrigin;
}

/** A lock an earlier statement of the same transaction took and that is still held. */
export interface HeldLock {
  relation: string;
  display: string;
  /** the strongest mode held */
  mode: LockMode;
  /** every mode held, weakest first */
  modes: LockMode[];
  summary: string;
  since: LockOrigin;
}

export interface ExplainedTransaction {
  /** 1-based ordinal of the transaction within the file */
  id: number;
  /**
   * `statement`: opened by BEGIN/START TRANSACTION in the file; `runner`: the migration tool's
   * transaction; `block` (embedded statements only): the transaction a DO block or function call
   * that runs in autocommit opens for the statements inside it, committed when it ends
   */
  openedBy: 'statement' | 'runner' | 'block';
  /** where BEGIN is, for `statement`; the DO block or call, for `block` */
  start?: LockOrigin;
  /** the COMMIT / ROLLBACK that ends it, when the file has one */
  end?: LockOrigin;
}

export interface ExplainedTimeout {
  ms: number;
  source: Timeout['source'];
}

export interface ExplainedStatement extends Span {
  /** 0-based ordinal among the file's statements, parse errors included */
  index: number;
  /** the statement's text (no terminating `;`) */
  sql: string;
  /** parser node type, e.g. `AlterTableStmt`; absent for parse errors */
  kind?: string;
  /** the parser rejected it: nothing else is known */
  error?: string;
  actions: ExplainedAction[];
  locks: ExplainedLock[];
  /** locks held by earlier statements of the same transaction, not re-taken by this one */
  heldFromEarlier: HeldLock[];
  /** absent: the statement runs in autocommit */
  transaction?: ExplainedTransaction;
  lockTimeout?: ExplainedTimeout;
  statementTimeout?: ExplainedTimeout;
  /** version-specific remarks and consequences, in words */
  notes: string[];
  /** the DO block's statements, or those of the functions defined in the file that it calls */
  embedded?: ExplainedBody[];
  /** embedded statements only: it runs only under a condition (IF, CASE, a loop, an exception handler) */
  conditional?: boolean;
}

/** SQL a DO block or function runs that pgkeel cannot know before it runs. */
export interface ExplainedUnknown extends Span {
  sql: string;
  /** e.g. `EXECUTE of a string built at run time` */
  reason: string;
}

/** The statements of a DO block, or of a function's body where it is called. */
export interface ExplainedBody {
  kind: 'do' | 'function';
  /** the function's name, for `function` */
  name?: string;
  /** where the DO statement or the CREATE FUNCTION starts (1-based) */
  line: number;
  column: number;
  /** its statements, positioned inside the block; `index` is that of the top-level statement running them */
  statements: ExplainedStatement[];
  /** what it runs that is not statically known (dynamic SQL) */
  notStaticallyKnown: ExplainedUnknown[];
}

export interface ExplainedFile {
  path: string;
  pgVersion: number;
  runner: RunnerName;
  /** where `pgVersion` and `runner` came from (flag, config, detected, default) */
  pgVersionFrom?: SettingOrigin;
  runnerFrom?: SettingOrigin;
  /** the file opted out of the runner's transaction */
  noTransaction: boolean;
  statements: ExplainedStatement[];
  parseErrors: number;
  /** the file could not be read (see `inputProblems`): nothing of it is explained */
  unreadable?: boolean;
  /** problems with the input itself: unreadable, a skipped symbolic link, invalid UTF-8 replaced */
  inputProblems?: InputProblem[];
}

export interface ExplainReport {
  files: ExplainedFile[];
}

export interface ExplainOptions {
  /** target Postgres major version (default 18) */
  pgVersion?: number;
  /** how the migration is run (default `psql`) */
  runner?: RunnerName;
  /** the file opts out of the runner's transaction */
  noTransaction?: boolean;
  timeouts?: TimeoutSettings;
  /** display path */
  path?: string;
  /** the schema the earlier migrations of the file's history leave (see analyze/history.ts); moved in */
  schema?: KnownSchema;
  /** called with the analyzer's final state, e.g. to hand the schema to the next migration */
  onAnalyzed?: (state: MigrationState) => void;
}

/** Explains SQL text. Loads the parser on first use. */
export async function explainSql(sql: string, options: ExplainOptions = {}): Promise<ExplainedFile> {
  await loadParser();
  return explainSqlSync(sql, options);
}

export interface ExplainFilesOptions extends MigrationInputOptions {
  /** called after each file, e.g. to stream output */
  onFile?: (file: ExplainedFile) => void;
  /** explain each file with the schema of the earlier migrations of its history (default true) */
  history?: boolean;
}

/** Explains paths, directories, globs and `-`, with lint's config and runner resolution. */
export async function explainFiles(
  args: readonly string[],
  options: ExplainFilesOptions = {},
): Promise<ExplainReport> {
  const inputs = await resolveMigrations(args, options);
  const files: ExplainedFile[] = [];
  const history = options.history === false ? undefined : new SchemaHistory(options.cwd);
  for (const input of inputs) {
    const analyzeWith = { pgVersion: input.pgVersion, runner: runnerModel(input.runner) };
    const schema = input.file.unreadable ? undefined : await history?.before(input.file, analyzeWith);
    // an unreadable input is reported as such, and the others are still explained
    const file = explainSqlSync(input.file.unreadable ? '' : input.file.text, {
      path: input.file.path,
      pgVersion: input.pgVersion,
      runner: input.runner,
      noTransaction: input.noTransaction,
      timeouts: input.timeouts,
      schema,
      onAnalyzed: history && ((state) => history.after(input.file, state)),
    });
    file.pgVersionFrom = input.pgVersionFrom;
    file.runnerFrom = input.runnerFrom;
    if (input.file.unreadable) file.unreadable = true;
    if (input.file.problems) file.inputProblems = input.file.problems;
    options.onFile?.(file);
    files.push(file);
  }
  return { files };
}

/** As `explainSql`, once `loadParser()` has resolved. */
export function explainSqlSync(sql: string, options: ExplainOptions = {}): ExplainedFile {
  const pgVersion = options.pgVersion ?? DEFAULT_PG_VERSION;
  const runner = runnerModel(options.runner ?? 'psql');
  const source = openSource(sql);
  const analyzer = new Analyzer({
    pgVersion,
    runner,
    noTransaction: options.noTransaction,
    statementCount: source.statementCount,
    lockTimeoutMs: timeoutMs(options.timeouts?.lockTimeout),
    statementTimeoutMs: timeoutMs(options.timeouts?.statementTimeout),
    schema: options.schema,
  });
  const lines = new Map<number, number>();
  const statements: ExplainedStatement[] = [];
  const ends = new Map<number, LockOrigin>();
  /**
   * where each relation was first locked, by `transaction id|relation`, and where each mode was first
   * taken on it, by `transaction id|relation|mode`: an embedded statement's own line
   */
  const firstLocked = new Map<string, LockOrigin>();
  const embedded = new EmbeddedSql(source);
  const explainOne = (stmt: Statement, depth: number): ExplainedStatement => {
    const line = source.position(stmt.start).line;
    if (depth === 0) lines.set(stmt.index, line);
    const facts = analyzer.analyze(stmt);
    const tx = facts.transaction;
    if (depth === 0 && tx && endsTransaction(stmt)) ends.set(tx.id, { statement: stmt.index, line });
    // heldLocks is the transaction's live state: read it before `apply` adds this statement's locks
    const out = explainStatement(source, stmt, facts, lines, firstLocked);
    if (stmt.embeddedIn?.conditional) out.conditional = true;
    if (tx) {
      for (const l of facts.locks) {
        const key = `${tx.id}|${l.relation.key}`;
        if (!tx.heldLocks.has(l.relation.key) && !firstLocked.has(key))
          firstLocked.set(key, { statement: stmt.index, line });
        const modeKey = `${key}|${l.mode}`;
        if (!tx.heldLocks.get(l.relation.key)?.modes.has(l.mode) && !firstLocked.has(modeKey))
          firstLocked.set(modeKey, { statement: stmt.index, line });
      }
    }
    analyzer.apply(facts);
    // a DO block's statements, a called function's: after the statement, in its transaction
    const runs = embedded.run(stmt, depth, analyzer, explainOne);
    if (runs.length > 0) out.embedded = runs.map((r) => explainBody(source, r));
    return out;
  };
  let parseErrors = 0;
  for (const item of source.items()) {
    if (item.type === 'error') {
      parseErrors++;
      statements.push({
        index: item.index,
        ...span(source, item.start, item.end),
        sql: source.sql.slice(item.start, item.end),
        error: item.message,
        actions: [],
        locks: [],
        heldFromEarlier: [],
        notes: [],
      });
      continue;
    }
    statements.push(explainOne(item, 0));
  }
  analyzer.finish();
  options.onAnalyzed?.(analyzer.state);
  markTransactionEnds(statements, ends);
  return {
    path: options.path ?? '<input>',
    pgVersion,
    runner: runner.name,
    noTransaction: options.noTransaction ?? false,
    statements,
    parseErrors,
  };
}

/** Facts of one statement, put in the terms `explain` shows. Exported for trace's side-by-side view. */
export function explainStatement(
  source: SourceFile,
  stmt: Statement,
  facts: StatementFacts,
  lines: ReadonlyMap<number, number>,
  /** where each relation was first locked, by `transaction id|relation`, when finer than its statement */
  firstLocked: ReadonlyMap<string, LockOrigin> = new Map(),
): ExplainedStatement {
  const tx = facts.transaction;
  const origin = (index: number): LockOrigin => ({ statement: index, line: lines.get(index) ?? 0 });
  const lockedAt = (index: number, relation: string): LockOrigin =>
    (tx && firstLocked.get(`${tx.id}|${relation}`)) ?? origin(index);
  const locks = facts.locks.map((l) => {
    const held = tx?.heldLocks.get(l.relation.key);
    const lock: ExplainedLock = {
      relation: l.relation.key,
      display: l.relation.display,
      role: roleOf(facts, l.relation),
      mode: l.mode,
      ...workloads(l.mode),
      rewrite: false,
      scan: false,
      indexBuild: false,
      duration: 'brief',
      heldUntil: tx ? 'commit' : 'statement-end',
      isNew: l.isNew,
      newInTransaction: facts.isNewInTransaction(l.relation),
      alreadyHeld: l.alreadyHeld,
    };
    if (l.relation.set) lock.set = l.relation.set;
    if (held) lock.heldSince = lockedAt(held.statement, l.relation.key);
    return lock;
  });
  const byKey = new Map(locks.map((l) => [l.relation, l]));
  for (const a of facts.actions) {
    // a lock lasts as long as the slowest work of any action taking it (ADD FOREIGN KEY holds the
    // referenced table's lock while the referencing table is scanned)
    const target = a.relations[a.facts.target ?? 'table'];
    const slow = lockDuration(a.facts) === 'table-size';
    for (const effect of a.facts.locks) {
      const rel = a.relations[effect.on];
      const lock = rel && byKey.get(rel.key);
      if (!lock || !slow) continue;
      lock.duration = 'table-size';
      lock.sizeOf ??= target?.key;
    }
    const lock = target && byKey.get(target.key);
    if (lock) {
      lock.rewrite ||= a.facts.rewrite;
      lock.scan ||= a.facts.scan;
      lock.indexBuild ||= a.facts.indexBuild;
    }
  }
  const retaken = new Set(locks.map((l) => l.relation));
  const heldFromEarlier: HeldLock[] = [];
  for (const [key, h] of tx?.heldLocks ?? []) {
    if (retaken.has(key)) continue;
    heldFromEarlier.push({
      relation: key,
      display: h.relation.display,
      mode: h.mode,
      modes: [...h.modes].sort((a, b) => lockStrength(a) - lockStrength(b)),
      summary: blockSummary(h.mode),
      // "holds <strongest mode> since": where that mode was taken, not the first weaker lock
      since: (tx && firstLocked.get(`${tx.id}|${key}|${h.mode}`)) ?? lockedAt(h.statement, key),
    });
  }
  const out: ExplainedStatement = {
    index: stmt.index,
    ...span(source, stmt.start, stmt.end),
    sql: stmt.text,
    kind: stmt.kind,
    actions: facts.actions.map((a) => {
      const action: ExplainedAction = {
        operation: a.op,
        title: a.facts.title,
        relations: Object.fromEntries(
          Object.entries(a.relations).flatMap(([role, r]) => (r ? [[role, r.key]] : [])),
        ),
        rewrite: a.facts.rewrite,
        scan: a.facts.scan,
        indexBuild: a.facts.indexBuild,
        noTransactionBlock: a.facts.noTransactionBlock,
      };
      if (a.column !== undefined) action.column = a.column;
      if (a.constraint !== undefined) action.constraint = a.constraint;
      if (a.facts.unsupported) action.unsupported = true;
      return action;
    }),
    locks,
    heldFromEarlier,
    notes: [],
  };
  // a transaction that is neither BEGIN's nor the runner's is one a DO block or call opened
  const block = tx !== undefined && !tx.explicit && tx.startIndex >= 0;
  if (tx) {
    out.transaction = { id: tx.id, openedBy: tx.explicit ? 'statement' : block ? 'block' : 'runner' };
    if ((tx.explicit || block) && tx.startIndex >= 0) out.transaction.start = origin(tx.startIndex);
  }
  const inside = stmt.embeddedIn;
  const where = inside
    ? inside.kind === 'do'
      ? 'the DO block'
      : `function ${inside.name}`
    : tx?.explicit
      ? `the transaction opened at line ${origin(tx.startIndex).line}`
      : `the ${facts.runner.name} runner's transaction`;
  out.notes = notesFor(facts, where);
  if (facts.lockTimeout) out.lockTimeout = { ms: facts.lockTimeout.ms, source: facts.lockTimeout.source };
  if (facts.statementTimeout)
    out.statementTimeout = { ms: facts.statementTimeout.ms, source: facts.statementTimeout.source };
  return out;
}

/**
 * Whether the statement is COMMIT / ROLLBACK (or PREPARE TRANSACTION, COMMIT / ROLLBACK PREPARED), which
 * ends a transaction block.
 */
export function endsTransaction(stmt: Statement): boolean {
  return endsTransactionBlock(transactionControl(stmt));
}

/** Points every statement of a transaction at the COMMIT or ROLLBACK that releases its locks. */
function markTransactionEnds(statements: ExplainedStatement[], ends: Map<number, LockOrigin>): void {
  for (const s of statements) {
    const end = s.transaction && ends.get(s.transaction.id);
    if (end) s.transaction!.end = end;
    for (const b of s.embedded ?? []) markTransactionEnds(b.statements, ends);
  }
}

function explainBody(source: SourceFile, run: EmbeddedRun<ExplainedStatement>): ExplainedBody {
  const { body, results } = run;
  const at = source.position(body.in.start);
  return {
    kind: body.in.kind,
    ...(body.in.kind === 'function' && body.in.name ? { name: body.in.name } : {}),
    line: at.line,
    column: at.column,
    statements: results,
    notStaticallyKnown: body.unknown.map((u) => ({
      ...span(source, u.start, u.end),
      sql: source.sql.slice(u.start, u.end),
      reason: u.reason,
    })),
  };
}

/** The statement and every statement it runs, at any depth. */
export function withEmbedded(s: ExplainedStatement): ExplainedStatement[] {
  return [s, ...(s.embedded ?? []).flatMap((b) => b.statements.flatMap(withEmbedded))];
}

function workloads(
  mode: LockMode,
): Pick<ExplainedLock, 'blocks' | 'allows' | 'blocksApplication' | 'summary'> {
  const blocked = new Set(blockedWorkloads(mode).map((w) => w.id));
  return {
    blocks: WORKLOADS.filter((w) => blocked.has(w.id)).map((w) => w.label),
    allows: WORKLOADS.filter((w) => !blocked.has(w.id)).map((w) => w.label),
    blocksApplication: blocksApplication(mode),
    summary: blockSummary(mode),
  };
}

/** The first role the relation plays in the statement's lock effects. */
function roleOf(facts: StatementFacts, rel: RelationRef): RelationRole {
  for (const a of facts.actions) {
    for (const effect of a.facts.locks) {
      if (a.relations[effect.on]?.key === rel.key) return effect.on;
    }
  }
  return 'table';
}

/** `where`: the transaction block the statement runs in, in words */
function notesFor(facts: StatementFacts, where: string): string[] {
  const notes: string[] = [];
  const add = (n: string | undefined) => {
    if (n && !notes.includes(n)) notes.push(n);
  };
  for (const a of facts.actions) {
    if (a.facts.unsupported) {
      add(`${a.facts.title} does not exist on PostgreSQL ${facts.pgVersion}: the statement fails.`);
    }
    add(a.facts.note);
    if (a.facts.noTransactionBlock && facts.transaction) {
      add(`${a.facts.title} cannot run inside a transaction block: it fails in ${where}.`);
    }
    const d = a.detail;
    if (d?.typeChange) {
      const verdict =
        d.typeChange.rewrite === true
          ? 'rewrites the table'
          : d.typeChange.rewrite === false
            ? 'needs no rewrite'
            : 'may rewrite the table';
      add(`The type change ${verdict}: ${d.typeChange.reason}.`);
      if (d.typeChange.rewrite === false && d.typeChange.indexRebuild)
        add('Indexes on the column are rebuilt under the lock.');
    }
    if (d?.volatility && d.volatility !== 'immutable' && d.functions?.length) {
      const what = d.volatility === 'unknown' ? 'of unknown volatility' : d.volatility;
      add(
        `The DEFAULT calls ${what} ${d.functions.length === 1 ? 'function' : 'functions'} ${d.functions.join(', ')}.`,
      );
    }
    if (d?.provenByUnknownCheck)
      add(
        'The scan is skipped only if the CHECK constraint validated earlier proves the column is NOT NULL.',
      );
    if (d?.unfiltered) add('Without WHERE it changes every row of the table.');
  }
  return notes;
}

function span(source: SourceFile, start: number, end: number): Span {
  const s = source.position(start);
  const e = source.position(end);
  return { start, end, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
}

function timeoutMs(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseInterval(value);
}
