import type { ColumnDef, Constraint, ConstrType, TypeName } from '@pgsql/types';
import type { StatementFacts } from '../../analyze/analyze.js';
import { type RelationRef, relationRef } from '../../analyze/ast.js';
import { alterCmds, asNode, columnDefOf, constraintsOf, statementOf } from '../../analyze/nodes.js';
import { type TypeRef, typeRefFromAst } from '../../catalog/types.js';
import type { Fix } from '../../diagnostics.js';
import { defineRule, type RuleContext } from '../define.js';
import { quoteIdent } from '../sql.js';

/** A column type written in CREATE TABLE, ALTER TABLE … ADD COLUMN or ALTER COLUMN … TYPE. */
export interface WrittenColumnType {
  /** `create`: CREATE TABLE; `add`: ADD COLUMN; `alter`: ALTER COLUMN … TYPE */
  where: 'create' | 'add' | 'alter';
  table: RelationRef;
  column: string;
  /** the ColumnDef */
  def: ColumnDef;
  typeName: TypeName;
  type: TypeRef;
  /** the CREATE TABLE's table-level constraints (empty otherwise) */
  tableConstraints: Constraint[];
}

/**
 * per statement: six type rules ask for the same list, and walking the AST six times showed in profiles.
 * Rules see one statement at a time, so the last statement's list is the only one worth keeping
 * (a WeakMap entry per statement is work for the GC, which treats WeakMap entries specially).
 */
let cachedFacts: StatementFacts | undefined;
let cachedTypes: readonly WrittenColumnType[] = [];

/** Column types the statement writes (CREATE [FOREIGN] TABLE, ADD COLUMN, ALTER COLUMN … TYPE). */
export function writtenColumnTypes(facts: StatementFacts): readonly WrittenColumnType[] {
  if (cachedFacts !== facts) {
    cachedTypes = collectWrittenColumnTypes(facts);
    cachedFacts = facts;
  }
  return cachedTypes;
}

function collectWrittenColumnTypes(facts: StatementFacts): WrittenColumnType[] {
  const schema = facts.state.defaultSchema;
  const out: WrittenColumnType[] = [];
  const push = (
    where: WrittenColumnType['where'],
    table: RelationRef | undefined,
    def: ColumnDef,
    column: string | undefined,
    tableConstraints: Constraint[] = [],
  ) => {
    const typeName = def.typeName;
    const type = typeRefFromAst(typeName);
    if (!table || !type || !column || !typeName) return;
    out.push({ where, table, column, def, typeName, type, tableConstraints });
  };
  const create = statementOf(facts, 'CreateStmt') ?? statementOf(facts, 'CreateForeignTableStmt')?.base;
  if (create) {
    const table = relationRef(create.relation, schema);
    const elts = create.tableElts ?? [];
    const constraints = constraintsOf(elts);
    for (const e of elts) {
      const def = asNode(e, 'ColumnDef');
      if (def) push('create', table, def, def.colname, constraints);
    }
  }
  const alter = statementOf(facts, 'AlterTableStmt');
  if (alter && (alter.objtype === 'OBJECT_TABLE' || alter.objtype === 'OBJECT_FOREIGN_TABLE')) {
    const table = relationRef(alter.relation, schema);
    for (const cmd of alterCmds(alter)) {
      const def = columnDefOf(cmd);
      if (!def) continue;
      if (cmd.subtype === 'AT_AddColumn') push('add', table, def, def.colname);
      else if (cmd.subtype === 'AT_AlterColumnType') push('alter', table, def, cmd.name);
    }
  }
  return out;
}

/** The column's inline constraints of one kind (`CONSTR_PRIMARY`, …). */
export function inlineConstraints(c: WrittenColumnType, contype: ConstrType): Constraint[] {
  return constraintsOf(c.def.constraints).filter((x) => x.contype === contype);
}

const CONTINUATION_WORDS = new Set(['varying', 'precision', 'character', 'char']);

