/**
 * What a rolled-back trace on the user's database would still leave behind. Postgres undoes a
 * transaction's writes, but not everything a statement does: sequences advance for good (nextval,
 * setval, and every insert that takes a serial or identity default), files written on the server
 * stay, dblink commits on its own connection, pg_terminate_backend ends a session at once. Such
 * statements are not traced there unless the user allows it.
 *
 * Statically known SQL only: a function defined in the database (or a trigger) that does any of
 * this is not seen. NOTIFY and pg_notify are fine: notifications are sent on commit only.
 */

import { type AnyNode, constValue, names, relationRef, walk } from '../analyze/ast.js';
import {
  DBLINK,
  NON_TRANSACTIONAL_FUNCTIONS as FUNCTIONS,
  SEQUENCE_FUNCTIONS,
  NON_TRANSACTIONAL_STATEMENTS as STATEMENTS,
} from '../catalog/non-transactional.js';
import { serialColumnType } from '../catalog/types.js';
import type { SourceFile, Statement } from '../parse/parse.js';

/** statements that define SQL for later instead of running it: calls in them do not happen now */
const DEFINITIONS = new Set([
  'CreateFunctionStmt',
  'ViewStmt',
  'RuleStmt',
  'CreateTrigStmt',
  'CreatePolicyStmt',
  'CreateDomainStmt',
]);

export interface SideEffect {
  /** e.g. `nextval('orders_id_seq') advances a sequence, which a rollback does not undo` */
  reason: string;
  /** 1-based line in the file, when known */
  line?: number;
}

/** What the detector needs to know about the database: columns whose default takes a sequence value. */
export type SequenceColumns = (relation: string) => Promise<string[]>;

/**
 * Follows one rolled-back trace: sequences and tables the migration created are its own (all of it
 * goes with the rollback), so using them is no side effect.
 */
export class SideEffectDetector {
  /** `schema.name` of sequences and tables created by statements that ran */
  private readonly created = new Set<string>();

  constructor(private readonly defaultSchema = 'public') {}

  /** Records what a statement that ran created (its relations, and the sequences of serial columns). */
  record(stmt: Statement, created: Iterable<string>): void {
    for (const c of created) this.created.add(c);
    walk(stmt.node, (kind, body) => {
      if (kind === 'CreateStmt') {
        const table = relationRef(body.relation, this.defaultSchema);
        for (const elt of body.tableElts ?? []) {
          const col = elt?.ColumnDef;
          if (!col || !table) continue;
          const type = names(col.typeName?.names).pop()?.toLowerCase() ?? '';
          const identity = (col.constraints ?? []).some(
            (c: AnyNode) => c?.Constraint?.contype === 'CONSTR_IDENTITY',
          );
          if (serialColumnType(type) !== undefined || identity)
            this.created.add(`${table.key.split('.')[0]}.${table.name}_${col.colname}_seq`);
        }
      }
      return true;
    });
  }

