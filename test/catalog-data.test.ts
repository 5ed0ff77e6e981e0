import { PGlite } from '@electric-sql/pglite';
import { loadModule, parseSync } from 'libpg-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtinVolatility,
  funcNameVolatility,
  sqlValueFunctionVolatility,
  type Volatility,
  worstVolatility,
} from '../src/catalog/functions.js';
import { BINARY_COERCIBLE_CASTS, GENERATED_FROM, TYPE_ALIASES } from '../src/catalog/generated/casts.js';
import { PG_LOCKS_NAME } from '../src/catalog/locks.js';
import {
  generatedNotNullColumn,
  operationFacts,
  storageParametersOperation,
} from '../src/catalog/operations.js';
import {
  canonicalTypeName,
  formatTypeRef,
  serialColumnType,
  type TypeChangeOptions,
  type TypeRef,
  typeChangeRewrites,
  typeRefFromAst,
} from '../src/catalog/types.js';

beforeAll(() => loadModule());

/** The first statement's node, parsed by the real Postgres parser. */
function firstStmt(sql: string): unknown {
  const stmt = parseSync(sql).stmts?.[0]?.stmt;
  if (!stmt) throw new Error(`no statement in ${sql}`);
  return stmt;
}

/** The TypeName of `ALTER TABLE t ALTER COLUMN c TYPE <sql>`. */
function typeNameAst(sql: string): unknown {
  const stmt = firstStmt(`ALTER TABLE t ALTER COLUMN c TYPE ${sql}`) as {
    AlterTableStmt: { cmds: { AlterTableCmd: { def: { ColumnDef: { typeName: unknown } } } }[] };
  };
  return stmt.AlterTableStmt.cmds[0]!.AlterTableCmd.def.ColumnDef.typeName;
}

function ref(sql: string): TypeRef {
  const r = typeRefFromAst(typeNameAst(sql));
  if (!r) throw new Error(`no TypeRef for ${sql}`);
  return r;
}

describe('builtinVolatility', () => {
  it.each([
    ['now', 'stable'],
    ['statement_timestamp', 'stable'],
    ['random', 'volatile'],
    ['gen_random_uuid', 'volatile'],
    ['clock_timestamp', 'volatile'],
    ['nextval', 'volatile'],
    ['lower', 'immutable'],
    ['length', 'stable'], // length(text) is immutable, length(bytea, name) stable: the worst wins
    ['date_part', 'stable'], // immutable except for timestamptz
    ['to_char', 'stable'],
  ] as const)('%s is %s', (name, expected) => {
    expect(builtinVolatility(name)).toBe(expected);
  });

  it('accepts pg_catalog, given apart or dotted, and nothing else', () => {
    expect(builtinVolatility('now', 'pg_catalog')).toBe('stable');
    expect(builtinVolatility('pg_catalog.now')).toBe('stable');
    expect(builtinVolatility('now', 'public')).toBeUndefined();
    expect(builtinVolatility('public.now')).toBeUndefined();
    expect(funcNameVolatility(['pg_catalog', 'random'])).toBe('volatile');
    expect(funcNameVolatility(['myschema', 'random'])).toBeUndefined();
    expect(funcNameVolatility(['lower'])).toBe('immutable');
  });

  it('does not know user functions, aggregates or executor-internal functions', () => {
    expect(builtinVolatility('my_func')).toBeUndefined();
    expect(builtinVolatility('uuid_generate_v4')).toBeUndefined(); // uuid-ossp, an extension
    expect(builtinVolatility('count')).toBeUndefined(); // aggregate: not allowed in a DEFAULT
    expect(builtinVolatility('RI_FKey_check_ins')).toBeUndefined(); // returns trigger
    expect(builtinVolatility('NOW')).toBeUndefined(); // names are compared as Postgres stores them
  });

  it('orders volatilities', () => {
    expect(worstVolatility('immutable', 'stable')).toBe('stable');
    expect(worstVolatility('volatile', 'stable')).toBe('volatile');
    expect(worstVolatility('immutable', 'immutable')).toBe('immutable');
  });

  it('treats every SQL value function as stable', () => {
    for (const op of [
      'SVFOP_CURRENT_DATE',
      'SVFOP_CURRENT_TIME',
      'SVFOP_CURRENT_TIME_N',
      'SVFOP_CURRENT_TIMESTAMP',
      'SVFOP_CURRENT_TIMESTAMP_N',
      'SVFOP_LOCALTIME',
      'SVFOP_LOCALTIME_N',
      'SVFOP_LOCALTIMESTAMP',
      'SVFOP_LOCALTIMESTAMP_N',
      'SVFOP_CURRENT_ROLE',
      'SVFOP_CURRENT_USER',
      'SVFOP_USER',
      'SVFOP_SESSION_USER',
      'SVFOP_CURRENT_CATALOG',
      'SVFOP_CURRENT_SCHEMA',
    ]) {
      expect(sqlValueFunctionVolatility(op), op).toBe('stable');
    }
    expect(sqlValueFunctionVolatility('SVFOP_NOPE')).toBeUndefined();
  });
});

