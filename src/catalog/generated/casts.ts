// GENERATED FILE, do not edit. Built-in types and the casts that need no per-row work.
// Produced by scripts/generate-catalog.ts from PostgreSQL 18.6 (PGlite 0.5.16, in-process).
// Regenerate: npx tsx scripts/generate-catalog.ts

export const GENERATED_FROM = { script: 'scripts/generate-catalog.ts', postgres: '18.6', pglite: '0.5.16' } as const;

export type TypmodKind = 'length' | 'numeric' | 'precision' | 'interval';

/**
 * Built-in base, range and multirange types of pg_catalog (pg_type.typname). Array types are left
 * out: a TypeRef states arrays with arrayDims on the element type.
 */
export const BUILTIN_TYPES = `
aclitem bit bool box bpchar bytea char cid cidr circle date datemultirange daterange float4 float8
gtsvector inet int2 int2vector int4 int4multirange int4range int8 int8multirange int8range interval
json jsonb jsonpath line lseg macaddr macaddr8 money name numeric nummultirange numrange oid
oidvector path pg_brin_bloom_summary pg_brin_minmax_multi_summary pg_dependencies pg_lsn pg_mcv_list
pg_ndistinct pg_node_tree pg_snapshot point polygon refcursor regclass regcollation regconfig
regdictionary regnamespace regoper regoperator regproc regprocedure regrole regtype text tid time
timestamp timestamptz timetz tsmultirange tsquery tsrange tstzmultirange tstzrange tsvector
txid_snapshot uuid varbit varchar xid xid8 xml
`;

/**
 * pg_cast rows with castmethod = 'b' (binary coercible: the value is relabelled, not converted):
 * [source typname, target typname, castcontext (i = implicit, a = assignment, e = explicit only)].
 */
export const BINARY_COERCIBLE_CASTS: readonly (readonly [string, string, string])[] = [
  ['bit', 'varbit', 'i'],
  ['cidr', 'inet', 'i'],
  ['int4', 'oid', 'i'],
  ['int4', 'regclass', 'i'],
  ['int4', 'regcollation', 'i'],
  ['int4', 'regconfig', 'i'],
  ['int4', 'regdictionary', 'i'],
  ['int4', 'regnamespace', 'i'],
  ['int4', 'regoper', 'i'],
  ['int4', 'regoperator', 'i'],
  ['int4', 'regproc', 'i'],
  ['int4', 'regprocedure', 'i'],
  ['int4', 'regrole', 'i'],
  ['int4', 'regtype', 'i'],
  ['oid', 'int4', 'a'],
  ['oid', 'regclass', 'i'],
  ['oid', 'regcollation', 'i'],
  ['oid', 'regconfig', 'i'],
  ['oid', 'regdictionary', 'i'],
  ['oid', 'regnamespace', 'i'],
  ['oid', 'regoper', 'i'],
  ['oid', 'regoperator', 'i'],
  ['oid', 'regproc', 'i'],
  ['oid', 'regprocedure', 'i'],
  ['oid', 'regrole', 'i'],
  ['oid', 'regtype', 'i'],
  ['pg_dependencies', 'bytea', 'i'],
  ['pg_mcv_list', 'bytea', 'i'],
  ['pg_ndistinct', 'bytea', 'i'],
  ['pg_node_tree', 'text', 'i'],
  ['regclass', 'int4', 'a'],
  ['regclass', 'oid', 'i'],
  ['regcollation', 'int4', 'a'],
  ['regcollation', 'oid', 'i'],
  ['regconfig', 'int4', 'a'],
  ['regconfig', 'oid', 'i'],
  ['regdictionary', 'int4', 'a'],
  ['regdictionary', 'oid', 'i'],
  ['regnamespace', 'int4', 'a'],
  ['regnamespace', 'oid', 'i'],
  ['regoper', 'int4', 'a'],
  ['regoper', 'oid', 'i'],
  ['regoper', 'regoperator', 'i'],
  ['regoperator', 'int4', 'a'],
  ['regoperator', 'oid', 'i'],
  ['regoperator', 'regoper', 'i'],
  ['regproc', 'int4', 'a'],
  ['regproc', 'oid', 'i'],
  ['regproc', 'regprocedure', 'i'],
  ['regprocedure', 'int4', 'a'],
  ['regprocedure', 'oid', 'i'],
  ['regprocedure', 'regproc', 'i'],
  ['regrole', 'int4', 'a'],
  ['regrole', 'oid', 'i'],
  ['regtype', 'int4', 'a'],
  ['regtype', 'oid', 'i'],
  ['text', 'bpchar', 'i'],
  ['text', 'varchar', 'i'],
  ['varbit', 'bit', 'i'],
  ['varchar', 'bpchar', 'i'],
  ['varchar', 'text', 'i'],
  ['xml', 'bpchar', 'a'],
  ['xml', 'text', 'a'],
  ['xml', 'varchar', 'a'],
];

