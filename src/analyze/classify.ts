/**
 * Statement → the catalog operations it performs. This is where SQL syntax is mapped to
 * `catalog/` entries; what those operations do to Postgres stays in the catalog.
 */

import { builtinVolatility, sqlValueFunctionVolatility, type Volatility } from '../catalog/functions.js';
import { LOCK_MODES } from '../catalog/locks.js';
import {
  type OperationFacts,
  type OperationId,
  operationFacts,
  type RelationRole,
  storageParametersOperation,
} from '../catalog/operations.js';
import {
  formatTypeRef,
  serialColumnType,
  type TypeChange,
  type TypeRef,
  typeChangeRewrites,
  typeRefFromAst,
} from '../catalog/types.js';
import type { Statement } from '../parse/parse.js';
import {
  type AnyNode,
  as,
  names,
  queryRelations,
  type RelationRef,
  relationFromNames,
  relationRef,
  type StatementNode,
  setRef,
  walk,
} from './ast.js';

/** One operation a statement performs, with the relations it involves. */
export interface Action {
  op: OperationId;
  facts: OperationFacts;
  relations: Partial<Record<RelationRole, RelationRef>>;
  /**
   * the AST node of this action: a whole statement (`{ IndexStmt: … }`) or a bare AlterTableCmd or
   * Constraint body; read it with `asNode`, `actionCmd` or `actionConstraint` (analyze/nodes.ts)
   */
  node: unknown;
  /** AST location to point at (relative to the statement's byteBase); the statement start when absent */
  location?: number;
  column?: string;
  constraint?: string;
  /** details some operations carry */
  detail?: ActionDetail;
}

export interface ActionDetail {
  /** ADD COLUMN DEFAULT / generated expressions: the worst volatility found; `unknown` for user functions */
  volatility?: Volatility | 'unknown';
  /** names of functions that made the default volatile or unknown */
  functions?: string[];
  /** ALTER COLUMN TYPE: the verdict on the rewrite, when the old type is known */
  typeChange?: TypeChange;
  /** ADD COLUMN: NOT NULL without a DEFAULT */
  notNullWithoutDefault?: boolean;
  /** UPDATE/DELETE without WHERE */
  unfiltered?: boolean;
  /** the action reads `IF NOT EXISTS` / `IF EXISTS` */
  ifNotExists?: boolean;
  /** CONCURRENTLY was requested */
  concurrently?: boolean;
  /** CREATE UNIQUE INDEX */
  unique?: boolean;
  /** SET NOT NULL is proven by a CHECK only known by name (defined in an earlier migration) */
  provenByUnknownCheck?: boolean;
  /** ALTER DOMAIN: the domain, as written */
  domain?: string;
}

/** What the classifier needs to know about the migration so far. */
export interface ClassifyContext {
  pgVersion: number;
  defaultSchema: string;
  /** declared type of a column, when this migration defined it */
  columnType(table: RelationRef, column: string): AnyNode | undefined;
  /** whether a validated CHECK (column IS NOT NULL) is known on the table: `known`, `maybe` (unknown definition) or `no` */
  notNullProof(table: RelationRef, column: string): 'known' | 'maybe' | 'no';
  /** a domain (created in this migration, or read from the live schema) that carries CHECK or NOT NULL constraints */
  domainHasConstraints(name: string[]): boolean;
  /** `schema.name` of a type or domain as written */
  typeKey(name: string[]): string;
  /** an enum type created earlier in the current transaction */
  enumIsNewInTransaction(name: string[]): boolean;
  /** the column whose NOT NULL a constraint of this name is (PG ≥ 18), when it is one */
  notNullConstraintColumn(table: RelationRef, constraint: string): string | undefined;
  /** a CHECK constraint defined in this migration reads the column */
  columnHasCheck(table: RelationRef, column: string): boolean;
  /** the default partition of a partitioned table, when created or attached in this migration */
  defaultPartition(parent: RelationRef): RelationRef | undefined;
  /** an index on the column is known (`no`: the table and all its indexes were created in this migration) */
  columnIndexed(table: RelationRef, column: string): 'yes' | 'no' | 'unknown';
  /** every column of an index created in this migration is known NOT NULL */
  indexColumnsNotNull(index: RelationRef): boolean;
  /** session TimeZone is UTC (for timestamp → timestamptz) */
  timeZoneIsUtc: boolean | undefined;
  /** the relations the query of a view or materialized view reads, when the view is known */
  viewSources(view: RelationRef): readonly RelationRef[] | undefined;
}

/**
 * `operationFacts`, looked up without building its `op@version` key string: asked for every action.
 * The catalog caches the objects, so both return the same one.
 */
const factsByVersion = new Map<number, Map<OperationId, OperationFacts>>();
function factsOf(op: OperationId, pgVersion: number): OperationFacts {
  let byOp = factsByVersion.get(pgVersion);
  if (!byOp) {
    byOp = new Map();
    factsByVersion.set(pgVersion, byOp);
  }
  let facts = byOp.get(op);
  if (!facts) {
    facts = operationFacts(op, pgVersion);
    byOp.set(op, facts);
  }
  return facts;
}

