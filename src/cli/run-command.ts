/** `pgkeel run` and `pgkeel status`: the CLI over run/run.ts. Never prints the URL's password. */

import pg from 'pg';
import { parseInterval } from '../config/interval.js';
import type { RunnerName } from '../config/types.js';
import { unitPlacement } from '../fix/plan.js';
import { readHistory } from '../run/history.js';
import { BRIEF_SCHEDULE } from '../run/locking.js';
import { planRun, RunError, type RunEvent, runMigrations } from '../run/run.js';
import { redactUrl, scrubSecrets, toConnectionUri } from '../trace/conninfo.js';
import { chooseDatabaseUrl } from './database-url.js';
import type { CliIo } from './io.js';

export interface RunFlags {
  databaseUrl?: string | boolean;
  dryRun?: boolean;
  allowUnsafe?: boolean;
  pgVersion?: number;
  runner?: RunnerName;
  config?: string;
  lockTimeout?: string;
  retries?: number;
  lockWait?: string;
  maxBlocked?: number;
  /** `--no-tool-history`: false */
  toolHistory?: boolean;
  batchUnbatched?: boolean;
  format?: 'pretty' | 'json';
}

function databaseUrl(
  flags: RunFlags,
  paths: string[],
  io: CliIo,
  required: boolean,
): { url?: string; paths: string[] } | { error: string } {
  const env = io.env ?? process.env;
  if (flags.databaseUrl === undefined || flags.databaseUrl === false) {
    if (env.DATABASE_URL) return { url: env.DATABASE_URL, paths };
    return required ? { error: 'needs --database-url <url> or DATABASE_URL' } : { paths };
  }
  return chooseDatabaseUrl(flags.databaseUrl === true ? true : flags.databaseUrl, paths, env, io.cwd);
}

const sql1 = (sql: string) => {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 70 ? `${line.slice(0, 69)}…` : line;
};

export async function runCommand(paths: string[], flags: RunFlags, io: CliIo): Promise<number> {
  const chosen = databaseUrl(flags, paths, io, !flags.dryRun);
  if ('error' in chosen) {
    io.stderr(`pgkeel run: ${chosen.error}\n`);
    return 2;
  }
  const url = chosen.url;
  const scrub = (s: string) => (url ? scrubSecrets(s, url) : s);
  const events: RunEvent[] = [];
  // progress of a long run is shown as it happens, not gathered like a report
  const say = (s: string) => {
    if (flags.format === 'json') return;
    io.stdout(s);
    io.flush?.();
  };
  try {
    const result = await runMigrations(chosen.paths.length > 0 ? chosen.paths : ['.'], {
      cwd: io.cwd,
      configPath: flags.config,
      readStdin: io.readStdin,
      ...(url ? { databaseUrl: url } : {}),
      dryRun: flags.dryRun === true,
      allowUnsafe: flags.allowUnsafe === true,
      overrides: { pgVersion: flags.pgVersion, runner: flags.runner },
      schedule: {
        ...(flags.lockTimeout !== undefined ? { lockTimeoutMs: parseInterval(flags.lockTimeout) } : {}),
        ...(flags.retries !== undefined ? { attempts: flags.retries + 1 } : {}),
      },
      ...(flags.lockWait !== undefined ? { lockWaitMs: parseInterval(flags.lockWait) } : {}),
      ...(flags.maxBlocked !== undefined ? { maxBlocked: flags.maxBlocked } : {}),
      ...(flags.toolHistory === false ? { toolHistory: false } : {}),
      ...(flags.batchUnbatched ? { batchUnbatched: true } : {}),
      onEvent: (e) => {
        events.push(e);
        if (e.kind === 'migration' && e.status !== 'up to date' && e.status !== 'applied')
          say(`${e.name}: ${e.status === 'resumed' ? 'resuming' : 'applying'} (${e.steps} statements)\n`);
        else if (e.kind === 'step' && e.status === 'done')
          say(
            `  ✓ ${sql1(e.sql)}  ${e.ms} ms${e.attempts > 1 ? `, attempt ${e.attempts}` : ''}${e.note ? `, ${e.note}` : ''}\n`,
          );
        else if (e.kind === 'retry')
          say(
            `  … lock not granted (attempt ${e.attempt}); retrying in ${e.sleepMs} ms${e.blockers.length ? `; blocked by pid ${e.blockers.map((b) => b.pid).join(', ')}` : ''}\n`,
          );
        else if (e.kind === 'reconciled') say(`  ↺ ${e.what}\n`);
        else if (e.kind === 'batch' && (e.batches === 1 || e.batches % 20 === 0))
          say(`  … batch ${e.batches}: ${e.rows.toLocaleString('en-US')} rows, key ${e.last} of ${e.end}\n`);
      },
    });
    if (flags.format === 'json') {
      io.stdout(
        `${JSON.stringify(
          {
            applied: result.applied,
            pending: result.pending,
            ...(result.failure
              ? { failure: { ...result.failure, message: scrub(result.failure.message) } }
              : {}),
            migrations: result.migrations.map((m) => ({
              name: m.name,
              path: m.path,
              units: m.plan.units.map((u) => ({
                transaction: u.transaction,
                timeout: u.timeout,
                steps: u.steps.map((s) => s.sql),
              })),
              unsafe: m.unsafe.map((d) => ({
                rule: d.rule,
                line: d.line,
                column: d.column,
                message: d.message,
              })),
            })),
          },
          null,
          2,
        )}\n`,
      );
    } else if (flags.dryRun) {
      const pending = new Set(result.pending);
      for (const m of result.migrations) {
        if (!pending.has(m.name)) continue;
        say(`${m.name}: pending\n`);
        m.plan.units.forEach((u, i) => {
          const how = unitPlacement(u);
          const timeout =
            u.timeout === 'long'
              ? 'long (lock_timeout 1min, no statement_timeout, 3 attempts)'
              : u.timeout === 'brief'
                ? `brief (lock_timeout ${BRIEF_SCHEDULE.lockTimeoutMs} ms doubling to ${BRIEF_SCHEDULE.maxLockTimeoutMs} ms, ${flags.retries !== undefined ? flags.retries + 1 : BRIEF_SCHEDULE.attempts} attempts)`
                : 'new objects only';
          say(`  step ${i + 1}: ${how}; ${timeout}\n`);
          for (const s of u.steps) {
            say(`    ${sql1(s.sql)}${s.blocking ? `   ⚠ ${s.blocking}` : ''}\n`);
            // the locks on tables that exist already, strongest per table, as explain reports them
            const locks = new Map<string, string>();
            for (const l of s.existingLocks)
              if (!locks.has(l.relation) || l.blocksTraffic) locks.set(l.relation, l.mode);
            if (locks.size > 0)
              say(
                `      locks ${[...locks].map(([relation, mode]) => `${mode} on ${relation}`).join(', ')}\n`,
              );
          }
        });
        for (const d of m.unsafe) say(`  ✗ ${m.path}:${d.line}:${d.column} ${d.rule}: ${d.message}\n`);
      }
      if (pending.size === 0) say('nothing to apply\n');
    } else if (!result.failure) {
      say(
        result.applied.length > 0
          ? `applied ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'}\n`
          : 'nothing to apply: up to date\n',
      );
    }
    if (result.failure) {
      const f = result.failure;
      io.stderr(
        `pgkeel run: ${f.migration ? `${f.migration}: ` : ''}${f.kind === 'refused' ? 'refused' : 'failed'}: ${scrub(f.message)}\n`,
      );
      if (f.kind === 'failed')
        io.stderr('pgkeel run: what was done is recorded; run again to resume from the step that failed\n');
      return f.kind === 'refused' ? 2 : 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof RunError) {
      io.stderr(`pgkeel run: ${scrub(e.message)}\n`);
      return 2;
    }
    throw new Error(scrub((e as Error).message));
  }
}

