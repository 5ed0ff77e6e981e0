/**
 * Walks a migration's statements in order, keeping the state a reviewer keeps in their head:
 * which transaction we are in (explicit or the runner's), what this migration created, which
 * constraints it added and validated, which locks are already held, which timeouts are in effect.
 */

import { covers, type LockMode, strongerLock } from '../catalog/locks.js';
import {
  generatedNotNullColumn,
  type OperationId,
  operationFacts,
  type RelationRole,
} from '../catalog/operations.js';
import { serialColumnType } from '../catalog/types.js';
import { parseInterval } from '../config/interval.js';
import type { Statement } from '../parse/parse.js';
import {
  type AnyNode,
  as,
  constValue,
  names,
  queryRelations,
  type RelationRef,
  type RelationSet,
  relationFromNames,
  relationRef,
  walk,
} from './ast.js';
import { type Action, type ClassifyContext, classify } from './classify.js';
import type { RunnerModel } from './runners.js';
import { endsTransactionBlock, opensTransactionBlock, transactionControl } from './transaction-control.js';

export interface AnalyzeOptions {
  pgVersion: number;
  runner: RunnerModel;
  /** the file opted out of the runner's transaction */
  noTransaction?: boolean;
  /**
   * `pgkeel fix` decides the transactions: every statement is analysed as if it ran alone, outside
   * a transaction block (BEGIN/COMMIT and the runner's transaction are ignored)
   */
  planning?: boolean;
  /** statements in the file, when known up front: a one-statement file sent as one query has no transaction block */
  statementCount?: number;
  /** timeouts already in effect when the migration starts (role, database, runner), in ms */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** the schema the earlier migrations of the same history leave (see `MigrationState.leave`); moved in, use once */
  schema?: KnownSchema;
}

export interface Transaction {
  /** 1-based ordinal within the file */
  id: number;
  /** opened by BEGIN/START TRANSACTION (false: the runner's implicit transaction) */
  explicit: boolean;
  /** index of the statement that opened it (-1 for the runner's transaction) */
  startIndex: number;
  /**
   * locks held so far, by relation key: the strongest mode, every mode, the first statement that locked
   * it, and where each mode was first taken (the start offset of that statement: a DO block's statement
   * shares its host's index, so only the offset says which one it was)
   */
  heldLocks: Map<
    string,
    {
      mode: LockMode;
      modes: Set<LockMode>;
      relation: RelationRef;
      statement: number;
      since: Map<LockMode, number>;
    }
  >;
  /** constraints added NOT VALID in this transaction, by `table|name` */
  notValidAdded: Set<string>;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
}

/** A lock a statement takes on one relation (the strongest, if several actions lock it). */
export interface StatementLock {
  relation: RelationRef;
  mode: LockMode;
  /** the relation was created earlier in this migration */
  isNew: boolean;
  /** this transaction already holds a lock at least this strong: the statement will not wait for it */
  alreadyHeld: boolean;
}

export interface Timeout {
  ms: number;
  /** where it was set */
  source: 'SET' | 'SET LOCAL' | 'config';
}

/** Everything a rule may ask about a statement. */
export interface StatementFacts {
  statement: Statement;
  pgVersion: number;
  runner: RunnerModel;
  actions: Action[];
  locks: StatementLock[];
  /** the transaction the statement runs in; undefined when it autocommits */
  transaction: Transaction | undefined;
  /** timeouts in effect while the statement runs (0 counts as none) */
  lockTimeout: Timeout | undefined;
  statementTimeout: Timeout | undefined;
  /** created earlier in this migration (any transaction) */
  isNew(rel: RelationRef | undefined): boolean;
  /** created earlier in the current transaction */
  isNewInTransaction(rel: RelationRef | undefined): boolean;
  /** the column was defined earlier in this migration (CREATE TABLE or ADD COLUMN): no client uses it yet */
  isNewColumn(table: RelationRef, column: string): boolean;
  /** the state before this statement, for rules that need more */
  state: MigrationState;
}

interface ConstraintInfo {
  table: string;
  name: string;
  kind: 'check' | 'foreign-key' | 'unique' | 'primary-key' | 'exclusion' | 'not-null';
  validated: boolean;
  /** for CHECK (col IS NOT NULL) and NOT NULL constraints: the column */
  notNullColumn?: string;
  referenced?: RelationRef;
  /** for foreign keys: the referencing columns */
  columns?: string[];
}

/** A set of keys per group key (a Map of Sets that forgets empty groups). */
class Groups {
  private readonly groups = new Map<string, Set<string>>();
  add(group: string, key: string): void {
    const g = this.groups.get(group);
    if (g) g.add(key);
    else this.groups.set(group, new Set([key]));
  }
  remove(group: string, key: string): void {
    const g = this.groups.get(group);
    if (g?.delete(key) && g.size === 0) this.groups.delete(group);
  }
  of(group: string): readonly string[] {
    const g = this.groups.get(group);
    return g ? [...g] : [];
  }
}

/**
 * Constraints by `table|name`, also found by their table and by the table a foreign key references:
 * a long history holds thousands, and a statement asks about one table's.
 */
export class ConstraintMap extends Map<string, ConstraintInfo> {
  private readonly byTable = new Groups();
  private readonly byReferenced = new Groups();
  override set(key: string, c: ConstraintInfo): this {
    this.delete(key);
    super.set(key, c);
    // the constructor of Map calls set before the fields exist (it is never given entries here)
    this.byTable?.add(c.table, key);
    if (c.referenced) this.byReferenced?.add(c.referenced.key, key);
    return this;
  }
  override delete(key: string): boolean {
    const c = this.get(key);
    if (!c) return false;
    this.byTable.remove(c.table, key);
    if (c.referenced) this.byReferenced.remove(c.referenced.key, key);
    return super.delete(key);
  }
  /** the constraints on a table */
  ofTable(table: string): ConstraintInfo[] {
    return this.byTable.of(table).map((k) => this.get(k)!);
  }
  /** the foreign keys (of any table) referencing a table */
  referencing(table: string): ConstraintInfo[] {
    return this.byReferenced.of(table).map((k) => this.get(k)!);
  }
}

/** The table of each index, by index key, also found by table. */
export class IndexTableMap extends Map<string, RelationRef> {
  private readonly byTable = new Groups();
  override set(index: string, table: RelationRef): this {
    this.delete(index);
    super.set(index, table);
    this.byTable?.add(table.key, index);
    return this;
  }
  override delete(index: string): boolean {
    const t = this.get(index);
    if (!t) return false;
    this.byTable.remove(t.key, index);
    return super.delete(index);
  }
  /** the indexes of a table, by key */
  indexesOf(table: string): readonly string[] {
    return this.byTable.of(table);
  }
}

/**
 * The schema a migration history has built up to some migration: what a MigrationState knows that
 * outlives the migration that learned it. Static (read from the migrations, no database): partial
 * when the history starts from an existing database.
 */
