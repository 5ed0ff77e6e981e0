import { names } from '../../analyze/ast.js';
import { asNode, nodesOf } from '../../analyze/nodes.js';
import { defineRule } from '../define.js';
import { K, K_ARRAY, K_COMPOSITE, MULTIPLE_ASSIGNMENTS, specifiedTwice } from '../example-setups.js';
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

function resTargets(list: unknown[] | undefined): Target[] {
  const out: Target[] = [];
  for (const n of list ?? []) {
    const r = asNode(n, 'ResTarget');
    if (typeof r?.name === 'string')
      out.push({ name: r.name, partial: Boolean(r.indirection?.length), location: r.location });
  }
  return out;
}

/** The name Postgres gives an unnamed output column (FigureColname); undefined where we do not know it. */
function outputName(expr: unknown): string | undefined {
  const col = asNode(expr, 'ColumnRef');
  if (col) {
    const last = col.fields?.[col.fields.length - 1];
    return asNode(last, 'String')?.sval;
  }
  const fn = asNode(expr, 'FuncCall');
  if (fn) return names(fn.funcname).at(-1);
  const cast = asNode(expr, 'TypeCast');
  if (cast) {
    const inner = outputName(cast.arg);
    return inner !== undefined && inner !== '?column?' ? inner : names(cast.typeName?.names).at(-1);
  }
  const e = asNode(expr, 'A_Expr');
  if (e) return e.kind === 'AEXPR_NULLIF' ? 'nullif' : '?column?';
  if (
    asNode(expr, 'A_Const') ||
    asNode(expr, 'BoolExpr') ||
    asNode(expr, 'NullTest') ||
    asNode(expr, 'BooleanTest')
  )
    return '?column?';
  if (asNode(expr, 'CaseExpr')) return 'case';
  if (asNode(expr, 'CoalesceExpr')) return 'coalesce';
  if (asNode(expr, 'RowExpr')) return 'row';
  if (asNode(expr, 'A_ArrayExpr')) return 'array';
  return undefined;
}

