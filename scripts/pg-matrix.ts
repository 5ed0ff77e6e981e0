/**
 * The version matrix: proves `src/catalog/` on PGlite and on real Postgres 11–18.
 *
 *   npm run test:pg-matrix                 every engine
 *   PG_MATRIX=pglite,16 npm run test:pg-matrix
 *
 * For each engine and each probe of `src/catalog/probes.ts` that exists on its version: a fresh
 * `public` schema, the probe's setup, then the statement observed (pg_locks of its backend,
 * relfilenode changes, sequential scans) and compared with what the analyzer claims for that
 * version. Statements that cannot run in a transaction block are watched from a second session
 * while they wait (PGlite has none: "not observable"). Then DESIGN.md's scenarios and every rule
 * example (`scripts/pg-matrix/examples.ts`: traced / not observable / refused as expected / not
 * traced, each not traced one with its reason). Then `pgkeel fix`'s plans, proven on the engine
 * (`scripts/pg-matrix/fix-proof.ts`: the plan of every rule example and of the corpora's last
 * migrations leaves the same schema as the migration, without a blocking lock during long work;
 * `PG_MATRIX_FIX=0` skips it, `PG_MATRIX_FIX_CORPORA` chooses the engines for the corpora). Prints
 * the matrix and every mismatch; exits 1 on any.
 */

import { Analyzer, type StatementFacts } from '../src/analyze/analyze.js';
import { runnerModel } from '../src/analyze/runners.js';
import { PROBES, type Probe, SCENARIOS, type Scenario } from '../src/catalog/probes.js';
import { SUPPORTED_PG_VERSIONS } from '../src/config/types.js';
import { loadParser, parseSql } from '../src/parse/parse.js';
import { claimsFor, compare, type Mismatch } from '../src/trace/compare.js';
import { observeStalled } from '../src/trace/concurrent.js';
import type { TraceEngine } from '../src/trace/engine.js';
import { startEngine } from '../src/trace/engines/index.js';
import { startPostgres } from '../src/trace/engines/postgres.js';
import { type Observation, Observer } from '../src/trace/observe.js';
import { teachSchema } from '../src/trace/schema.js';
import {
  ensureTablespace,
  existingRelations,
  freshSchema,
  statementsOf,
  withoutNewRelations,
} from './pg-matrix/db.js';
import { type ExampleResult, type ExampleStatus, traceRuleExamples } from './pg-matrix/examples.js';
import { type FixProofRun, type ProofStatus, proveFixes } from './pg-matrix/fix-proof.js';

export type Cell = 'ok' | '✗' | 'n/a' | 'n/o' | 'err';

export interface ProbeResult {
  cell: Cell;
  mismatches: Mismatch[];
  /** why it is n/o or err */
  detail?: string;
}

interface EngineRun {
  label: string;
  name: string;
  major: number;
  probes: Map<string, ProbeResult>;
  scenarios: Map<string, ProbeResult>;
  examples: ExampleResult[];
  /** pgkeel fix's plans proven here (absent: skipped) */
  fixes?: FixProofRun;
  ms: number;
}

const TABLESPACE = 'pgkeel_probe';

// ─── engines ──────────────────────────────────────────────────────────────────

type EngineKey = 'pglite' | number;

function wantedEngines(): EngineKey[] {
  const all: EngineKey[] = ['pglite', ...SUPPORTED_PG_VERSIONS];
  const env = process.env.PG_MATRIX?.trim();
  if (!env) return all;
  return env.split(',').map((s) => (s.trim() === 'pglite' ? 'pglite' : Number(s.trim())));
}

function startEngineFor(key: EngineKey): Promise<TraceEngine> {
  // PGlite, or a real server of that major version installed from npm (cached). The probes are our
  // own SQL, and some setups need a superuser (a tablespace, an access method, extensions before
  // PG 13); `trace --pg` runs migrations as a non-superuser, which takes the same locks.
  return key === 'pglite' ? startEngine({ kind: 'pglite' }) : startPostgres(key, { superuser: true });
}

// ─── helpers ──────────────────────────────────────────────────────────────────

const REFUSED_IN_BLOCK =
  /cannot (run|be executed) (inside|from) a transaction block|cannot run inside a transaction block/i;