export type KnownSchema = Pick<
  MigrationState,
  | 'knownRelations'
  | 'definedTables'
  | 'liveTables'
  | 'tableRefs'
  | 'columnTypes'
  | 'constraints'
  | 'checkColumns'
  | 'indexTables'
  | 'indexColumns'
  | 'uniqueKeys'
  | 'notNullColumns'
  | 'partitioned'
  | 'defaultPartitions'
  | 'clusteredTables'
  | 'domainsWithConstraints'
  | 'createdDomains'
  | 'domainBases'
  | 'domainColumns'
  | 'viewSources'
  | 'partialIndexes'
>;

/**
 * An independent copy of a known schema, for analysing one migration several ways (`pgkeel fix`
 * lints it, plans it and checks the plan): analysers mutate the schema they are given. Collections
 * are copied; their leaves (names, relation refs, AST nodes) are never mutated and are shared.
 */
export function copySchema(schema: KnownSchema): KnownSchema {
  const copy = <T>(value: T): T => {
    if (value instanceof ConstraintMap) {
      const m = new ConstraintMap();
      for (const [k, c] of value) m.set(k, { ...c });
      return m as T;
    }
    if (value instanceof IndexTableMap) {
      const m = new IndexTableMap();
      for (const [k, t] of value) m.set(k, t);
      return m as T;
    }
    if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, copy(v)])) as T;
    if (value instanceof Set) return new Set(value) as T;
    if (Array.isArray(value)) return value.map(copy) as T;
    return value;
  };
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, copy(v)])) as KnownSchema;
}

export class MigrationState {
  readonly created = new Map<string, { transaction: number | undefined }>();
  /**
   * Columns declared by a `CREATE TABLE IF NOT EXISTS` (or `ADD COLUMN IF NOT EXISTS`) that may
   * already have existed, by table key: they are known by type but not new to clients.
   */
  readonly possiblyExistingColumns = new Map<string, Set<string>>();
  /** relations this migration dropped, by key, with the dropping transaction: a later `IF NOT EXISTS` creates them afresh */
  readonly dropped = new Map<string, { transaction: number | undefined }>();
  readonly constraints = new ConstraintMap();
  /** VALIDATE CONSTRAINT of constraints defined in earlier migrations, by table key */
  readonly validatedUnknown = new Set<string>();
  readonly columnTypes = new Map<string, Map<string, AnyNode>>();
  /** domains with CHECK or NOT NULL constraints (created in this migration or read from the live schema), by `schema.name` */
  readonly domainsWithConstraints = new Set<string>();
  /** domains created in this migration, by `schema.name` */
  readonly createdDomains = new Set<string>();
  /** enum types created in this migration, by `schema.name`, with the transaction that created each */
  readonly createdEnums = new Map<string, { transaction: number | undefined }>();
  /** the domain a domain is derived from (`CREATE DOMAIN b AS a`), by `schema.name`; any base type otherwise */
  readonly domainBases = new Map<string, string>();
  /** columns of each domain in tables of the live schema (see trace/schema.ts), by domain `schema.name` */
  readonly domainColumns = new Map<string, { table: RelationRef; column: string }[]>();
  /** the live schema was read: domainColumns lists every table using a domain */
  schemaLearned = false;
  /** tables and materialized views of the live schema (see trace/schema.ts), by key */
  readonly liveTables = new Map<string, RelationRef>();
  /** tables clustered on an index (live schema, then CLUSTER … USING / CLUSTER ON in this migration), by key */
  readonly clusteredTables = new Map<string, RelationRef>();
  /** tables whose columns this migration declared, by key (for columnTypes) */
  readonly tableRefs = new Map<string, RelationRef>();
  /** partitioned tables created in this migration: they store no rows themselves */
  readonly partitioned = new Set<string>();
  /** columns read by each CHECK constraint defined in this migration, by table key, then constraint name ('' when unnamed) */
  readonly checkColumns = new Map<string, Map<string, Set<string>>>();
  /** the default partition of each partitioned table, by parent key */
  readonly defaultPartitions = new Map<string, RelationRef>();
  /** the table of each index created in this migration, by index key */
  readonly indexTables = new IndexTableMap();
  /** indexes with a WHERE clause, by key: they cannot serve every lookup */
  readonly partialIndexes = new Set<string>();
  /** the plain columns of each index created in this migration, by index key (undefined: an expression) */
  readonly indexColumns = new Map<string, (string | undefined)[]>();
  /**
   * The columns of each PRIMARY KEY, UNIQUE constraint and (non-partial) unique index this migration
   * declared, by table key: equality on all columns of one of them selects at most one row.
   */
  readonly uniqueKeys = new Map<string, string[][]>();
  /** columns known to be NOT NULL (declared so in this migration or an earlier one), by table key */
  readonly notNullColumns = new Map<string, Set<string>>();
  /** the relations each view and materialized view reads (this migration, its history, the live schema), by key */
  readonly viewSources = new Map<string, RelationRef[]>();
  /** columns this migration declared (CREATE TABLE, ADD COLUMN), by table key: no client uses them yet */
  readonly declaredColumns = new Map<string, Set<string>>();
  /** relations the earlier migrations of this history created and did not drop, by key (any kind) */
  readonly knownRelations = new Set<string>();
  /**
   * tables the earlier migrations created outright (not IF NOT EXISTS), by key: their columns,
   * indexes and constraints are all known, as those of a table created in this migration are
   */
  readonly definedTables = new Set<string>();
  transaction: Transaction | undefined;
  transactionCount = 0;
  defaultSchema = 'public';
  timeZoneIsUtc: boolean | undefined;
  sessionLockTimeout: Timeout | undefined;
  sessionStatementTimeout: Timeout | undefined;

  constructor(readonly options: AnalyzeOptions) {
    // the maps are moved in, not copied: a long history costs nothing per migration
    if (options.schema) Object.assign(this, options.schema);
    if (options.lockTimeoutMs) this.sessionLockTimeout = { ms: options.lockTimeoutMs, source: 'config' };
    if (options.statementTimeoutMs)
      this.sessionStatementTimeout = { ms: options.statementTimeoutMs, source: 'config' };
  }

  get implicitTransactions(): boolean {
    const { runner, noTransaction, statementCount, planning } = this.options;
    if (planning) return false;
    // Postgres opens an implicit transaction block only for a query of two or more statements
    const lone = runner.multiStatement && statementCount !== undefined && statementCount < 2;
    return runner.transaction === 'file' && !noTransaction && !lone;
  }

  /** `schema.name` of a type or domain as written (unqualified names are in the default schema) */
  typeKey(typeNames: string[]): string {
    return typeNames.length === 1 ? `${this.defaultSchema}.${typeNames[0]}` : typeNames.join('.');
  }

