/**
 * Reads Postgres facts out of a real Postgres (PGlite, in-process) and writes them as data:
 *
 *   src/catalog/generated/functions.ts  volatility of the built-in functions in pg_catalog, by name
 *   src/catalog/generated/casts.ts      built-in types, binary-coercible casts, typmod semantics,
 *                                       SQL type-name spellings, serial pseudo-types, default btree opclasses
 *
 * Run: npx tsx scripts/generate-catalog.ts
 *
 * Everything emitted is either read from the system catalogs or observed by running SQL. The few
 * things that are Postgres C code rather than catalog rows (what each typmod support function
 * accepts as a no-op) live in src/catalog/types.ts; this script fails loudly when the catalog
 * shows a support function or typmod input function it does not know, so that a new Postgres
 * version cannot silently change the rules.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'src/catalog/generated');
const SCRIPT = 'scripts/generate-catalog.ts';

/** Return types that only make sense for functions the executor calls itself (never in an expression). */
const INTERNAL_RETURN_TYPES = [
  'internal',
  'trigger',
  'event_trigger',
  'language_handler',
  'fdw_handler',
  'index_am_handler',
  'tsm_handler',
  'table_am_handler',
];

/** What a type's typmod means, keyed by its typmod input function (pg_type.typmodin). */
const TYPMODIN_KIND: Record<string, TypmodKind> = {
  bpchartypmodin: 'length',
  varchartypmodin: 'length',
  bittypmodin: 'length',
  varbittypmodin: 'length',
  numerictypmodin: 'numeric',
  timetypmodin: 'precision',
  timetztypmodin: 'precision',
  timestamptypmodin: 'precision',
  timestamptztypmodin: 'precision',
  intervaltypmodin: 'interval',
};

/**
 * Planner support functions of the length-coercion casts whose no-op rule src/catalog/types.ts
 * implements (each decides when a typmod change is a relabel instead of a per-row call).
 */
const KNOWN_SUPPORT: Record<string, TypmodKind> = {
  varchar_support: 'length',
  varbit_support: 'length',
  numeric_support: 'numeric',
  time_support: 'precision',
  timestamp_support: 'precision',
  interval_support: 'interval',
};

type TypmodKind = 'length' | 'numeric' | 'precision' | 'interval';

/** Ways SQL spells built-in types. Each is resolved by Postgres itself (a column declared with it). */
const SQL_SPELLINGS = [
  'smallint',
  'int2',
  'int',
  'integer',
  'int4',
  'bigint',
  'int8',
  'real',
  'float4',
  'float',
  'double precision',
  'float8',
  'decimal',
  'dec',
  'numeric',
  'boolean',
  'bool',
  'character varying',
  'char varying',
  'national character varying',
  'national char varying',
  'nchar varying',
  'varchar',
  'character',
  'char',
  'national character',
  'national char',
  'nchar',
  'bpchar',
  '"char"',
  'text',
  'name',
  'bytea',
  'timestamp',
  'timestamp without time zone',
  'timestamp with time zone',
  'timestamptz',
  'time',
  'time without time zone',
  'time with time zone',
  'timetz',
  'date',
  'interval',
  'bit',
  'bit varying',
  'varbit',
  'json',
  'jsonb',
  'uuid',
  'xml',
  'inet',
  'cidr',
  'macaddr',
  'money',
  'oid',
];

/** The serial family: column-definition shorthand (an integer column + sequence + default), not types. */
const SERIAL_SPELLINGS = ['smallserial', 'serial2', 'serial', 'serial4', 'bigserial', 'serial8'];

/** Interval field clauses, as written after `interval`. */
const INTERVAL_FIELD_SPELLINGS = [
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'year to month',
  'day to hour',
  'day to minute',
  'day to second',
  'hour to minute',
  'hour to second',
  'minute to second',
];

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function fail(message: string): never {
  throw new Error(`generate-catalog: ${message}`);
}

