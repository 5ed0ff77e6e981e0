import { type AnyNode, as, names } from '../../analyze/ast.js';
import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';

interface Target {
  name: string;
  /** `a.x = …`, `a[1] = …`: a part of the column */
  partial: boolean;
  location?: number;
}

/**
 * The first target that repeats an earlier one. Postgres lets several assignments change different parts of one
 * column (`a.x`, `a.y`; `a[1]`, `a[2]`), but not the whole column twice or the whole column and a part of it.
 */
function duplicate(targets: Target[]): Target | undefined {
  const seen = new Map<string, Target>();
  for (const t of targets) {
    const before = seen.get(t.name);
    if (before && !(before.partial && t.partial)) return t;
    if (!before || !t.partial) seen.set(t.name, t);
  }
  return undefined;
}

function resTargets(list: AnyNode[] | undefined): Target[] {
  const out: Target[] = [];
  for (const n of list ?? []) {
    const r = as(n, 'ResTarget');
    if (typeof r?.name === 'string')
      out.push({ name: r.name, partial: Boolean(r.indirection?.length), location: r.location });
  }
  return out;
}

/** The name Postgres gives an unnamed output column (FigureColname); undefined where we do not know it. */
function outputName(expr: AnyNode): string | undefined {
  const col = as(expr, 'ColumnRef');
  if (col) {
    const last = col.fields?.[col.fields.length - 1];
    return as(last, 'String')?.sval;
  }
  const fn = as(expr, 'FuncCall');
  if (fn) return names(fn.funcname).at(-1);
  const cast = as(expr, 'TypeCast');
  if (cast) {
    const inner = outputName(cast.arg);
    return inner !== undefined && inner !== '?column?' ? inner : names(cast.typeName?.names).at(-1);
  }
  const e = as(expr, 'A_Expr');
  if (e) return e.kind === 'AEXPR_NULLIF' ? 'nullif' : '?column?';
  if (as(expr, 'A_Const') || as(expr, 'BoolExpr') || as(expr, 'NullTest') || as(expr, 'BooleanTest'))
    return '?column?';
  if (as(expr, 'CaseExpr')) return 'case';
  if (as(expr, 'CoalesceExpr')) return 'coalesce';
  if (as(expr, 'RowExpr')) return 'row';
  if (as(expr, 'A_ArrayExpr')) return 'array';
  return undefined;
}

/** The output columns of a query that defines a relation, as far as we can name them; undefined with a `*`. */
function queryColumns(query: AnyNode, aliases: string[]): Target[] | undefined {
  let select = as(query, 'SelectStmt');
  while (select?.op && select.op !== 'SETOP_NONE') select = as(select.larg, 'SelectStmt');
  if (!select?.targetList) return undefined;
  const out: Target[] = [];
  for (const [i, n] of (select.targetList as AnyNode[]).entries()) {
    const r = as(n, 'ResTarget');
    if (as(r?.val, 'ColumnRef')?.fields?.some((f: AnyNode) => as(f, 'A_Star'))) return undefined;
    const name: string | undefined = aliases[i] ?? r?.name ?? outputName(r?.val);
    // an unknown name is never reported as a duplicate
    out.push({ name: name ?? `\0${i}`, partial: false, location: r?.location });
  }
  return out;
}