  /** The domain and every domain derived from it, by `schema.name`. */
  domainFamily(key: string): Set<string> {
    const keys = new Set([key]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [d, base] of this.domainBases)
        if (keys.has(base) && !keys.has(d)) {
          keys.add(d);
          grew = true;
        }
    }
    return keys;
  }

  /**
   * The relations of a set that this migration and the live schema know of; `complete` when no other
   * can exist (for most sets: the live schema was read).
   */
  members(set: RelationSet): { relations: RelationRef[]; complete: boolean } {
    const tables = () => {
      const all = new Map(this.liveTables);
      for (const [key, t] of this.tableRefs) if (!this.partitioned.has(key)) all.set(key, t);
      return [...all.values()];
    };
    switch (set.kind) {
      case 'database':
        return { relations: tables(), complete: this.schemaLearned };
      case 'schema':
        return {
          relations: tables().filter((t) => t.key.startsWith(`${set.schema}.`)),
          complete: this.schemaLearned,
        };
      case 'system':
        // system catalogs are not relations the analyzer tracks
        return { relations: [], complete: false };
      case 'clustered':
        return { relations: [...this.clusteredTables.values()], complete: this.schemaLearned };
      case 'domain-users': {
        const family = this.domainFamily(set.domain);
        const found = new Map<string, RelationRef>();
        for (const k of family)
          for (const u of this.domainColumns.get(k) ?? []) found.set(u.table.key, u.table);
        for (const [tableKey, cols] of this.columnTypes) {
          const table = this.tableRefs.get(tableKey);
          if (!table || this.partitioned.has(tableKey)) continue;
          for (const typeName of cols.values()) {
            const tn = names(typeName?.names);
            if (tn.length > 0 && family.has(this.typeKey(tn))) found.set(tableKey, table);
          }
        }
        return {
          relations: [...found.values()],
          complete: this.schemaLearned || this.createdDomains.has(set.domain),
        };
      }
      case 'view-sources':
        // known views are expanded by classify; this set stands for an unknown one
        return { relations: [], complete: false };
      case 'default-partition': {
        const known = this.defaultPartitions.get(set.parent.key);
        return {
          relations: known ? [known] : [],
          // a parent created in this migration has only the partitions it was given here
          complete: known !== undefined || this.schemaLearned || this.created.has(set.parent.key),
        };
      }
    }
  }

  isNew(rel: RelationRef | undefined): boolean {
    return rel !== undefined && this.created.has(rel.key);
  }

  /** The relation of a key (`schema.name`) as this migration or the live schema knows it. */
  refOf(key: string): RelationRef {
    const known = this.tableRefs.get(key) ?? this.liveTables.get(key);
    if (known) return known;
    const dot = key.indexOf('.');
    const schema = key.slice(0, dot);
    return relationRef(
      { schemaname: schema === this.defaultSchema ? undefined : schema, relname: key.slice(dot + 1) },
      this.defaultSchema,
    )!;
  }

  /** A table whose columns, indexes and constraints are all known: created in this migration or outright by an earlier one. */
  isDefined(table: RelationRef): boolean {
    return this.created.has(table.key) || this.definedTables.has(table.key);
  }

  /** The relation exists before this statement as far as this migration, its history or the live schema know. */
  exists(rel: RelationRef): boolean {
    return this.created.has(rel.key) || this.liveTables.has(rel.key) || this.knownRelations.has(rel.key);
  }

  /**
   * Ends the migration: the schema it leaves, for the next migration of its history
   * (`AnalyzeOptions.schema`). What it created becomes known, not new; its per-migration facts
   * (transactions, settings, what it dropped) stay behind. The maps are handed over: call once, last.
   */
  leave(): KnownSchema {
    for (const key of this.created.keys()) {
      this.knownRelations.add(key);
      if (this.tableRefs.has(key)) this.definedTables.add(key);
    }
    // every table whose columns a migration declared exists afterwards, IF NOT EXISTS or not (the
    // earlier migrations' tables are in liveTables already: only this one's are added)
    for (const key of this.declaredColumns.keys()) {
      const table = this.tableRefs.get(key);
      if (table && !this.partitioned.has(key)) this.liveTables.set(key, table);
    }
    const known: KnownSchema = {
      knownRelations: this.knownRelations,
      definedTables: this.definedTables,
      liveTables: this.liveTables,
      tableRefs: this.tableRefs,
      columnTypes: this.columnTypes,
      constraints: this.constraints,
      checkColumns: this.checkColumns,
      indexTables: this.indexTables,
      indexColumns: this.indexColumns,
      uniqueKeys: this.uniqueKeys,
      notNullColumns: this.notNullColumns,
      partitioned: this.partitioned,
      defaultPartitions: this.defaultPartitions,
      clusteredTables: this.clusteredTables,
      domainsWithConstraints: this.domainsWithConstraints,
      createdDomains: this.createdDomains,
      domainBases: this.domainBases,
      domainColumns: this.domainColumns,
      viewSources: this.viewSources,
      partialIndexes: this.partialIndexes,
    };
    return known;
  }

  /** Forgets a dropped table and everything on it (a later migration may create another of that name). */
  forgetTable(key: string): void {
    const maps: Map<string, unknown>[] = [
      this.tableRefs,
      this.liveTables,
      this.clusteredTables,
      this.defaultPartitions,
      this.columnTypes,
      this.checkColumns,
      this.uniqueKeys,
      this.notNullColumns,
      this.declaredColumns,
      this.possiblyExistingColumns,
    ];
    for (const m of maps) m.delete(key);
    for (const s of [this.knownRelations, this.definedTables, this.partitioned]) s.delete(key);
    for (const c of this.constraints.ofTable(key)) this.constraints.delete(`${key}|${c.name}`);
    for (const index of this.indexTables.indexesOf(key)) {
      this.indexTables.delete(index);
      this.indexColumns.delete(index);
      this.partialIndexes.delete(index);
      this.knownRelations.delete(index);
    }
  }

  /** ALTER TABLE … RENAME TO: what is known of the table, under its new name. */
  renameTable(from: RelationRef, to: RelationRef): void {
    const move = <V>(m: Map<string, V>, value?: V) => {
      const v = m.get(from.key);
      if (v === undefined) return;
      m.delete(from.key);
      m.set(to.key, value ?? v);
    };
    move(this.columnTypes);
    move(this.checkColumns);
    move(this.uniqueKeys);
    move(this.defaultPartitions);
    move(this.created);
    for (const m of [this.notNullColumns, this.declaredColumns, this.possiblyExistingColumns]) move(m);
    for (const m of [this.tableRefs, this.liveTables, this.clusteredTables]) move(m, to);
    for (const s of [this.knownRelations, this.definedTables, this.partitioned])
      if (s.delete(from.key)) s.add(to.key);
    for (const c of this.constraints.ofTable(from.key)) {
      this.constraints.delete(`${from.key}|${c.name}`);
      this.constraints.set(`${to.key}|${c.name}`, { ...c, table: to.key });
    }
    for (const c of this.constraints.referencing(from.key))
      this.constraints.set(`${c.table}|${c.name}`, { ...c, referenced: to });
    for (const index of this.indexTables.indexesOf(from.key)) this.indexTables.set(index, to);
  }

  /** ALTER TABLE … RENAME COLUMN: its type, NOT NULL and novelty under the new name. */
  renameColumn(table: RelationRef, from: string, to: string): void {
    const types = this.columnTypes.get(table.key);
    if (types?.has(from)) {
      types.set(to, types.get(from));
      types.delete(from);
    }
    for (const m of [this.notNullColumns, this.declaredColumns, this.possiblyExistingColumns]) {
      const cols = m.get(table.key);
      if (cols?.delete(from)) cols.add(to);
    }
  }

  /**
   * Whether a `CREATE … IF NOT EXISTS` of `rel` creates it: files written to converge existing
   * installs use that form on tables that exist and are big, so it counts as creating only when
   * the live schema or an earlier statement of this file proves the relation absent.
   */
  provenAbsent(rel: RelationRef): boolean {
    if (this.exists(rel)) return false;
    return this.dropped.has(rel.key) || this.schemaLearned;
  }

  isNewInTransaction(rel: RelationRef | undefined): boolean {
    if (!rel || !this.transaction) return false;
    return this.created.get(rel.key)?.transaction === this.transaction.id;
  }

  lockTimeout(): Timeout | undefined {
    const local = this.transaction?.lockTimeoutMs;
    if (local !== undefined) return local > 0 ? { ms: local, source: 'SET LOCAL' } : undefined;
    return this.sessionLockTimeout;
  }

  statementTimeout(): Timeout | undefined {
    const local = this.transaction?.statementTimeoutMs;
    if (local !== undefined) return local > 0 ? { ms: local, source: 'SET LOCAL' } : undefined;
    return this.sessionStatementTimeout;
  }
}