describe('typeRefFromAst', () => {
  it.each([
    ['varchar(20)', { name: 'varchar', typmods: [20], arrayDims: 0 }],
    ['character varying', { name: 'varchar', typmods: [], arrayDims: 0 }],
    ['pg_catalog.varchar(5)', { name: 'varchar', typmods: [5], arrayDims: 0 }],
    ['national character varying(7)', { name: 'varchar', typmods: [7], arrayDims: 0 }],
    ['int', { name: 'int4', typmods: [], arrayDims: 0 }],
    ['integer', { name: 'int4', typmods: [], arrayDims: 0 }],
    ['int4', { name: 'int4', typmods: [], arrayDims: 0 }],
    ['bigint', { name: 'int8', typmods: [], arrayDims: 0 }],
    ['smallint', { name: 'int2', typmods: [], arrayDims: 0 }],
    ['decimal(10,2)', { name: 'numeric', typmods: [10, 2], arrayDims: 0 }],
    ['numeric(10,0)', { name: 'numeric', typmods: [10, 0], arrayDims: 0 }],
    ['numeric(5,-2)', { name: 'numeric', typmods: [5, -2], arrayDims: 0 }],
    ['timestamp with time zone', { name: 'timestamptz', typmods: [], arrayDims: 0 }],
    ['timestamp(3) without time zone', { name: 'timestamp', typmods: [3], arrayDims: 0 }],
    ['timestamptz(3)', { name: 'timestamptz', typmods: [3], arrayDims: 0 }],
    ['time with time zone', { name: 'timetz', typmods: [], arrayDims: 0 }],
    ['char', { name: 'bpchar', typmods: [1], arrayDims: 0 }],
    ['character(3)', { name: 'bpchar', typmods: [3], arrayDims: 0 }],
    ['bpchar', { name: 'bpchar', typmods: [], arrayDims: 0 }],
    ['"char"', { name: 'char', typmods: [], arrayDims: 0 }],
    ['bit', { name: 'bit', typmods: [1], arrayDims: 0 }],
    ['bit varying(5)', { name: 'varbit', typmods: [5], arrayDims: 0 }],
    ['double precision', { name: 'float8', typmods: [], arrayDims: 0 }],
    ['float(10)', { name: 'float4', typmods: [], arrayDims: 0 }],
    ['real', { name: 'float4', typmods: [], arrayDims: 0 }],
    ['boolean', { name: 'bool', typmods: [], arrayDims: 0 }],
    ['text[]', { name: 'text', typmods: [], arrayDims: 1 }],
    ['int[3][]', { name: 'int4', typmods: [], arrayDims: 2 }],
    ['integer array', { name: 'int4', typmods: [], arrayDims: 1 }],
    ['varchar(10)[]', { name: 'varchar', typmods: [10], arrayDims: 1 }],
    ['interval', { name: 'interval', typmods: [], arrayDims: 0 }],
    ['interval(3)', { name: 'interval', typmods: [32767, 3], arrayDims: 0 }],
    ['interval day to second(2)', { name: 'interval', typmods: [7176, 2], arrayDims: 0 }],
    ['interval year', { name: 'interval', typmods: [4], arrayDims: 0 }],
    ['public.mood', { name: 'public.mood', typmods: [], arrayDims: 0 }],
    ['mood', { name: 'mood', typmods: [], arrayDims: 0 }],
    ['serial', { name: 'serial', typmods: [], arrayDims: 0 }],
  ])('%s', (sql, expected) => {
    expect(typeRefFromAst(typeNameAst(sql))).toEqual(expected);
  });

  it('accepts the { TypeName } wrapper and rejects what is not a TypeName', () => {
    expect(typeRefFromAst({ TypeName: typeNameAst('int8') })).toEqual({
      name: 'int8',
      typmods: [],
      arrayDims: 0,
    });
    expect(typeRefFromAst(undefined)).toBeUndefined();
    expect(typeRefFromAst({ String: { sval: 'x' } })).toBeUndefined();
    expect(typeRefFromAst({ names: [{ A_Const: { ival: { ival: 1 } } }] })).toBeUndefined();
    const setof = firstStmt('CREATE FUNCTION f() RETURNS SETOF int LANGUAGE sql AS $$ select 1 $$') as {
      CreateFunctionStmt: { returnType: unknown };
    };
    expect(typeRefFromAst(setof.CreateFunctionStmt.returnType)).toBeUndefined();
  });

  it('formats TypeRefs as SQL that parses back to the same TypeRef', () => {
    const cases: [string, string][] = [
      ['varchar(20)', 'varchar(20)'],
      ['decimal(10,2)', 'numeric(10,2)'],
      ['integer[]', 'int4[]'],
      ['int[3][]', 'int4[][]'],
      ['"char"', '"char"'],
      ['char(2)', 'bpchar(2)'],
      ['timestamp(3) with time zone', 'timestamptz(3)'],
      ['interval(3)', 'interval(3)'],
      ['interval day to second(2)', 'interval day to second(2)'],
      ['interval minute', 'interval minute'],
      ['public.mood', 'public.mood'],
    ];
    for (const [sql, formatted] of cases) {
      const r = ref(sql);
      expect(formatTypeRef(r)).toBe(formatted);
      expect(ref(formatted)).toEqual(r);
    }
  });
});