  /**
   * The side effects of `stmt` (and of the DO block or functions it runs, `embedded`), read from
   * its syntax tree; inserts into existing tables ask `sequenceColumns`.
   */
  async check(
    stmt: Statement,
    embedded: readonly Statement[],
    source: Pick<SourceFile, 'offsetOf' | 'position'>,
    sequenceColumns?: SequenceColumns,
  ): Promise<SideEffect[]> {
    const out: SideEffect[] = [];
    const seen = new Set<string>();
    const add = (reason: string, offset: number) => {
      if (seen.has(reason)) return;
      seen.add(reason);
      out.push({ reason, line: source.position(offset).line });
    };
    for (const s of [stmt, ...embedded]) {
      const statementEffect = STATEMENTS.get(s.kind);
      if (statementEffect) add(statementEffect, s.start);
      this.calls(s, add, source);
      this.copy(s, add);
      if (sequenceColumns) await this.inserts(s, add, sequenceColumns);
    }
    // PL/pgSQL expressions (`x := nextval('s')`) are not statements: the DO body's text is read too
    if (stmt.kind === 'DoStmt') {
      const body = doBody(stmt.node as AnyNode);
      if (body) {
        const re =
          /\b(nextval|setval|dblink\w*|lo_export|pg_file_\w+|pg_terminate_backend|pg_cancel_backend)\s*\(/gi;
        for (const m of body.text.matchAll(re)) {
          const name = m[1]!.toLowerCase();
          const offset = stmt.start + Math.max(0, stmt.text.indexOf(body.text)) + (m.index ?? 0);
          const already = out.some((e) => e.reason.startsWith(`${name}(`));
          if (!already && (SEQUENCE_FUNCTIONS.has(name) || FUNCTIONS.has(name) || name.startsWith('dblink')))
            add(`${name}(…) in the DO block ${FUNCTIONS.get(name) ?? DBLINK}`, offset);
        }
      }
    }
    return out;
  }

  private calls(
    s: Statement,
    add: (reason: string, offset: number) => void,
    source: Pick<SourceFile, 'offsetOf'>,
  ): void {
    if (DEFINITIONS.has(s.kind) || s.kind === 'CreateStmt') return;
    walk(s.node, (kind, body) => {
      // a column default is evaluated later, for rows inserted then
      if (kind === 'AlterTableCmd' && body.subtype === 'AT_ColumnDefault') return false;
      if (kind !== 'FuncCall') return true;
      const parts = names(body.funcname);
      const name = (parts[parts.length - 1] ?? '').toLowerCase();
      const at =
        typeof body.location === 'number' && body.location >= 0 ? source.offsetOf(s, body.location) : s.start;
      if (name.startsWith('dblink')) {
        add(`${name}(…) ${DBLINK}`, at);
        return true;
      }
      const why = FUNCTIONS.get(name);
      if (!why) return true;
      if (SEQUENCE_FUNCTIONS.has(name)) {
        const seq = sequenceName(body.args?.[0]);
        if (seq !== undefined && this.created.has(this.key(seq))) return true;
        add(`${name}(${seq === undefined ? '…' : `'${seq}'`}) ${why}`, at);
        return true;
      }
      add(`${name}(…) ${why}`, at);
      return true;
    });
  }

  private copy(s: Statement, add: (reason: string, offset: number) => void): void {
    if (s.kind !== 'CopyStmt') return;
    const c = (s.node as AnyNode).CopyStmt;
    if (c.is_program) add('COPY … PROGRAM runs a program on the database server', s.start);
    else if (c.filename && !c.is_from) add('COPY … TO a file writes it on the database server', s.start);
  }

  /** INSERT into an existing table whose serial or identity column takes its default: a sequence advances. */
  private async inserts(
    s: Statement,
    add: (reason: string, offset: number) => void,
    sequenceColumns: SequenceColumns,
  ): Promise<void> {
    if (s.kind !== 'InsertStmt') return;
    const ins = (s.node as AnyNode).InsertStmt;
    const table = relationRef(ins.relation, this.defaultSchema);
    if (!table || this.created.has(table.key)) return;
    const given = new Set<string>((ins.cols ?? []).map((c: AnyNode) => String(c?.ResTarget?.name ?? '')));
    let usesDefault = false;
    walk(ins.selectStmt, (kind) => {
      if (kind === 'SetToDefault') usesDefault = true;
      return !usesDefault;
    });
    let columns: string[];
    try {
      columns = await sequenceColumns(table.schema ? `${table.schema}.${table.name}` : table.name);
    } catch {
      return;
    }
    const defaulted = columns.filter((c) => usesDefault || !given.has(c) || given.size === 0);
    if (defaulted.length > 0)
      add(
        `INSERT into ${table.display} takes the default of ${defaulted.join(', ')}, which advances a sequence that a rollback does not undo`,
        s.start,
      );
  }

  private key(name: string): string {
    return name.includes('.') ? name : `${this.defaultSchema}.${name}`;
  }
}

/** The sequence a `nextval('s')` / `nextval('s'::regclass)` call names, lower-cased unless quoted. */
function sequenceName(arg: unknown): string | undefined {
  let node = arg as AnyNode;
  while (node?.TypeCast) node = node.TypeCast.arg;
  const v = constValue(node);
  if (typeof v !== 'string') return undefined;
  return v
    .split('.')
    .map((p) => (/^".*"$/.test(p) ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase()))
    .join('.');
}

function doBody(node: AnyNode): { text: string } | undefined {
  for (const arg of node?.DoStmt?.args ?? []) {
    const d = arg?.DefElem;
    if (d?.defname === 'as') {
      const text = d.arg?.String?.sval;
      if (typeof text === 'string') return { text };
    }
  }
  return undefined;
}

/** Columns whose default takes a value from a sequence (serial, nextval default, identity). */
export function sequenceColumnsSql(relationLiteral: string): string {
  return `SELECT a.attname AS name FROM pg_attribute a
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attrelid = to_regclass(${relationLiteral}) AND a.attnum > 0 AND NOT a.attisdropped
    AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) ~* 'nextval\\(')
  ORDER BY a.attnum`;
}