export default defineRule({
  id: 'duplicate-column-assignment',
  equivalents: {
    squawk: ['ban-duplicate-column-assignments'],
  },
  verdict: 'alternative',
  // the kinds `check` looks at
  on: [
    'UpdateStmt',
    'InsertStmt',
    'MergeStmt',
    'CreateStmt',
    'CreateForeignTableStmt',
    'ViewStmt',
    'CreateTableAsStmt',
  ],
  summary:
    'Assigning or declaring the same column twice in one statement makes Postgres reject it, failing the deploy.',
  docs: {
    problem: `Postgres rejects a statement that names the same column twice where each name must be unique:

- \`UPDATE … SET a = 1, a = 2\` (also in \`ON CONFLICT DO UPDATE\` and \`MERGE … UPDATE SET\`): *multiple
  assignments to same column "a"*; the same for the whole column and a part of it (\`a = row(1, 2), a.x = 1\`);
- \`INSERT INTO t (a, a)\`, \`MERGE … INSERT (a, a)\`: *column "a" specified more than once*;
- \`CREATE TABLE t (a int, a text)\`: *column "a" specified more than once*;
- a view or \`CREATE TABLE … AS\` whose query yields two columns of the same name — \`SELECT 1, 2\` names both
  \`?column?\`.

Nothing is locked: the statement fails, and with it the deploy — a migration that passed review stops halfway
(or rolls back) in production. Names follow Postgres' case rules: \`A\` and \`a\` are the same column, \`"A"\` is
another.`,
    solution: `Keep one assignment per column — decide which value was meant — and give every output column of a
view its own name:

\`\`\`sql
UPDATE k SET a = 2, b = 3;
CREATE VIEW v AS SELECT 1 AS one, 2 AS two;
\`\`\`

Different parts of one composite or array column may be assigned side by side (\`SET a.x = 1, a.y = 2\`).`,
  },
  examples: [
    { bad: 'UPDATE k SET a = 1, b = 2, a = 3;' },
    { title: 'identifiers fold to lower case', bad: 'UPDATE k SET a = 1, A = 2;' },
    { bad: 'UPDATE k SET (a, b) = (1, 2), a = 3;' },
    { title: 'the whole column and a part of it', bad: 'UPDATE k SET a = row(1, 2), a.x = 1;' },
    { bad: 'INSERT INTO k VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2;' },
    { bad: 'INSERT INTO k (a, b, a) VALUES (1, 2, 3);' },
    {
      bad: 'MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (a, a) VALUES (1, 2);',
      pg: { min: 15 },
    },
    { bad: 'CREATE TABLE t (a int, a text);' },
    { title: 'both output columns are named ?column?', bad: 'CREATE VIEW v AS SELECT 1, 2;' },
    { bad: 'CREATE TABLE t2 AS SELECT t.id, u.id FROM t JOIN u ON u.t_id = t.id;' },
    { ok: 'UPDATE k SET a = 1, b = 2;' },
    { title: 'different parts of one column', ok: 'UPDATE k SET a.x = 1, a.y = 2;' },
    { ok: 'UPDATE k SET a[1] = 1, a[2] = 2;' },
    { title: 'a quoted "A" is another column', ok: 'UPDATE k SET "A" = 1, A = 2;' },
    { ok: 'INSERT INTO k (a.x, a.y) VALUES (1, 2);' },
    { title: 'the column list names the view’s columns', ok: 'CREATE VIEW v (a, b) AS SELECT 1 a, 2 a;' },
    { ok: 'CREATE VIEW v AS SELECT 1 a, 2 b;' },
    { title: 'a plain SELECT may repeat names', ok: 'SELECT 1, 2;' },
  ],
  check(facts, ctx) {
    const n = facts.statement.node as AnyNode;
    const report = (t: Target, what: 'assigned' | 'listed' | 'declared') => {
      const name = t.name.startsWith('\0') ? '' : quoteIdent(t.name);
      ctx.report({
        statement: facts,
        location: t.location,
        message:
          what === 'assigned'
            ? `Column ${name} is assigned more than once: Postgres rejects the statement (multiple assignments to same column) and the migration fails.`
            : `Column ${name} is ${what} more than once: Postgres rejects the statement (column specified more than once) and the migration fails.`,
        help:
          what === 'declared'
            ? 'Give every column its own name (an alias for each output column of a query).'
            : 'Keep a single assignment per column.',
      });
    };
    const inspect = (targets: Target[] | undefined, what: 'assigned' | 'listed' | 'declared') => {
      const d = targets && duplicate(targets);
      if (d) report(d, what);
    };
    switch (facts.statement.kind) {
      case 'UpdateStmt':
        inspect(resTargets(n.UpdateStmt.targetList), 'assigned');
        break;
      case 'InsertStmt':
        inspect(resTargets(n.InsertStmt.cols), 'listed');
        inspect(resTargets(n.InsertStmt.onConflictClause?.targetList), 'assigned');
        break;
      case 'MergeStmt':
        for (const w of n.MergeStmt.mergeWhenClauses ?? []) {
          const clause = as(w, 'MergeWhenClause');
          if (clause?.commandType === 'CMD_INSERT') inspect(resTargets(clause.targetList), 'listed');
          else if (clause?.commandType === 'CMD_UPDATE') inspect(resTargets(clause.targetList), 'assigned');
        }
        break;
      case 'CreateStmt':
      case 'CreateForeignTableStmt': {
        const s = n.CreateStmt ?? n.CreateForeignTableStmt?.base;
        const cols: Target[] = [];
        for (const e of s?.tableElts ?? []) {
          const c = as(e, 'ColumnDef');
          if (c?.colname) cols.push({ name: c.colname, partial: false, location: c.location });
        }
        inspect(cols, 'declared');
        break;
      }
      case 'ViewStmt':
        inspect(queryColumns(n.ViewStmt.query, names(n.ViewStmt.aliases)), 'declared');
        break;
      case 'CreateTableAsStmt':
        inspect(
          queryColumns(n.CreateTableAsStmt.query, names(n.CreateTableAsStmt.into?.colNames)),
          'declared',
        );
        break;
    }
  },
});