/** The actions of one statement, as they are found. */
class ActionList {
  readonly list: Action[] = [];
  constructor(private readonly pgVersion: number) {}

  /** `shape`: what this statement's shape adds to the operation's facts (an index rebuilt, a CHECK re-verified) */
  add(
    op: OperationId,
    node: AnyNode,
    rest: Omit<Action, 'op' | 'facts' | 'node'>,
    shape?: Partial<OperationFacts>,
  ): void {
    const facts = factsOf(op, this.pgVersion);
    this.list.push({ op, facts: shape ? { ...facts, ...shape } : facts, node, ...rest });
  }
}

type NodeKind = KindsOf<StatementNode>;
type KindsOf<N> = N extends unknown ? keyof N : never;
/** The body of a `{ Kind: body }` node */
type NodeBody<K extends PropertyKey, N = StatementNode> = N extends { [P in K]: infer B } ? B : never;
/** `node`: the statement's `{ Kind: body }` node, which actions point at */
type Handler<K extends NodeKind> = (
  body: NodeBody<K>,
  ctx: ClassifyContext,
  node: AnyNode,
  stmt: Statement,
) => Action[];

/** The statement kinds that perform catalog operations; other statements perform none. */
const HANDLERS: { readonly [K in NodeKind]?: Handler<K> } = {
  AlterTableStmt: classifyAlterTable,
  IndexStmt: classifyCreateIndex,
  DropStmt: classifyDrop,
  CreateStmt: classifyCreateTable,
  RenameStmt: classifyRename,
  ReindexStmt: classifyReindex,
  TruncateStmt: classifyTruncate,
  CommentStmt: classifyComment,
  VacuumStmt: classifyVacuum,
  ClusterStmt: classifyCluster,
  RefreshMatViewStmt: classifyRefreshMatView,
  CreateTableAsStmt: classifyCreateTableAs,
  SelectStmt: classifySelect,
  ViewStmt: classifyCreateView,
  MergeStmt: classifyMerge,
  CreateTrigStmt: classifyCreateTrigger,
  AlterDomainStmt: classifyAlterDomain,
  AlterEnumStmt: classifyAlterEnum,
  LockStmt: classifyLock,
  UpdateStmt: classifyUpdate,
  DeleteStmt: classifyDelete,
  InsertStmt: classifyInsert,
};
/** `HANDLERS` by kind, without the object prototype's names */
const handlerOf = new Map(
  Object.entries(HANDLERS) as [
    string,
    (body: AnyNode, ctx: ClassifyContext, node: AnyNode, stmt: Statement) => Action[],
  ][],
);

export function classify(stmt: Statement, ctx: ClassifyContext): Action[] {
  const handler = handlerOf.get(stmt.kind);
  if (!handler) return [];
  const node = stmt.node as AnyNode;
  return handler(node[stmt.kind], ctx, node, stmt);
}

// ALTER TABLE / ALTER INDEX

function classifyAlterTable(s: NodeBody<'AlterTableStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  // other objects' ALTER (views, sequences, …) read as ALTER TABLE
  if (s.objtype === 'OBJECT_INDEX') return classifyAlterIndex(s, ctx, n);
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (!table) return out.list;
  const cmds: AnyNode[] = (s.cmds ?? []).map((c: AnyNode) => as(c, 'AlterTableCmd'));
  const newColumnsUnchecked = newColumnForeignKeysUnchecked(cmds);
  for (const cmd of cmds) classifyAlterCmd(cmd, table, ctx, out, newColumnsUnchecked, s.objtype);
  return out.list;
}

/** Index storage parameters whose SET / RESET takes SHARE UPDATE EXCLUSIVE (reloptions.c). */
const INDEX_SUE_PARAMETERS = new Set([
  'fillfactor',
  'deduplicate_items',
  'fastupdate',
  'gin_pending_list_limit',
  'pages_per_range',
  'autosummarize',
]);

/** ALTER INDEX: storage parameters and statistics targets; other subcommands are not classified. */
function classifyAlterIndex(s: NodeBody<'AlterTableStmt'>, ctx: ClassifyContext, _n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const index = relationRef(s.relation, ctx.defaultSchema);
  if (!index) return out.list;
  for (const c of s.cmds ?? []) {
    const cmd = as(c, 'AlterTableCmd');
    const parameters = ((as(cmd?.def, 'List')?.items ?? []) as AnyNode[]).map(
      (d) => as(d, 'DefElem')?.defname as string | undefined,
    );
    const lowLock =
      cmd?.subtype === 'AT_SetStatistics' ||
      ((cmd?.subtype === 'AT_SetRelOptions' || cmd?.subtype === 'AT_ResetRelOptions') &&
        parameters.length > 0 &&
        parameters.every((p) => p !== undefined && INDEX_SUE_PARAMETERS.has(p.toLowerCase())));
    if (lowLock) out.add('alter-index-set', cmd, { relations: { index }, location: index.location });
  }
  return out.list;
}

/**
 * Postgres does not check the existing rows for a foreign key declared on a column added in the same
 * ALTER TABLE (they are all NULL), unless an added column has a DEFAULT or generation expression, or
 * the statement also adds a FOREIGN KEY constraint of its own (parse_utilcmd.c, transformAlterTableStmt).
 */