/** Does Postgres refuse `sql` inside a transaction block? (It runs, then is rolled back, when allowed.) */
async function refusedInBlock(engine: TraceEngine, sql: string): Promise<boolean | string> {
  await engine.exec('BEGIN');
  try {
    await engine.exec(sql);
    return false;
  } catch (e) {
    const message = (e as Error).message;
    return REFUSED_IN_BLOCK.test(message) ? true : message;
  } finally {
    await engine.exec('ROLLBACK');
  }
}

function sameVersionRange(v: number, r: { minVersion?: number; maxVersion?: number }): boolean {
  return (r.minVersion ?? 0) <= v && v <= (r.maxVersion ?? 99);
}

// ─── probes ───────────────────────────────────────────────────────────────────

/** The analyzer's view of the probe: setup first (so it knows the columns and constraints), then the statement. */
function analyzeProbe(probe: Probe, pgVersion: number): StatementFacts {
  const analyzer = new Analyzer({ pgVersion, runner: runnerModel('psql') });
  for (const s of parseSql(probe.setup).statements) analyzer.apply(analyzer.analyze(s));
  for (const s of parseSql(inTransactionSql(probe)).statements) analyzer.apply(analyzer.analyze(s));
  const [stmt] = parseSql(probe.sql).statements;
  if (!stmt) throw new Error(`${probe.id}: no statement`);
  return analyzer.analyze(stmt);
}

/** As `analyzeProbe`, knowing the live schema the setup made (what the statement locks without naming it). */
async function analyzeProbeLive(engine: TraceEngine, probe: Probe): Promise<StatementFacts> {
  const analyzer = new Analyzer({ pgVersion: engine.majorVersion, runner: runnerModel('psql') });
  for (const s of parseSql(probe.setup).statements) analyzer.apply(analyzer.analyze(s));
  await teachSchema(engine, analyzer);
  for (const s of parseSql(inTransactionSql(probe)).statements) analyzer.apply(analyzer.analyze(s));
  return analyzer.analyze(parseSql(probe.sql).statements[0]!);
}

/** BEGIN and what the probe runs in its statement's transaction before it; empty when nothing */
const inTransactionSql = (probe: Probe) => (probe.inTransaction ? `BEGIN;\n${probe.inTransaction}` : '');

