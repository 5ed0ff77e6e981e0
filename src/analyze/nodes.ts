/**
 * Typed accessors over libpg-query's JSON AST (`@pgsql/types`), for rules: every node is wrapped as
 * `{ Kind: body }`, and these narrow a node to the body of one kind, typed, so that field names and
 * enum values (`con.contype === 'CONSTR_FOREIGN'`) are checked by the compiler.
 */

import type { AlterTableCmd, AlterTableStmt, ColumnDef, Constraint, DropBehavior, Node } from '@pgsql/types';
import type { Statement } from '../parse/parse.js';
import { walk } from './ast.js';

type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/** The node kinds of the AST: `AlterTableStmt`, `Constraint`, `String`, … */
export type NodeKind = KeysOfUnion<Node> & string;

/** The body of a node of `kind`: `NodeBody<'Constraint'>` is `Constraint`. */
export type NodeBody<K extends NodeKind> = Node extends infer N
  ? N extends { [P in K]: infer B }
    ? B
    : never
  : never;

/** A node's kind and body, as a pair the compiler narrows together: `if (kind === 'A_Const') body.sval…`. */
export type KindAndBody = { [K in NodeKind]: [kind: K, body: NodeBody<K>] }[NodeKind];

/**
 * `walk`, typed: depth-first visit of every node under `root` (including root); stops descending where
 * `visit` returns false.
 */
export function walkNodes(root: unknown, visit: (...node: KindAndBody) => boolean | undefined): void {
  walk(root, visit as (kind: string, body: unknown) => boolean | undefined);
}

/** The body of `node` if it is a node of `kind` (`{ Constraint: {...} }` → the Constraint). */
export function asNode<K extends NodeKind>(node: unknown, kind: K): NodeBody<K> | undefined {
  if (node !== null && typeof node === 'object' && kind in node)
    return (node as Record<string, unknown>)[kind] as NodeBody<K>;
  return undefined;
}

/** The bodies of the nodes of `kind` in a list, in order; other nodes are skipped. */
export function nodesOf<K extends NodeKind>(list: readonly unknown[] | undefined, kind: K): NodeBody<K>[] {
  const out: NodeBody<K>[] = [];
  for (const n of list ?? []) {
    const body = asNode(n, kind);
    if (body !== undefined) out.push(body);
  }
  return out;
}

/** The statement's body if it is of `kind`: `statementOf(facts, 'AlterTableStmt')`. */
export function statementOf<K extends NodeKind>(
  facts: { statement: Pick<Statement, 'node'> },
  kind: K,
): NodeBody<K> | undefined {
  return asNode(facts.statement.node, kind);
}

/** The subcommands of an ALTER TABLE. */
export function alterCmds(stmt: AlterTableStmt | undefined): AlterTableCmd[] {
  return nodesOf(stmt?.cmds, 'AlterTableCmd');
}

/** `{ Constraint: {...} }` → the Constraint. */
export function constraintOf(node: unknown): Constraint | undefined {
  return asNode(node, 'Constraint');
}

/** The constraints of a list (a column's, a table's, a domain's), in order. */
export function constraintsOf(list: readonly unknown[] | undefined): Constraint[] {
  return nodesOf(list, 'Constraint');
}

/** The column an ALTER TABLE subcommand defines (ADD COLUMN, ALTER COLUMN TYPE's new type). */
export function columnDefOf(cmd: AlterTableCmd | undefined): ColumnDef | undefined {
  return asNode(cmd?.def, 'ColumnDef');
}

/**
 * The AST node of an action (`Action.node`), typed. The classifier stores either a whole statement
 * (`{ IndexStmt: {...} }`: read it with `asNode`) or, for ALTER TABLE subcommands and constraints, the
 * bare body: these two tell which body it is by its fields.
 */
export function actionCmd(action: { node: unknown }): AlterTableCmd | undefined {
  const n = action.node;
  return n !== null && typeof n === 'object' && 'subtype' in n ? (n as AlterTableCmd) : undefined;
}

/** The Constraint an action adds (ADD CONSTRAINT, a column's UNIQUE / PRIMARY KEY / REFERENCES). */
export function actionConstraint(action: { node: unknown }): Constraint | undefined {
  const n = action.node;
  return n !== null && typeof n === 'object' && 'contype' in n ? (n as Constraint) : undefined;
}

/** The behaviour (`DROP_CASCADE`, `DROP_RESTRICT`) a DROP or TRUNCATE statement asks for. */
export function dropBehavior(facts: { statement: Pick<Statement, 'node'> }): DropBehavior | undefined {
  const n = facts.statement.node;
  return (asNode(n, 'DropStmt') ?? asNode(n, 'TruncateStmt'))?.behavior;
}