/** Constraint operations that become their foreign-key variant when the constraint is a known foreign key. */
const FOREIGN_KEY_OPS: Partial<Record<OperationId, OperationId>> = {
  'validate-constraint': 'validate-foreign-key',
  'drop-constraint': 'drop-foreign-key',
  'enforce-foreign-key': 'enforce-foreign-key',
};

/** A copy of `modes` with `mode` added (entries stay immutable: rules may keep earlier ones). */
function withMode(modes: Set<LockMode> | undefined, mode: LockMode): Set<LockMode> {
  const out = new Set(modes);
  out.add(mode);
  return out;
}

/** Constraint types the state keeps by name (one map for all calls of `recordConstraint`). */
const CONSTRAINT_KINDS = new Map<string, ConstraintInfo['kind']>([
  ['CONSTR_CHECK', 'check'],
  ['CONSTR_FOREIGN', 'foreign-key'],
  ['CONSTR_UNIQUE', 'unique'],
  ['CONSTR_PRIMARY', 'primary-key'],
  ['CONSTR_EXCLUSION', 'exclusion'],
  // PG 18: named NOT NULL constraints, which can be added NOT VALID and validated later
  ['CONSTR_NOTNULL', 'not-null'],
]);

/** An action on a relation set (see `resolveSets`); almost none are. */
function hasSet(a: Action): boolean {
  for (const role in a.relations) if (a.relations[role as RelationRole]?.set) return true;
  return false;
}

/** StatementFacts whose questions are methods shared by every statement, not closures made for each. */
class Facts implements StatementFacts {
  readonly pgVersion: number;
  readonly runner: RunnerModel;
  constructor(
    readonly statement: Statement,
    options: AnalyzeOptions,
    readonly actions: Action[],
    readonly locks: StatementLock[],
    readonly transaction: Transaction | undefined,
    readonly lockTimeout: Timeout | undefined,
    readonly statementTimeout: Timeout | undefined,
    readonly state: MigrationState,
  ) {
    this.pgVersion = options.pgVersion;
    this.runner = options.runner;
  }

  isNew(rel: RelationRef | undefined): boolean {
    return this.state.isNew(rel);
  }

  isNewInTransaction(rel: RelationRef | undefined): boolean {
    return this.state.isNewInTransaction(rel);
  }

  isNewColumn(table: RelationRef, column: string): boolean {
    return (
      (this.state.declaredColumns.get(table.key)?.has(column) ?? false) &&
      !this.state.possiblyExistingColumns.get(table.key)?.has(column)
    );
  }
}

/** Analyzes one statement after another; keeps state between calls. */
export class Analyzer {
  readonly state: MigrationState;
  private readonly classifyContext: ClassifyContext;

  constructor(readonly options: AnalyzeOptions) {
    this.state = new MigrationState(options);
    if (this.state.implicitTransactions) this.begin(false, -1);
    const state = this.state;
    this.classifyContext = {
      pgVersion: options.pgVersion,
      get defaultSchema() {
        return state.defaultSchema;
      },
      columnType: (table, column) => state.columnTypes.get(table.key)?.get(column),
      notNullProof: (table, column) => {
        for (const c of state.constraints.ofTable(table.key)) {
          if ((c.kind === 'check' || c.kind === 'not-null') && c.validated && c.notNullColumn === column)
            return 'known';
        }
        return state.validatedUnknown.has(table.key) ? 'maybe' : 'no';
      },
      domainHasConstraints: (n) => {
        // a derived domain inherits its base domain's constraints
        const seen = new Set<string>();
        for (let k: string | undefined = state.typeKey(n); k && !seen.has(k); k = state.domainBases.get(k)) {
          if (state.domainsWithConstraints.has(k)) return true;
          seen.add(k);
        }
        return false;
      },
      typeKey: (n) => state.typeKey(n),
      enumIsNewInTransaction: (n) => {
        const created = state.createdEnums.get(state.typeKey(n));
        return (
          created !== undefined &&
          state.transaction !== undefined &&
          created.transaction === state.transaction.id
        );
      },
      notNullConstraintColumn: (table, name) => {
        if (options.pgVersion < 18 || !name) return undefined;
        const info = state.constraints.get(`${table.key}|${name}`);
        if (info) return info.kind === 'not-null' ? info.notNullColumn : undefined;
        const column = generatedNotNullColumn(table.name, name, options.pgVersion);
        if (column === undefined) return undefined;
        // the columns of a table created in this migration are all known
        const cols = state.columnTypes.get(table.key);
        if (state.isDefined(table) && cols && !cols.has(column)) return undefined;
        return column;
      },
      columnHasCheck: (table, column) =>
        [...(state.checkColumns.get(table.key) ?? [])].some(
          ([name, cols]) =>
            cols.has(column) && (name === '' || state.constraints.get(`${table.key}|${name}`)?.validated),
        ),
      defaultPartition: (parent) => state.defaultPartitions.get(parent.key),
      columnIndexed: (table, column) => {
        for (const index of state.indexTables.indexesOf(table.key))
          if (state.indexColumns.get(index)?.some((c) => c === column || c === undefined)) return 'yes';
        return state.isDefined(table) ? 'no' : 'unknown';
      },
      indexColumnsNotNull: (index) => {
        const table = state.indexTables.get(index.key);
        const cols = state.indexColumns.get(index.key);
        if (!table || !cols) return false;
        return cols.every((c) => c !== undefined && state.notNullColumns.get(table.key)?.has(c));
      },
      get timeZoneIsUtc() {
        return state.timeZoneIsUtc;
      },
      viewSources: (view) => {
        if (!state.viewSources.has(view.key)) return undefined;
        // a view over views reads what they read
        const out = new Map<string, RelationRef>();
        const visit = (key: string) => {
          for (const r of state.viewSources.get(key) ?? []) {
            if (out.has(r.key) || r.key === view.key) continue;
            out.set(r.key, r);
            visit(r.key);
          }
        };
        visit(view.key);
        return [...out.values()];
      },
    };
  }

