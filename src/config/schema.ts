import * as z from 'zod';
import type { Rule } from '../rules/define.js';
import { allRules } from '../rules/index.js';
import { validateRuleOptions } from '../rules/options.js';
import type { ConfigIssue } from './errors.js';
import { IntervalError, parseInterval } from './interval.js';
import { didYouMean } from './suggest.js';
import {
  type PgkeelConfig,
  type Preset,
  RUNNER_NAMES,
  type RuleLevel,
  type RuleSetting,
  type RunnerName,
  SUPPORTED_PG_VERSIONS,
} from './types.js';

export const PRESETS: readonly Preset[] = ['recommended', 'all'];
const LEVELS = ['off', 'warn', 'error'] as const;
/** `$schema` is accepted (and dropped) so editors can offer completion for JSON configs. */
const TOP_LEVEL_KEYS = [
  '$schema',
  'pgVersion',
  'runner',
  'presets',
  'rules',
  'ignorePaths',
  'timeouts',
  'applied',
];
const TIMEOUT_KEYS = ['lockTimeout', 'statementTimeout'];

/** Describes a value for a message: `string "15"`, `number 9`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
      return `string ${JSON.stringify(shown)}`;
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    default:
      return 'an object';
  }
}

const quoteList = (items: readonly string[]) => {
  const quoted = items.map((i) => `"${i}"`);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
};

/** The message for a `pgVersion` value, or undefined when it is fine. */
export function checkPgVersion(value: unknown): string | undefined {
  const supported = SUPPORTED_PG_VERSIONS.join(', ');
  if (typeof value !== 'number')
    return `expected a Postgres major version (${supported}), got ${describeValue(value)}`;
  if (!(SUPPORTED_PG_VERSIONS as readonly number[]).includes(value)) {
    return `unsupported Postgres version ${value} (supported: ${supported})`;
  }
  return undefined;
}

/** The message for a `runner` value, or undefined when it is fine. */
export function checkRunner(value: unknown): string | undefined {
  if (typeof value === 'string' && (RUNNER_NAMES as readonly string[]).includes(value)) return undefined;
  const known = `known runners: ${RUNNER_NAMES.join(', ')}`;
  if (typeof value !== 'string') return `expected a runner name, got ${describeValue(value)}; ${known}`;
  return `unknown runner "${value}"${didYouMean(value, RUNNER_NAMES)}; ${known}`;
}

function checkPreset(value: unknown): string | undefined {
  if (typeof value === 'string' && (PRESETS as readonly string[]).includes(value)) return undefined;
  const expected = `expected ${quoteList(PRESETS)}`;
  if (typeof value !== 'string') return `${expected}, got ${describeValue(value)}`;
  return `unknown preset "${value}"${didYouMean(value, PRESETS)}; ${expected}`;
}

function checkLevel(value: unknown): string | undefined {
  if (typeof value === 'string' && (LEVELS as readonly string[]).includes(value)) return undefined;
  if (typeof value === 'string') {
    return `unknown level "${value}"${didYouMean(value, LEVELS)}; expected ${quoteList(LEVELS)}`;
  }
  return `expected ${quoteList(LEVELS)}, got ${describeValue(value)}`;
}

function checkRuleSetting(value: unknown): string | undefined {
  if (!Array.isArray(value)) {
    if (typeof value === 'string') return checkLevel(value);
    return `expected ${quoteList(LEVELS)}, or [level, {options}], got ${describeValue(value)}`;
  }
  if (value.length === 0 || value.length > 2) {
    return `expected [level] or [level, {options}], got an array of ${value.length} items`;
  }
  const level = checkLevel(value[0]);
  if (level) return level;
  const options: unknown = value[1];
  if (value.length === 2 && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    return `rule options must be an object, got ${describeValue(options)}`;
  }
  return undefined;
}

/**
 * The problem with an `applied` value (a name or glob, or a list of them), with the list
 * index it is at, or undefined when it is fine.
 */
export function checkApplied(value: unknown): { message: string; index?: number } | undefined {
  const expected = 'expected a migration name or glob marking the last applied one, or a list of globs';
  const checkOne = (v: unknown): string | undefined => {
    if (typeof v !== 'string') return `${expected}, got ${describeValue(v)}`;
    const trimmed = v.trim();
    if (trimmed === '' || /^[./]*$/.test(trimmed)) return `empty pattern ${JSON.stringify(v)}`;
    if (trimmed.startsWith('!')) return `negated patterns (${JSON.stringify(v)}) are not supported here`;
    return undefined;
  };
  if (!Array.isArray(value)) {
    const message = checkOne(value);
    return message === undefined ? undefined : { message };
  }
  // `[]`: nothing is applied yet (a new project), which `pgkeel fix` needs said before it rewrites files
  for (const [index, v] of value.entries()) {
    const message = checkOne(v);
    if (message !== undefined) return { message, index };
  }
  return undefined;
}