export async function statusCommand(paths: string[], flags: RunFlags, io: CliIo): Promise<number> {
  const chosen = databaseUrl(flags, paths, io, true);
  if ('error' in chosen || !chosen.url) {
    io.stderr(`pgkeel status: ${'error' in chosen ? chosen.error : 'needs --database-url'}\n`);
    return 2;
  }
  const url = chosen.url;
  const migrations = await planRun(chosen.paths.length > 0 ? chosen.paths : ['.'], {
    cwd: io.cwd,
    configPath: flags.config,
    overrides: { pgVersion: flags.pgVersion, runner: flags.runner },
  });
  const client = new pg.Client({ connectionString: toConnectionUri(url), application_name: 'pgkeel status' });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    io.stderr(
      `pgkeel status: cannot connect to ${redactUrl(url)}: ${scrubSecrets((e as Error).message, url)}\n`,
    );
    return 2;
  }
  try {
    const history = await readHistory(client);
    let problems = 0;
    const rows = migrations.map((m) => {
      const h = history.migrations.get(m.name);
      let state: string;
      if (!h) state = 'pending';
      else if (h.status === 'applied') {
        state =
          h.checksum === m.checksum
            ? `applied ${h.finishedAt?.toISOString() ?? ''}`
            : 'applied, but the file has changed since';
        if (h.checksum !== m.checksum) problems++;
      } else {
        problems++;
        const steps = history.steps.get(m.name) ?? [];
        const done = steps.filter((s) => s.status === 'done').length;
        state = `${h.status === 'failed' ? 'failed' : 'interrupted'} after ${done} of ${m.plan.units.reduce((n, u) => n + u.steps.length, 0)} statements${h.error ? `: ${scrubSecrets(h.error, url)}` : ''}`;
      }
      return { name: m.name, state };
    });
    const onDisk = new Set(migrations.map((m) => m.name));
    for (const name of history.migrations.keys())
      if (!onDisk.has(name)) rows.push({ name, state: 'recorded in the history, but not among the files' });
    if (flags.format === 'json') io.stdout(`${JSON.stringify({ migrations: rows }, null, 2)}\n`);
    else for (const r of rows) io.stdout(`${r.name}  ${r.state}\n`);
    return problems > 0 ? 1 : 0;
  } finally {
    await client.end().catch(() => {});
  }
}
