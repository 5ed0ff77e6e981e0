/**
 * A rule's examples are its tests: every `bad` example reports on every Postgres version it is
 * declared for, every `ok` example stays silent, and every `fixed` example is exactly what the
 * rule's fixes produce — and lints clean for that rule.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_PG_VERSIONS } from '../src/config/types.js';
import { applyFixes } from '../src/fix/apply.js';
import { type LintOptions, lintSqlSync } from '../src/lint/lint.js';
import { loadParser, parseSql } from '../src/parse/parse.js';
import type { Rule, RuleExample } from '../src/rules/define.js';
import { allRules } from '../src/rules/index.js';
import { optionSchema, validateRuleOptions } from '../src/rules/options.js';
import { exampleSchema } from './example-schema.js';

beforeAll(() => loadParser());

function versionsOf(example: RuleExample): number[] {
  const min = example.pg?.min ?? 0;
  const max = example.pg?.max ?? 99;
  return SUPPORTED_PG_VERSIONS.filter((v) => v >= min && v <= max);
}

function lintWith(rule: Rule, sql: string, example: RuleExample, pgVersion: number) {
  // options go through the same validation a config file's do
  let rules: LintOptions['rules'];
  if (example.options) {
    const checked = validateRuleOptions(rule, example.options);
    expect(checked.ok ? [] : checked.issues.map((i) => i.message), 'example options are invalid').toEqual([]);
    if (checked.ok) rules = { [rule.id]: ['error', checked.options] };
  }
  const result = lintSqlSync(sql, {
    ruleSet: [rule],
    presets: ['all'],
    rules,
    pgVersion,
    runner: example.runner,
    // the example's setup is its earlier migrations: the linter knows their schema
    schema: exampleSchema(example, pgVersion),
  });
  const parseErrors = result.diagnostics.filter((d) => d.rule === 'parse-error');
  expect(parseErrors, `example does not parse:\n${sql}`).toEqual([]);
  return result.diagnostics.filter((d) => d.rule === rule.id);
}

describe.each(allRules.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
  it('has docs and at least one bad and one ok example', () => {
    expect(rule.summary.length).toBeGreaterThan(10);
    expect(rule.docs.problem.length).toBeGreaterThan(20);
    expect(rule.docs.solution.length).toBeGreaterThan(20);
    expect(rule.examples.some((e) => e.bad)).toBe(true);
    expect(rule.examples.some((e) => e.ok)).toBe(true);
    for (const e of rule.examples) {
      expect(versionsOf(e).length, 'example applies to no supported version').toBeGreaterThan(0);
      expect(Boolean(e.bad) !== Boolean(e.ok), 'an example is either bad or ok').toBe(true);
    }
  });

  if (rule.examples.some((e) => e.setup ?? e.stall ?? e.tablespace ?? e.refuses ?? e.conservative)) {
    it("sets up its examples for the version matrix with SQL that parses, on the examples' versions", () => {
      for (const [i, e] of rule.examples.entries()) {
        const at = `example #${i + 1}`;
        for (const sql of [e.setup, e.stall]) {
          if (sql !== undefined) expect(parseSql(sql).errors, `${at}: ${sql}`).toEqual([]);
        }
        if (e.tablespace !== undefined) expect(e.tablespace).toMatch(/^[a-z_][a-z0-9_]*$/);
        // what Postgres refuses is an error the rule predicts: a bad example's
        if (e.refuses) expect(e.bad, `${at}: only a bad example is refused`).toBeDefined();
        for (const c of e.conservative ?? []) {
          const on = versionsOf(e).filter((v) => v >= (c.min ?? 0) && v <= (c.max ?? 99));
          expect(on.length, `${at}: a conservative claim on none of its versions`).toBeGreaterThan(0);
          expect(c.why.length).toBeGreaterThan(20);
        }
      }
    });
  }

  if (rule.options) {
    it('documents its options, whose defaults pass their own schemas', () => {
      for (const [name, spec] of Object.entries(rule.options!)) {
        expect(name).toMatch(/^[a-z][a-zA-Z0-9]*$/);
        expect(spec.description.length, `${name} needs a description`).toBeGreaterThan(20);
        expect(optionSchema(spec).safeParse(spec.default).success, `default of ${name}`).toBe(true);
      }
      // an option no example sets is an option no test exercises
      const used = new Set(rule.examples.flatMap((e) => Object.keys(e.options ?? {})));
      expect(Object.keys(rule.options!).filter((n) => !used.has(n))).toEqual([]);
    });
  }

  for (const [i, example] of rule.examples.entries()) {
    const label = `${example.bad ? 'bad' : 'ok'} #${i + 1}${example.title ? `: ${example.title}` : ''}`;
    it.each(versionsOf(example))(`${label} (PG %i)`, (pg) => {
      if (example.ok !== undefined) {
        expect(lintWith(rule, example.ok, example, pg)).toEqual([]);
        return;
      }
      const found = lintWith(rule, example.bad!, example, pg);
      expect(found.length, `no ${rule.id} finding on:\n${example.bad}`).toBeGreaterThan(0);
      for (const d of found) {
        expect(d.message.length).toBeGreaterThan(10);
        expect(d.line).toBeGreaterThan(0);
        expect(d.column).toBeGreaterThan(0);
      }
      if (example.fixed !== undefined) {
        expect(applyFixes(example.bad!, found).text).toBe(example.fixed);
        expect(lintWith(rule, example.fixed, example, pg)).toEqual([]);
      } else {
        expect(found.filter((d) => d.fix)).toEqual([]);
      }
    });
  }
});

describe('rule set', () => {
  it('has unique kebab-case ids', () => {
    const ids = allRules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
  });
});