/** Names as a wrapped, space-separated template literal (diff-friendly, small). */
function wrapNames(names: string[]): string {
  for (const n of names)
    if (!/^[A-Za-z0-9_]+$/.test(n)) fail(`unexpected character in name ${JSON.stringify(n)}`);
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    if (line && line.length + 1 + n.length > 100) {
      lines.push(line);
      line = n;
    } else line = line ? `${line} ${n}` : n;
  }
  if (line) lines.push(line);
  return `\`\n${lines.join('\n')}\n\``;
}

/** A single-quoted TypeScript string literal. */
function q(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function header(serverVersion: string, pgliteVersion: string, what: string): string {
  return [
    `// GENERATED FILE, do not edit. ${what}`,
    `// Produced by ${SCRIPT} from PostgreSQL ${serverVersion} (PGlite ${pgliteVersion}, in-process).`,
    `// Regenerate: npx tsx ${SCRIPT}`,
    '',
    `export const GENERATED_FROM = { script: ${q(SCRIPT)}, postgres: ${q(serverVersion)}, pglite: ${q(pgliteVersion)} } as const;`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const db = await PGlite.create();
  const rows = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await db.query<T>(sql, params)).rows;

  const [{ server_version: serverVersion }] = (await rows<{ server_version: string }>(
    'SHOW server_version',
  )) as [{ server_version: string }];
  const [{ version }] = (await rows<{ version: string }>('SELECT version()')) as [{ version: string }];
  const pgliteVersion = /PGlite ([0-9][^ )]*)/.exec(version)?.[1] ?? fail(`no PGlite version in ${version}`);

  // ---------------------------------------------------------------- functions
  const fnRows = await rows<{ proname: string; vols: string[] }>(
    `SELECT p.proname, array_agg(DISTINCT p.provolatile::text) AS vols
       FROM pg_catalog.pg_proc p
      WHERE p.pronamespace = 'pg_catalog'::regnamespace
        AND p.prokind = 'f'
        AND NOT ('internal'::regtype = ANY (p.proargtypes::oid[]))
        AND p.prorettype <> ALL ($1::regtype[])
      GROUP BY p.proname`,
    [INTERNAL_RETURN_TYPES],
  );
  const immutable: string[] = [];
  const stable: string[] = [];
  const volatile: string[] = [];
  for (const { proname, vols } of fnRows) {
    if (vols.includes('v')) volatile.push(proname);
    else if (vols.includes('s')) stable.push(proname);
    else if (vols.every((v) => v === 'i')) immutable.push(proname);
    else fail(`unexpected provolatile ${vols.join(',')} for ${proname}`);
  }
  for (const list of [immutable, stable, volatile]) list.sort(byCodeUnit);

  const functionsTs = [
    header(serverVersion, pgliteVersion, 'Volatility of built-in functions (pg_proc.provolatile).'),
    '// Functions of pg_catalog with prokind = f, grouped by name over all overloads. Left out: overloads',
    '// taking `internal` and those returning internal/trigger/handler types (callable only by the executor).',
    '// Names are pg_proc.proname, exactly as stored (compare against parsed, already case-folded identifiers).',
    '',
    '/** Names whose every overload is IMMUTABLE. */',
    `export const IMMUTABLE_FUNCTIONS = ${wrapNames(immutable)};`,
    '',
    '/** Names with at least one STABLE overload and no VOLATILE one. */',
    `export const STABLE_FUNCTIONS = ${wrapNames(stable)};`,
    '',
    '/** Names with at least one VOLATILE overload. */',
    `export const VOLATILE_FUNCTIONS = ${wrapNames(volatile)};`,
    '',
  ].join('\n');

  // ---------------------------------------------------------------- types
  const typeRows = await rows<{ typname: string; typmodin: string }>(
    `SELECT t.typname, t.typmodin::regproc::text AS typmodin
       FROM pg_catalog.pg_type t
      WHERE t.typnamespace = 'pg_catalog'::regnamespace
        AND t.typtype IN ('b', 'r', 'm')
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
      ORDER BY t.typname`,
  );
  const builtinTypes = typeRows.map((r) => r.typname).sort(byCodeUnit);

  // binary-coercible casts
  const castRows = await rows<{ source: string; target: string; context: string; ns: string }>(
    `SELECT s.typname AS source, t.typname AS target, c.castcontext::text AS context,
            (s.typnamespace = 'pg_catalog'::regnamespace AND t.typnamespace = 'pg_catalog'::regnamespace)::text AS ns
       FROM pg_catalog.pg_cast c
       JOIN pg_catalog.pg_type s ON s.oid = c.castsource
       JOIN pg_catalog.pg_type t ON t.oid = c.casttarget
      WHERE c.castmethod = 'b'`,
  );
  const casts = castRows
    .map((r) => {
      if (r.ns !== 'true') fail(`binary cast outside pg_catalog: ${r.source} -> ${r.target}`);
      return [r.source, r.target, r.context] as const;
    })
    .sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1]));

  // typmod semantics: typmodin + the length-coercion cast (castsource = casttarget) and its support function
  const coercionRows = await rows<{ typname: string; coercion: string; support: string }>(
    `SELECT t.typname, p.proname AS coercion, p.prosupport::regproc::text AS support
       FROM pg_catalog.pg_cast c
       JOIN pg_catalog.pg_type t ON t.oid = c.castsource
       JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
      WHERE c.castsource = c.casttarget AND t.typnamespace = 'pg_catalog'::regnamespace`,
  );
  const coercionByType = new Map(coercionRows.map((r) => [r.typname, r]));
  const typmodTypes: Record<string, { kind: TypmodKind; coercion: string; support: string | null }> = {};
  for (const { typname, typmodin } of typeRows) {
    if (typmodin === '-') {
      if (coercionByType.has(typname)) fail(`${typname} has a length coercion but no typmodin`);
      continue;
    }
    const kind = TYPMODIN_KIND[typmodin] ?? fail(`unknown typmod input function ${typmodin} of ${typname}`);
    const c =
      coercionByType.get(typname) ?? fail(`${typname} has typmodin ${typmodin} but no length coercion`);
    const support = c.support === '-' ? null : c.support;
    if (support !== null && KNOWN_SUPPORT[support] !== kind) {
      fail(`unknown support function ${support} for ${typname}: teach src/catalog/types.ts its rule`);
    }
    typmodTypes[typname] = { kind, coercion: c.coercion, support };
  }
  for (const name of coercionByType.keys()) {
    if (!typmodTypes[name]) fail(`length coercion for ${name}, which is not a listed built-in type`);
  }

  // maximum fractional-seconds precision: ask for 1000 and see what Postgres stores (it clamps, with a warning)
  const precisionTypes = Object.entries(typmodTypes)
    .filter(([, v]) => v.kind === 'precision' || v.kind === 'interval')
    .map(([k]) => k)
    .sort(byCodeUnit);
  await db.exec(
    // unquoted: the grammar turns `interval(p)` into [full range, p], while a quoted "interval"(p) would read p as a range
    `CREATE TEMP TABLE gen_precision (${precisionTypes.map((t, i) => `c${i} ${t}(1000)`).join(', ')})`,
  );
  const maxPrecision: Record<string, number> = {};
  for (const r of await rows<{ attname: string; atttypmod: number }>(
    `SELECT attname, atttypmod FROM pg_catalog.pg_attribute WHERE attrelid = 'gen_precision'::regclass AND attnum > 0`,
  )) {
    const t = precisionTypes[Number(r.attname.slice(1))]!;
    maxPrecision[t] = typmodTypes[t]!.kind === 'interval' ? r.atttypmod & 0xffff : r.atttypmod;
  }

  // interval typmods: (range mask << 16) | precision; read both off declared columns
  const intervalDecls = [...INTERVAL_FIELD_SPELLINGS.map((f) => `interval ${f}`), 'interval(1)'];
  await db.exec(`CREATE TEMP TABLE gen_interval (${intervalDecls.map((d, i) => `c${i} ${d}`).join(', ')})`);
  const intervalFields: Record<string, number> = {};
  let intervalFullRange = -1;
  let intervalFullPrecision = -1;
  for (const r of await rows<{ attname: string; atttypmod: number }>(
    `SELECT attname, atttypmod FROM pg_catalog.pg_attribute WHERE attrelid = 'gen_interval'::regclass AND attnum > 0`,
  )) {
    const i = Number(r.attname.slice(1));
    const mask = r.atttypmod >>> 16;
    if (i < INTERVAL_FIELD_SPELLINGS.length) {
      intervalFields[INTERVAL_FIELD_SPELLINGS[i]!] = mask;
      intervalFullPrecision = r.atttypmod & 0xffff; // no precision given
    } else intervalFullRange = mask;
  }

  // SQL spellings: declare a column with each and read back the type (and any implied typmod)
  await db.exec(`CREATE TEMP TABLE gen_spelling (${SQL_SPELLINGS.map((s, i) => `c${i} ${s}`).join(', ')})`);
  const aliases: Record<string, string> = {};
  const impliedTypmods: Record<string, string> = {};
  for (const r of await rows<{ attname: string; typname: string; formatted: string; atttypmod: number }>(
    `SELECT a.attname, t.typname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS formatted, a.atttypmod
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = 'gen_spelling'::regclass AND a.attnum > 0`,
  )) {
    const spelling = SQL_SPELLINGS[Number(r.attname.slice(1))]!;
    aliases[spelling] = r.typname;
    if (r.atttypmod !== -1) {
      const m = /\(([0-9]+)\)$/.exec(r.formatted) ?? fail(`cannot read implied typmod of ${spelling}`);
      impliedTypmods[spelling] = m[1]!;
    }
  }

  await db.exec(`CREATE TEMP TABLE gen_serial (${SERIAL_SPELLINGS.map((s, i) => `c${i} ${s}`).join(', ')})`);
  const serials: Record<string, string> = {};
  for (const r of await rows<{ attname: string; typname: string }>(
    `SELECT a.attname, t.typname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = 'gen_serial'::regclass AND a.attnum > 0`,
  )) {
    serials[SERIAL_SPELLINGS[Number(r.attname.slice(1))]!] = r.typname;
  }

  // default btree operator class per type: build an index with no opclass given and read which one Postgres chose
  const btreeOpclass: Record<string, string> = {};
  for (const [i, t] of builtinTypes.entries()) {
    try {
      await db.exec(
        `CREATE TEMP TABLE gen_opc${i} (c ${quoteIdent(t)}); CREATE INDEX gen_opc${i}_c ON gen_opc${i} (c)`,
      );
    } catch {
      continue; // no default btree opclass for this type
    }
    const [r] = await rows<{ opcname: string }>(
      `SELECT o.opcname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_opclass o ON o.oid = x.indclass[0]
        WHERE x.indexrelid = $1::regclass`,
      [`gen_opc${i}_c`],
    );
    btreeOpclass[t] = r?.opcname ?? fail(`no opclass read for ${t}`);
  }

  await db.close();

  const sortedRecord = <V>(rec: Record<string, V>, fmt: (v: V) => string): string =>
    Object.keys(rec)
      .sort(byCodeUnit)
      .map((k) => `  ${q(k)}: ${fmt(rec[k]!)},`)
      .join('\n');

  const castsTs = [
    header(serverVersion, pgliteVersion, 'Built-in types and the casts that need no per-row work.'),
    "export type TypmodKind = 'length' | 'numeric' | 'precision' | 'interval';",
    '',
    '/**',
    ' * Built-in base, range and multirange types of pg_catalog (pg_type.typname). Array types are left',
    ' * out: a TypeRef states arrays with arrayDims on the element type.',
    ' */',
    `export const BUILTIN_TYPES = ${wrapNames(builtinTypes)};`,
    '',
    '/**',
    " * pg_cast rows with castmethod = 'b' (binary coercible: the value is relabelled, not converted):",
    ' * [source typname, target typname, castcontext (i = implicit, a = assignment, e = explicit only)].',
    ' */',
    'export const BINARY_COERCIBLE_CASTS: readonly (readonly [string, string, string])[] = [',
    ...casts.map(([s, t, c]) => `  [${q(s)}, ${q(t)}, ${q(c)}],`),
    '];',
    '',
    '/**',
    ' * Types that take a type modifier. kind: length = varchar(n)/bpchar(n)/bit(n)/varbit(n),',
    ' * numeric = numeric(precision, scale), precision = fractional-seconds digits of time/timetz/',
    ' * timestamp/timestamptz, interval = fields mask and fractional-seconds digits. coercion is the',
    ' * length-coercion cast function (pg_cast with castsource = casttarget); support is its planner',
    ' * support function (pg_proc.prosupport), which can turn a typmod change into a relabel; null means',
    ' * every typmod change calls the coercion on each row.',
    ' */',
    'export const TYPMOD_TYPES: Record<string, { kind: TypmodKind; coercion: string; support: string | null }> = {',
    sortedRecord(
      typmodTypes,
      (v) =>
        `{ kind: ${q(v.kind)}, coercion: ${q(v.coercion)}, support: ${v.support === null ? 'null' : q(v.support)} }`,
    ),
    '};',
    '',
    '/** Largest fractional-seconds precision (what Postgres clamps a larger one to). */',
    'export const MAX_PRECISION: Record<string, number> = {',
    sortedRecord(maxPrecision, String),
    '};',
    '',
    '/** Interval field clauses → range mask (the high 16 bits of an interval typmod, as in the parse tree). */',
    'export const INTERVAL_FIELDS: Record<string, number> = {',
    sortedRecord(intervalFields, String),
    '};',
    '',
    '/** Range mask of `interval(p)` written without fields. */',
    `export const INTERVAL_FULL_RANGE = ${intervalFullRange};`,
    '/** Precision stored when an interval typmod gives fields but no precision. */',
    `export const INTERVAL_FULL_PRECISION = ${intervalFullPrecision};`,
    '',
    '/**',
    ' * How SQL spells built-in types → pg_type.typname, as Postgres resolved a column declared with each',
    ' * spelling. Note `char` (a keyword: bpchar) versus `"char"` (quoted: the one-byte internal type char),',
    ' * and `float(p)`, which is float4 for p <= 24 and float8 above.',
    ' */',
    'export const TYPE_ALIASES: Record<string, string> = {',
    sortedRecord(aliases, q),
    '};',
    '',
    '/** Spellings that imply a typmod when written without one (`char` is char(1), `bit` is bit(1)). */',
    'export const IMPLIED_TYPMOD: Record<string, number> = {',
    sortedRecord(impliedTypmods, String),
    '};',
    '',
    '/**',
    ' * serial & co. are not types: in CREATE TABLE / ADD COLUMN they declare an integer column of this',
    ' * type plus an owned sequence and a nextval() default. ALTER COLUMN … TYPE serial is an error.',
    ' */',
    'export const SERIAL_TYPES: Record<string, string> = {',
    sortedRecord(serials, q),
    '};',
    '',
    '/** The btree operator class Postgres picks for a column of each type when none is named. */',
    'export const DEFAULT_BTREE_OPCLASS: Record<string, string> = {',
    sortedRecord(btreeOpclass, q),
    '};',
    '',
  ].join('\n');

  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'functions.ts'), functionsTs);
  writeFileSync(join(OUT_DIR, 'casts.ts'), castsTs);
  console.log(
    `PostgreSQL ${serverVersion} (PGlite ${pgliteVersion}): ${immutable.length} immutable, ${stable.length} stable, ` +
      `${volatile.length} volatile function names; ${builtinTypes.length} types, ${casts.length} binary casts`,
  );
}

await main();