function newColumnForeignKeysUnchecked(cmds: AnyNode[]): boolean {
  return cmds.every((cmd) => {
    if (cmd?.subtype === 'AT_AddConstraint') return as(cmd.def, 'Constraint')?.contype !== 'CONSTR_FOREIGN';
    if (cmd?.subtype !== 'AT_AddColumn') return true;
    const col = as(cmd.def, 'ColumnDef');
    return !(
      col?.raw_default ||
      (col?.constraints ?? []).some((c: AnyNode) => {
        const t = as(c, 'Constraint')?.contype;
        return t === 'CONSTR_DEFAULT' || t === 'CONSTR_GENERATED';
      })
    );
  });
}

function classifyAlterCmd(
  cmd: AnyNode,
  table: RelationRef,
  ctx: ClassifyContext,
  out: ActionList,
  newColumnForeignKeysUnchecked = false,
  objtype?: string,
): void {
  if (!cmd) return;
  const rels = { table };
  switch (cmd.subtype) {
    case 'AT_AddColumn': {
      const col = as(cmd.def, 'ColumnDef');
      if (col) classifyAddColumn(cmd, col, table, ctx, out, newColumnForeignKeysUnchecked);
      return;
    }
    case 'AT_ColumnDefault':
      out.add('set-default', cmd, { relations: rels, column: cmd.name });
      return;
    case 'AT_DropNotNull':
      out.add('drop-not-null', cmd, { relations: rels, column: cmd.name });
      return;
    case 'AT_SetNotNull': {
      const proof = ctx.notNullProof(table, cmd.name);
      out.add(proof === 'no' ? 'set-not-null' : 'set-not-null-proven', cmd, {
        relations: rels,
        column: cmd.name,
        detail: { provenByUnknownCheck: proof === 'maybe' },
      });
      return;
    }
    case 'AT_DropColumn':
      out.add('drop-column', cmd, {
        relations: rels,
        column: cmd.name,
        detail: { ifNotExists: !!cmd.missing_ok },
      });
      return;
    case 'AT_AlterColumnType': {
      const def = as(cmd.def, 'ColumnDef');
      const newType = typeRefFromAst(def?.typeName);
      const oldAst = ctx.columnType(table, cmd.name);
      const oldType = oldAst ? typeRefFromAst(oldAst) : undefined;
      let typeChange: TypeChange;
      if (def?.raw_default && !usingIsPlainConversion(def.raw_default, cmd.name, newType))
        typeChange = { rewrite: true, reason: 'a USING expression recomputes every row' };
      else if (!oldType || !newType)
        typeChange = {
          rewrite: 'unknown',
          reason: 'the column’s current type is not defined in this migration',
        };
      else
        typeChange = typeChangeRewrites(oldType, newType, {
          pgVersion: ctx.pgVersion,
          timeZoneIsUtc: ctx.timeZoneIsUtc,
        });
      // without a rewrite, indexes whose operator class changes are rebuilt and CHECKs on the column re-verified
      const shape =
        typeChange.rewrite === false
          ? {
              indexBuild: typeChange.indexRebuild && ctx.columnIndexed(table, cmd.name) !== 'no',
              scan: ctx.columnHasCheck(table, cmd.name),
            }
          : undefined;
      out.add(
        typeChange.rewrite === false ? 'alter-column-type-coercible' : 'alter-column-type',
        cmd,
        { relations: rels, column: cmd.name, location: def?.location, detail: { typeChange } },
        shape,
      );
      return;
    }
    case 'AT_AddConstraint': {
      const con = as(cmd.def, 'Constraint');
      if (con) classifyConstraint(con, table, undefined, ctx, out);
      return;
    }
    case 'AT_ValidateConstraint':
      // whether it is a foreign key is resolved by the analyzer, which knows the constraints of this migration
      out.add('validate-constraint', cmd, { relations: rels, constraint: cmd.name });
      return;
    case 'AT_AlterConstraint': {
      const alter = as(cmd.def, 'ATAlterConstraint');
      if (alter?.alterEnforceability && alter.is_enforced)
        // the referenced table is filled in by the analyzer when it knows the foreign key
        out.add('enforce-foreign-key', cmd, { relations: rels, constraint: alter.conname });
      else out.add('alter-table', cmd, { relations: rels, column: cmd.name });
      return;
    }
    case 'AT_DropConstraint': {
      // PG 18: a column's NOT NULL is a constraint; dropping it is DROP NOT NULL
      const column = ctx.notNullConstraintColumn(table, cmd.name);
      if (column !== undefined) {
        out.add('drop-not-null', cmd, {
          relations: rels,
          column,
          constraint: cmd.name,
          detail: { ifNotExists: !!cmd.missing_ok },
        });
        return;
      }
      out.add('drop-constraint', cmd, {
        relations: rels,
        constraint: cmd.name,
        detail: { ifNotExists: !!cmd.missing_ok },
      });
      return;
    }
    case 'AT_SetTableSpace':
      out.add('set-tablespace', cmd, { relations: rels });
      return;
    case 'AT_SetAccessMethod':
      out.add('set-access-method', cmd, { relations: rels });
      return;
    case 'AT_SetExpression':
      out.add('set-expression', cmd, { relations: rels, column: cmd.name });
      return;
    case 'AT_SetLogged':
    case 'AT_SetUnLogged':
      out.add('set-logged', cmd, { relations: rels });
      return;
    case 'AT_AttachPartition': {
      const partition = relationRef(as(cmd.def, 'PartitionCmd')?.name, ctx.defaultSchema);
      out.add('attach-partition', cmd, {
        relations: { parent: table, partition },
        location: partition?.location,
      });
      checkDefaultPartition(table, as(cmd.def, 'PartitionCmd')?.bound, cmd, ctx, out);
      return;
    }
    case 'AT_DetachPartition': {
      const pc = as(cmd.def, 'PartitionCmd');
      const partition = relationRef(pc?.name, ctx.defaultSchema);
      out.add(pc?.concurrent ? 'detach-partition-concurrently' : 'detach-partition', cmd, {
        relations: {
          parent: table,
          partition,
          'default-partition': setRef({ kind: 'default-partition', parent: table }),
        },
        location: partition?.location,
        detail: { concurrently: !!pc?.concurrent },
      });
      return;
    }
    case 'AT_SetStatistics':
    case 'AT_ClusterOn':
    case 'AT_DropCluster':
    case 'AT_SetOptions':
    case 'AT_ResetOptions':
      out.add('alter-table-set-statistics', cmd, { relations: rels, column: cmd.name });
      return;
    case 'AT_SetRelOptions':
    case 'AT_ResetRelOptions': {
      const parameters = ((as(cmd.def, 'List')?.items ?? []) as AnyNode[])
        .map((d) => as(d, 'DefElem')?.defname)
        .filter((d): d is string => typeof d === 'string');
      // views' options and unknown parameters stay ALTER TABLE (other)
      const heap = objtype === 'OBJECT_TABLE' || objtype === 'OBJECT_MATVIEW';
      const op = heap ? storageParametersOperation(parameters) : undefined;
      out.add(op ?? 'alter-table', cmd, { relations: rels });
      return;
    }
    case 'AT_EnableTrig':
    case 'AT_EnableAlwaysTrig':
    case 'AT_EnableReplicaTrig':
    case 'AT_DisableTrig':
    case 'AT_EnableTrigAll':
    case 'AT_DisableTrigAll':
    case 'AT_EnableTrigUser':
    case 'AT_DisableTrigUser':
      out.add('enable-disable-trigger', cmd, { relations: rels });
      return;
    case 'AT_AddInherit':
    case 'AT_DropInherit': {
      const parent = relationRef(as(cmd.def, 'RangeVar'), ctx.defaultSchema);
      out.add(cmd.subtype === 'AT_AddInherit' ? 'inherit' : 'no-inherit', cmd, {
        relations: parent ? { ...rels, parent } : rels,
      });
      return;
    }
    default:
      out.add('alter-table', cmd, { relations: rels, column: cmd.name });
  }
}