  /** Facts about `stmt`, computed before its effects are applied to the state. */
  analyze(stmt: Statement): StatementFacts {
    const state = this.state;
    this.handleTransactionStart(stmt);
    // plain loops: flatMap chains allocated several arrays per statement, most holding one action
    const actions: Action[] = [];
    for (const classified of classify(stmt, this.classifyContext)) {
      const resolved = hasSet(classified) ? this.resolveSets(classified) : [classified];
      for (const a of resolved) {
        actions.push(this.resolve(a));
        actions.push(...this.throughForeignKeys(a));
      }
    }
    const tx = state.transaction;
    const locks: StatementLock[] = [];
    for (const a of actions) {
      for (const effect of a.facts.locks) {
        const relation = a.relations[effect.on];
        if (!relation) continue;
        const existing = locks.find((l) => l.relation.key === relation.key);
        if (existing) existing.mode = strongerLock(existing.mode, effect.mode);
        else locks.push({ relation, mode: effect.mode, isNew: state.isNew(relation), alreadyHeld: false });
      }
    }
    if (tx) {
      for (const l of locks) {
        const held = tx.heldLocks.get(l.relation.key);
        l.alreadyHeld = held !== undefined && covers(held.modes, l.mode);
      }
    }
    return new Facts(
      stmt,
      this.options,
      actions,
      locks,
      tx,
      state.lockTimeout(),
      state.statementTimeout(),
      state,
    );
  }

  /** Applies the statement's effects to the state; call after the rules have seen its facts. */
  apply(facts: StatementFacts): void {
    const state = this.state;
    const tx = state.transaction;
    if (tx) {
      for (const l of facts.locks) {
        const held = tx.heldLocks.get(l.relation.key);
        const since = held?.since ?? new Map<LockMode, number>();
        if (!since.has(l.mode)) since.set(l.mode, facts.statement.start);
        tx.heldLocks.set(l.relation.key, {
          mode: strongerLock(held?.mode, l.mode),
          modes: withMode(held?.modes, l.mode),
          relation: l.relation,
          statement: held?.statement ?? facts.statement.index,
          since,
        });
      }
    }
    this.applyDefinitions(facts);
    this.applySettings(facts.statement);
    this.handleTransactionEnd(facts.statement);
  }

  /**
   * A DO block (or a function call) runs its statements in one transaction: the surrounding one,
   * or its own when it autocommits. Returns whether a transaction was opened, for `endBlock`.
   */
  beginBlock(index: number): boolean {
    if (this.state.transaction) return false;
    this.begin(false, index);
    return true;
  }

  endBlock(opened: boolean): void {
    if (opened) this.state.transaction = undefined;
  }

  /** Call after the last statement. */
  finish(): void {
    this.state.transaction = undefined;
  }

  /** session timeouts when the current transaction began: ROLLBACK undoes a SET made inside it */
  private sessionTimeoutsAtBegin: [Timeout | undefined, Timeout | undefined] = [undefined, undefined];

  private begin(explicit: boolean, index: number): void {
    this.sessionTimeoutsAtBegin = [this.state.sessionLockTimeout, this.state.sessionStatementTimeout];
    this.state.transaction = {
      id: ++this.state.transactionCount,
      explicit,
      startIndex: index,
      heldLocks: new Map(),
      notValidAdded: new Set(),
    };
  }

  private handleTransactionStart(stmt: Statement): void {
    if (this.options.planning) return;
    if (!opensTransactionBlock(transactionControl(stmt))) return;
    if (!this.state.transaction) {
      this.begin(true, stmt.index);
    } else {
      // BEGIN inside the runner's transaction: Postgres warns and carries on in the same transaction
      this.state.transaction.explicit = true;
    }
  }

  private handleTransactionEnd(stmt: Statement): void {
    if (this.options.planning) return;
    const control = transactionControl(stmt);
    if (endsTransactionBlock(control)) {
      if (control?.kind === 'rollback') this.forgetTransaction();
      this.state.transaction = undefined;
      // statements after COMMIT in a multi-statement query run in a fresh implicit transaction;
      // runners that wrap the file in BEGIN … COMMIT leave them in autocommit
      if (this.state.implicitTransactions && this.options.runner.multiStatement)
        this.begin(false, stmt.index);
    }
  }

  /** ROLLBACK undoes what the transaction created. */
  private forgetTransaction(): void {
    const id = this.state.transaction?.id;
    if (id === undefined) return;
    for (const [k, v] of this.state.created) if (v.transaction === id) this.state.created.delete(k);
    for (const [k, v] of this.state.createdEnums) if (v.transaction === id) this.state.createdEnums.delete(k);
    for (const [k, v] of this.state.dropped) if (v.transaction === id) this.state.dropped.delete(k);
    [this.state.sessionLockTimeout, this.state.sessionStatementTimeout] = this.sessionTimeoutsAtBegin;
  }

  /**
   * What this migration knows and the statement does not say: VALIDATE or DROP of a foreign key
   * known from this migration locks the referenced table too; an index created in this migration
   * names its table (DROP INDEX, REINDEX INDEX lock it).
   */
  private resolve(a: Action): Action {
    const index = a.relations.index;
    const indexTable = index && !a.relations.table ? this.state.indexTables.get(index.key) : undefined;
    if (indexTable) a = { ...a, relations: { ...a.relations, table: indexTable } };
    const fkOp = FOREIGN_KEY_OPS[a.op];
    if (!fkOp || !a.relations.table || !a.constraint) return a;
    const info = this.state.constraints.get(`${a.relations.table.key}|${a.constraint}`);
    if (info?.kind !== 'foreign-key') return a;
    return {
      ...a,
      op: fkOp,
      facts: operationFacts(fkOp, this.options.pgVersion),
      relations: { ...a.relations, referenced: info.referenced },
    };
  }