/**
 * Types that take a type modifier. kind: length = varchar(n)/bpchar(n)/bit(n)/varbit(n),
 * numeric = numeric(precision, scale), precision = fractional-seconds digits of time/timetz/
 * timestamp/timestamptz, interval = fields mask and fractional-seconds digits. coercion is the
 * length-coercion cast function (pg_cast with castsource = casttarget); support is its planner
 * support function (pg_proc.prosupport), which can turn a typmod change into a relabel; null means
 * every typmod change calls the coercion on each row.
 */
export const TYPMOD_TYPES: Record<string, { kind: TypmodKind; coercion: string; support: string | null }> = {
  'bit': { kind: 'length', coercion: 'bit', support: null },
  'bpchar': { kind: 'length', coercion: 'bpchar', support: null },
  'interval': { kind: 'interval', coercion: 'interval', support: 'interval_support' },
  'numeric': { kind: 'numeric', coercion: 'numeric', support: 'numeric_support' },
  'time': { kind: 'precision', coercion: 'time', support: 'time_support' },
  'timestamp': { kind: 'precision', coercion: 'timestamp', support: 'timestamp_support' },
  'timestamptz': { kind: 'precision', coercion: 'timestamptz', support: 'timestamp_support' },
  'timetz': { kind: 'precision', coercion: 'timetz', support: 'time_support' },
  'varbit': { kind: 'length', coercion: 'varbit', support: 'varbit_support' },
  'varchar': { kind: 'length', coercion: 'varchar', support: 'varchar_support' },
};

/** Largest fractional-seconds precision (what Postgres clamps a larger one to). */
export const MAX_PRECISION: Record<string, number> = {
  'interval': 6,
  'time': 6,
  'timestamp': 6,
  'timestamptz': 6,
  'timetz': 6,
};

/** Interval field clauses → range mask (the high 16 bits of an interval typmod, as in the parse tree). */
export const INTERVAL_FIELDS: Record<string, number> = {
  'day': 8,
  'day to hour': 1032,
  'day to minute': 3080,
  'day to second': 7176,
  'hour': 1024,
  'hour to minute': 3072,
  'hour to second': 7168,
  'minute': 2048,
  'minute to second': 6144,
  'month': 2,
  'second': 4096,
  'year': 4,
  'year to month': 6,
};

/** Range mask of `interval(p)` written without fields. */
export const INTERVAL_FULL_RANGE = 32767;
/** Precision stored when an interval typmod gives fields but no precision. */
export const INTERVAL_FULL_PRECISION = 65535;

/**
 * How SQL spells built-in types → pg_type.typname, as Postgres resolved a column declared with each
 * spelling. Note `char` (a keyword: bpchar) versus `"char"` (quoted: the one-byte internal type char),
 * and `float(p)`, which is float4 for p <= 24 and float8 above.
 */