function classifyAddColumn(
  cmd: AnyNode,
  col: AnyNode,
  table: RelationRef,
  ctx: ClassifyContext,
  out: ActionList,
  foreignKeysUnchecked: boolean,
): void {
  const rels = { table };
  const column: string = col.colname;
  const location: number | undefined = col.location;
  const typeNames = names(col.typeName?.names);
  const typeName = typeNames[typeNames.length - 1] ?? '';
  const constraints: AnyNode[] = (col.constraints ?? [])
    .map((c: AnyNode) => as(c, 'Constraint'))
    .filter(Boolean);
  const ifNotExists = !!cmd.missing_ok;

  let op: OperationId = 'add-column';
  let detail: ActionDetail = { ifNotExists };
  const defaultCon = constraints.find((c) => c.contype === 'CONSTR_DEFAULT');
  const generated = constraints.find((c) => c.contype === 'CONSTR_GENERATED');
  const identity = constraints.find((c) => c.contype === 'CONSTR_IDENTITY');
  if (serialColumnType(typeName) !== undefined && typeNames.length === 1) op = 'add-column-serial';
  else if (identity) op = 'add-column-identity';
  else if (generated) {
    // PG 18 added virtual generated columns (computed on read): no rewrite
    const virtual = generated.generated_kind === 'v' && ctx.pgVersion >= 18;
    if (!virtual) op = 'add-column-generated-stored';
  } else if (typeNames.length > 0 && ctx.domainHasConstraints(typeNames)) {
    // the domain's constraints are checked for every row, also against a DEFAULT: a rewrite
    op = 'add-column-domain-check';
  } else if (defaultCon) {
    const v = expressionVolatility(defaultCon.raw_expr);
    detail = { ...detail, volatility: v.volatility, functions: v.functions };
    op =
      v.volatility === 'volatile' || v.volatility === 'unknown'
        ? 'add-column-volatile-default'
        : 'add-column-default';
  }

  const notNull = constraints.some((c) => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY');
  if (notNull && !defaultCon && !generated && !identity && op !== 'add-column-serial') {
    detail = { ...detail, notNullWithoutDefault: true };
    if (op === 'add-column') op = 'add-column-not-null';
  }
  out.add(op, cmd, { relations: rels, column, location, detail });
  for (const con of constraints) classifyConstraint(con, table, column, ctx, out, foreignKeysUnchecked);
}

function classifyConstraint(
  con: AnyNode,
  table: RelationRef,
  column: string | undefined,
  ctx: ClassifyContext,
  out: ActionList,
  foreignKeyUnchecked = false,
): void {
  const rels = { table };
  const notValid = !!con.skip_validation;
  const base = {
    relations: rels,
    column,
    constraint: con.conname as string | undefined,
    location: con.location,
  };
  switch (con.contype) {
    case 'CONSTR_CHECK':
      out.add(notValid ? 'add-check-not-valid' : 'add-check', con, base);
      return;
    case 'CONSTR_FOREIGN': {
      const referenced = relationRef(con.pktable, ctx.defaultSchema);
      const op = notValid
        ? 'add-foreign-key-not-valid'
        : foreignKeyUnchecked
          ? 'add-foreign-key-new-column'
          : 'add-foreign-key';
      out.add(op, con, {
        ...base,
        relations: { table, referenced },
      });
      return;
    }
    case 'CONSTR_UNIQUE':
      out.add(con.indexname ? 'add-unique-using-index' : 'add-unique', con, base);
      return;
    case 'CONSTR_PRIMARY': {
      if (!con.indexname) {
        out.add('add-primary-key', con, base);
        return;
      }
      // the scan that sets NOT NULL is skipped when every column already is
      const index = relationRef({ schemaname: table.schema, relname: con.indexname }, ctx.defaultSchema);
      const proven = index !== undefined && ctx.indexColumnsNotNull(index);
      out.add('add-primary-key-using-index', con, base, proven ? { scan: false } : undefined);
      return;
    }
    case 'CONSTR_EXCLUSION':
      out.add('add-exclusion', con, base);
      return;
    case 'CONSTR_NOTNULL':
      // inline NOT NULL on ADD COLUMN is part of the column; only ADD CONSTRAINT … NOT NULL (PG 18) is its own action
      if (column === undefined) {
        out.add(notValid ? 'add-not-null-constraint-not-valid' : 'add-not-null-constraint', con, {
          ...base,
          column: names(con.keys)[0],
        });
      }
      return;
  }
}

/**
 * `USING col` or `USING col::<the new type>`: Postgres converts the column exactly as it would without
 * USING (the same cast, then nothing), so whether it rewrites depends on the types alone.
 */
function usingIsPlainConversion(expr: AnyNode, column: string, newType: TypeRef | undefined): boolean {
  const isColumn = (e: AnyNode) => {
    const fields = names(as(e, 'ColumnRef')?.fields);
    return fields.length === 1 && fields[0] === column;
  };
  if (isColumn(expr)) return true;
  const cast = as(expr, 'TypeCast');
  if (!cast || !isColumn(cast.arg) || !newType) return false;
  const to = typeRefFromAst(cast.typeName);
  return to !== undefined && formatTypeRef(to) === formatTypeRef(newType);
}

// CREATE TABLE / CREATE TABLE AS / SELECT INTO

function classifyCreateTable(s: NodeBody<'CreateStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (!table) return out.list;
  if (s.partbound && s.inhRelations?.length) {
    const parent = relationRef(as(s.inhRelations[0], 'RangeVar'), ctx.defaultSchema);
    if (parent) {
      out.add('create-table-partition-of', n, { relations: { parent, table }, location: parent.location });
      checkDefaultPartition(parent, s.partbound, n, ctx, out);
    }
  } else out.add('create-table', n, { relations: { table }, location: table.location });
  for (const fk of tableForeignKeys(s.tableElts)) {
    const referenced = relationRef(fk.pktable, ctx.defaultSchema);
    if (referenced && referenced.key !== table.key) {
      out.add('create-table-with-foreign-key', fk, {
        relations: { table, referenced },
        location: fk.location,
        constraint: fk.conname,
      });
    }
  }
  return out.list;
}

/** Foreign keys declared in a CREATE TABLE (column and table constraints). */
function tableForeignKeys(elts: AnyNode[] | undefined): AnyNode[] {
  const out: AnyNode[] = [];
  for (const e of elts ?? []) {
    const col = as(e, 'ColumnDef');
    if (col) {
      for (const c of col.constraints ?? []) {
        const con = as(c, 'Constraint');
        if (con?.contype === 'CONSTR_FOREIGN') out.push(con);
      }
      continue;
    }
    const con = as(e, 'Constraint');
    if (con?.contype === 'CONSTR_FOREIGN') out.push(con);
  }
  return out;
}

/** A new partition's bound is checked against the rows of the parent's default partition, when it has one. */
function checkDefaultPartition(
  parent: RelationRef,
  bound: AnyNode,
  node: AnyNode,
  ctx: ClassifyContext,
  out: ActionList,
) {
  const defaultPartition = ctx.defaultPartition(parent);
  if (!defaultPartition || bound?.is_default) return;
  out.add('check-default-partition', node, { relations: { parent, partition: defaultPartition } });
}

/** CREATE TABLE AS / CREATE MATERIALIZED VIEW (CREATE VIEW is a ViewStmt: nothing is read) */
function classifyCreateTableAs(s: NodeBody<'CreateTableAsStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  if (s.objtype !== 'OBJECT_TABLE' && s.objtype !== 'OBJECT_MATVIEW') return out.list;
  const op: OperationId = s.into?.skipData
    ? 'create-table-as-no-data'
    : s.objtype === 'OBJECT_MATVIEW'
      ? 'create-materialized-view'
      : 'create-table-as';
  for (const table of queryRelations(s.query, ctx.defaultSchema))
    out.add(op, n, { relations: { table }, location: table.location });
  return out.list;
}

/** SELECT … INTO new_table is CREATE TABLE AS; a plain SELECT reads what it names */
function classifySelect(
  s: NodeBody<'SelectStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  const out = new ActionList(ctx.pgVersion);
  if (!s.intoClause) {
    reads(s, undefined, ctx, n, out, stmt);
    return out.list;
  }
  for (const table of queryRelations(s, ctx.defaultSchema))
    out.add('create-table-as', n, { relations: { table }, location: table.location });
  return out.list;
}

/** CREATE VIEW analyses its query: it locks what the query reads (nothing is read yet) */
function classifyCreateView(
  s: NodeBody<'ViewStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  const out = new ActionList(ctx.pgVersion);
  reads(s.query, undefined, ctx, n, out, stmt);
  return out.list;
}

/** words that precede every relation a statement can read (FROM, JOIN, USING, a subquery, TABLE t) */
const MAY_READ = /\b(?:from|join|using|select|table)\b/i;

/**
 * A `read` of every relation `query` names besides `target` (which the statement writes, under a
 * stronger lock), and of the relations each known view among them reads.
 */
function reads(
  query: unknown,
  target: RelationRef | undefined,
  ctx: ClassifyContext,
  n: AnyNode,
  out: ActionList,
  stmt: Statement,
): void {
  // most data changes of a migration (INSERT … VALUES, UPDATE … SET … WHERE) read no other relation:
  // a look at the text spares walking their tree
  if (!MAY_READ.test(stmt.text)) return;
  for (const table of queryRelations(query, ctx.defaultSchema)) {
    if (table.key === target?.key) continue;
    out.add('read', n, { relations: { table }, location: table.location });
    for (const source of ctx.viewSources(table) ?? [])
      if (source.key !== target?.key)
        out.add('read', n, {
          relations: { table: { ...source, location: table.location } },
          location: table.location,
        });
  }
}

// indexes, DROP, RENAME

function classifyCreateIndex(s: NodeBody<'IndexStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (!table) return out.list;
  out.add(s.concurrent ? 'create-index-concurrently' : 'create-index', n, {
    relations: { table },
    location: table.location,
    detail: { concurrently: !!s.concurrent, ifNotExists: !!s.if_not_exists, unique: !!s.unique },
  });
  return out.list;
}

function classifyDrop(s: NodeBody<'DropStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  for (const obj of s.objects ?? []) {
    const list = names(as(obj, 'List')?.items);
    const r = relationFromNames(list, ctx.defaultSchema);
    if (!r) continue;
    if (s.removeType === 'OBJECT_INDEX') {
      out.add(s.concurrent ? 'drop-index-concurrently' : 'drop-index', n, {
        relations: { index: r },
        detail: { concurrently: !!s.concurrent, ifNotExists: !!s.missing_ok },
      });
    } else if (s.removeType === 'OBJECT_TABLE') {
      out.add('drop-table', n, { relations: { table: r }, detail: { ifNotExists: !!s.missing_ok } });
    } else if (s.removeType === 'OBJECT_VIEW' || s.removeType === 'OBJECT_MATVIEW') {
      out.add('drop-view', n, { relations: { table: r }, detail: { ifNotExists: !!s.missing_ok } });
    } else if (s.removeType === 'OBJECT_TRIGGER') {
      // [schema.]table.trigger
      const table = relationFromNames(list.slice(0, -1), ctx.defaultSchema);
      if (table)
        out.add('drop-trigger', n, { relations: { table }, detail: { ifNotExists: !!s.missing_ok } });
    }
  }
  return out.list;
}