describe('type names', () => {
  it('canonicalises SQL spellings', () => {
    expect(canonicalTypeName('character varying')).toBe('varchar');
    expect(canonicalTypeName('INTEGER')).toBe('int4');
    expect(canonicalTypeName('int')).toBe('int4');
    expect(canonicalTypeName('bigint')).toBe('int8');
    expect(canonicalTypeName('timestamp  with time zone')).toBe('timestamptz');
    expect(canonicalTypeName('double precision')).toBe('float8');
    expect(canonicalTypeName('boolean')).toBe('bool');
    expect(canonicalTypeName('bool')).toBe('bool');
    expect(canonicalTypeName('decimal')).toBe('numeric');
    expect(canonicalTypeName('character')).toBe('bpchar');
    expect(canonicalTypeName('char')).toBe('bpchar');
    expect(canonicalTypeName('"char"')).toBe('char');
    expect(canonicalTypeName('pg_catalog.char')).toBe('char');
    expect(canonicalTypeName('pg_catalog.int4')).toBe('int4');
    expect(canonicalTypeName('uuid')).toBe('uuid');
    expect(canonicalTypeName('citext')).toBeUndefined();
    expect(canonicalTypeName('serial')).toBeUndefined();
    expect(serialColumnType('serial')).toBe('int4');
    expect(serialColumnType('bigserial')).toBe('int8');
    expect(serialColumnType('smallserial')).toBe('int2');
    expect(serialColumnType('int4')).toBeUndefined();
  });
});

/** [from, to, expected rewrite, options, row value] — every boolean case is also run on PGlite below. */
type Case = {
  from: string;
  to: string;
  rewrite: boolean | 'unknown';
  tz?: 'UTC' | 'America/New_York';
  pg?: number;
  value?: string;
  /** Postgres refuses the change without USING: only checked as a unit case */
  needsUsing?: boolean;
};

