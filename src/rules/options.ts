/**
 * Rule options at run time: validating configured values against a rule's option schemas, and
 * describing the options for its page. This module loads zod; the lint path never imports it unless
 * a config sets options (see `RuleOption` in define.ts).
 */

import * as z from 'zod';
import { didYouMean } from '../config/suggest.js';
import type { Rule, RuleOption } from './define.js';

export interface OptionIssue {
  /** the option's name, or undefined for a problem with the options object itself */
  option?: string;
  /** a path inside the option's value (`[0]` of an array), when the problem is there */
  path: PropertyKey[];
  message: string;
}

export type OptionsResult =
  | { ok: true; options: Record<string, unknown> }
  | { ok: false; issues: OptionIssue[] };

const schemas = new WeakMap<RuleOption, z.ZodType>();

/** The option's schema, built once. */
export function optionSchema(spec: RuleOption): z.ZodType {
  let schema = schemas.get(spec);
  if (!schema) {
    schema = spec.schema(z);
    schemas.set(spec, schema);
  }
  return schema;
}

/** Checks the options a config gives a rule: unknown names and values the schema rejects are issues. */
export function validateRuleOptions(
  rule: Pick<Rule, 'id' | 'options'>,
  raw: Readonly<Record<string, unknown>>,
): OptionsResult {
  const specs = rule.options ?? {};
  const known = Object.keys(specs);
  const issues: OptionIssue[] = [];
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const spec = specs[name];
    if (!spec) {
      const allowed = known.length === 0 ? 'it has no options' : `its options: ${known.join(', ')}`;
      issues.push({
        option: name,
        path: [],
        message: `unknown option "${name}" for rule "${rule.id}"${didYouMean(name, known)}; ${allowed}`,
      });
      continue;
    }
    const result = optionSchema(spec).safeParse(value);
    if (result.success) {
      options[name] = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      const where = issue.path.length === 0 ? '' : ` at ${issue.path.map((p) => `[${String(p)}]`).join('')}`;
      issues.push({
        option: name,
        path: issue.path,
        message: `option "${name}" of rule "${rule.id}"${where}: ${issueText(issue)}${
          // a wrong type is clearer with the whole expected type; refinements say what they expect
          issue.code === 'invalid_type' ? ` (the option is ${describeOptionType(spec)})` : ''
        }`,
      });
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, options };
}

function issueText(issue: z.core.$ZodIssue): string {
  // zod's own messages are good ("Too small: expected number to be >=1"); lower-case the first letter
  // so they read as part of the sentence
  return issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
}

/** The option's type for people: `integer ≥ 1`, `string[]`, `"a" \| "b"`. */
export function describeOptionType(spec: RuleOption): string {
  if (spec.type !== undefined) return spec.type;
  return describeJsonSchema(z.toJSONSchema(optionSchema(spec), { unrepresentable: 'any' }) as JsonSchema);
}

function describeJsonSchema(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(describeJsonSchema).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (type === 'array') return `${s.items ? describeJsonSchema(s.items) : 'unknown'}[]`;
  if (type === 'integer' || type === 'number') {
    // zod's integers carry the safe-integer range as bounds: not worth showing
    const shown = (n: number | undefined) => n !== undefined && Math.abs(n) !== Number.MAX_SAFE_INTEGER;
    const bounds = [
      shown(s.minimum) ? `≥ ${s.minimum}` : '',
      shown(s.exclusiveMinimum) ? `> ${s.exclusiveMinimum}` : '',
      shown(s.maximum) ? `≤ ${s.maximum}` : '',
    ].filter(Boolean);
    return [type, ...bounds].join(' ');
  }
  return type ?? 'any';
}