function classifyRename(s: NodeBody<'RenameStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (!table) return out.list;
  if (s.renameType === 'OBJECT_TABLE')
    out.add('rename-table', n, { relations: { table }, location: table.location });
  else if (s.renameType === 'OBJECT_INDEX')
    out.add('rename-index', n, { relations: { index: table }, location: table.location });
  else if (s.renameType === 'OBJECT_COLUMN' && s.relationType === 'OBJECT_TABLE')
    out.add('rename-column', n, { relations: { table }, location: table.location, column: s.subname });
  else if (s.renameType === 'OBJECT_TABCONSTRAINT')
    out.add('rename-constraint', n, {
      relations: { table },
      location: table.location,
      constraint: s.subname,
    });
  return out.list;
}

function classifyReindex(s: NodeBody<'ReindexStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const concurrent = booleanOption(s.params, 'concurrently');
  // SCHEMA / DATABASE / SYSTEM name no table: every table they cover, each in a transaction of its own
  const many =
    s.kind === 'REINDEX_OBJECT_SCHEMA'
      ? setRef({ kind: 'schema', schema: s.name as string })
      : s.kind === 'REINDEX_OBJECT_DATABASE'
        ? setRef({ kind: 'database' })
        : s.kind === 'REINDEX_OBJECT_SYSTEM'
          ? setRef({ kind: 'system' })
          : undefined;
  if (many) {
    out.add(concurrent ? 'reindex-concurrently' : 'reindex-multiple', n, {
      relations: { table: many },
      detail: { concurrently: concurrent },
    });
    return out.list;
  }
  const r = relationRef(s.relation, ctx.defaultSchema);
  if (!r) return out.list;
  const role: RelationRole = s.kind === 'REINDEX_OBJECT_INDEX' ? 'index' : 'table';
  out.add(concurrent ? 'reindex-concurrently' : 'reindex', n, {
    relations: { [role]: r },
    location: r.location,
    detail: { concurrently: concurrent },
  });
  return out.list;
}

