/**
 * Column types, and whether `ALTER TABLE … ALTER COLUMN … TYPE …` rewrites the table.
 *
 * Postgres builds a conversion expression from the old column to the new type, simplifies it, and
 * rewrites the table unless what is left is the bare column under relabels. A relabel is left when:
 *   - the type stays and the typmod stays or is dropped (`numeric(10,2)` → `numeric`);
 *   - the cast is binary coercible in pg_cast (`varchar` → `text`, `cidr` → `inet`) and the new type
 *     has no typmod;
 *   - the typmod changes and the length-coercion function's planner support function proves the
 *     change a no-op (`varchar(10)` → `varchar(20)`, `numeric(10,2)` → `numeric(12,2)`);
 *   - timestamp ↔ timestamptz while the session TimeZone has a zero UTC offset (PG ≥ 12), again
 *     only when the new typmod is absent or 6.
 * Arrays are converted element by element, which never simplifies: any change of element type or
 * element typmod (other than dropping it) rewrites, even `varchar[]` → `text[]`.
 *
 * The catalog facts come from src/catalog/generated/casts.ts; the support functions' rules are
 * Postgres C code, restated below (and checked against a real Postgres in test/catalog-data.test.ts).
 */
import type { Node, TypeName } from '@pgsql/types';
import {
  BINARY_COERCIBLE_CASTS,
  BUILTIN_TYPES,
  DEFAULT_BTREE_OPCLASS,
  INTERVAL_FIELDS,
  INTERVAL_FULL_PRECISION,
  INTERVAL_FULL_RANGE,
  MAX_PRECISION,
  SERIAL_TYPES,
  TYPE_ALIASES,
  TYPMOD_TYPES,
} from './generated/casts.js';

export interface TypeRef {
  /**
   * canonical, e.g. 'varchar', 'int4', 'numeric' (pg_type.typname of a pg_catalog type; `char` is
   * the internal one-byte type, SQL's CHAR(n) is `bpchar`). Types outside pg_catalog keep their
   * qualification (`'public.mood'`); unqualified unknown names are kept as written (`'mood'`).
   */
  name: string;
  /**
   * the type modifiers as written: [n] for varchar/bpchar/bit/varbit, [precision] or
   * [precision, scale] for numeric, [precision] for time/timetz/timestamp/timestamptz, and for
   * interval [fields mask] or [fields mask, precision] (masks as in INTERVAL_FIELDS; `interval(3)`
   * is [INTERVAL_FULL_RANGE, 3]). Empty when none.
   */
  typmods: number[];
  /** 0 for a scalar; Postgres ignores the number of dimensions, only array-or-not matters */
  arrayDims: number;
}

const BUILTIN = new Set(BUILTIN_TYPES.split(/\s+/).filter(Boolean));
const BINARY = new Map(BINARY_COERCIBLE_CASTS.map(([s, t, context]) => [`${s} ${t}`, context]));
const FIELDS_BY_MASK = new Map(Object.entries(INTERVAL_FIELDS).map(([k, v]) => [v, k]));
/** interval units from least to most significant, as the support function ranks them */
const INTERVAL_UNITS = ['second', 'minute', 'hour', 'day', 'month', 'year'];

/** Is this a built-in (pg_catalog) type name? */
export function isBuiltinType(name: string): boolean {
  return BUILTIN.has(name);
}

/** The integer type a serial pseudo-type declares (`bigserial` → `int8`); undefined for anything else. */
export function serialColumnType(name: string): string | undefined {
  // own keys only: a column type named `constructor` is no serial
  return Object.hasOwn(SERIAL_TYPES, name) ? SERIAL_TYPES[name] : undefined;
}

/**
 * Canonical typname of a type as spelled in SQL text or by `format_type` / information_schema
 * (`'character varying'` → `'varchar'`, `'integer'` → `'int4'`, `'timestamp with time zone'` →
 * `'timestamptz'`, `'pg_catalog.int4'` → `'int4'`). Spell the name only, without typmod or `[]`.
 * Quoted or qualified names are typnames (`'"char"'` and `'pg_catalog.char'` are the internal char
 * type, unquoted `char` is bpchar). Undefined for non-built-in names and for serial & co., which
 * are not types (see serialColumnType).
 */
