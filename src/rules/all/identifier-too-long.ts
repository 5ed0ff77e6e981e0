import { defineRule } from '../define.js';
import { quoteIdent } from '../sql.js';

/** NAMEDATALEN - 1 */
const MAX_BYTES = 63;

const encoder = new TextEncoder();
const byteLength = (s: string) => encoder.encode(s).length;

/** What Postgres keeps of a long name: at most 63 bytes, cut at a character boundary (pg_mbcliplen). */
/**
 * Cheap pre-check that lets almost every statement skip the scan, in one pass without backtracking:
 * in ASCII, 64 bytes are 64 characters, so a name that long is a run of 64 name characters, or 64
 * characters inside double quotes; any non-ASCII character sends the statement to the full scan.
 */
function mayHoldLongIdentifier(sql: string): boolean {
  let run = 0;
  let quoted = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    if (c > 0x7f) return true;
    if (c === 34) {
      // `""` inside a quoted name is one `"` of the name
      if (quoted && sql.charCodeAt(i + 1) === 34) {
        i++;
        if (++run >= 64) return true;
        continue;
      }
      quoted = !quoted;
      run = 0;
      continue;
    }
    const nameChar =
      quoted || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
    run = nameChar ? run + 1 : 0;
    if (run >= 64) return true;
  }
  return false;
}

function truncated(name: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const n = byteLength(ch);
    if (bytes + n > MAX_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}

interface Identifier {
  /** the name as Postgres sees it before truncation (unquoted names folded to lower case) */
  name: string;
  /** char range in the statement text */
  start: number;
  end: number;
}

/**
 * The identifiers written in a statement's text. The parser has already truncated the names in the
 * AST, so they are read from the text: quoted identifiers and unquoted words, skipping comments,
 * string constants and dollar-quoted bodies.
 */
function identifiers(sql: string): Identifier[] {
  const out: Identifier[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i, i + 2);
    if (rest === '--') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (rest === '/*') {
      let depth = 0;
      while (i < sql.length) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          i += 2;
          if (--depth === 0) break;
        } else i++;
      }
    } else if (c === "'") {
      // E'…' allows backslash escapes; '' is a quote in both forms
      const escapes = /[eE]$/.test(sql.slice(Math.max(0, i - 1), i));
      i++;
      while (i < sql.length) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let name = '';
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          name += '"';
          j += 2;
        } else if (sql[j] === '"') break;
        else name += sql[j++];
      }
      out.push({ name, start: i, end: j + 1 });
      i = j + 1;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 70))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 70))![0];
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? sql.length : close + tag.length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9A-Za-z_.]+/.exec(sql.slice(i))!;
      i += m[0].length;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(i))!;
      out.push({ name: m[0].replace(/[A-Z]+/g, (u) => u.toLowerCase()), start: i, end: i + m[0].length });
      i += m[0].length;
    } else i++;
  }
  return out;
}