/** A boolean utility option (`(CONCURRENTLY)`, `(FULL false)`, `(FULL 0)`), read like Postgres' defGetBoolean. */
function booleanOption(options: AnyNode[] | undefined, name: string): boolean {
  const def = (options ?? []).map((o: AnyNode) => as(o, 'DefElem')).find((d: AnyNode) => d?.defname === name);
  if (!def) return false;
  if (def.arg === undefined) return true;
  const int = as(def.arg, 'Integer');
  if (int) return (int.ival ?? 0) !== 0;
  const text = String(as(def.arg, 'String')?.sval ?? as(def.arg, 'Boolean')?.boolval ?? 'true').toLowerCase();
  return !['false', 'off', 'f', 'no', 'n', '0'].includes(text);
}

// maintenance: VACUUM, ANALYZE, CLUSTER, REFRESH MATERIALIZED VIEW

function classifyVacuum(s: NodeBody<'VacuumStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const full = booleanOption(s.options, 'full');
  const op = !s.is_vacuumcmd ? 'analyze' : full ? 'vacuum-full' : 'vacuum';
  for (const vr of s.rels ?? []) {
    const table = relationRef(as(vr, 'VacuumRelation')?.relation, ctx.defaultSchema);
    if (table) out.add(op, n, { relations: { table }, location: table.location });
  }
  // without a table: every table of the database, one after another
  if (!s.rels?.length) out.add(op, n, { relations: { table: setRef({ kind: 'database' }) } });
  return out.list;
}