export function canonicalTypeName(spelling: string): string | undefined {
  const s = spelling.trim().replace(/\s+/g, ' ');
  const exact = (n: string) => (BUILTIN.has(n) ? n : undefined);
  const quoted = /^"((?:[^"]|"")+)"$/.exec(s);
  if (quoted) return exact(quoted[1]!.replaceAll('""', '"'));
  const qualified = /^(?:pg_catalog|"pg_catalog")\.(.+)$/i.exec(s);
  if (qualified) {
    const rest = qualified[1]!;
    const q = /^"((?:[^"]|"")+)"$/.exec(rest);
    return exact(q ? q[1]!.replaceAll('""', '"') : rest.toLowerCase());
  }
  const lower = s.toLowerCase();
  return TYPE_ALIASES[lower] ?? exact(lower);
}

// ---------------------------------------------------------------- AST

function stringOf(node: unknown): string | undefined {
  const s = (node as { String?: { sval?: unknown } } | null)?.String?.sval;
  return typeof s === 'string' ? s : undefined;
}

function intOf(node: unknown): number | undefined {
  const c = (node as { A_Const?: { ival?: { ival?: unknown }; isnull?: boolean } } | null)?.A_Const;
  if (!c || c.isnull || !c.ival || typeof c.ival !== 'object') return undefined;
  // protobuf JSON leaves out zero values: `numeric(10,0)` has `{ ival: {} }` for its scale
  const v = c.ival.ival ?? 0;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/**
 * TypeName node from libpg-query's AST (see @pgsql/types `TypeName`; a `{ TypeName: … }` wrapper is
 * accepted too) → TypeRef. Handles pg_catalog-qualified names (the parser writes SQL keywords such as
 * `integer`, `character varying`, `timestamp with time zone`, `decimal` as `pg_catalog.int4` …),
 * typmods given as integer A_Consts, and arrayBounds. Undefined for SETOF, %TYPE, non-integer typmods
 * and anything that is not a TypeName.
 */
export function typeRefFromAst(typeName: unknown): TypeRef | undefined {
  if (typeof typeName !== 'object' || typeName === null) return undefined;
  const tn: TypeName = (
    'TypeName' in typeName ? (typeName as { TypeName: TypeName }).TypeName : typeName
  ) as TypeName;
  if (!Array.isArray(tn.names) || tn.names.length === 0 || tn.setof || tn.pct_type) return undefined;
  // no intermediate arrays for the usual one- and two-part names: this runs for every column written
  let name: string;
  if (tn.names.length === 1) {
    const only = stringOf(tn.names[0]);
    if (only === undefined) return undefined;
    name = only;
  } else {
    const names: string[] = [];
    for (const n of tn.names) {
      const part = stringOf(n);
      if (part === undefined) return undefined;
      names.push(part);
    }
    name = names.length === 2 && names[0] === 'pg_catalog' ? names[1]! : names.join('.');
  }
  const typmods: number[] = [];
  for (const m of (tn.typmods ?? []) as Node[]) {
    const v = intOf(m);
    if (v === undefined) return undefined;
    typmods.push(v);
  }
  const arrayDims = Array.isArray(tn.arrayBounds) ? tn.arrayBounds.length : 0;
  return { name, typmods, arrayDims };
}

/** 'varchar(20)', 'numeric(10,2)', 'int4[]', 'interval day to second(3)', '"char"'. */
export function formatTypeRef(t: TypeRef): string {
  let base: string;
  if (t.name === 'interval' && t.typmods.length > 0) {
    const [mask, precision] = t.typmods as [number, number | undefined];
    const fields = mask === INTERVAL_FULL_RANGE ? undefined : FIELDS_BY_MASK.get(mask);
    if (mask !== INTERVAL_FULL_RANGE && fields === undefined) base = `interval(${t.typmods.join(',')})`;
    else {
      const p = precision === undefined || precision === INTERVAL_FULL_PRECISION ? '' : `(${precision})`;
      base = fields === undefined ? `interval${p}` : `interval ${fields}${p}`;
    }
  } else {
    base = t.name === 'char' ? '"char"' : t.name;
    if (t.typmods.length > 0) base += `(${t.typmods.join(',')})`;
  }
  return base + '[]'.repeat(t.arrayDims);
}

// ---------------------------------------------------------------- type changes

export type TypeChange =
  | {
      rewrite: false;
      reason: string;
      /**
       * true when indexes on the column are rebuilt although the table is not: the type's default
       * btree operator class changes (e.g. timestamp → timestamptz, text → bpchar, int4 → oid).
       * Such an index build runs under the ACCESS EXCLUSIVE lock. (An index with an explicit
       * operator class, or a change of the column's collation, can also force a rebuild.)
       */
      indexRebuild: boolean;
    }
  | { rewrite: true; reason: string }
  | { rewrite: 'unknown'; reason: string };

export interface TypeChangeOptions {
  /** major version of the target server (10 … 18; older majors behave as 10 here) */
  pgVersion: number;
  /**
   * the session TimeZone of the ALTER has a zero UTC offset (UTC, Etc/UTC, GMT, …; not
   * Europe/London). Decides timestamp ↔ timestamptz on PG ≥ 12; unknown counts as not UTC.
   */
  timeZoneIsUtc?: boolean;
}

/** A typmod in comparable form; null = none (-1). */
type Typmod = number[] | null;

function normaliseTypmod(t: TypeRef): { typmod: Typmod } | { error: string } {
  if (t.typmods.length === 0) return { typmod: null };
  const info = TYPMOD_TYPES[t.name];
  if (!info) return { error: `${t.name} takes no type modifier` };
  const [a, b] = t.typmods as [number, number | undefined];
  const n = t.typmods.length;
  switch (info.kind) {
    case 'length':
      return n === 1 && a >= 1 ? { typmod: [a] } : { error: `bad length ${t.typmods.join(',')}` };
    case 'numeric':
      return n <= 2 && a >= 1
        ? { typmod: [a, b ?? 0] }
        : { error: `bad numeric typmod ${t.typmods.join(',')}` };
    case 'precision':
      return n === 1 && a >= 0
        ? { typmod: [Math.min(a, MAX_PRECISION[t.name]!)] }
        : { error: `bad precision ${t.typmods.join(',')}` };
    case 'interval': {
      if (n > 2 || (a !== INTERVAL_FULL_RANGE && !FIELDS_BY_MASK.has(a)) || (b !== undefined && b < 0)) {
        return { error: `bad interval typmod ${t.typmods.join(',')}` };
      }
      const p = b === undefined ? INTERVAL_FULL_PRECISION : Math.min(b, MAX_PRECISION.interval!);
      return { typmod: [a, p] };
    }
  }
}

function sameTypmod(a: Typmod, b: Typmod): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The interval support function's "least field": 0 = second … 5 = year. */
function leastField(mask: number): number {
  const i = INTERVAL_UNITS.findIndex((u) => (mask & INTERVAL_FIELDS[u]!) !== 0);
  return Math.max(i, 0);
}

/**
 * Whether applying typmod `next` to a value of type `type` whose current typmod is `cur` is a no-op
 * that Postgres proves at plan time (length-coercion support functions; see their C sources:
 * varchar_support, varbit_support, numeric_support, TemporalSimplify, interval_support).
 */
function typmodCoercionIsNoop(type: string, cur: Typmod, next: number[]): boolean {
  if (cur !== null && sameTypmod(cur, next)) return true; // no coercion is applied at all
  const info = TYPMOD_TYPES[type];
  if (!info || info.support === null) return false;
  switch (info.kind) {
    case 'length':
      return cur !== null && next[0]! >= cur[0]!;
    case 'numeric':
      return cur !== null && next[1] === cur[1] && next[0]! >= cur[0]!;
    case 'precision':
      return next[0]! >= MAX_PRECISION[type]! || (cur !== null && next[0]! >= cur[0]!);
    case 'interval': {
      const max = MAX_PRECISION.interval!;
      const oldLeast = cur === null ? 0 : leastField(cur[0]!);
      const oldPrecision = cur === null ? INTERVAL_FULL_PRECISION : cur[1]!;
      const newLeast = leastField(next[0]!);
      const newPrecision = next[1]!;
      return newLeast <= oldLeast && (oldLeast > 0 || newPrecision >= max || newPrecision >= oldPrecision);
    }
  }
}

function indexRebuild(from: string, to: string): boolean {
  if (from === to) return false;
  const a = DEFAULT_BTREE_OPCLASS[from];
  if (a === undefined) return false; // no btree index with a default opclass can exist on the old column
  return a !== DEFAULT_BTREE_OPCLASS[to];
}

const TIMESTAMPS = new Set(['timestamp', 'timestamptz']);

/**
 * Does `ALTER TABLE … ALTER COLUMN c TYPE <to>` (without USING) rewrite the table when c is `from`?
 * `rewrite: true` also covers changes Postgres refuses without a USING clause (e.g. text → int4):
 * with one, it rewrites. Any USING expression other than the bare column rewrites too — that is for
 * the caller to check. User-defined types, domains, enums and extension types → 'unknown'.
 */
export function typeChangeRewrites(from: TypeRef, to: TypeRef, options: TypeChangeOptions): TypeChange {
  const f = formatTypeRef(from);
  const t = formatTypeRef(to);
  const change = `${f} → ${t}`;
  for (const r of [from, to]) {
    const serial = SERIAL_TYPES[r.name];
    if (serial !== undefined) {
      return {
        rewrite: 'unknown',
        reason: `${r.name} is not a type but column shorthand (${serial} + sequence + default); ALTER COLUMN … TYPE ${r.name} fails`,
      };
    }
  }
  const fromArray = from.arrayDims > 0;
  const toArray = to.arrayDims > 0;

  if (!BUILTIN.has(from.name) || !BUILTIN.has(to.name)) {
    if (
      from.name === to.name &&
      fromArray === toArray &&
      from.typmods.length === to.typmods.length &&
      from.typmods.every((v, i) => v === to.typmods[i])
    ) {
      return {
        rewrite: false,
        reason: `${change}: same type and modifier, nothing to convert`,
        indexRebuild: false,
      };
    }
    const other = BUILTIN.has(from.name) ? to.name : from.name;
    return {
      rewrite: 'unknown',
      reason: `${change}: ${other} is not a built-in type (domain, enum, composite or extension type); whether Postgres rewrites depends on its casts and constraints`,
    };
  }

  const a = normaliseTypmod(from);
  const b = normaliseTypmod(to);
  if ('error' in a || 'error' in b) {
    return {
      rewrite: 'unknown',
      reason: `${change}: Postgres rejects this type: ${'error' in a ? a.error : (b as { error: string }).error}`,
    };
  }
  const oldMod = a.typmod;
  const newMod = b.typmod;

  if (fromArray !== toArray) {
    return {
      rewrite: true,
      reason: `${change}: converting between an array and a scalar rewrites every row (and needs USING)`,
    };
  }
  if (fromArray) {
    if (from.name !== to.name) {
      return {
        rewrite: true,
        reason: `${change}: arrays are converted element by element, which always rewrites the table, even when ${from.name} → ${to.name} is binary coercible`,
      };
    }
    if (newMod === null || sameTypmod(oldMod, newMod)) {
      return {
        rewrite: false,
        reason: `${change}: same element type, element typmod kept or dropped`,
        indexRebuild: false,
      };
    }
    return {
      rewrite: true,
      reason: `${change}: changing the element typmod of an array checks every element, rewriting the table (even when widening)`,
    };
  }

  // 1. from the old type to the new type
  let cur: Typmod;
  let how: string;
  if (from.name === to.name) {
    cur = oldMod;
    how = 'same type';
  } else if ((BINARY.get(`${from.name} ${to.name}`) ?? 'e') !== 'e') {
    cur = null;
    how = `${from.name} → ${to.name} is binary coercible (pg_cast)`;
  } else if (TIMESTAMPS.has(from.name) && TIMESTAMPS.has(to.name)) {
    if (options.pgVersion < 12) {
      return {
        rewrite: true,
        reason: `${change}: before PG 12, converting between timestamp and timestamptz always rewrites`,
      };
    }
    if (options.timeZoneIsUtc !== true) {
      return {
        rewrite: true,
        reason: `${change}: rewrites unless the session TimeZone of the ALTER is UTC (then Postgres keeps the stored values, PG ≥ 12)`,
      };
    }
    cur = null;
    how = `${from.name} and ${to.name} store the same values while the session TimeZone is UTC (PG ≥ 12)`;
  } else {
    return {
      rewrite: true,
      reason: `${change}: no binary-coercible cast from ${from.name} to ${to.name}, so every row is converted (a table rewrite; Postgres may also demand USING)`,
    };
  }

  // 2. the new typmod
  const noRewrite = (why: string): TypeChange => {
    const rebuild = indexRebuild(from.name, to.name);
    const indexes = rebuild
      ? '; indexes on the column are rebuilt (their default operator class changes)'
      : '';
    return { rewrite: false, reason: `${change}: ${how}${why}${indexes}`, indexRebuild: rebuild };
  };
  if (newMod === null) return noRewrite(oldMod !== null ? ', typmod dropped' : '');
  if (cur !== null && sameTypmod(cur, newMod)) return noRewrite(', same typmod');
  const support = TYPMOD_TYPES[to.name]?.support ?? null;
  if (typmodCoercionIsNoop(to.name, cur, newMod)) {
    const old =
      cur === null
        ? `${to.name} value`
        : formatTypeRef({ name: to.name, typmods: from.typmods, arrayDims: 0 });
    return noRewrite(`; ${support} proves that ${t} keeps every ${old} unchanged`);
  }
  return {
    rewrite: true,
    reason:
      support === null
        ? `${change}: ${how}, but ${to.name} has no typmod support function: every row goes through ${to.name}(n) (table rewrite)`
        : `${change}: ${how}, but the new typmod can reject or change existing values: every row is re-checked (table rewrite)`,
  };
}