  /**
   * An action on a set of relations the statement does not name, in terms of the relations this
   * migration and the live schema know: one action per known member, and the action on the set
   * itself for the members that may exist beyond them (none when the set is known in full; an empty
   * set leaves the action without that relation).
   */
  private resolveSets(a: Action): Action[] {
    const entry = Object.entries(a.relations).find(([, r]) => r?.set);
    if (!entry) return [a];
    const [role, ref] = entry as [keyof Action['relations'], RelationRef];
    const { relations, complete } = this.state.members(ref.set!);
    const out = relations.map((r) => ({ ...a, relations: { ...a.relations, [role]: r } }));
    if (!complete) out.push(a);
    else if (out.length === 0) {
      const rest = { ...a.relations };
      delete rest[role];
      out.push({ ...a, relations: rest });
    }
    return out;
  }

  /**
   * What a statement does to other tables through the foreign keys this migration and its history
   * know: dropping a foreign key drops its triggers on both tables, so DROP TABLE and DROP COLUMN lock
   * the tables their foreign keys reference (and DROP TABLE … CASCADE the tables referencing it), and
   * TRUNCATE … CASCADE truncates the referencing tables.
   */
  private throughForeignKeys(a: Action): Action[] {
    const table = a.relations.table;
    if (!table || (a.op !== 'drop-table' && a.op !== 'drop-column' && a.op !== 'truncate')) return [];
    const out: Action[] = [];
    const dropFk = (owner: RelationRef, referenced: RelationRef, name: string) =>
      out.push({
        op: 'drop-foreign-key',
        facts: operationFacts('drop-foreign-key', this.options.pgVersion),
        node: a.node,
        relations: { table: owner, referenced },
        location: a.location,
        constraint: name,
      });
    const state = this.state;
    const isForeignKey = (c: ConstraintInfo): c is ConstraintInfo & { referenced: RelationRef } =>
      c.kind === 'foreign-key' && c.referenced !== undefined && c.referenced.key !== c.table;
    if (a.op === 'drop-table') {
      for (const c of state.constraints.ofTable(table.key))
        if (isForeignKey(c)) dropFk(table, c.referenced, c.name);
      for (const c of state.constraints.referencing(table.key))
        if (isForeignKey(c) && c.table !== table.key) dropFk(state.refOf(c.table), table, c.name);
    } else if (a.op === 'drop-column') {
      for (const c of state.constraints.ofTable(table.key))
        if (isForeignKey(c) && a.column && c.columns?.includes(a.column)) dropFk(table, c.referenced, c.name);
    } else if (as(a.node, 'TruncateStmt')?.behavior === 'DROP_CASCADE') {
      const truncated = new Set([table.key]);
      for (const c of state.constraints.referencing(table.key)) {
        if (!isForeignKey(c) || truncated.has(c.table)) continue;
        truncated.add(c.table);
        out.push({ ...a, relations: { table: state.refOf(c.table) }, location: a.location });
      }
    }
    return out;
  }