function classifyCluster(s: NodeBody<'ClusterStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (table) out.add('cluster', n, { relations: { table }, location: table.location });
  // without a table: every table clustered on an index before
  else out.add('cluster-all', n, { relations: { table: setRef({ kind: 'clustered' }) } });
  return out.list;
}

function classifyRefreshMatView(
  s: NodeBody<'RefreshMatViewStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (!table) return out.list;
  out.add(s.concurrent ? 'refresh-materialized-view-concurrently' : 'refresh-materialized-view', n, {
    relations: { table },
    location: table.location,
    detail: { concurrently: !!s.concurrent },
  });
  // the view's query runs again: it reads its sources (WITH NO DATA only empties the view)
  if (s.skipData) return out.list;
  const sources = ctx.viewSources(table) ?? [setRef({ kind: 'view-sources', view: table })];
  for (const source of sources)
    out.add('read', n, {
      relations: { table: { ...source, location: table.location } },
      location: table.location,
    });
  return out.list;
}

// triggers, comments, types

function classifyCreateTrigger(s: NodeBody<'CreateTrigStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (table) out.add('create-trigger', n, { relations: { table }, location: table.location });
  return out.list;
}

/** COMMENT ON TABLE t / COLUMN t.c locks the table; other objects' comments lock no table */
function classifyComment(s: NodeBody<'CommentStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const list = names(as(s.object, 'List')?.items);
  const tableNames =
    s.objtype === 'OBJECT_TABLE' ? list : s.objtype === 'OBJECT_COLUMN' ? list.slice(0, -1) : [];
  const table = relationFromNames(tableNames, ctx.defaultSchema);
  if (table) out.add('comment', n, { relations: { table } });
  return out.list;
}

function classifyAlterEnum(s: NodeBody<'AlterEnumStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  if (s.newVal !== undefined && !s.oldVal) {
    const newType = ctx.enumIsNewInTransaction(names(s.typeName));
    out.add(newType ? 'alter-type-add-value-new-type' : 'alter-type-add-value', n, { relations: {} });
  }
  return out.list;
}

// LOCK and data changes