function checkInterval(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return `expected an interval such as "2s" or "500ms", got ${describeValue(value)}`;
  }
  try {
    parseInterval(value);
    return undefined;
  } catch (error) {
    if (error instanceof IntervalError) return error.message;
    throw error;
  }
}

/** A schema that accepts what `check` accepts, reporting `check`'s message otherwise. */
function checked<T>(check: (value: unknown) => string | undefined) {
  return z.custom<T>().superRefine((value, ctx) => {
    const message = check(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

/** The rules whose option schemas a config is checked against. */
export type OptionRules = readonly Pick<Rule, 'id' | 'options'>[];

function buildSchema(knownRules: readonly string[], optionRules: OptionRules) {
  const parsedOptions = new Map<string, Record<string, unknown>>();
  const interval = checked<string | number>(checkInterval)
    // numbers are accepted for convenience in JSON; the contract type is the Postgres string form
    .transform((v) => String(v))
    .optional();
  return z.strictObject({
    $schema: z.string().optional(),
    pgVersion: checked<number>(checkPgVersion).optional(),
    runner: checked<RunnerName>(checkRunner).optional(),
    presets: z.array(checked<Preset>(checkPreset)).optional(),
    rules: z
      .record(z.string(), z.unknown())
      .superRefine((rules, ctx) => {
        for (const [name, setting] of Object.entries(rules)) {
          const message = knownRules.includes(name)
            ? checkRuleSetting(setting)
            : `unknown rule "${name}"${didYouMean(name, knownRules)}`;
          if (message !== undefined) {
            ctx.addIssue({ code: 'custom', message, path: [name] });
            continue;
          }
          if (!Array.isArray(setting) || setting.length < 2) continue;
          const rule = optionRules.find((r) => r.id === name) ?? { id: name };
          const checked = validateRuleOptions(rule, setting[1] as Record<string, unknown>);
          if (checked.ok) {
            parsedOptions.set(name, checked.options);
            continue;
          }
          for (const issue of checked.issues) {
            const path = [name, 1, ...(issue.option === undefined ? [] : [issue.option]), ...issue.path];
            ctx.addIssue({ code: 'custom', message: issue.message, path });
          }
        }
      })
      // the options as their schemas parsed them; the caller's object is left as it was
      .transform((rules) => {
        const out = { ...rules } as Record<string, RuleSetting>;
        for (const [name, options] of parsedOptions) {
          const level = (out[name] as [RuleSetting, unknown])[0] as RuleLevel;
          out[name] = [level, options];
        }
        return out;
      })
      .optional(),
    ignorePaths: z.array(z.string()).optional(),
    applied: z
      .custom<string | string[]>()
      .superRefine((value, ctx) => {
        const problem = checkApplied(value);
        if (problem === undefined) return;
        ctx.addIssue({
          code: 'custom',
          message: problem.message,
          ...(problem.index === undefined ? {} : { path: [problem.index] }),
        });
      })
      .optional(),
    timeouts: z
      .strictObject({
        lockTimeout: interval,
        statementTimeout: interval,
      })
      .optional(),
  });
}

/** `["rules", "add-index"]` → `rules.add-index`; `["presets", 0]` → `presets[0]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string | undefined {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? undefined : out;
}

const EXPECTED: Record<string, string> = {
  object: 'an object',
  record: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
};

function toIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const push = (path: readonly PropertyKey[], message: string) => {
    const keyPath = formatKeyPath(path);
    issues.push(keyPath === undefined ? { message } : { keyPath, message });
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = issue.path.length === 0 ? TOP_LEVEL_KEYS.slice(1) : TIMEOUT_KEYS;
      for (const key of issue.keys) {
        const hint = didYouMean(key, allowed);
        push([...issue.path, key], `unknown key "${key}"${hint || `; allowed keys: ${allowed.join(', ')}`}`);
      }
    } else if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const what = issue.path.length === 0 ? `${expected} (the config)` : expected;
      push(issue.path, `expected ${what}, got ${describeValue(issue.input)}`);
    } else {
      push(issue.path, issue.message);
    }
  }
  return issues;
}

export type ValidationResult = { ok: true; config: PgkeelConfig } | { ok: false; issues: ConfigIssue[] };

/**
 * Checks a raw config object (from any source: a file, package.json, CLI flags assembled into the
 * same shape). Unknown keys and unknown rules are errors; every problem is reported, not just the first.
 */
export function validateConfig(
  raw: unknown,
  knownRules: readonly string[],
  optionRules: OptionRules = allRules,
): ValidationResult {
  const result = buildSchema(knownRules, optionRules).safeParse(raw, { reportInput: true });
  if (!result.success) return { ok: false, issues: toIssues(result.error) };
  const { $schema: _schema, ...rest } = result.data;
  const config: PgkeelConfig = {};
  // drop keys whose value was `undefined` so configs compare cleanly
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (config as Record<string, unknown>)[key] = value;
  }
  if (config.timeouts) {
    const timeouts = Object.fromEntries(Object.entries(config.timeouts).filter(([, v]) => v !== undefined));
    config.timeouts = timeouts;
  }
  return { ok: true, config };
}
