/** `pgkeel fix`: prints or writes each migration's plan (fix/fix-files.ts), sets the exit code. */

import type { RunnerName } from '../config/types.js';
import type { Diagnostic } from '../diagnostics.js';
import { type FilePlanResult, fixPlans } from '../fix/fix-files.js';
import { renderPlanSql } from '../fix/plan.js';
import type { CliIo } from './io.js';

export interface FixFlags {
  pgVersion?: number;
  runner?: RunnerName;
  config?: string;
  stdout?: boolean;
  dryRun?: boolean;
  unsafe?: boolean;
  changedSince?: string;
  /** `--no-history`: false */
  history?: boolean;
  stdinFilename?: string;
  format?: 'pretty' | 'json';
  followSymlinks?: boolean;
}

/** Exit codes as lint's: 0 nothing left unsafe, 1 a plan leaves errors, 2 a file was refused or input was bad. */
export async function fixCommand(paths: string[], flags: FixFlags, io: CliIo): Promise<number> {
  const write = !flags.stdout && !flags.dryRun;
  let refused = 0;
  let left = 0;
  const json: unknown[] = [];
  const results = await fixPlans(paths, {
    cwd: io.cwd,
    readStdin: io.readStdin,
    configPath: flags.config,
    stdinFilename: flags.stdinFilename,
    changedSince: flags.changedSince,
    ...(flags.followSymlinks ? { followSymlinks: true } : {}),
    ...(flags.history === false ? { history: false } : {}),
    unsafe: flags.unsafe === true,
    write,
    overrides: { pgVersion: flags.pgVersion, runner: flags.runner },
    onFile: (r) => {
      // applied migrations are expected in a directory: counted, not listed
      if (r.applied) return;
      if (r.refused && (write || !r.plan)) refused++;
      const errors = (r.plan?.remaining ?? []).filter((d) => d.severity === 'error');
      // a file Postgres cannot parse was not planned: as lint, exit 1
      if (errors.length > 0 || (r.plan?.parseErrors ?? 0) > 0) left++;
      if (flags.format === 'json') json.push(jsonOf(r));
      else if (flags.stdout) io.stdout(stdoutOf(r));
      else io.stdout(prettyOf(r, write));
    },
  });
  if (flags.format === 'json') io.stdout(`${JSON.stringify({ files: json }, null, 2)}\n`);
  const changed = results.filter((r) => r.plan?.changed).length;
  const applied = results.filter((r) => r.applied).length;
  const planned = results.length - applied;
  io.stderr(
    `pgkeel fix: ${planned} ${planned === 1 ? 'migration' : 'migrations'}, ${changed} with a plan` +
      (applied > 0 ? `; ${applied} applied left alone` : '') +
      (write ? `, ${results.filter((r) => r.written.length > 0).length} written` : ' (nothing written)') +
      (flags.unsafe ? '' : '; unsafe fixes need --unsafe') +
      '\n',
  );
  if (refused > 0) return 2;
  return left > 0 ? 1 : 0;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function at(d: Pick<Diagnostic, 'line' | 'column'>): string {
  return `${d.line}:${d.column}`;
}

function prettyOf(r: FilePlanResult, write: boolean): string {
  const lines: string[] = [];
  const plan = r.plan;
  if (!plan || plan.parseErrors > 0) return `${r.path}: not planned: ${r.refused}\n`;
  const steps = plan.units.reduce((n, u) => n + u.steps.length, 0);
  const deploys = plan.units.filter((u) => u.deployBefore).length;
  if (!plan.changed) {
    lines.push(`${r.path}: nothing to change (${plural(plan.findings.length, 'finding')})`);
  } else {
    lines.push(
      `${r.path}: ${plural(plan.findings.length, 'finding')} → a plan of ${plural(steps, 'statement')} in ${plural(plan.units.length, 'step')}` +
        (deploys ? `, ${plural(deploys, 'deploy boundary')}`.replace('boundarys', 'boundaries') : '') +
        ` (PG ${plan.pgVersion}, ${plan.runner})`,
    );
    for (const c of plan.changes)
      lines.push(`  ${c.rule} (${c.safety}${c.planned ? ', plan' : ''}): ${c.title}`);
  }
  if (plan.unsafeSkipped > 0) lines.push(`  ${plural(plan.unsafeSkipped, 'unsafe fix')} left out (--unsafe)`);
  for (const w of r.written) lines.push(`  wrote ${w}`);
  if (r.refused) lines.push(`  not written: ${r.refused}`);
  else if (plan.changed && !write)
    lines.push('  not written (--dry-run): the plan, as psql would run it:', indent(renderPlanSql(plan)));
  for (const n of r.layout?.notes ?? []) lines.push(`  note: ${n}`);
  const left = plan.changed ? plan.remaining : [];
  for (const d of left) lines.push(`  left ${d.severity} ${d.rule} at ${at(d)} of the plan: ${d.message}`);
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function stdoutOf(r: FilePlanResult): string {
  if (!r.plan || r.plan.parseErrors > 0) return `-- ${r.path}: not planned: ${r.refused}\n`;
  const head = `-- pgkeel fix: ${r.path} (PG ${r.plan.pgVersion}, runner ${r.plan.runner})`;
  if (!r.plan.changed) return `${head}: nothing to change\n\n`;
  const left = r.plan.remaining.map((d) => `-- left: ${d.rule} at ${at(d)}: ${d.message}`);
  return `${[head, ...left].join('\n')}\n${renderPlanSql(r.plan)}\n`;
}

function jsonOf(r: FilePlanResult): unknown {
  const plan = r.plan;
  return {
    path: r.path,
    ...(r.refused ? { refused: r.refused } : {}),
    written: r.written,
    ...(plan
      ? {
          pgVersion: plan.pgVersion,
          runner: plan.runner,
          changed: plan.changed,
          findings: plan.findings.length,
          changes: plan.changes,
          units: plan.units.map((u) => ({
            transaction: u.transaction,
            timeout: u.timeout,
            ...(u.deployBefore ? { deployBefore: u.deployBefore } : {}),
            steps: u.steps.map((s) => ({
              sql: s.sql,
              origin: s.origin,
              changed: s.changed,
              outsideTransaction: s.outsideTransaction,
              ...(s.blocking ? { blocking: s.blocking } : {}),
            })),
          })),
          sql: plan.changed ? renderPlanSql(plan) : undefined,
          remaining: (plan.changed ? plan.remaining : []).map((d) => ({
            rule: d.rule,
            severity: d.severity,
            line: d.line,
            column: d.column,
            message: d.message,
          })),
          unsafeSkipped: plan.unsafeSkipped,
        }
      : {}),
    ...(r.layout ? { notes: r.layout.notes } : {}),
  };
}