async function runProbe(engine: TraceEngine, observer: Observer, probe: Probe): Promise<ProbeResult> {
  const major = engine.majorVersion;
  let facts = analyzeProbe(probe, major);
  if (!facts.actions.some((a) => a.op === probe.op)) {
    return {
      cell: 'err',
      mismatches: [],
      detail: `classified as ${facts.actions.map((a) => a.op).join(', ') || 'nothing'}, not ${probe.op}`,
    };
  }
  if (probe.needs === 'tablespace') {
    const missing = await ensureTablespace(engine, TABLESPACE);
    if (missing) return { cell: 'n/o', mismatches: [], detail: missing };
  }
  await freshSchema(engine);
  for (const s of statementsOf(probe.setup)) {
    try {
      await engine.exec(s);
    } catch (e) {
      return { cell: 'err', mismatches: [], detail: `setup failed: ${(e as Error).message} in ${s}` };
    }
  }
  facts = await analyzeProbeLive(engine, probe);
  const claims = claimsFor(facts);
  const noBlock = facts.actions.some((a) => a.facts.noTransactionBlock);
  const mismatches: Mismatch[] = [];
  const existing = await existingRelations(engine);
  let observation: Observation;
  let detail: string | undefined;
  if (noBlock) {
    const refused = await refusedInBlock(engine, probe.sql);
    if (typeof refused === 'string') return { cell: 'err', mismatches: [], detail: refused };
    if (!refused) {
      mismatches.push({
        kind: 'transaction-block' as Mismatch['kind'],
        relation: '-',
        claimed: 'refused in a transaction block',
        observed: 'runs in a transaction block',
      });
    }
    // the refused attempt rolled back; start again from the setup's state
    if (engine.openObserver && probe.stall) {
      const o = await observeStalled(engine, probe.sql, { stall: statementsOf(probe.stall) });
      if (!o.stalled && o.ok) {
        mismatches.push({
          kind: 'stall' as Mismatch['kind'],
          relation: '-',
          claimed: `waits for a session that ran: ${probe.stall}`,
          observed: 'did not wait: its locks were not seen',
        });
      }
      observation = o;
    } else {
      observation = await observer.run(probe.sql, { noTransactionBlock: true });
      detail = engine.openObserver
        ? 'no stall defined'
        : 'cannot run in a transaction block: locks not observable here';
    }
  } else if (probe.inTransaction) {
    await observer.run('BEGIN', { transactionControl: 'begin' });
    for (const s of statementsOf(probe.inTransaction)) {
      const o = await observer.run(s);
      if (!o.ok)
        return { cell: 'err', mismatches: [], detail: `in-transaction setup failed: ${o.error} in ${s}` };
    }
    observation = await observer.run(probe.sql);
    // a failed statement has rolled the transaction back already
    if (observation.ok) await observer.run('ROLLBACK', { transactionControl: 'end' });
  } else {
    observation = await observer.run(probe.sql);
    if (!observation.ok && REFUSED_IN_BLOCK.test(observation.error ?? '')) {
      mismatches.push({
        kind: 'transaction-block' as Mismatch['kind'],
        relation: '-',
        claimed: 'runs in a transaction block',
        observed: 'refused in a transaction block',
      });
      observation = await observer.run(probe.sql, { noTransactionBlock: true });
    }
  }
  if (!observation.ok) return { cell: 'err', mismatches, detail: observation.error };
  const found = compare(claims, withoutNewRelations(observation, existing));
  for (const c of probe.conservative ?? []) {
    const i = found.findIndex(
      (m) => m.kind === c.kind && m.relation === c.relation && m.observed === c.observed,
    );
    if (i >= 0) found.splice(i, 1);
    else if (observation.locks) {
      mismatches.push({
        kind: c.kind,
        relation: c.relation,
        claimed: `a known conservative claim (${c.why})`,
        observed: 'Postgres now does what the catalog claims: drop `conservative`',
      });
    }
  }
  mismatches.push(...found);
  if (mismatches.length) return { cell: '✗', mismatches, detail };
  return { cell: observation.locks ? 'ok' : 'n/o', mismatches, detail };
}

// ─── scenarios (DESIGN.md facts that are about sessions, not one statement) ──

async function runScenario(engine: TraceEngine, scenario: Scenario): Promise<ProbeResult> {
  await freshSchema(engine);
  for (const s of statementsOf(scenario.setup)) await engine.exec(s);
  const failures: string[] = [];
  if (scenario.queue) {
    if (!engine.openObserver) return { cell: 'n/o', mismatches: [], detail: 'needs two more sessions' };
    const holder = await engine.openObserver();
    const victim = await engine.openObserver();
    try {
      await holder.query('BEGIN');
      await holder.query(scenario.queue.hold);
      let waiterDone = false;
      const waiter = engine.exec(scenario.queue.waiter).then(
        () => {
          waiterDone = true;
        },
        () => {
          waiterDone = true;
        },
      );
      await new Promise((r) => setTimeout(r, 100));
      if (waiterDone) failures.push(`${scenario.queue.waiter} did not wait for ${scenario.queue.hold}`);
      await victim.query("SET lock_timeout = '300ms'");
      try {
        await victim.query(scenario.queue.blocked);
        failures.push(`${scenario.queue.blocked} was not blocked by the waiting ${scenario.queue.waiter}`);
      } catch (e) {
        if (!/lock timeout/i.test((e as Error).message)) failures.push((e as Error).message);
      }
      await holder.query('ROLLBACK');
      await waiter;
    } finally {
      await holder.close();
      await victim.close();
    }
  }
  for (const step of scenario.steps ?? []) {
    try {
      await engine.exec(step.sql);
      if (step.error) failures.push(`${step.sql}: no error, expected “${step.error}”`);
    } catch (e) {
      const message = (e as Error).message;
      if (!step.error || !message.toLowerCase().includes(step.error.toLowerCase())) {
        failures.push(`${step.sql}: ${message}`);
      }
      if (step.error) await engine.exec('ROLLBACK').catch(() => {});
    }
  }
  if (scenario.check) {
    const [row] = await engine.query(scenario.check);
    const value = row ? Object.values(row)[0] : undefined;
    if (value !== true && value !== 't') failures.push(`${scenario.check} → ${String(value)}`);
  }
  return failures.length
    ? {
        cell: '✗',
        mismatches: failures.map((f) => ({
          kind: 'scenario' as Mismatch['kind'],
          relation: '-',
          claimed: scenario.title,
          observed: f,
        })),
      }
    : { cell: 'ok', mismatches: [] };
}