export default defineRule({
  id: 'identifier-too-long',
  equivalents: { squawk: ['identifier-too-long'] },
  // the name Postgres keeps differs from the one written; a clash fails only a later migration
  hazard: 'schema-design',
  verdict: 'safe',
  summary:
    'Postgres silently truncates identifiers longer than 63 bytes, so the object gets another name than the one written.',
  docs: {
    problem: `Identifiers — table, column, index, constraint and sequence names — are at most 63 **bytes** long
(\`NAMEDATALEN - 1\`). Postgres cuts longer ones to 63 bytes with only a NOTICE, so the object is created under a
name that appears nowhere in the code. Later statements that spell the full name still find it (they are cut the
same way), but:

- two names that differ only after the 63rd byte become the same name: the second \`CREATE INDEX\` or \`ADD
  CONSTRAINT\` fails with *already exists*, often only in production where the first one was created long ago;
- ORMs and schema-diff tools compare the full name with the catalog's, see a difference, and generate the change
  again on every run;
- names generated from long table and column names (\`…_fkey\`, \`…_idx\`) are cut too, sometimes into each other.

Bytes, not characters: a name of 16 emoji or 32 Cyrillic letters is already too long.`,
    solution: `Choose a name of at most 63 bytes, and name constraints and indexes explicitly when the table and column
names are long:

\`\`\`sql
ALTER TABLE customer_subscription_billing_events
  ADD CONSTRAINT csbe_invoice_fkey FOREIGN KEY (invoice_id) REFERENCES invoices (id) NOT VALID;
\`\`\``,
    tools: {
      prisma: 'Use `@@map`, `@map` and `map:` on `@@index` / `@relation` to give shorter database names.',
      drizzle:
        'drizzle-kit names foreign keys `<table>_<columns>_<foreign table>_<foreign columns>_fk`, which easily passes 63 bytes: declare long ones with `foreignKey({ columns, foreignColumns, name })` and give indexes short names.',
      knex: "Knex derives names such as `<table>_<column>_foreign` and `<table>_<column>_index`: pass a name — `.index(columns, 'name')`, `.foreign(column, 'name')`, `.unique(columns, { indexName })`.",
      typeorm:
        'Generated constraint and index names are short hashes (`FK_…`, `IDX_…`); names you write — `@Entity()`, `@Index()`, `@JoinColumn({ foreignKeyConstraintName })` — must stay within 63 bytes.',
      sequelize:
        'Sequelize derives index names from the table and fields (`<table>_<fields>`): pass `name` to `addIndex` and `addConstraint` for long tables and columns.',
      'node-pg-migrate':
        '`pgm.createIndex` infers `<table>_<columns>_index`: pass `name`, and `referencesConstraintName` for foreign keys of long columns.',
      alembic:
        'SQLAlchemy raises `IdentifierError` for a name longer than 63 characters instead of letting Postgres cut it: shorten the `naming_convention` tokens or pass `name=`.',
      django:
        'Django shortens the names it generates itself; set `db_table` / `name=` for the ones you write.',
      rails:
        'Rails before 7.1 raises for generated index names that are too long (7.1 shortens them); pass `name:` to `add_index`.',
    },
  },
  examples: [
    {
      bad: 'alter table t add column column_very_long_very_long_very_long_very_long_very_long_very_long bigint;',
    },
    {
      title: 'a doubled quote inside a quoted name is one character of it',
      bad: `create table "${'a'.repeat(63)}""b" (id bigint);`,
    },
    {
      bad: 'create table table_very_long_very_long_very_long_very_long_very_long_very_long (id bigint);',
    },
    {
      title: 'the table is dropped under its truncated name',
      bad: 'drop table table_very_long_very_long_very_long_very_long_very_long_very_long;',
    },
    {
      title: 'the limit counts bytes: 21 emoji of 4 bytes',
      bad: 'create table "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀" (id bigint);',
    },
    {
      title: 'an index name',
      bad: 'CREATE INDEX CONCURRENTLY customer_subscription_billing_events_customer_id_and_created_at_idx ON customer_subscription_billing_events (customer_id, created_at);',
    },
    {
      title: 'string constants and comments are not identifiers',
      ok: "COMMENT ON TABLE t /* a_comment_that_is_longer_than_sixty_three_bytes_is_not_an_identifier */ IS 'a_string_that_is_longer_than_sixty_three_bytes_is_not_an_identifier_either';",
    },
    {
      title: 'exactly 63 bytes',
      ok: 'create table t (abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefgh bigint);',
    },
  ],
  check(facts, ctx) {
    if (!mayHoldLongIdentifier(facts.statement.text)) return;
    const seen = new Set<string>();
    const base = facts.statement.start;
    for (const id of identifiers(facts.statement.text)) {
      const bytes = byteLength(id.name);
      if (bytes <= MAX_BYTES || seen.has(id.name)) continue;
      seen.add(id.name);
      ctx.report({
        statement: facts,
        at: { start: base + id.start, end: base + id.end },
        message: `${quoteIdent(id.name)} is ${bytes} bytes long; Postgres truncates identifiers to ${MAX_BYTES} bytes, so it becomes ${quoteIdent(truncated(id.name))}.`,
        help: `Use a name of at most ${MAX_BYTES} bytes.`,
      });
    }
  },
});