  private applyDefinitions(facts: StatementFacts): void {
    const state = this.state;
    const txId = state.transaction?.id;
    const stmt = facts.statement;
    const n = stmt.node as AnyNode;
    const markCreated = (rel: RelationRef | undefined) => {
      if (rel) state.created.set(rel.key, { transaction: txId });
    };
    switch (stmt.kind) {
      case 'CreateStmt': {
        const s = n.CreateStmt;
        const table = relationRef(s.relation, state.defaultSchema);
        if (!table) break;
        // IF NOT EXISTS on a table created earlier in this file (or live) does nothing
        if (s.if_not_exists && state.exists(table)) break;
        const possiblyExisting = !!s.if_not_exists && !state.provenAbsent(table);
        if (!possiblyExisting) markCreated(table);
        const parent = s.partbound?.is_default
          ? relationRef(as(s.inhRelations?.[0], 'RangeVar'), state.defaultSchema)
          : undefined;
        if (parent) state.defaultPartitions.set(parent.key, table);
        const cols = new Map<string, AnyNode>();
        for (const e of s.tableElts ?? []) {
          const col = as(e, 'ColumnDef');
          if (col?.colname) {
            cols.set(col.colname, col.typeName);
            if (isSerial(col.typeName)) this.notNull(table, col.colname, true);
            for (const c of col.constraints ?? [])
              this.recordConstraint(table, as(c, 'Constraint'), col.colname);
          } else this.recordConstraint(table, as(e, 'Constraint'), undefined);
        }
        state.columnTypes.set(table.key, cols);
        state.declaredColumns.set(table.key, new Set(cols.keys()));
        if (possiblyExisting) state.possiblyExistingColumns.set(table.key, new Set(cols.keys()));
        else state.possiblyExistingColumns.delete(table.key);
        state.tableRefs.set(table.key, table);
        if (s.partspec) state.partitioned.add(table.key);
        break;
      }
      case 'CreateTableAsStmt': {
        const s = n.CreateTableAsStmt;
        const table = relationRef(s.into?.rel, state.defaultSchema);
        if (table && (!s.if_not_exists || state.provenAbsent(table))) markCreated(table);
        if (table && s.objtype === 'OBJECT_MATVIEW')
          state.viewSources.set(table.key, queryRelations(s.query, state.defaultSchema));
        break;
      }
      case 'SelectStmt':
        // SELECT … INTO creates its target (it has no IF NOT EXISTS)
        markCreated(relationRef(n.SelectStmt.intoClause?.rel, state.defaultSchema));
        break;
      case 'ViewStmt': {
        const view = relationRef(n.ViewStmt.view, state.defaultSchema);
        markCreated(view);
        if (view) state.viewSources.set(view.key, queryRelations(n.ViewStmt.query, state.defaultSchema));
        break;
      }
      case 'IndexStmt': {
        const s = n.IndexStmt;
        if (s.idxname) {
          const schema = s.relation?.schemaname;
          const index = relationRef({ schemaname: schema, relname: s.idxname }, state.defaultSchema);
          const table = relationRef(s.relation, state.defaultSchema);
          // an index IF NOT EXISTS may already exist unless its table is new (or it was dropped here)
          if (index && (!s.if_not_exists || state.isNew(table) || state.dropped.has(index.key)))
            markCreated(index);
          if (index && table) {
            const cols = (s.indexParams ?? []).map(
              (p: AnyNode) => as(p, 'IndexElem')?.name as string | undefined,
            );
            // a partial unique index leaves rows outside its predicate free to repeat the key
            if (s.unique && !s.whereClause && cols.every((c: string | undefined) => c !== undefined))
              this.uniqueKey(table, cols);
            state.indexTables.set(index.key, table);
            state.indexColumns.set(index.key, cols);
            if (s.whereClause) state.partialIndexes.add(index.key);
            else state.partialIndexes.delete(index.key);
          }
        }
        break;
      }
      case 'CreateSeqStmt':
        markCreated(relationRef(n.CreateSeqStmt.sequence, state.defaultSchema));
        break;
      case 'CreateEnumStmt':
        state.createdEnums.set(state.typeKey(names(n.CreateEnumStmt.typeName)), {
          transaction: state.transaction?.id,
        });
        break;
      case 'CreateDomainStmt': {
        const s = n.CreateDomainStmt;
        const key = state.typeKey(names(s.domainname));
        const constrained = (s.constraints ?? []).some((c: AnyNode) => {
          const t = as(c, 'Constraint')?.contype;
          return t === 'CONSTR_CHECK' || t === 'CONSTR_NOTNULL';
        });
        if (constrained) state.domainsWithConstraints.add(key);
        state.createdDomains.add(key);
        const base = names(s.typeName?.names);
        if (base.length > 0) state.domainBases.set(key, state.typeKey(base));
        break;
      }
      case 'AlterDomainStmt': {
        const s = n.AlterDomainStmt;
        const con = s.subtype === 'C' ? as(s.def, 'Constraint') : undefined;
        if (s.subtype === 'O' || con?.contype === 'CONSTR_CHECK' || con?.contype === 'CONSTR_NOTNULL')
          state.domainsWithConstraints.add(state.typeKey(names(s.typeName)));
        break;
      }
      case 'DropStmt': {
        const d = n.DropStmt;
        if (d.removeType === 'OBJECT_VIEW' || d.removeType === 'OBJECT_MATVIEW')
          for (const obj of d.objects ?? []) {
            const view = relationFromNames(names(as(obj, 'List')?.items), state.defaultSchema);
            if (!view) continue;
            state.viewSources.delete(view.key);
            state.created.delete(view.key);
            state.knownRelations.delete(view.key);
          }
        for (const a of facts.actions) {
          const r =
            a.op === 'drop-table'
              ? a.relations.table
              : a.op.startsWith('drop-index')
                ? a.relations.index
                : undefined;
          if (r) {
            state.created.delete(r.key);
            state.knownRelations.delete(r.key);
            state.dropped.set(r.key, { transaction: txId });
          }
          if (r && a.op === 'drop-table') state.forgetTable(r.key);
          else if (r) {
            state.indexTables.delete(r.key);
            state.indexColumns.delete(r.key);
            state.partialIndexes.delete(r.key);
          }
        }
        break;
      }
      case 'ClusterStmt': {
        // CLUSTER t USING i marks t clustered on i; a later CLUSTER without a table re-clusters it
        const s = n.ClusterStmt;
        const table = relationRef(s.relation, state.defaultSchema);
        if (table && s.indexname) state.clusteredTables.set(table.key, table);
        break;
      }
      case 'RenameStmt': {
        const s = n.RenameStmt;
        const from = relationRef(s.relation, state.defaultSchema);
        if (s.renameType === 'OBJECT_TABLE' && from) {
          const to = relationRef(
            { schemaname: s.relation.schemaname, relname: s.newname },
            state.defaultSchema,
          );
          if (to) state.renameTable(from, to);
        } else if (s.renameType === 'OBJECT_COLUMN' && from && s.subname && s.newname) {
          state.renameColumn(from, s.subname, s.newname);
        }
        break;
      }
      case 'AlterTableStmt': {
        const s = n.AlterTableStmt;
        const table = relationRef(s.relation, state.defaultSchema);
        if (!table) break;
        for (const c of s.cmds ?? []) {
          const cmd = as(c, 'AlterTableCmd');
          if (!cmd) continue;
          if (cmd.subtype === 'AT_AddColumn') {
            const col = as(cmd.def, 'ColumnDef');
            if (col?.colname) {
              const cols = state.columnTypes.get(table.key) ?? new Map<string, AnyNode>();
              state.columnTypes.set(table.key, cols);
              if (!state.tableRefs.has(table.key)) state.tableRefs.set(table.key, table);
              cols.set(col.colname, col.typeName);
              const declared = state.declaredColumns.get(table.key) ?? new Set<string>();
              state.declaredColumns.set(table.key, declared.add(col.colname));
              // ADD COLUMN IF NOT EXISTS on a table that may exist may find the column there already
              const maybe = state.possiblyExistingColumns.get(table.key) ?? new Set<string>();
              if (cmd.missing_ok && !state.isNew(table)) {
                maybe.add(col.colname);
                state.possiblyExistingColumns.set(table.key, maybe);
              } else maybe.delete(col.colname);
              if (isSerial(col.typeName)) this.notNull(table, col.colname, true);
              for (const k of col.constraints ?? [])
                this.recordConstraint(table, as(k, 'Constraint'), col.colname);
            }
          } else if (cmd.subtype === 'AT_AttachPartition') {
            const pc = as(cmd.def, 'PartitionCmd');
            const partition = relationRef(pc?.name, state.defaultSchema);
            if (pc?.bound?.is_default && partition) state.defaultPartitions.set(table.key, partition);
          } else if (cmd.subtype === 'AT_DropColumn' && cmd.name) {
            state.columnTypes.get(table.key)?.delete(cmd.name);
            this.notNull(table, cmd.name, false);
          } else if (cmd.subtype === 'AT_SetNotNull') {
            this.notNull(table, cmd.name, true);
          } else if (cmd.subtype === 'AT_DropNotNull') {
            this.notNull(table, cmd.name, false);
          } else if (cmd.subtype === 'AT_AlterColumnType') {
            const def = as(cmd.def, 'ColumnDef');
            state.columnTypes.get(table.key)?.set(cmd.name, def?.typeName);
          } else if (cmd.subtype === 'AT_AddConstraint') {
            this.recordConstraint(table, as(cmd.def, 'Constraint'), undefined);
          } else if (cmd.subtype === 'AT_ValidateConstraint') {
            const info = state.constraints.get(`${table.key}|${cmd.name}`);
            if (info) info.validated = true;
            else state.validatedUnknown.add(table.key);
            // a validated NOT NULL constraint (PG 18) makes its column NOT NULL
            if (info?.kind === 'not-null') this.notNull(table, info.notNullColumn, true);
          } else if (cmd.subtype === 'AT_ClusterOn') {
            state.clusteredTables.set(table.key, table);
          } else if (cmd.subtype === 'AT_DropCluster') {
            state.clusteredTables.delete(table.key);
          } else if (cmd.subtype === 'AT_DropConstraint') {
            state.constraints.delete(`${table.key}|${cmd.name}`);
            state.checkColumns.get(table.key)?.delete(cmd.name);
            const dropped = facts.actions.find((a) => a.op === 'drop-not-null' && a.constraint === cmd.name);
            if (dropped) this.notNull(table, dropped.column, false);
          }
        }
        break;
      }
    }
  }

  private notNull(table: RelationRef, column: string | undefined, yes: boolean): void {
    if (!column) return;
    const cols = this.state.notNullColumns.get(table.key) ?? new Set<string>();
    this.state.notNullColumns.set(table.key, cols);
    if (yes) cols.add(column);
    else cols.delete(column);
  }