const CASES: Case[] = [
  // same type, same or relaxed typmod
  { from: 'int4', to: 'integer', rewrite: false, value: '1' },
  { from: 'varchar(10)', to: 'varchar(10)', rewrite: false, value: "'abc'" },
  { from: 'varchar(10)', to: 'varchar(20)', rewrite: false, value: "'abc'" },
  { from: 'varchar(10)', to: 'varchar', rewrite: false, value: "'abc'" },
  { from: 'varchar(20)', to: 'varchar(10)', rewrite: true, value: "'abc'" },
  { from: 'varchar', to: 'varchar(10)', rewrite: true, value: "'abc'" },
  // varchar / text
  { from: 'varchar(10)', to: 'text', rewrite: false, value: "'abc'" },
  { from: 'varchar', to: 'text', rewrite: false, value: "'abc'" },
  { from: 'text', to: 'varchar', rewrite: false, value: "'abc'" },
  { from: 'text', to: 'varchar(10)', rewrite: true, value: "'abc'" },
  // numeric
  { from: 'numeric(10,2)', to: 'numeric(12,2)', rewrite: false, value: '1.5' },
  { from: 'numeric(10,2)', to: 'numeric(10,2)', rewrite: false, value: '1.5' },
  { from: 'numeric(10,2)', to: 'numeric', rewrite: false, value: '1.5' },
  { from: 'numeric(10)', to: 'numeric(12,0)', rewrite: false, value: '1' },
  { from: 'numeric(5,-2)', to: 'numeric(6,-2)', rewrite: false, value: '100' },
  { from: 'numeric(10,2)', to: 'numeric(8,2)', rewrite: true, value: '1.5' },
  { from: 'numeric(10,2)', to: 'numeric(12,3)', rewrite: true, value: '1.5' },
  { from: 'numeric(10,2)', to: 'numeric(12,1)', rewrite: true, value: '1.5' },
  { from: 'numeric(5,2)', to: 'numeric(5)', rewrite: true, value: '1.5' },
  { from: 'numeric', to: 'numeric(10,2)', rewrite: true, value: '1.5' },
  // integers and other conversions
  { from: 'int4', to: 'int8', rewrite: true, value: '1' },
  { from: 'integer', to: 'bigint', rewrite: true, value: '1' },
  { from: 'int8', to: 'int4', rewrite: true, value: '1' },
  { from: 'int2', to: 'int4', rewrite: true, value: '1' },
  { from: 'float4', to: 'float8', rewrite: true, value: '1' },
  { from: 'date', to: 'timestamp', rewrite: true, value: "'2020-01-01'" },
  { from: 'uuid', to: 'text', rewrite: true, value: 'gen_random_uuid()' },
  { from: 'json', to: 'jsonb', rewrite: true, value: "'{}'" },
  { from: 'text', to: 'int4', rewrite: true, needsUsing: true },
  { from: 'int4', to: 'oid', rewrite: false, value: '1' },
  { from: 'oid', to: 'regclass', rewrite: false, value: '1' },
  { from: 'xml', to: 'text', rewrite: false, value: "'<a/>'" },
  // char(n)
  { from: 'char(5)', to: 'text', rewrite: true, value: "'ab'" },
  { from: 'char(5)', to: 'varchar', rewrite: true, value: "'ab'" },
  { from: 'char(5)', to: 'varchar(10)', rewrite: true, value: "'ab'" },
  { from: 'char(5)', to: 'char(10)', rewrite: true, value: "'ab'" },
  { from: 'char(10)', to: 'char(5)', rewrite: true, value: "'ab'" },
  { from: 'char(5)', to: 'bpchar', rewrite: false, value: "'ab'" },
  { from: 'text', to: 'bpchar', rewrite: false, value: "'ab'" },
  { from: 'text', to: 'char(5)', rewrite: true, value: "'ab'" },
  { from: 'varchar(5)', to: 'char(5)', rewrite: true, value: "'ab'" },
  // timestamp ↔ timestamptz: only in UTC, only PG ≥ 12, only without a narrowing typmod
  { from: 'timestamp', to: 'timestamptz', rewrite: false, tz: 'UTC', value: 'now()' },
  { from: 'timestamp', to: 'timestamptz', rewrite: true, tz: 'America/New_York', value: 'now()' },
  { from: 'timestamp', to: 'timestamptz', rewrite: true, tz: 'UTC', pg: 11 },
  { from: 'timestamp', to: 'timestamp with time zone', rewrite: true }, // TimeZone not known to be UTC
  { from: 'timestamptz', to: 'timestamp', rewrite: false, tz: 'UTC', value: 'now()' },
  { from: 'timestamptz', to: 'timestamp', rewrite: true, tz: 'America/New_York', value: 'now()' },
  { from: 'timestamp(3)', to: 'timestamptz', rewrite: false, tz: 'UTC', value: 'now()' },
  { from: 'timestamp', to: 'timestamptz(6)', rewrite: false, tz: 'UTC', value: 'now()' },
  { from: 'timestamp', to: 'timestamptz(3)', rewrite: true, tz: 'UTC', value: 'now()' },
  { from: 'timestamp(3)', to: 'timestamptz(3)', rewrite: true, tz: 'UTC', value: 'now()' },
  // fractional-seconds precision
  { from: 'timestamp(3)', to: 'timestamp(6)', rewrite: false, value: 'now()' },
  { from: 'timestamp', to: 'timestamp(6)', rewrite: false, value: 'now()' },
  { from: 'timestamp(3)', to: 'timestamp', rewrite: false, value: 'now()' },
  { from: 'timestamp', to: 'timestamp(3)', rewrite: true, value: 'now()' },
  { from: 'timestamp(6)', to: 'timestamp(3)', rewrite: true, value: 'now()' },
  { from: 'timestamptz(2)', to: 'timestamptz(4)', rewrite: false, value: 'now()' },
  { from: 'time(2)', to: 'time(4)', rewrite: false, value: "'10:00'" },
  { from: 'time(4)', to: 'time(2)', rewrite: true, value: "'10:00'" },
  { from: 'timetz(2)', to: 'timetz(4)', rewrite: false, value: "'10:00+01'" },
  { from: 'time', to: 'timetz', rewrite: true, value: "'10:00'" },
  // interval fields and precision
  { from: 'interval(2)', to: 'interval(4)', rewrite: false, value: "'1 day'" },
  { from: 'interval(4)', to: 'interval(2)', rewrite: true, value: "'1 day'" },
  { from: 'interval', to: 'interval(6)', rewrite: false, value: "'1 day'" },
  { from: 'interval', to: 'interval second', rewrite: false, value: "'1 day'" },
  { from: 'interval', to: 'interval day', rewrite: true, value: "'1 day'" },
  { from: 'interval day', to: 'interval', rewrite: false, value: "'1 day'" },
  { from: 'interval year', to: 'interval year to month', rewrite: false, value: "'1 year'" },
  { from: 'interval year to month', to: 'interval year', rewrite: true, value: "'1 year'" },
  { from: 'interval month', to: 'interval year', rewrite: true, value: "'1 year'" },
  { from: 'interval hour to minute', to: 'interval day to second', rewrite: false, value: "'1 hour'" },
  { from: 'interval second(2)', to: 'interval minute to second(1)', rewrite: true, value: "'1 s'" },
  { from: 'interval second(2)', to: 'interval minute to second(6)', rewrite: false, value: "'1 s'" },
  // bit strings
  { from: 'varbit(4)', to: 'varbit(8)', rewrite: false, value: "B'101'" },
  { from: 'varbit(8)', to: 'varbit(4)', rewrite: true, value: "B'101'" },
  { from: 'varbit(4)', to: 'varbit', rewrite: false, value: "B'101'" },
  { from: 'bit(4)', to: 'varbit', rewrite: false, value: "B'1010'" },
  { from: 'bit(4)', to: 'varbit(8)', rewrite: true, value: "B'1010'" },
  { from: 'varbit', to: 'bit(4)', rewrite: true, value: "B'1010'" },
  { from: 'bit(4)', to: 'bit(8)', rewrite: true },
  { from: 'bit(4)', to: '"bit"', rewrite: false, value: "B'1010'" },
  // network
  { from: 'cidr', to: 'inet', rewrite: false, value: "'10.0.0.0/8'" },
  { from: 'inet', to: 'cidr', rewrite: true, value: "'10.0.0.0/8'" },
  // arrays are converted element by element
  { from: 'varchar(10)[]', to: 'varchar[]', rewrite: false, value: "'{a}'" },
  { from: 'numeric(10,2)[]', to: 'numeric[]', rewrite: false, value: "'{1}'" },
  { from: 'int4[]', to: 'int4[][]', rewrite: false, value: "'{1}'" },
  { from: 'varchar(10)[]', to: 'varchar(20)[]', rewrite: true, value: "'{a}'" },
  { from: 'varchar[]', to: 'text[]', rewrite: true, value: "'{a}'" },
  { from: 'varchar(10)[]', to: 'text[]', rewrite: true, value: "'{a}'" },
  { from: 'cidr[]', to: 'inet[]', rewrite: true, value: "'{10.0.0.0/8}'" },
  { from: 'int4[]', to: 'int8[]', rewrite: true, value: "'{1}'" },
  { from: 'timestamp[]', to: 'timestamptz[]', rewrite: true, tz: 'UTC' },
  { from: 'text[]', to: 'text', rewrite: true, value: "'{a}'" },
  // not built in
  { from: 'mood', to: 'text', rewrite: 'unknown' },
  { from: 'text', to: 'public.mood', rewrite: 'unknown' },
  { from: 'citext', to: 'text', rewrite: 'unknown' },
  { from: 'int4', to: 'serial', rewrite: 'unknown' },
  { from: 'int4', to: 'int4(3)', rewrite: 'unknown' }, // Postgres: type modifier is not allowed
  { from: 'public.mood', to: 'public.mood', rewrite: false },
];

