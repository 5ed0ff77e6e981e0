/**
 * Timeout values (`lock_timeout`, `statement_timeout`) read the way Postgres reads an integer GUC
 * whose base unit is milliseconds, so that what pgkeel believes matches what the server will do.
 */

/** Postgres' time units for a millisecond-based GUC, largest first (the order matters for rounding). */
const UNITS: readonly (readonly [unit: string, ms: number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1_000],
  ['ms', 1],
  ['us', 0.001],
];
/** smallest first, as people list them */
const UNIT_NAMES = UNITS.map(([u]) => u).reverse();
/** Postgres copies at most this many characters of a unit before comparing it. */
const MAX_UNIT_LEN = 3;
/** lock_timeout and statement_timeout are C ints. */
const INT_MAX = 2_147_483_647;

/** A value Postgres would reject for a millisecond timeout setting. */
export class IntervalError extends Error {
  override readonly name = 'IntervalError';
  readonly value: string | number;
  constructor(value: string | number, reason: string) {
    super(`invalid interval ${JSON.stringify(value)}: ${reason}`);
    this.value = value;
  }
}

/**
 * Milliseconds for a timeout value, as `SET lock_timeout = <value>` would set it: bare numbers are
 * milliseconds; units `us` `ms` `s` `min` `h` `d` (case-sensitive) may follow after optional
 * whitespace; fractions are allowed and rounded like Postgres rounds them (half to even). `0` means
 * the timeout is disabled, and so is anything that rounds to 0 (`'400us'`), exactly as on the server.
 * Like Postgres, integers are read as C `strtol(…, 0)` does, so `0x10` is 16
 * and a leading zero means octal (`010` is 8).
 */
export function parseInterval(value: string | number): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new IntervalError(value, 'not a finite number');
    ms = value;
  } else {
    ms = parseString(value);
  }
  const rounded = roundHalfEven(ms);
  if (rounded > INT_MAX) {
    throw new IntervalError(value, `larger than the maximum, ${INT_MAX}ms (about 24.8 days)`);
  }
  if (rounded < 0) throw new IntervalError(value, 'must not be negative (0 disables the timeout)');
  // -0 would print oddly and compares equal anyway
  return rounded === 0 ? 0 : rounded;
}

/** `1500` → `"1500ms"`, `2000` → `"2s"`, `60000` → `"1min"`, `0` → `"0"`: the largest unit that divides evenly, as `SHOW` prints it. */
export function formatInterval(ms: number): string {
  if (ms === 0) return '0';
  if (!Number.isInteger(ms)) return `${ms}ms`;
  for (const [unit, size] of UNITS) {
    if (size >= 1 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function isCSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\v' || ch === '\f' || ch === '\r';
}

function parseString(input: string): number {
  const syntax = () =>
    new IntervalError(
      input,
      `expected a number of milliseconds, optionally followed by a unit (${UNIT_NAMES.join(', ')}), e.g. "2s"`,
    );

  let { value, end } = readInteger(input);
  // Postgres re-reads the number as a float when strtol stops at a decimal point or exponent
  const stop = input[end];
  if (stop === '.' || stop === 'e' || stop === 'E' || !Number.isSafeInteger(value)) {
    ({ value, end } = readFloat(input));
  }
  if (end === 0 || Number.isNaN(value)) throw syntax();
  if (!Number.isFinite(value)) throw new IntervalError(input, 'number out of range');

  let i = end;
  while (isCSpace(input[i])) i++;
  if (i === input.length) return value;

  let j = i;
  while (j < input.length && !isCSpace(input[j]) && j - i < MAX_UNIT_LEN) j++;
  const unit = input.slice(i, j);
  let k = j;
  while (isCSpace(input[k])) k++;
  const size = UNITS.findIndex(([u]) => u === unit);
  if (/^[0-9]/.test(unit) && /^[ \t\n\v\f\r]*[+-]?0[0-7]*$/.test(input.slice(0, end))) {
    throw new IntervalError(
      input,
      'a leading 0 makes Postgres read the number as octal, where 8 and 9 are not digits',
    );
  }
  if (k !== input.length || size === -1) {
    const written = input.slice(i).trim();
    const hint = suggestUnit(written);
    throw new IntervalError(
      input,
      `unknown unit "${written}"${hint ? ` (did you mean "${hint}"?)` : ''}; units are ${UNIT_NAMES.join(', ')} (case-sensitive)`,
    );
  }

  const [, multiplier] = UNITS[size]!;
  let converted = value * multiplier;
  // Postgres rounds a fractional value to a whole number of the next smaller unit ("1.0001s" is 1000ms)
  const smaller = UNITS[size + 1];
  if (smaller) converted = roundHalfEven(converted / smaller[1]) * smaller[1];
  return converted;
}

function suggestUnit(written: string): string | undefined {
  const lower = written.toLowerCase();
  const exact = UNIT_NAMES.find((u) => u === lower);
  if (exact) return exact;
  const aliases: Record<string, string> = {
    sec: 's',
    secs: 's',
    second: 's',
    seconds: 's',
    mins: 'min',
    minute: 'min',
    minutes: 'min',
    m: 'min',
    hr: 'h',
    hrs: 'h',
    hour: 'h',
    hours: 'h',
    day: 'd',
    days: 'd',
    msec: 'ms',
    msecs: 'ms',
    millisecond: 'ms',
    milliseconds: 'ms',
    usec: 'us',
    µs: 'us',
  };
  return aliases[lower];
}

/** C `strtol(s, &end, 0)`: leading whitespace, sign, then hex (`0x`), octal (leading `0`) or decimal digits. */
function readInteger(s: string): { value: number; end: number } {
  let i = 0;
  while (isCSpace(s[i])) i++;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') {
    if (s[i] === '-') sign = -1;
    i++;
  }
  let radix = 10;
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    radix = 16;
    i += 2;
  } else if (s[i] === '0') {
    radix = 8;
  }
  const digits = radix === 16 ? /[0-9a-fA-F]/ : radix === 8 ? /[0-7]/ : /[0-9]/;
  const start = i;
  while (i < s.length && digits.test(s[i]!)) i++;
  if (i === start) return { value: Number.NaN, end: 0 };
  return { value: sign * Number.parseInt(s.slice(start, i), radix), end: i };
}

/** C `strtod` for decimal input (hex floats, `inf` and `nan` never reach it from the integer path). */
function readFloat(s: string): { value: number; end: number } {
  const m = /^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s);
  if (!m) return { value: Number.NaN, end: 0 };
  return { value: Number(m[0].trim()), end: m[0].length };
}

/** C `rint` in the default rounding mode. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