  private uniqueKey(table: RelationRef, columns: string[]): void {
    if (columns.length === 0) return;
    const keys = this.state.uniqueKeys.get(table.key) ?? [];
    this.state.uniqueKeys.set(table.key, keys);
    keys.push(columns);
  }

  private recordConstraint(table: RelationRef, con: AnyNode, column: string | undefined): void {
    if (!con) return;
    if (con.contype === 'CONSTR_PRIMARY' || con.contype === 'CONSTR_UNIQUE')
      this.uniqueKey(table, column !== undefined ? [column] : names(con.keys));
    const keyed =
      con.contype === 'CONSTR_PRIMARY' || (con.contype === 'CONSTR_NOTNULL' && !con.skip_validation);
    if (keyed) {
      if (column !== undefined) this.notNull(table, column, true);
      else for (const c of names(con.keys)) this.notNull(table, c, true);
    }
    // a NOT VALID CHECK is not re-verified when a column it reads changes type (until it is validated,
    // which only a named one can be)
    if (con.contype === 'CONSTR_CHECK' && (con.conname || !con.skip_validation)) {
      const byName = this.state.checkColumns.get(table.key) ?? new Map<string, Set<string>>();
      this.state.checkColumns.set(table.key, byName);
      const name: string = con.conname ?? '';
      const cols = byName.get(name) ?? new Set<string>();
      byName.set(name, cols);
      walk(con.raw_expr, (kind, body) => {
        if (kind === 'ColumnRef') cols.add(names(body.fields).at(-1) ?? '');
        return true;
      });
    }
    const kind = CONSTRAINT_KINDS.get(con.contype);
    if (!kind) return;
    // unnamed constraints get generated names we cannot predict reliably; they cannot be VALIDATEd by name here
    const name: string | undefined = con.conname;
    if (!name) return;
    const validated = !con.skip_validation;
    const info: ConstraintInfo = {
      table: table.key,
      name,
      kind,
      validated,
      notNullColumn:
        kind === 'check'
          ? isNotNullCheck(con.raw_expr)
          : kind === 'not-null'
            ? (names(con.keys)[0] ?? column)
            : undefined,
      referenced: kind === 'foreign-key' ? relationRef(con.pktable, this.state.defaultSchema) : undefined,
      columns: kind === 'foreign-key' ? (column !== undefined ? [column] : names(con.fk_attrs)) : undefined,
    };
    this.state.constraints.set(`${table.key}|${name}`, info);
    if (!validated) this.state.transaction?.notValidAdded.add(`${table.key}|${name}`);
  }

  private applySettings(stmt: Statement): void {
    const state = this.state;
    if (stmt.kind === 'VariableSetStmt') {
      const s = (stmt.node as AnyNode).VariableSetStmt;
      const name = String(s.name ?? '').toLowerCase();
      const local = !!s.is_local;
      if (name === 'lock_timeout' || name === 'statement_timeout') {
        // parsed only for the timeouts: other settings' values are not intervals, and failing to parse costs
        let ms: number | undefined;
        if (s.kind === 'VAR_SET_VALUE') ms = intervalArg(s.args);
        else if (s.kind === 'VAR_SET_DEFAULT' || s.kind === 'VAR_RESET') ms = 0;
        if (ms === undefined) return;
        this.setTimeout(name, ms, local, s.kind === 'VAR_RESET' || s.kind === 'VAR_SET_DEFAULT');
      } else if (name === 'search_path' && s.kind === 'VAR_SET_VALUE') {
        const first = constValue(s.args?.[0]);
        if (typeof first === 'string' && first !== '$user') state.defaultSchema = first;
      } else if (name === 'timezone' && s.kind === 'VAR_SET_VALUE') {
        const v = constValue(s.args?.[0]);
        state.timeZoneIsUtc = typeof v === 'string' && /^(utc|etc\/utc|gmt|z|zulu|etc\/gmt)$/i.test(v);
      } else if (s.kind === 'VAR_RESET_ALL') {
        this.setTimeout('lock_timeout', 0, false, true);
        this.setTimeout('statement_timeout', 0, false, true);
      }
      return;
    }
    // SELECT set_config('lock_timeout', '2s', is_local)
    if (stmt.kind === 'SelectStmt') {
      walk(stmt.node, (kind, body) => {
        if (kind !== 'FuncCall') return true;
        if (names(body.funcname).pop() !== 'set_config') return true;
        const [nameArg, valueArg, localArg] = body.args ?? [];
        const name = String(constValue(nameArg) ?? '').toLowerCase();
        const value = constValue(valueArg);
        if ((name === 'lock_timeout' || name === 'statement_timeout') && value !== undefined) {
          const ms = safeInterval(value);
          if (ms !== undefined) this.setTimeout(name, ms, constValue(localArg) === true, false);
        }
        return false;
      });
    }
  }

  private setTimeout(
    name: 'lock_timeout' | 'statement_timeout',
    ms: number,
    local: boolean,
    reset: boolean,
  ): void {
    const state = this.state;
    const lock = name === 'lock_timeout';
    if (local) {
      // SET LOCAL outside a transaction block has no effect (Postgres warns)
      if (!state.transaction) return;
      if (lock) state.transaction.lockTimeoutMs = ms;
      else state.transaction.statementTimeoutMs = ms;
      return;
    }
    // RESET returns to the role/database value, which config may declare
    const configured = lock ? this.options.lockTimeoutMs : this.options.statementTimeoutMs;
    const value: Timeout | undefined = reset
      ? configured
        ? { ms: configured, source: 'config' }
        : undefined
      : ms > 0
        ? { ms, source: 'SET' }
        : undefined;
    if (lock) state.sessionLockTimeout = value;
    else state.sessionStatementTimeout = value;
    // a session SET inside a transaction also overrides an earlier SET LOCAL there
    if (state.transaction) {
      if (lock) state.transaction.lockTimeoutMs = undefined;
      else state.transaction.statementTimeoutMs = undefined;
    }
  }
}

function intervalArg(args: AnyNode[] | undefined): number | undefined {
  const v = constValue(args?.[0]);
  return v === undefined ? undefined : safeInterval(v);
}

function safeInterval(v: string | number | boolean): number | undefined {
  if (typeof v === 'boolean') return undefined;
  try {
    return parseInterval(v);
  } catch {
    return undefined;
  }
}

/** `col IS NOT NULL` → `col` */
function isNotNullCheck(expr: AnyNode): string | undefined {
  const t = as(expr, 'NullTest');
  if (t?.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const fields = names(as(t.arg, 'ColumnRef')?.fields);
  return fields.length === 1 ? fields[0] : undefined;
}

/** `serial`, `bigserial`, `smallserial` (unqualified): Postgres makes the column NOT NULL. */
function isSerial(typeName: AnyNode): boolean {
  const parts = names(typeName?.names);
  return parts.length === 1 && serialColumnType(parts[0]!) !== undefined;
}