function optionsOf(c: Case): TypeChangeOptions {
  return { pgVersion: c.pg ?? 18, ...(c.tz ? { timeZoneIsUtc: c.tz === 'UTC' } : {}) };
}

function label(c: Case): string {
  return `${c.from} → ${c.to}${c.tz ? ` (TimeZone ${c.tz})` : ''}${c.pg ? ` (PG ${c.pg})` : ''}`;
}

describe('typeChangeRewrites', () => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s', (_, c) => {
    const result = typeChangeRewrites(ref(c.from), ref(c.to), optionsOf(c));
    expect(result.rewrite, result.reason).toBe(c.rewrite);
    expect(result.reason).toMatch(/\S/);
  });

  it('reports index rebuilds when the default btree operator class changes', () => {
    const utc = { pgVersion: 18, timeZoneIsUtc: true };
    const rebuild = (from: string, to: string) => {
      const r = typeChangeRewrites(ref(from), ref(to), utc);
      return r.rewrite === false ? r.indexRebuild : r.rewrite;
    };
    expect(rebuild('varchar(10)', 'text')).toBe(false);
    expect(rebuild('cidr', 'inet')).toBe(false);
    expect(rebuild('numeric(10,2)', 'numeric(12,2)')).toBe(false);
    expect(rebuild('timestamp', 'timestamptz')).toBe(true);
    expect(rebuild('text', 'bpchar')).toBe(true);
    expect(rebuild('int4', 'oid')).toBe(true);
  });
});