/** The output columns of a query that defines a relation, as far as we can name them; undefined with a `*`. */
function queryColumns(query: unknown, aliases: string[]): Target[] | undefined {
  let select = asNode(query, 'SelectStmt');
  // a set operation's columns are named by its leftmost branch (`larg` is a bare SelectStmt body)
  while (select?.op && select.op !== 'SETOP_NONE') select = select.larg;
  if (!select?.targetList) return undefined;
  const out: Target[] = [];
  for (const [i, n] of select.targetList.entries()) {
    const r = asNode(n, 'ResTarget');
    if (asNode(r?.val, 'ColumnRef')?.fields?.some((f) => asNode(f, 'A_Star'))) return undefined;
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
  hazard: 'fails-deploy',
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
    'SelectStmt',
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
    {
      bad: 'UPDATE k SET a = 1, b = 2, a = 3;',
      setup: K,
      refuses: MULTIPLE_ASSIGNMENTS,
    },
    {
      title: 'identifiers fold to lower case',
      bad: 'UPDATE k SET a = 1, A = 2;',
      setup: K,
      refuses: MULTIPLE_ASSIGNMENTS,
    },
    {
      bad: 'UPDATE k SET (a, b) = (1, 2), a = 3;',
      setup: K,
      refuses: MULTIPLE_ASSIGNMENTS,
    },
    {
      title: 'the whole column and a part of it',
      bad: 'UPDATE k SET a = row(1, 2), a.x = 1;',
      setup: K_COMPOSITE,
      refuses: MULTIPLE_ASSIGNMENTS,
    },
    {
      bad: 'INSERT INTO k VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2;',
      setup: K,
      refuses: MULTIPLE_ASSIGNMENTS,
    },
    {
      bad: 'INSERT INTO k (a, b, a) VALUES (1, 2, 3);',
      setup: K,
      refuses: specifiedTwice('a'),
    },
    {
      bad: 'MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (a, a) VALUES (1, 2);',
      pg: { min: 15 },
      setup: `CREATE TABLE t (id int PRIMARY KEY, a int);
CREATE TABLE s (id int);
INSERT INTO s SELECT g FROM generate_series(1, 10) g;`,
      refuses: specifiedTwice('a'),
    },
    {
      bad: 'CREATE TABLE t (a int, a text);',
      refuses: specifiedTwice('a'),
    },
    {
      title: 'both output columns are named ?column?',
      bad: 'CREATE VIEW v AS SELECT 1, 2;',
      refuses: specifiedTwice('?column?'),
    },
    {
      bad: 'CREATE TABLE t2 AS SELECT t.id, u.id FROM t JOIN u ON u.t_id = t.id;',
      refuses: specifiedTwice('id'),
    },
    { ok: 'UPDATE k SET a = 1, b = 2;' },
    {
      title: 'different parts of one column',
      ok: 'UPDATE k SET a.x = 1, a.y = 2;',
      setup: K_COMPOSITE,
    },
    {
      ok: 'UPDATE k SET a[1] = 1, a[2] = 2;',
      setup: K_ARRAY,
    },
    { title: 'a quoted "A" is another column', ok: 'UPDATE k SET "A" = 1, A = 2;' },
    {
      ok: 'INSERT INTO k (a.x, a.y) VALUES (1, 2);',
      setup: K_COMPOSITE,
    },
    { title: 'the column list names the view’s columns', ok: 'CREATE VIEW v (a, b) AS SELECT 1 a, 2 a;' },
    { ok: 'CREATE VIEW v AS SELECT 1 a, 2 b;' },
    { title: 'a plain SELECT may repeat names', ok: 'SELECT 1, 2;' },
    {
      title: 'SELECT … INTO creates a table as CREATE TABLE … AS does',
      bad: 'SELECT 1 a, 2 a INTO z;',
      refuses: specifiedTwice('a'),
    },
    {
      title: 'a set operation is named by its first branch',
      bad: 'CREATE VIEW v AS SELECT 1 a, 2 a UNION SELECT 3, 4;',
      refuses: specifiedTwice('a'),
    },
    { ok: 'CREATE VIEW v AS SELECT 1 a, 2 b UNION SELECT 3 a, 3 a;' },
  ],
  check(facts, ctx) {
    const n = facts.statement.node;
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
        inspect(resTargets(asNode(n, 'UpdateStmt')?.targetList), 'assigned');
        break;
      case 'InsertStmt':
        inspect(resTargets(asNode(n, 'InsertStmt')?.cols), 'listed');
        inspect(resTargets(asNode(n, 'InsertStmt')?.onConflictClause?.targetList), 'assigned');
        break;
      case 'MergeStmt':
        for (const clause of nodesOf(asNode(n, 'MergeStmt')?.mergeWhenClauses, 'MergeWhenClause')) {
          if (clause?.commandType === 'CMD_INSERT') inspect(resTargets(clause.targetList), 'listed');
          else if (clause?.commandType === 'CMD_UPDATE') inspect(resTargets(clause.targetList), 'assigned');
        }
        break;
      case 'CreateStmt':
      case 'CreateForeignTableStmt': {
        const s = asNode(n, 'CreateStmt') ?? asNode(n, 'CreateForeignTableStmt')?.base;
        const cols: Target[] = [];
        for (const e of s?.tableElts ?? []) {
          const c = asNode(e, 'ColumnDef');
          if (c?.colname) cols.push({ name: c.colname, partial: false, location: c.location });
        }
        inspect(cols, 'declared');
        break;
      }
      case 'ViewStmt':
        inspect(
          queryColumns(asNode(n, 'ViewStmt')?.query, names(asNode(n, 'ViewStmt')?.aliases)),
          'declared',
        );
        break;
      case 'SelectStmt': {
        // SELECT … INTO creates a table from the query's columns, as CREATE TABLE … AS does
        const into = asNode(n, 'SelectStmt')?.intoClause;
        if (into) inspect(queryColumns(n, names(into.colNames)), 'declared');
        break;
      }
      case 'CreateTableAsStmt':
        inspect(
          queryColumns(
            asNode(n, 'CreateTableAsStmt')?.query,
            names(asNode(n, 'CreateTableAsStmt')?.into?.colNames),
          ),
          'declared',
        );
        break;
    }
  },
});
