/**
 * The version matrix (`npm run test:pg-matrix`) runs these probes on real Postgres servers; here,
 * without a database: every catalog operation has a probe, and every probe's statement is one
 * the analyzer classifies as that operation (after the probe's setup, as the matrix runs it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Analyzer } from '../src/analyze/analyze.js';
import { runnerModel } from '../src/analyze/runners.js';
import { OPERATION_IDS, operationFacts } from '../src/catalog/operations.js';
import { DESIGN_FACTS, PROBES, type Probe, SCENARIOS } from '../src/catalog/probes.js';
import { SUPPORTED_PG_VERSIONS } from '../src/config/types.js';
import { loadParser, parseSql } from '../src/parse/parse.js';

beforeAll(() => loadParser());

function versionsOf(p: Probe): number[] {
  return SUPPORTED_PG_VERSIONS.filter((v) => (p.minVersion ?? 0) <= v && v <= (p.maxVersion ?? 99));
}

/** The operations the probe's statement classifies to, after its setup. */
function operationsOf(p: Probe, pgVersion: number): string[] {
  const analyzer = new Analyzer({ pgVersion, runner: runnerModel('psql') });
  const setup = parseSql(p.setup);
  expect(setup.errors, `setup of ${p.id} does not parse`).toEqual([]);
  for (const s of setup.statements) analyzer.apply(analyzer.analyze(s));
  if (p.inTransaction) {
    const inTransaction = parseSql(`BEGIN;\n${p.inTransaction}`);
    expect(inTransaction.errors, `inTransaction of ${p.id} does not parse`).toEqual([]);
    for (const s of inTransaction.statements) analyzer.apply(analyzer.analyze(s));
  }
  const { statements, errors } = parseSql(p.sql);
  expect(errors, `${p.id} does not parse`).toEqual([]);
  expect(statements, `${p.id} is not one statement`).toHaveLength(1);
  return analyzer.analyze(statements[0]!).actions.map((a) => a.op);
}

describe('probes', () => {
  it('cover every operation of the catalog', () => {
    const covered = new Set(PROBES.map((p) => p.op));
    expect(OPERATION_IDS.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('cover every row of DESIGN.md’s facts table', () => {
    const covered = new Set([...PROBES, ...SCENARIOS].flatMap((p) => p.design ?? []));
    expect(Object.keys(DESIGN_FACTS).filter((id) => !covered.has(id as keyof typeof DESIGN_FACTS))).toEqual(
      [],
    );
  });

  it('have unique ids', () => {
    const ids = PROBES.map((p) => p.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it.each(PROBES.map((p) => [p.id, p] as const))('%s classifies to its operation', (_id, p) => {
    const versions = versionsOf(p);
    expect(versions.length, 'applies to no supported version').toBeGreaterThan(0);
    for (const v of versions) expect(operationsOf(p, v), `on PG ${v}`).toContain(p.op);
  });
});

describe('catalog facts the scenarios verify', () => {
  it('ALTER TYPE … ADD VALUE on a type created in the same transaction: the value is usable where the scenario says', () => {
    const scenario = (id: string) => SCENARIOS.find((s) => s.id === `alter-type-add-value/${id}`)!;
    const usable = [scenario('new-type-usable-before-12'), scenario('new-type-usable')];
    const unusable = scenario('new-type-unusable');
    const covers = (s: (typeof SCENARIOS)[number], v: number) =>
      (s.minVersion ?? 0) <= v && v <= (s.maxVersion ?? 99);
    for (const v of SUPPORTED_PG_VERSIONS) {
      const fact = operationFacts('alter-type-add-value-new-type', v).newValueUsableWhenTypeIsNew;
      const verified = usable.some((s) => covers(s, v)) || covers(unusable, v);
      expect(verified, `no scenario verifies PG ${v}`).toBe(true);
      if (usable.some((s) => covers(s, v))) expect(fact, `PG ${v}`).toBe(true);
      if (covers(unusable, v)) expect(fact, `PG ${v}`).toBe(false);
    }
  });
});