describe('against a real Postgres (PGlite)', () => {
  let db: PGlite;
  let pgMajor: number;

  beforeAll(async () => {
    db = await PGlite.create();
    const [row] = (await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows;
    pgMajor = Math.floor(Number(row!.v) / 10000);
  });
  afterAll(() => db?.close());

  it('is the Postgres the catalog was generated from', async () => {
    const [row] = (await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows;
    // after a PGlite upgrade: npx tsx scripts/generate-catalog.ts
    expect(row!.v, 'generated catalog is stale').toBe(GENERATED_FROM.postgres);
  });

  it('rewrites the table (new relfilenode) exactly when typeChangeRewrites says so', async () => {
    const live = CASES.filter(
      (c) => c.rewrite !== 'unknown' && !c.needsUsing && (c.pg ?? pgMajor) === pgMajor,
    );
    // one table per case, each with a row and a two-column index on the changed column
    await db.exec(`CREATE TYPE mood AS ENUM ('sad', 'ok')`);
    await db.exec(
      live
        .map(
          (c, i) =>
            `CREATE TABLE rw${i} (id int, c ${c.from}); INSERT INTO rw${i} VALUES (1, ${c.value ?? 'NULL'});` +
            // some types (json, xml) have no btree operator class
            (/^(json|xml)\b/.test(c.from) ? '' : `CREATE INDEX rw${i}_i ON rw${i} (id, c);`),
        )
        .join('\n'),
    );
    const fileNodes = async (i: number) =>
      (
        await db.query<{ t: number; i: number | null }>(
          `SELECT (SELECT relfilenode FROM pg_class WHERE relname = $1) AS t,
                  (SELECT relfilenode FROM pg_class WHERE relname = $2) AS i`,
          [`rw${i}`, `rw${i}_i`],
        )
      ).rows[0]!;
    const mismatches: string[] = [];
    for (const [i, c] of live.entries()) {
      // without a stated TimeZone, typeChangeRewrites assumes it is not UTC
      const tz = c.tz ?? 'America/New_York';
      const predicted = typeChangeRewrites(ref(c.from), ref(c.to), {
        pgVersion: pgMajor,
        timeZoneIsUtc: tz === 'UTC',
      });
      await db.exec(`SET TimeZone = '${tz}'`);
      const before = await fileNodes(i);
      await db.exec(`ALTER TABLE rw${i} ALTER COLUMN c TYPE ${c.to}`);
      const after = await fileNodes(i);
      const rewrote = before.t !== after.t;
      const indexRebuilt = before.i !== after.i;
      if (predicted.rewrite !== rewrote)
        mismatches.push(`${label(c)}: predicted ${predicted.rewrite}, Postgres ${rewrote}`);
      if (before.i !== null) {
        const predictedIndex = predicted.rewrite === false ? predicted.indexRebuild : true;
        if (predictedIndex !== indexRebuilt) {
          mismatches.push(`${label(c)}: index rebuild predicted ${predictedIndex}, Postgres ${indexRebuilt}`);
        }
      }
      if (predicted.rewrite !== c.rewrite)
        mismatches.push(`${label(c)}: predicted ${predicted.rewrite}, case says ${c.rewrite}`);
    }
    await db.exec('RESET TimeZone');
    expect(mismatches).toEqual([]);
    expect(live.length).toBeGreaterThan(60);
  });

  it('knows the volatility of every built-in function name as pg_proc states it', async () => {
    const rows = (
      await db.query<{ proname: string; vols: string[] }>(
        `SELECT p.proname, array_agg(DISTINCT p.provolatile::text) AS vols
           FROM pg_proc p
          WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f'
            AND NOT ('internal'::regtype = ANY (p.proargtypes::oid[]))
            AND p.prorettype <> ALL ('{internal,trigger,event_trigger,language_handler,fdw_handler,index_am_handler,tsm_handler,table_am_handler}'::regtype[])
          GROUP BY p.proname`,
      )
    ).rows;
    expect(rows.length).toBeGreaterThan(2000);
    const wrong = rows.filter(({ proname, vols }) => {
      const expected: Volatility = vols.includes('v')
        ? 'volatile'
        : vols.includes('s')
          ? 'stable'
          : 'immutable';
      return builtinVolatility(proname) !== expected;
    });
    expect(wrong).toEqual([]);
  });

  it('agrees with what Postgres does with a DEFAULT and a generated column', async () => {
    // volatility of a top-level call or SQL value function with constant arguments
    const volatilityOf = (expr: string): Volatility | undefined => {
      const stmt = firstStmt(`SELECT ${expr}`) as {
        SelectStmt: { targetList: { ResTarget: { val: Record<string, unknown> } }[] };
      };
      const val = stmt.SelectStmt.targetList[0]!.ResTarget.val;
      const call = val.FuncCall as { funcname: { String: { sval: string } }[] } | undefined;
      if (call) return funcNameVolatility(call.funcname.map((n) => n.String.sval));
      const svf = val.SQLValueFunction as { op: string } | undefined;
      return svf ? sqlValueFunctionVolatility(svf.op) : undefined;
    };
    const samples: [string, string][] = [
      ['now()', 'timestamptz'],
      ['pg_catalog.now()', 'timestamptz'],
      ['CURRENT_TIMESTAMP', 'timestamptz'],
      ['CURRENT_DATE', 'date'],
      ['LOCALTIMESTAMP(3)', 'timestamp'],
      ['CURRENT_USER', 'name'],
      ['CURRENT_SCHEMA', 'name'],
      ["md5('x')", 'text'],
      ['abs(-1)', 'int4'],
      ['gen_random_uuid()', 'uuid'],
      ['clock_timestamp()', 'timestamptz'],
      ['random()', 'float8'],
      ['timeofday()', 'text'],
      ["nextval('vol_seq')", 'int8'],
    ];
    await db.exec('CREATE SEQUENCE vol_seq; CREATE TABLE vol (id int); INSERT INTO vol VALUES (1)');
    const relfilenode = async () =>
      (await db.query<{ r: number }>(`SELECT relfilenode AS r FROM pg_class WHERE relname = 'vol'`)).rows[0]!
        .r;
    const seen: string[] = [];
    for (const [i, [expr, type]] of samples.entries()) {
      const v = volatilityOf(expr);
      // ADD COLUMN … DEFAULT rewrites the table only for a volatile default (PG ≥ 11)
      const before = await relfilenode();
      await db.exec(`ALTER TABLE vol ADD COLUMN d${i} ${type} DEFAULT ${expr}`);
      const rewrote = (await relfilenode()) !== before;
      // a generated column accepts only immutable expressions
      let generated = true;
      try {
        await db.exec(`ALTER TABLE vol ADD COLUMN g${i} ${type} GENERATED ALWAYS AS (${expr}) STORED`);
      } catch {
        generated = false;
      }
      const actual: Volatility = rewrote ? 'volatile' : generated ? 'immutable' : 'stable';
      seen.push(`${expr}: ${v} / ${actual}`);
      expect(v, expr).toBe(actual);
    }
    expect(new Set(seen.map((s) => s.split(' / ')[1]))).toEqual(new Set(['immutable', 'stable', 'volatile']));
  });

  it('knows the lock of every table storage parameter, as this Postgres takes it', async () => {
    // every heap / TOAST reloption of PG 18 (reloptions.c), with a value it accepts
    const parameters: Record<string, string> = {
      fillfactor: '70',
      toast_tuple_target: '256',
      parallel_workers: '2',
      autovacuum_enabled: 'false',
      autovacuum_vacuum_threshold: '10',
      autovacuum_vacuum_max_threshold: '100',
      autovacuum_vacuum_insert_threshold: '10',
      autovacuum_analyze_threshold: '10',
      autovacuum_vacuum_cost_delay: '1',
      autovacuum_vacuum_cost_limit: '10',
      autovacuum_freeze_min_age: '1000',
      autovacuum_freeze_max_age: '200000000',
      autovacuum_freeze_table_age: '1000',
      autovacuum_multixact_freeze_min_age: '1000',
      autovacuum_multixact_freeze_max_age: '200000000',
      autovacuum_multixact_freeze_table_age: '1000',
      log_autovacuum_min_duration: '10',
      autovacuum_vacuum_scale_factor: '0.1',
      autovacuum_vacuum_insert_scale_factor: '0.1',
      autovacuum_analyze_scale_factor: '0.1',
      vacuum_index_cleanup: 'off',
      vacuum_truncate: 'false',
      vacuum_max_eager_freeze_failure_rate: '0.1',
      user_catalog_table: 'true',
      'toast.autovacuum_enabled': 'false',
      'toast.vacuum_truncate': 'false',
    };
    await db.exec('CREATE TABLE reloptions_t (id int, b text)');
    const seen: string[] = [];
    for (const [name, value] of Object.entries(parameters)) {
      const op = storageParametersOperation([name.replace(/^toast\./, '')]);
      expect(op, name).toBeDefined();
      await db.exec('BEGIN');
      await db.exec(`ALTER TABLE reloptions_t SET (${name} = ${value})`);
      const modes = (
        await db.query<{ mode: string }>(
          `SELECT mode FROM pg_locks WHERE relation = 'reloptions_t'::regclass AND pid = pg_backend_pid() AND granted`,
        )
      ).rows.map((r) => r.mode);
      await db.exec('ROLLBACK');
      const claimed = operationFacts(op!, pgMajor).locks[0]!.mode;
      expect(modes, name).toContain(PG_LOCKS_NAME[claimed]);
      seen.push(claimed);
    }
    expect(new Set(seen)).toEqual(new Set(['SHARE UPDATE EXCLUSIVE', 'ACCESS EXCLUSIVE']));
    expect(storageParametersOperation(['no_such_parameter'])).toBeUndefined();
    expect(storageParametersOperation(['fillfactor', 'user_catalog_table'])).toBe(
      'set-storage-parameters-exclusive',
    );
  });

  it('names NOT NULL constraints as generatedNotNullColumn expects', async () => {
    await db.exec(`CREATE TABLE nn_t (id int, phone text NOT NULL, "Mixed Case" int NOT NULL)`);
    await db.exec(`ALTER TABLE nn_t ADD CONSTRAINT nn_t_id_not_null CHECK (id IS NOT NULL)`);
    await db.exec(`ALTER TABLE nn_t ALTER COLUMN id SET NOT NULL`);
    const rows = (
      await db.query<{ conname: string; attname: string }>(
        `SELECT c.conname, a.attname FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
          WHERE c.conrelid = 'nn_t'::regclass AND c.contype = 'n'`,
      )
    ).rows;
    expect(rows.length).toBe(pgMajor >= 18 ? 3 : 0);
    for (const r of rows)
      expect(generatedNotNullColumn('nn_t', r.conname, pgMajor), r.conname).toBe(r.attname);
    expect(generatedNotNullColumn('nn_t', 'nn_t_id_not_null', 17)).toBeUndefined();
  });

  it('has the binary-coercible casts and type spellings of this Postgres', async () => {
    const casts = (
      await db.query<{ s: string; t: string; c: string }>(
        `SELECT s.typname AS s, t.typname AS t, c.castcontext::text AS c
           FROM pg_cast c JOIN pg_type s ON s.oid = c.castsource JOIN pg_type t ON t.oid = c.casttarget
          WHERE c.castmethod = 'b'`,
      )
    ).rows.map((r) => `${r.s} ${r.t} ${r.c}`);
    expect(new Set(casts)).toEqual(new Set(BINARY_COERCIBLE_CASTS.map((c) => c.join(' '))));
    expect(casts).toContain('varchar text i');
    expect(casts).toContain('cidr inet i');
    for (const spelling of Object.keys(TYPE_ALIASES)) {
      const [row] = (
        await db.query<{ typname: string }>('SELECT typname FROM pg_type WHERE oid = $1::regtype', [spelling])
      ).rows;
      expect(canonicalTypeName(spelling), spelling).toBe(row!.typname);
    }
  });
});
