/**
 * The severity policy: each rule names the kind of danger it reports (`hazard`), its default severity
 * is that hazard's (error for blocks-traffic, breaks-clients, fails-deploy and loses-data; warning for
 * schema-design) unless it says why not, and its verdict fits the hazard (schema-design: `safe`; any
 * other: `unsafe` or `alternative`).
 */
import { describe, expect, it } from 'vitest';
import type { Hazard } from '../src/diagnostics.js';
import { defaultSeverity, defineRule, type RuleMeta } from '../src/rules/define.js';
import { HAZARD_IDS, HAZARDS } from '../src/rules/hazards.js';
import { allRules } from '../src/rules/index.js';

type Meta = Pick<RuleMeta, 'id' | 'hazard' | 'verdict' | 'severity' | 'severityReason'>;

/** What is wrong with a rule's hazard, verdict and severity; empty when it follows the policy. */
function policyProblems(rule: Meta): string[] {
  const problems: string[] = [];
  const hazard = HAZARDS[rule.hazard as Hazard] as (typeof HAZARDS)[Hazard] | undefined;
  if (!hazard) return [`${rule.id}: unknown hazard ${JSON.stringify(rule.hazard)}`];
  if (!hazard.verdicts.includes(rule.verdict))
    problems.push(
      `${rule.id}: verdict ${rule.verdict} does not fit ${rule.hazard} (${hazard.verdicts.join(' or ')})`,
    );
  if (rule.severity === undefined) {
    if (rule.severityReason !== undefined) problems.push(`${rule.id}: severityReason without a severity`);
  } else {
    if (rule.severity === hazard.severity)
      problems.push(
        `${rule.id}: severity ${rule.severity} is already ${rule.hazard}'s default: leave it out`,
      );
    const reason = rule.severityReason?.trim() ?? '';
    if (reason === '')
      problems.push(
        `${rule.id}: severity ${rule.severity} differs from ${rule.hazard}'s default without a severityReason`,
      );
    else if (reason.length > 240 || /\n/.test(reason))
      problems.push(`${rule.id}: severityReason should be one short sentence`);
  }
  return problems;
}

describe('hazards', () => {
  it('every rule follows the severity policy', () => {
    expect(allRules.flatMap(policyProblems)).toEqual([]);
  });

  it('every rule’s default severity is its hazard’s, or its own with a reason', () => {
    for (const rule of allRules) {
      expect(defaultSeverity(rule), rule.id).toBe(rule.severity ?? HAZARDS[rule.hazard].severity);
      if (defaultSeverity(rule) !== HAZARDS[rule.hazard].severity)
        expect(rule.severityReason, rule.id).toBeTruthy();
    }
  });

  it('every hazard has rules, and the defaults are error for deploy-time dangers, warning for design', () => {
    expect(new Set(allRules.map((r) => r.hazard))).toEqual(new Set(HAZARD_IDS));
    expect(Object.fromEntries(HAZARD_IDS.map((h) => [h, HAZARDS[h].severity]))).toEqual({
      'loses-data': 'error',
      'blocks-traffic': 'error',
      'breaks-clients': 'error',
      'fails-deploy': 'error',
      'schema-design': 'warning',
    });
  });

  it('the check rejects a rule that breaks the policy', () => {
    const ok: Meta = { id: 'x', hazard: 'blocks-traffic', verdict: 'alternative' };
    expect(policyProblems(ok)).toEqual([]);
    expect(policyProblems({ ...ok, verdict: 'safe' })).toEqual([
      'x: verdict safe does not fit blocks-traffic (unsafe or alternative)',
    ]);
    expect(policyProblems({ ...ok, hazard: 'schema-design' })).toEqual([
      'x: verdict alternative does not fit schema-design (safe)',
    ]);
    expect(policyProblems({ ...ok, severity: 'warning' })).toEqual([
      "x: severity warning differs from blocks-traffic's default without a severityReason",
    ]);
    expect(policyProblems({ ...ok, severity: 'error', severityReason: 'Because.' })).toEqual([
      "x: severity error is already blocks-traffic's default: leave it out",
    ]);
    expect(policyProblems({ ...ok, severityReason: 'Because.' })).toEqual([
      'x: severityReason without a severity',
    ]);
    expect(policyProblems({ ...ok, severity: 'info', severityReason: 'Brief.' })).toEqual([]);
    expect(policyProblems({ ...ok, hazard: 'no-such' as Hazard })).toEqual(['x: unknown hazard "no-such"']);
  });

  it('a rule file cannot set a severity without its reason (a type error)', () => {
    const base = {
      id: 'x',
      hazard: 'blocks-traffic' as const,
      verdict: 'alternative' as const,
      summary: 's',
      docs: { problem: 'p', solution: 's' },
      examples: [],
      check() {},
    };
    // @ts-expect-error severity without severityReason
    defineRule({ ...base, severity: 'warning' });
    // @ts-expect-error a reason without a severity
    defineRule({ ...base, severityReason: 'Because.' });
    // @ts-expect-error a hazard is required
    defineRule({ ...base, hazard: undefined });
    expect(defaultSeverity(defineRule({ ...base, severity: 'warning', severityReason: 'Because.' }))).toBe(
      'warning',
    );
    expect(defaultSeverity(defineRule(base))).toBe('error');
  });
});

describe('fix safety', () => {
  it('every rule with a fix says how safe it is, and only those', () => {
    const wrong = allRules.flatMap((rule) => {
      const fixes = rule.examples.some((e) => e.fixed !== undefined);
      if (fixes && !rule.fixSafety) return [`${rule.id}: has fixes but no fixSafety`];
      if (!fixes && rule.fixSafety) return [`${rule.id}: fixSafety without a fixed example`];
      if (rule.fixSafety && rule.fixSafety.why.length < 20) return [`${rule.id}: fixSafety.why too short`];
      return [];
    });
    expect(wrong).toEqual([]);
  });
});