/**
 * Where a type is written: from its first char to the end of its name, typmods and
 * `with[out] time zone` (`baseEnd`), before any array bounds. Undefined when the text is not the
 * plain shape expected (comments inside the type, …): no fix is offered then.
 */
export function typeSpan(
  ctx: RuleContext,
  facts: StatementFacts,
  typeName: TypeName,
): { start: number; baseEnd: number } | undefined {
  if (typeof typeName?.location !== 'number' || typeName.location < 0) return undefined;
  const sql = ctx.file.sql;
  const start = ctx.file.offsetOf(facts.statement, typeName.location);
  let i = start;
  // whitespace and comments (a comment inside the type makes the span unfixable, see below)
  const ws = () => {
    for (;;) {
      while (i < sql.length && /\s/.test(sql[i]!)) i++;
      if (sql.startsWith('--', i)) {
        const nl = sql.indexOf('\n', i);
        i = nl < 0 ? sql.length : nl + 1;
      } else if (sql.startsWith('/*', i)) {
        const close = sql.indexOf('*/', i + 2);
        i = close < 0 ? sql.length : close + 2;
      } else return;
    }
  };
  const word = (): string | undefined => {
    if (sql[i] === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0 || sql[end + 1] === '"') return undefined;
      const w = sql.slice(i + 1, end);
      i = end + 1;
      return w;
    }
    const m = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(i, i + 200));
    if (!m) return undefined;
    i += m[0].length;
    return m[0].toLowerCase();
  };
  if (word() === undefined) return undefined;
  let end = i;
  // qualified names and multi-word names (`pg_catalog.varchar`, `character varying`, `national character`)
  for (;;) {
    ws();
    if (sql[i] === '.') {
      i++;
      ws();
      if (word() === undefined) return undefined;
      end = i;
      continue;
    }
    const save = i;
    const w = word();
    if (w !== undefined && CONTINUATION_WORDS.has(w)) {
      end = i;
      continue;
    }
    i = save;
    break;
  }
  i = end;
  ws();
  if (sql[i] === '(') {
    const close = sql.indexOf(')', i);
    if (close < 0 || /[('"/-]/.test(sql.slice(i + 1, close))) return undefined;
    end = close + 1;
  }
  i = end;
  ws();
  const save = i;
  const w1 = word();
  if (w1 === 'with' || w1 === 'without') {
    ws();
    const w2 = word();
    ws();
    const w3 = word();
    if (w2 === 'time' && w3 === 'zone') end = i;
  }
  i = save;
  if (/--|\/\*/.test(sql.slice(start, end))) return undefined;
  return { start, baseEnd: end };
}

/** A fix replacing a column's type (without its array bounds) by `text`. */
export function replaceTypeFix(
  ctx: RuleContext,
  facts: StatementFacts,
  typeName: TypeName,
  text: string,
  title: string,
): Fix | undefined {
  const span = typeSpan(ctx, facts, typeName);
  if (!span) return undefined;
  return { title, edits: [{ start: span.start, end: span.baseEnd, text }] };
}

/** `users.name` for messages */
export function columnLabel(c: WrittenColumnType): string {
  return `${c.table.display}.${quoteIdent(c.column)}`;
}

export default defineRule({
  id: 'prefer-text-over-char',
  equivalents: { squawk: ['ban-char-field'] },
  hazard: 'schema-design',
  verdict: 'safe',
  fixSafety: {
    level: 'unsafe',
    why: 'the column gets another type: values are no longer padded with spaces, and comparisons change.',
  },
  summary:
    'char(n) pads every value with spaces and is no faster than text or varchar(n); use those instead.',
  on: ['CreateStmt', 'CreateForeignTableStmt', 'AlterTableStmt'],
  docs: {
    problem: `\`char(n)\` (\`character(n)\`, \`bpchar(n)\`; plain \`char\` is \`char(1)\`) stores every value padded with
spaces to \`n\` characters. The padding wastes space and makes comparisons surprising: trailing spaces are
insignificant when \`char(n)\` values are compared and are dropped when a value is converted to \`text\`, while the
application reads the padded value and compares it in code as it is.

Postgres stores all three string types the same way, so \`char(n)\` is never faster; its documentation says
"*there is no such advantage in PostgreSQL; in fact character(n) is usually the slowest of the three*". Its
length can also not be raised without a table rewrite later, unlike that of \`varchar(n)\`.

Nothing is locked for longer because of the type: this is advice about the schema, not about the migration.`,
    solution: `Use \`text\`, or \`varchar(n)\` when the length limit matters (or \`text\` with a CHECK, see
\`prefer-text-over-varchar\`):

\`\`\`sql
CREATE TABLE countries (
  code varchar(2) NOT NULL,   -- instead of char(2)
  name text NOT NULL
);
\`\`\`

The fix keeps the declared limit: \`char(n)\` becomes \`varchar(n)\` (plain \`char\` is \`char(1)\`, so it becomes
\`varchar(1)\`), and \`bpchar\` without a length, which has no limit, becomes \`text\`. Values are then no longer
padded: code that relied on the padding (comparing with a padded literal in the application) must trim.
The internal one-byte type \`"char"\` (quoted) is a different type and is not reported.`,
    tools: {
      prisma: '`@db.Char(2)` → `@db.VarChar(2)`, or drop the native type to get `text`.',
      drizzle: "`char('code', { length: 2 })` → `varchar('code', { length: 2 })`, or `text('code')`.",
      typeorm:
        "`@Column({ type: 'char', length: 2 })` → `@Column({ type: 'varchar', length: 2 })` or `type: 'text'`.",
      sequelize: '`DataTypes.CHAR(2)` → `DataTypes.STRING(2)`, or `DataTypes.TEXT`.',
      alembic: '`sa.CHAR(2)` → `sa.String(2)`, or `sa.Text()`.',
      django: '`CharField` maps to `varchar(n)` already; this only comes from raw SQL or a custom field.',
      rails: '`t.column :code, "char(2)"` → `t.string :code, limit: 2`.',
    },
  },
  examples: [
    {
      bad: 'CREATE TABLE t (c char(100));',
      fixed: 'CREATE TABLE t (c varchar(100));',
    },
    {
      title: 'bpchar without a length has no limit',
      bad: 'CREATE TABLE t (c bpchar);',
      fixed: 'CREATE TABLE t (c text);',
    },
    {
      title: 'plain char is char(1): the fix keeps the limit',
      bad: 'ALTER TABLE t ADD COLUMN c char;',
      fixed: 'ALTER TABLE t ADD COLUMN c varchar(1);',
    },
    {
      title: 'every spelling, and arrays',
      bad: 'CREATE TABLE t (a CHARACTER(100), b bpchar(255) NOT NULL, c char[], d national character(3), e pg_catalog.bpchar(50));',
      fixed:
        'CREATE TABLE t (a varchar(100), b varchar(255) NOT NULL, c varchar(1)[], d varchar(3), e varchar(50));',
    },
    {
      title: 'changing a column to char',
      bad: 'ALTER TABLE t ALTER COLUMN c TYPE char(10);',
      fixed: 'ALTER TABLE t ALTER COLUMN c TYPE varchar(10);',
    },
    {
      title: 'text, varchar and the internal "char" type',
      ok: 'CREATE TABLE t (a text, b varchar(10), c varchar, d "char", e pg_catalog.char);',
    },
  ],
  check(facts, ctx) {
    for (const c of writtenColumnTypes(facts)) {
      if (c.type.name !== 'bpchar') continue;
      const n = c.type.typmods[0];
      const replacement = n === undefined ? 'text' : `varchar(${n})`;
      ctx.report({
        statement: facts,
        location: c.typeName.location,
        message: `${columnLabel(c)} is ${n === undefined ? 'bpchar' : `char(${n})`}: values are padded with spaces and the type has no advantage over ${replacement}.`,
        help: `Use ${replacement}${n === undefined ? '' : ' (or text with a CHECK on char_length)'}.`,
        fix: replaceTypeFix(ctx, facts, c.typeName, replacement, `Use ${replacement}`),
      });
    }
  },
});