/** LOCK TABLE takes the mode it names (1 = ACCESS SHARE … 8 = ACCESS EXCLUSIVE, the default) */
function classifyLock(s: NodeBody<'LockStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out: Action[] = [];
  const mode = LOCK_MODES[(s.mode ?? 8) - 1] ?? 'ACCESS EXCLUSIVE';
  for (const rv of s.relations ?? []) {
    const table = relationRef(as(rv, 'RangeVar'), ctx.defaultSchema);
    if (!table) continue;
    out.push({
      op: 'lock-table',
      facts: { ...operationFacts('lock-table', ctx.pgVersion), locks: [{ on: 'table', mode }] },
      node: n,
      relations: { table },
      location: table.location,
    });
  }
  return out;
}

function classifyTruncate(s: NodeBody<'TruncateStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  for (const rv of s.relations ?? []) {
    const table = relationRef(as(rv, 'RangeVar'), ctx.defaultSchema);
    if (table) out.add('truncate', n, { relations: { table }, location: table.location });
  }
  return out.list;
}

function classifyUpdate(
  s: NodeBody<'UpdateStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  return rowChange('update', s, ctx, n, stmt);
}

function classifyDelete(
  s: NodeBody<'DeleteStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  return rowChange('delete', s, ctx, n, stmt);
}

function rowChange(
  op: 'update' | 'delete',
  s: NodeBody<'UpdateStmt'> | NodeBody<'DeleteStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (table)
    out.add(op, n, {
      relations: { table },
      location: table.location,
      detail: { unfiltered: !s.whereClause },
    });
  reads(s, table, ctx, n, out, stmt);
  return out.list;
}

function classifyInsert(
  s: NodeBody<'InsertStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  return rowWrite('insert', s, ctx, n, stmt);
}

function classifyMerge(
  s: NodeBody<'MergeStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  return rowWrite('merge', s, ctx, n, stmt);
}

/** INSERT, MERGE: ROW EXCLUSIVE on the table written, and a read of everything else the statement names */
function rowWrite(
  op: 'insert' | 'merge',
  s: NodeBody<'InsertStmt'> | NodeBody<'MergeStmt'>,
  ctx: ClassifyContext,
  n: AnyNode,
  stmt: Statement,
): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const table = relationRef(s.relation, ctx.defaultSchema);
  if (table) out.add(op, n, { relations: { table }, location: table.location });
  reads(s, table, ctx, n, out, stmt);
  return out.list;
}

// ALTER DOMAIN

/**
 * ALTER DOMAIN: the constraints that check stored values lock and read every table with a column of
 * the domain (a set of relations the analyzer names where it knows them all).
 */
function classifyAlterDomain(s: NodeBody<'AlterDomainStmt'>, ctx: ClassifyContext, n: AnyNode): Action[] {
  const out = new ActionList(ctx.pgVersion);
  const domain = names(s.typeName);
  let op: OperationId | undefined;
  let constraint: string | undefined;
  let location: number | undefined;
  if (s.subtype === 'C') {
    const con = as(s.def, 'Constraint');
    constraint = con?.conname;
    location = con?.location;
    if (con?.contype === 'CONSTR_CHECK')
      op = con.skip_validation ? 'alter-domain-add-check-not-valid' : 'alter-domain-add-check';
    else if (con?.contype === 'CONSTR_NOTNULL') op = 'alter-domain-add-not-null';
  } else if (s.subtype === 'O') op = 'alter-domain-set-not-null';
  else if (s.subtype === 'V') {
    op = 'alter-domain-validate-constraint';
    constraint = s.name;
  }
  if (!op || domain.length === 0) return out.list;
  const base = { constraint, location, detail: { domain: domain.join('.') } as ActionDetail };
  if (operationFacts(op, ctx.pgVersion).locks.length === 0) {
    out.add(op, n, { ...base, relations: {} });
    return out.list;
  }
  // the analyzer names the tables it knows to be in the set
  out.add(op, n, {
    ...base,
    relations: { table: setRef({ kind: 'domain-users', domain: ctx.typeKey(domain) }) },
  });
  return out.list;
}

// expressions

const RANK: Record<Volatility | 'unknown', number> = { immutable: 0, stable: 1, unknown: 2, volatile: 3 };

/** The worst volatility of the functions an expression calls (constants and casts are immutable). */
export function expressionVolatility(expr: AnyNode): {
  volatility: Volatility | 'unknown';
  functions: string[];
} {
  let worst: Volatility | 'unknown' = 'immutable';
  const functions: string[] = [];
  const see = (v: Volatility | 'unknown', name: string) => {
    if (RANK[v] > RANK.immutable) functions.push(name);
    if (RANK[v] > RANK[worst]) worst = v;
  };
  walk(expr, (kind, body) => {
    if (kind === 'FuncCall') {
      const parts = names(body.funcname);
      const name = parts[parts.length - 1] ?? '';
      const schema = parts.length > 1 ? parts[0] : undefined;
      see(builtinVolatility(name, schema) ?? 'unknown', parts.join('.'));
    } else if (kind === 'SQLValueFunction') {
      see(sqlValueFunctionVolatility(body.op) ?? 'stable', String(body.op ?? '').replace(/^SVFOP_/, ''));
    } else if (kind === 'SubLink') {
      see('unknown', 'subquery');
      return false;
    }
    return true;
  });
  return { volatility: worst, functions };
}
