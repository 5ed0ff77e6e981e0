/**
 * Advice is checked against the target Postgres version: for every rule, every bad example and every
 * version the example applies to, the SQL the rule's fixes produce must not use a feature the catalog
 * marks `unsupported` on that version (REINDEX CONCURRENTLY before 12, DETACH PARTITION … CONCURRENTLY
 * before 14, NOT NULL … NOT VALID before 18), and the help text must not recommend one either.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Analyzer } from '../src/analyze/analyze.js';
import { runnerModel } from '../src/analyze/runners.js';
import { SUPPORTED_PG_VERSIONS } from '../src/config/types.js';
import { applyFixes } from '../src/fix/apply.js';
import { lintSqlSync } from '../src/lint/lint.js';
import { loadParser, parseSql } from '../src/parse/parse.js';
import type { RuleExample } from '../src/rules/define.js';
import { allRules } from '../src/rules/index.js';

beforeAll(() => loadParser());

function versionsOf(example: RuleExample): number[] {
  const min = example.pg?.min ?? 0;
  const max = example.pg?.max ?? 99;
  return SUPPORTED_PG_VERSIONS.filter((v) => v >= min && v <= max);
}

/** Features a help text may not recommend before the version that introduced them. */
const FEATURES: { name: string; since: number; pattern: RegExp }[] = [
  { name: 'REINDEX CONCURRENTLY', since: 12, pattern: /\bREINDEX\b[^.;]*\bCONCURRENTLY\b/i },
  { name: 'DETACH PARTITION … CONCURRENTLY', since: 14, pattern: /\bDETACH\b[^.;]*\bCONCURRENTLY\b/i },
  // `ADD CONSTRAINT name NOT NULL col NOT VALID`; not `CHECK (col IS NOT NULL) NOT VALID`
  {
    name: 'NOT NULL … NOT VALID',
    since: 18,
    pattern: /\bNOT NULL\s+(?:constraints?\s+)?[\w"]+\s+NOT VALID\b/i,
  },
];

/** A sentence that states a version limit ("… only exists since PostgreSQL 14") names the feature without recommending it. */
const VERSION_NOTE = /\b(?:since|from|requires?|before)\s+(?:PostgreSQL|PG)\s*\d+/i;

/** The sentences of a help text that recommend something. */
function advice(help: string): string[] {
  return help.split(/(?<=[.;])\s+/).filter((s) => !VERSION_NOTE.test(s));
}

/** The actions of `sql` at `pgVersion` that the catalog marks unsupported there. */
function unsupportedActions(sql: string, pgVersion: number, example: RuleExample): string[] {
  const { statements, errors } = parseSql(sql);
  expect(errors, `fixed SQL does not parse:\n${sql}`).toEqual([]);
  const analyzer = new Analyzer({
    pgVersion,
    runner: runnerModel(example.runner ?? 'psql'),
    statementCount: statements.length,
  });
  const found: string[] = [];
  for (const stmt of statements) {
    const facts = analyzer.analyze(stmt);
    for (const a of facts.actions)
      if (a.facts.unsupported) found.push(`${a.op}: ${a.facts.note ?? ''} (${stmt.text})`);
    analyzer.apply(facts);
  }
  analyzer.finish();
  return found;
}

const cases = allRules.flatMap((rule) =>
  rule.examples.flatMap((example, i) =>
    example.bad === undefined
      ? []
      : versionsOf(example).map(
          (pg) =>
            [
              `${rule.id} bad #${i + 1}${example.title ? `: ${example.title}` : ''} (PG ${pg})`,
              rule,
              example,
              pg,
            ] as const,
        ),
  ),
);

describe('advice matches the target version', () => {
  it.each(cases)('%s', (_label, rule, example, pg) => {
    const result = lintSqlSync(example.bad!, {
      ruleSet: [rule],
      presets: ['all'],
      pgVersion: pg,
      runner: example.runner,
    });
    const found = result.diagnostics.filter((d) => d.rule === rule.id);
    if (found.some((d) => d.fix)) {
      const fixed = applyFixes(example.bad!, found).text;
      expect(unsupportedActions(fixed, pg, example), `fix uses a feature PG ${pg} lacks:\n${fixed}`).toEqual(
        [],
      );
    }
    for (const d of found) {
      for (const f of FEATURES) {
        if (pg >= f.since || !d.help) continue;
        const recommends = advice(d.help).filter((s) => f.pattern.test(s));
        expect(recommends, `help recommends ${f.name} on PG ${pg}: ${d.help}`).toEqual([]);
      }
    }
  });
});