export const TYPE_ALIASES: Record<string, string> = {
  '"char"': 'char',
  'bigint': 'int8',
  'bit': 'bit',
  'bit varying': 'varbit',
  'bool': 'bool',
  'boolean': 'bool',
  'bpchar': 'bpchar',
  'bytea': 'bytea',
  'char': 'bpchar',
  'char varying': 'varchar',
  'character': 'bpchar',
  'character varying': 'varchar',
  'cidr': 'cidr',
  'date': 'date',
  'dec': 'numeric',
  'decimal': 'numeric',
  'double precision': 'float8',
  'float': 'float8',
  'float4': 'float4',
  'float8': 'float8',
  'inet': 'inet',
  'int': 'int4',
  'int2': 'int2',
  'int4': 'int4',
  'int8': 'int8',
  'integer': 'int4',
  'interval': 'interval',
  'json': 'json',
  'jsonb': 'jsonb',
  'macaddr': 'macaddr',
  'money': 'money',
  'name': 'name',
  'national char': 'bpchar',
  'national char varying': 'varchar',
  'national character': 'bpchar',
  'national character varying': 'varchar',
  'nchar': 'bpchar',
  'nchar varying': 'varchar',
  'numeric': 'numeric',
  'oid': 'oid',
  'real': 'float4',
  'smallint': 'int2',
  'text': 'text',
  'time': 'time',
  'time with time zone': 'timetz',
  'time without time zone': 'time',
  'timestamp': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
  'timestamptz': 'timestamptz',
  'timetz': 'timetz',
  'uuid': 'uuid',
  'varbit': 'varbit',
  'varchar': 'varchar',
  'xml': 'xml',
};

/** Spellings that imply a typmod when written without one (`char` is char(1), `bit` is bit(1)). */
export const IMPLIED_TYPMOD: Record<string, number> = {
  'bit': 1,
  'char': 1,
  'character': 1,
  'national char': 1,
  'national character': 1,
  'nchar': 1,
};

/**
 * serial & co. are not types: in CREATE TABLE / ADD COLUMN they declare an integer column of this
 * type plus an owned sequence and a nextval() default. ALTER COLUMN … TYPE serial is an error.
 */
export const SERIAL_TYPES: Record<string, string> = {
  'bigserial': 'int8',
  'serial': 'int4',
  'serial2': 'int2',
  'serial4': 'int4',
  'serial8': 'int8',
  'smallserial': 'int2',
};

/** The btree operator class Postgres picks for a column of each type when none is named. */
export const DEFAULT_BTREE_OPCLASS: Record<string, string> = {
  'bit': 'bit_ops',
  'bool': 'bool_ops',
  'bpchar': 'bpchar_ops',
  'bytea': 'bytea_ops',
  'char': 'char_ops',
  'cidr': 'inet_ops',
  'date': 'date_ops',
  'datemultirange': 'multirange_ops',
  'daterange': 'range_ops',
  'float4': 'float4_ops',
  'float8': 'float8_ops',
  'inet': 'inet_ops',
  'int2': 'int2_ops',
  'int2vector': 'array_ops',
  'int4': 'int4_ops',
  'int4multirange': 'multirange_ops',
  'int4range': 'range_ops',
  'int8': 'int8_ops',
  'int8multirange': 'multirange_ops',
  'int8range': 'range_ops',
  'interval': 'interval_ops',
  'jsonb': 'jsonb_ops',
  'macaddr': 'macaddr_ops',
  'macaddr8': 'macaddr8_ops',
  'money': 'money_ops',
  'name': 'name_ops',
  'numeric': 'numeric_ops',
  'nummultirange': 'multirange_ops',
  'numrange': 'range_ops',
  'oid': 'oid_ops',
  'oidvector': 'oidvector_ops',
  'pg_dependencies': 'bytea_ops',
  'pg_lsn': 'pg_lsn_ops',
  'pg_mcv_list': 'bytea_ops',
  'pg_ndistinct': 'bytea_ops',
  'pg_node_tree': 'text_ops',
  'regclass': 'oid_ops',
  'regcollation': 'oid_ops',
  'regconfig': 'oid_ops',
  'regdictionary': 'oid_ops',
  'regnamespace': 'oid_ops',
  'regoper': 'oid_ops',
  'regoperator': 'oid_ops',
  'regproc': 'oid_ops',
  'regprocedure': 'oid_ops',
  'regrole': 'oid_ops',
  'regtype': 'oid_ops',
  'text': 'text_ops',
  'tid': 'tid_ops',
  'time': 'time_ops',
  'timestamp': 'timestamp_ops',
  'timestamptz': 'timestamptz_ops',
  'timetz': 'timetz_ops',
  'tsmultirange': 'multirange_ops',
  'tsquery': 'tsquery_ops',
  'tsrange': 'range_ops',
  'tstzmultirange': 'multirange_ops',
  'tstzrange': 'range_ops',
  'tsvector': 'tsvector_ops',
  'uuid': 'uuid_ops',
  'varbit': 'varbit_ops',
  'varchar': 'text_ops',
  'xid8': 'xid8_ops',
};
