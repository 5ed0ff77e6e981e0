/**
 * What every rule example reports, snapshotted so that a change to a finding (its span, severity or
 * message) is seen and reviewed: one file per rule under `__snapshots__/rule-examples/`, with each
 * example's own findings and, linted with every rule enabled, the other rules that fire on it (so
 * overlaps between rules are visible). Each example is linted on every Postgres version it holds
 * for; a finding made on some of them only is followed by those (`[PG 14]`). The files of
 * `examples/` are snapshotted the same way, with every rule enabled (`__snapshots__/examples-dir.txt`).
 *
 * `npx vitest run test/rule-examples.test.ts -u` rewrites the snapshots; with `CI=true` vitest
 * writes none and fails on a missing or different one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_PG_VERSIONS } from '../src/config/types.js';
import type { Diagnostic, FileResult } from '../src/diagnostics.js';
import { applyFixes } from '../src/fix/apply.js';
import { bringsNew } from '../src/fix/fix-file.js';
import { planMigration, renderPlanSql } from '../src/fix/plan.js';
import { type LintOptions, lintSqlSync } from '../src/lint/lint.js';
import { loadParser } from '../src/parse/parse.js';
import { defaultSeverity, type Rule, type RuleExample } from '../src/rules/define.js';
import { allRules } from '../src/rules/index.js';
import { validateRuleOptions } from '../src/rules/options.js';
import { exampleSchema } from './example-schema.js';

beforeAll(() => loadParser());

const SNAPSHOTS = fileURLToPath(new URL('./__snapshots__/rule-examples/', import.meta.url));
const EXAMPLES_DIR = new URL('../examples/', import.meta.url);

function versionsOf(example: RuleExample): number[] {
  const min = example.pg?.min ?? 0;
  const max = example.pg?.max ?? 99;
  return SUPPORTED_PG_VERSIONS.filter((v) => v >= min && v <= max);
}

/** `line:column-endLine:endColumn`, 1-based */
function span(d: Diagnostic): string {
  return `${d.line}:${d.column}-${d.endLine}:${d.endColumn}`;
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.start - b.start || a.end - b.end || cmp(a.rule, b.rule) || cmp(a.message, b.message);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One finding on one line: where, how severe, which rule, what it says. */
function finding(d: Diagnostic): string {
  return `${span(d)} ${d.severity} ${d.rule}: ${d.message.replace(/\n/g, '\n      ')}`;
}

/** The SQL with line numbers, so that spans can be read against it. */
function numbered(sql: string): string[] {
  const lines = sql.replace(/\n$/, '').split('\n');
  const width = String(lines.length).length;
  return lines.map((l, i) => `${String(i + 1).padStart(width)} │ ${l}`.trimEnd());
}

/** `PG 11–13, 16`: the versions, consecutive supported ones as a range */
function versionList(versions: readonly number[]): string {
  const supported: readonly number[] = SUPPORTED_PG_VERSIONS;
  const ranges: [number, number][] = [];
  for (const v of versions) {
    const last = ranges.at(-1);
    if (last && supported.indexOf(last[1]) + 1 === supported.indexOf(v)) last[1] = v;
    else ranges.push([v, v]);
  }
  return `PG ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ')}`;
}

/**
 * A line for each finding on any of `versions`, once, in order of position; a finding not made
 * on all of them is followed by the versions it is made on.
 */
function perVersion(
  versions: readonly number[],
  findings: (pg: number) => Diagnostic[],
  line: (d: Diagnostic) => string,
): string[] {
  // keyed by the line and how many times it was seen before on the version: a finding made twice shows twice
  const seen = new Map<string, { text: string; d: Diagnostic; on: number[] }>();
  for (const pg of versions) {
    const times = new Map<string, number>();
    for (const d of findings(pg)) {
      const text = line(d);
      const n = times.get(text) ?? 0;
      times.set(text, n + 1);
      const key = `${text}\n${n}`;
      const entry = seen.get(key);
      if (entry) entry.on.push(pg);
      else seen.set(key, { text, d, on: [pg] });
    }
  }
  return [...seen.values()]
    .sort((a, b) => byPosition(a.d, b.d) || cmp(a.text, b.text))
    .map(({ text, on }) => (on.length === versions.length ? text : `${text} [${versionList(on)}]`));
}

/** The example's findings with every rule enabled (the example's options set for its rule). */
function lintAll(rule: Rule, example: RuleExample, sql: string, pgVersion: number): Diagnostic[] {
  let rules: LintOptions['rules'];
  if (example.options) {
    // as a config sets them (validated by test/rules.test.ts), at the rule's own severity (no rule
    // with options defaults to info)
    const checked = validateRuleOptions(rule, example.options);
    if (!checked.ok) throw new Error(`${rule.id}: invalid example options`);
    rules = { [rule.id]: [defaultSeverity(rule) === 'error' ? 'error' : 'warn', checked.options] };
  }
  return lintSqlSync(sql, {
    presets: ['all'],
    rules,
    pgVersion,
    runner: example.runner,
    schema: exampleSchema(example, pgVersion),
  }).diagnostics;
}

function exampleHeading(example: RuleExample, i: number): string {
  const versions = versionsOf(example);
  const tags = [
    versions.length < SUPPORTED_PG_VERSIONS.length ? versionList(versions) : '',
    example.runner ? `runner: ${example.runner}` : '',
    example.options ? `options: ${JSON.stringify(example.options)}` : '',
  ].filter(Boolean);
  return `── ${example.bad !== undefined ? 'bad' : 'ok'} #${i + 1}${example.title ? `: ${example.title}` : ''}${
    tags.length ? ` (${tags.join(', ')})` : ''
  }`;
}

/**
 * A rule's snapshot: each example, its SQL, its findings, and where the other rules fire on it when
 * every rule is enabled.
 */
function ruleSnapshot(rule: Rule): string {
  const out = [`# ${rule.id}: what its examples report`, ''];
  for (const [i, example] of rule.examples.entries()) {
    const sql = (example.bad ?? example.ok)!;
    const versions = versionsOf(example);
    const byVersion = new Map(versions.map((pg) => [pg, lintAll(rule, example, sql, pg)]));
    const own = perVersion(versions, (pg) => byVersion.get(pg)!.filter((d) => d.rule === rule.id), finding);
    const others = perVersion(
      versions,
      (pg) => byVersion.get(pg)!.filter((d) => d.rule !== rule.id),
      (d) => `${span(d)} ${d.rule}`,
    );
    out.push(exampleHeading(example, i), ...numbered(sql));
    out.push(...(own.length ? own : ['(no finding)']).map((l) => `  ${l}`));
    if (others.length) out.push('  with every rule, also:', ...others.map((l) => `    ${l}`));
    if (example.bad !== undefined) out.push(...planLines(rule, example, versions));
    out.push('');
  }
  return out.join('\n');
}

/** The rule's own plan for a bad example (`pgkeel fix`), per group of versions where it is the same. */
function planOf(rule: Rule, example: RuleExample, pg: number) {
  return planMigration(example.bad!, {
    pgVersion: pg,
    runner: example.runner,
    only: [rule.id],
    rules: example.options ? { [rule.id]: ['warn', example.options] } : undefined,
    schema: exampleSchema(example, pg),
  });
}

function planLines(rule: Rule, example: RuleExample, versions: readonly number[]): string[] {
  const byText = new Map<string, number[]>();
  for (const pg of versions) {
    const plan = planOf(rule, example, pg);
    if (!plan.changed) continue;
    const text = renderPlanSql(plan).trimEnd();
    byText.set(text, [...(byText.get(text) ?? []), pg]);
  }
  const out: string[] = [];
  for (const [text, on] of byText)
    out.push(
      `  pgkeel fix plan${on.length === versions.length ? '' : ` [${versionList(on)}]`}:`,
      ...text.split('\n').map((l) => `    ${l}`),
    );
  return out;
}

describe('fixes offered on the rule examples', () => {
  // ESLint's contract: a fix that would bring a finding the file did not have is not offered.
  // lint --fix also checks it when applying; here every fix every rule offers is held to it.
  it.each(allRules.map((r) => [r.id, r] as const))('%s: no fix brings a new finding', (_, rule) => {
    for (const example of rule.examples) {
      if (example.bad === undefined) continue;
      for (const pg of versionsOf(example)) {
        // as a user's default config runs: the recommended rules and this one
        const lint = (sql: string): FileResult =>
          lintSqlSync(sql, {
            enable: [rule.id],
            rules: example.options ? { [rule.id]: ['warn', example.options] } : undefined,
            pgVersion: pg,
            runner: example.runner,
            schema: exampleSchema(example, pg),
          });
        const before = lint(example.bad);
        for (const d of before.diagnostics.filter((x) => x.rule === rule.id && x.fix)) {
          const after = lint(applyFixes(example.bad, [d]).text);
          const grew = bringsNew(before, after)
            ? after.diagnostics
                .map((x) => x.rule)
                .filter((id) => !before.diagnostics.some((b) => b.rule === id))
            : [];
          expect({
            example: example.title ?? example.bad,
            pg,
            fix: d.fix!.title,
            grew,
            brings: bringsNew(before, after),
          }).toEqual({
            example: example.title ?? example.bad,
            pg,
            fix: d.fix!.title,
            grew,
            brings: false,
          });
        }
      }
    }
  });
});

describe('pgkeel fix on the rule examples', () => {
  it('a rule page describes the plan exactly when the rule makes one or the plan resolves it', () => {
    const wrong = allRules.flatMap((rule) => {
      const bad = rule.examples.filter((e) => e.bad !== undefined);
      const runs = bad.flatMap((e) => versionsOf(e).map((pg) => ({ e, pg })));
      const plans = runs.some(({ e, pg }) =>
        lintSqlSync(e.bad!, {
          only: [rule.id],
          pgVersion: pg,
          runner: e.runner,
          planning: true,
          schema: exampleSchema(e, pg),
        }).diagnostics.some((d) => d.plan),
      );
      // the plan's steps alone (transactions split, timeouts set) leave none of its findings
      const resolves =
        !rule.fixSafety &&
        runs.length > 0 &&
        runs.every(({ e, pg }) => {
          const p = planOf(rule, e, pg);
          return p.changed && !p.remaining.some((d) => d.rule === rule.id);
        });
      if ((plans || resolves) && !rule.plan)
        return [`${rule.id}: ${plans ? 'makes plans' : 'is resolved by the plan'} but has no \`plan\` text`];
      if (!plans && !resolves && rule.plan)
        return [`${rule.id}: \`plan\` text, but no plan and some example left`];
      return [];
    });
    expect(wrong).toEqual([]);
  });

  // "clean": where a rule's fix or plan is used, the plan leaves no finding of that rule, except on
  // a step the plan itself marks as having no online path on that version
  it.each(allRules.map((r) => [r.id, r] as const))('%s: the plan resolves what it changes', (_, rule) => {
    for (const example of rule.examples) {
      if (example.bad === undefined) continue;
      for (const pg of versionsOf(example)) {
        const plan = planOf(rule, example, pg);
        if (!plan.changes.some((c) => c.rule === rule.id)) continue;
        const blocking = plan.units.some((u) => u.steps.some((s) => s.blocking));
        const left = plan.remaining.filter((d) => d.rule === rule.id);
        if (!blocking)
          expect({ example: example.title ?? example.bad, pg, left }).toEqual({
            example: example.title ?? example.bad,
            pg,
            left: [],
          });
      }
    }
  });
});

describe('rule example snapshots', () => {
  it.each(allRules.map((r) => [r.id, r] as const))('%s', async (id, rule) => {
    await expect(ruleSnapshot(rule)).toMatchFileSnapshot(`${SNAPSHOTS}${id}.txt`);
  });

  it('keeps no snapshot of a rule that is gone', () => {
    const ids = new Set(allRules.map((r) => r.id));
    expect(readdirSync(SNAPSHOTS).filter((f) => !ids.has(f.replace(/\.txt$/, '')))).toEqual([]);
  });

  it('examples/ with every rule enabled', async () => {
    const files = readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    const out = ['# examples/: what every rule reports on its files', ''];
    for (const f of files) {
      const sql = readFileSync(new URL(f, EXAMPLES_DIR), 'utf8');
      out.push(`── examples/${f}`, ...numbered(sql));
      const found = perVersion(
        SUPPORTED_PG_VERSIONS,
        (pg) => lintSqlSync(sql, { presets: ['all'], pgVersion: pg }).diagnostics,
        finding,
      );
      out.push(...(found.length ? found : ['(no finding)']).map((l) => `  ${l}`), '');
    }
    await expect(out.join('\n')).toMatchFileSnapshot('./__snapshots__/examples-dir.txt');
  });
});