// ─── one engine ───────────────────────────────────────────────────────────────

async function runEngine(key: EngineKey): Promise<EngineRun> {
  const t0 = performance.now();
  const engine = await startEngineFor(key);
  const label = key === 'pglite' ? 'pglite' : String(key);
  const run: EngineRun = {
    label,
    name: engine.name,
    major: engine.majorVersion,
    probes: new Map(),
    scenarios: new Map(),
    examples: [],
    ms: 0,
  };
  try {
    const observer = new Observer(engine);
    for (const probe of PROBES) {
      if (!sameVersionRange(engine.majorVersion, probe)) continue;
      let result: ProbeResult;
      try {
        result = await runProbe(engine, observer, probe);
      } catch (e) {
        result = { cell: 'err', mismatches: [], detail: (e as Error).message };
        await engine.exec('ROLLBACK').catch(() => {});
      }
      run.probes.set(probe.id, result);
    }
    for (const scenario of SCENARIOS) {
      if (!sameVersionRange(engine.majorVersion, scenario)) continue;
      let result: ProbeResult;
      try {
        result = await runScenario(engine, scenario);
      } catch (e) {
        result = { cell: 'err', mismatches: [], detail: (e as Error).message };
        await engine.exec('ROLLBACK').catch(() => {});
      }
      run.scenarios.set(scenario.id, result);
    }
    if (process.env.PG_MATRIX_EXAMPLES !== '0') run.examples = await traceRuleExamples(engine, observer);
    if (process.env.PG_MATRIX_FIX !== '0') {
      run.fixes = await proveFixes(engine, observer, label, () => startEngineFor(key));
    }
  } finally {
    await engine.close();
  }
  run.ms = performance.now() - t0;
  return run;
}

// ─── report ───────────────────────────────────────────────────────────────────

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function describeMismatch(m: Mismatch): string {
  return `${m.kind} on ${m.relation}: claimed ${m.claimed}, observed ${m.observed}`;
}

/** The fix-plan section; returns the number of failures, their details added to `details`. */
function printFixProofs(runs: EngineRun[], details: string[]): number {
  const withFixes = runs.filter((r) => r.fixes);
  if (withFixes.length === 0) return 0;
  const count = (proofs: { status: ProofStatus }[], status: ProofStatus) =>
    String(proofs.filter((p) => p.status === status).length);
  console.log(
    '\npgkeel fix plans (rule examples whose plan differs from them: the plan leaves the same schema, and holds no lock blocking the application while it rewrites, scans or builds; no online path: the plan says a step still blocks)\n',
  );
  console.log(
    table([
      [
        'engine',
        'planned',
        'proven equal and safe',
        'no online path',
        'not proven',
        'FAILED',
        'steps run outside a transaction block (locks not watched)',
      ],
      ...withFixes.map((r) => {
        const e = r.fixes!.examples;
        return [
          r.label,
          String(e.length),
          count(e, 'proven'),
          count(e, 'no online path'),
          count(e, 'not proven'),
          count(e, 'FAILED'),
          String(e.reduce((n, p) => n + (p.outside ?? 0), 0)),
        ];
      }),
    ]),
  );
  const corpusRows: string[][] = [];
  /** why → engines */
  const skipped = new Map<string, string[]>();
  for (const r of withFixes) {
    const why = r.fixes!.corporaSkipped;
    if (why) skipped.set(why, [...(skipped.get(why) ?? []), r.label]);
    for (const c of r.fixes!.corpora) {
      corpusRows.push([
        r.label,
        c.corpus,
        c.runner,
        String(c.migrations),
        String(c.findings),
        String(c.plans),
        `${count(c.proofs, 'proven')}/${c.plans}`,
        count(c.proofs, 'no online path'),
        c.notRun ? `all: ${c.notRun.split('\n')[0]}` : count(c.proofs, 'not proven'),
        count(c.proofs, 'FAILED'),
        c.historyErrors ? `${c.historyErrors} (first: ${c.firstHistoryError?.slice(0, 100)})` : '0',
      ]);
    }
  }
  if (corpusRows.length) {
    console.log(
      '\nCorpora (their last migrations, planned with the schema of the earlier ones; A: the migration, B: its plan, on the same history)\n',
    );
    console.log(
      table([
        [
          'engine',
          'corpus',
          'runner',
          'migrations',
          'findings',
          'plans',
          'proven',
          'no online path',
          'not proven',
          'FAILED',
          'history statements refused',
        ],
        ...corpusRows,
      ]),
    );
  }
  if (skipped.size) {
    console.log('\nCorpora skipped\n');
    for (const [why, engines] of skipped) console.log(`  ${engines.join(', ')}: ${why}`);
  }
  // id → reason → engines, for what is not proven or has no online path
  for (const status of ['not proven', 'no online path'] as const) {
    const found = new Map<string, Map<string, string[]>>();
    for (const r of withFixes) {
      for (const p of [...r.fixes!.examples, ...r.fixes!.corpora.flatMap((c) => c.proofs)]) {
        if (p.status !== status) continue;
        const reasons = found.get(p.id) ?? new Map<string, string[]>();
        const why = p.reason ?? '';
        reasons.set(why, [...(reasons.get(why) ?? []), r.label]);
        found.set(p.id, reasons);
      }
    }
    if (found.size === 0) continue;
    console.log(`\nFix plans: ${status}\n`);
    for (const [id, reasons] of found) {
      for (const [why, engines] of reasons) console.log(`  ${id} [${engines.join(', ')}]: ${why}`);
    }
  }
  let failures = 0;
  for (const r of withFixes) {
    for (const p of [...r.fixes!.examples, ...r.fixes!.corpora.flatMap((c) => c.proofs)]) {
      if (p.status !== 'FAILED') continue;
      failures++;
      details.push(`${r.label} fix plan ${p.id}:`);
      for (const f of p.failures) details.push(`    ${f}`);
    }
  }
  return failures;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  await loadParser();
  const runs: EngineRun[] = [];
  for (const key of wantedEngines()) {
    process.stderr.write(`pg-matrix: ${key === 'pglite' ? 'PGlite' : `PG ${key}`} …`);
    try {
      const run = await runEngine(key);
      runs.push(run);
      process.stderr.write(` ${run.name}, ${(run.ms / 1000).toFixed(1)} s\n`);
    } catch (e) {
      process.stderr.write(` could not start: ${(e as Error).message}\n`);
      runs.push({
        label: key === 'pglite' ? 'pglite' : String(key),
        name: `not started: ${(e as Error).message}`,
        major: key === 'pglite' ? 0 : key,
        probes: new Map(),
        scenarios: new Map(),
        examples: [],
        ms: 0,
      });
    }
  }

  const header = ['probe', ...runs.map((r) => r.label)];
  const cell = (r: EngineRun, id: string, map: 'probes' | 'scenarios') =>
    r.major === 0 && r.probes.size === 0 ? '—' : (r[map].get(id)?.cell ?? 'n/a');
  console.log('\nCatalog probes (operation × version)\n');
  console.log(table([header, ...PROBES.map((p) => [p.id, ...runs.map((r) => cell(r, p.id, 'probes'))])]));

  console.log('\nDESIGN.md facts (confirmed / corrected / ✗)\n');
  const designRows: string[][] = [];
  const factIds = [...new Set([...PROBES, ...SCENARIOS].flatMap((p) => p.design ?? []))];
  for (const fact of factIds) {
    const row: string[] = [fact];
    for (const r of runs) {
      const checks = [
        ...PROBES.filter((p) => p.design?.includes(fact)).map((p) => ({ p, res: r.probes.get(p.id) })),
        ...SCENARIOS.filter((s) => s.design?.includes(fact)).map((p) => ({ p, res: r.scenarios.get(p.id) })),
      ].filter((c) => c.res && c.res.cell !== 'n/a');
      if (checks.length === 0) {
        row.push(r.probes.size === 0 ? '—' : 'n/a');
        continue;
      }
      if (checks.some((c) => c.res!.cell === '✗' || c.res!.cell === 'err')) row.push('✗');
      else if (checks.every((c) => c.res!.cell === 'n/o')) row.push('n/o');
      else if (
        checks.some((c) =>
          ('designDiffers' in c.p ? (c.p.designDiffers ?? []) : []).some((d) => sameVersionRange(r.major, d)),
        )
      )
        row.push('corrected');
      else row.push('confirmed');
    }
    designRows.push(row);
  }
  console.log(table([['fact', ...runs.map((r) => r.label)], ...designRows]));

  console.log(
    '\nRule examples (traced; not observable: runs outside a transaction block where no second session can watch it; refused as expected: an error the rule predicts; not traced: could not be set up or run)\n',
  );
  const count = (r: EngineRun, status: ExampleStatus) =>
    String(r.examples.filter((e) => e.status === status).length);
  console.log(
    table([
      ['engine', 'examples', 'traced', 'not observable', 'refused as expected', 'not traced', 'mismatches'],
      ...runs.map((r) => [
        r.label,
        String(r.examples.length),
        count(r, 'traced'),
        count(r, 'not observable'),
        count(r, 'refused as expected'),
        count(r, 'not traced'),
        String(r.examples.reduce((n, e) => n + e.mismatches.length, 0)),
      ]),
    ]),
  );

  let failures = 0;
  const details: string[] = [];
  for (const r of runs) {
    if (r.probes.size === 0 && r.major !== 0) {
      failures++;
      details.push(`${r.label}: ${r.name}`);
    }
    for (const [id, res] of [...r.probes, ...r.scenarios]) {
      if (res.cell === '✗' || res.cell === 'err') {
        failures++;
        details.push(`${r.label} ${id}: ${res.cell === 'err' ? `error: ${res.detail}` : ''}`);
        for (const m of res.mismatches) details.push(`    ${describeMismatch(m)}`);
        if (res.cell === '✗' && res.detail) details.push(`    (${res.detail})`);
      }
    }
    for (const e of r.examples) {
      if (e.mismatches.length) {
        failures++;
        details.push(`${r.label} rule example ${e.id}:`);
        for (const m of e.mismatches) details.push(`    ${m}`);
      }
    }
  }
  // example → reason → engines
  const byStatus = (status: ExampleStatus) => {
    const out = new Map<string, Map<string, string[]>>();
    for (const r of runs) {
      for (const e of r.examples) {
        if (e.status !== status) continue;
        const reasons = out.get(e.id) ?? new Map<string, string[]>();
        const why = e.reason ?? '';
        reasons.set(why, [...(reasons.get(why) ?? []), r.label]);
        out.set(e.id, reasons);
      }
    }
    return out;
  };
  for (const [status, title] of [
    ['not traced', 'Rule examples not traced'],
    ['not observable', 'Rule examples not observable'],
  ] as const) {
    const found = byStatus(status);
    if (found.size === 0) continue;
    console.log(`\n${title}\n`);
    for (const [id, reasons] of found) {
      for (const [why, engines] of reasons) console.log(`  ${id} [${engines.join(', ')}]: ${why}`);
    }
  }
  failures += printFixProofs(runs, details);
  const notObservable = new Map<string, string>();
  for (const r of runs)
    for (const [id, res] of r.probes)
      if (res.cell === 'n/o') notObservable.set(`${r.label} ${id}`, res.detail ?? '');
  if (notObservable.size) {
    console.log('\nCatalog probes not observable\n');
    for (const [id, why] of notObservable) console.log(`  ${id}: ${why}`);
  }
  if (details.length) {
    console.log('\nMismatches\n');
    console.log(details.join('\n'));
  }
  console.log(
    `\n${runs.map((r) => `${r.label}: ${r.name}, ${(r.ms / 1000).toFixed(1)} s`).join('\n')}\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(failures ? `\npg-matrix: ${failures} failure(s)` : '\npg-matrix: all green');
  process.exitCode = failures ? 1 : 0;
}

await main();
