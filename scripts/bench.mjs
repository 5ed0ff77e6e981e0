#!/usr/bin/env node
// Times `pgkeel lint` against squawk on the same inputs. A report, not a gate: exits 0 when targets
// are missed, 1 when a tool crashes (or hangs past --timeout-ms), 2 on a usage error.
//
//   npm run bench                       full run (squawk's pretty reporter needs ~100 s on regress_clean.sql)
//   npm run bench -- --only squawk      squawk only (works before the CLI exists)
//   npm run bench -- --inputs small --small-runs 30 --json .bench/small.json
//   npm run bench -- --pgkeel-cmd "npx tsx src/cli/main.ts"
//
// Run `node scripts/bench.mjs --help` for every option.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --json is relative to where the command was typed (npm runs scripts from the repo root)
const CALLER_CWD = process.env.INIT_CWD || process.cwd();
process.chdir(ROOT);

const SHARED_BENCH = '../shared/bench';
const REGRESS = `${SHARED_BENCH}/regress_clean.sql`;
const GENERATOR = `${SHARED_BENCH}/gen_synthetic.js`;
const SYNTH_DIR = '.bench/synthetic';
const SYNTH_FILES = 2000;
const SYNTH_SEED = 42;
const SMALL = '.bench/small.sql';
const TRACE_SQL = '.bench/trace/002_changes.sql';
const TRACE_SCHEMA = '.bench/trace/schema.sql';
const TIME_BIN = '/usr/bin/time';
// Far below ARG_MAX; past it squawk gets a glob instead of the file list.
const MAX_ARGV_BYTES = 100_000;

const TARGETS = {
  bigRatio: 1.0,
  smallMs: 120,
  traceColdMs: 2000,
  regressPeakMb: 150,
  prettyMs: 10_000, // our reading of "10,000 findings on a 5 MB file print in seconds"
};

// A ~5-statement migration of the kind a developer lints on every save.
const SMALL_SQL = `-- 20240601120000_order_status.sql
CREATE TABLE order_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL,
  kind text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE order_events ADD CONSTRAINT order_events_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);
`;

const HELP = `usage: node scripts/bench.mjs [options]      (npm run bench -- [options])

Times \`pgkeel lint --format pretty\` against squawk (pretty/tty reporter) on:
  regress   ${REGRESS}
  synthetic ${SYNTH_DIR}: ${SYNTH_FILES} files from gen_synthetic.js (seed ${SYNTH_SEED}), generated if missing
  small     ${SMALL}: a 5-statement migration written by this script
  machine   regress_clean.sql again with pgkeel --format json / squawk --reporter gcc, to separate
            linting from pretty printing (the "pretty output scaling" section)
Runs alternate pgkeel/squawk after one uncounted warm-up each; wall time is measured around the
spawn with stdout drained through a pipe; peak RSS comes from ${TIME_BIN} -f %M.

options:
  --runs N            counted runs per tool on big inputs (default 5)
  --small-runs N      counted runs per tool on the small file (default 15)
  --slow-ms MS        a tool whose warm-up on an input takes longer than this ... (default 30000)
  --slow-runs N       ... gets only N counted runs there (default 1)
  --inputs LIST       comma-separated subset of regress,synthetic,small,machine (default all)
  --only TOOL         pgkeel | squawk
  --pgkeel-cmd CMD    command that replaces \`node bin/pgkeel.js\` (\`lint --format pretty|json PATHS\` is appended)
  --squawk-cmd CMD    command that replaces squawk's native binary (e.g. node_modules/.bin/squawk,
                      the npm wrapper, which adds a Node start-up to every run)
  --timeout-ms MS     kill a run after this long and count it as a failure (default 600000)
  --json FILE         also write the results as JSON
  -h, --help`;

function usage(message) {
  console.error(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        runs: { type: 'string', default: '5' },
        'small-runs': { type: 'string', default: '15' },
        'slow-ms': { type: 'string', default: '30000' },
        'slow-runs': { type: 'string', default: '1' },
        inputs: { type: 'string', default: 'regress,synthetic,small,trace,machine' },
        only: { type: 'string' },
        'pgkeel-cmd': { type: 'string' },
        'squawk-cmd': { type: 'string' },
        'timeout-ms': { type: 'string', default: '600000' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    usage(e.message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(HELP);
    process.exit(0);
  }
  const int = (name, min) => {
    const n = Number(v[name]);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer ≥ ${min}, got ${v[name]}`);
    return n;
  };
  if (v.only !== undefined && v.only !== 'pgkeel' && v.only !== 'squawk') {
    usage(`--only must be pgkeel or squawk, got ${v.only}`);
  }
  const inputs = v.inputs.split(',').map((s) => s.trim());
  for (const id of inputs) {
    if (!['regress', 'synthetic', 'small', 'trace', 'machine'].includes(id)) usage(`unknown input ${id}`);
  }
  return {
    runs: int('runs', 1),
    smallRuns: int('small-runs', 1),
    slowMs: int('slow-ms', 0),
    slowRuns: int('slow-runs', 1),
    timeoutMs: int('timeout-ms', 1),
    inputs,
    tools: v.only ? [v.only] : ['pgkeel', 'squawk'],
    pgkeelCmd: v['pgkeel-cmd'] ? splitCommand(v['pgkeel-cmd']) : null,
    squawkCmd: v['squawk-cmd'] ? splitCommand(v['squawk-cmd']) : null,
    json: v.json ?? null,
  };
}

/** Splits a command line on blanks; single and double quotes group, no other shell syntax. */
function splitCommand(line) {
  const words = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3]);
  if (words.length === 0) usage('empty command');
  return words;
}

// ── tools ───────────────────────────────────────────────────────────────────

function resolvePgkeel(opts) {
  if (opts.pgkeelCmd) return opts.pgkeelCmd;
  if (!existsSync('bin/pgkeel.js')) {
    console.error(
      'bench: bin/pgkeel.js not found: run `npm run build` first ' +
        '(or pass --pgkeel-cmd "<cmd>", or --only squawk to time squawk alone).',
    );
    process.exit(2);
  }
  // run as users run it (`npx pgkeel`, `pgkeel`): through the shebang, which sets V8 start-up flags
  return [path.join(ROOT, 'bin/pgkeel.js')];
}

/** squawk's npm package is a Node wrapper around a native binary: time the binary itself. */
function resolveSquawk(opts) {
  if (opts.squawkCmd) return opts.squawkCmd;
  try {
    const require = createRequire(path.join(ROOT, 'package.json'));
    return [require('squawk-cli/js/index.js').getBinaryPath()];
  } catch (e) {
    console.error(`bench: cannot find squawk's native binary (${e.message}); is squawk-cli installed?`);
    process.exit(2);
  }
}

function versionOf(cmd) {
  const r = spawnSync(cmd[0], [...cmd.slice(1), '--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : `unknown (--version exited ${r.status ?? r.signal})`;
}

// ── inputs ──────────────────────────────────────────────────────────────────

function ensureSynthetic() {
  const count = () =>
    existsSync(SYNTH_DIR) ? readdirSync(SYNTH_DIR).filter((f) => f.endsWith('.sql')).length : 0;
  if (count() === SYNTH_FILES) return;
  console.error(`bench: generating ${SYNTH_DIR} (${SYNTH_FILES} files, seed ${SYNTH_SEED}) …`);
  rmSync(SYNTH_DIR, { recursive: true, force: true });
  mkdirSync(SYNTH_DIR, { recursive: true });
  const r = spawnSync(process.execPath, [GENERATOR, SYNTH_DIR, String(SYNTH_FILES), String(SYNTH_SEED)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0 || count() !== SYNTH_FILES) {
    console.error(`bench: ${GENERATOR} failed (exit ${r.status ?? r.signal})`);
    process.exit(2);
  }
}

function ensureSmall() {
  mkdirSync(path.dirname(SMALL), { recursive: true });
  if (!existsSync(SMALL) || readFileSync(SMALL, 'utf8') !== SMALL_SQL) writeFileSync(SMALL, SMALL_SQL);
}

/** A 10-statement migration over a small schema: what `pgkeel trace` is timed on, cold. */
function ensureTraceInput() {
  mkdirSync(path.join(ROOT, '.bench/trace'), { recursive: true });
  writeFileSync(
    path.join(ROOT, TRACE_SCHEMA),
    `CREATE TABLE customers (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount int, note varchar(20));
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 1000) g;
INSERT INTO orders SELECT g, g % 1000 + 1, g, 'n' FROM generate_series(1, 5000) g;
`,
  );
  writeFileSync(
    path.join(ROOT, TRACE_SQL),
    `SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders ALTER COLUMN note TYPE varchar(40);
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
`,
  );
}

function synthArgsForSquawk() {
  // squawk takes files or glob patterns, not directories
  const files = readdirSync(SYNTH_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => `${SYNTH_DIR}/${f}`);
  const bytes = files.reduce((n, f) => n + f.length + 1, 0);
  return bytes <= MAX_ARGV_BYTES
    ? { args: files, how: 'file list' }
    : { args: [`${SYNTH_DIR}/*.sql`], how: 'glob' };
}

function buildInputs(opts) {
  const inputs = [];
  const want = new Set(opts.inputs);
  if (want.has('regress') || want.has('machine')) {
    if (!existsSync(REGRESS)) {
      console.error(`bench: ${REGRESS} not found (../shared must sit beside the repo)`);
      process.exit(2);
    }
  }
  if (want.has('regress')) {
    inputs.push({
      id: 'regress',
      label: 'regress_clean.sql',
      big: true,
      pgkeel: ['lint', '--format', 'pretty', REGRESS],
      squawk: [REGRESS],
    });
  }
  if (want.has('synthetic')) {
    ensureSynthetic();
    const sq = synthArgsForSquawk();
    inputs.push({
      id: 'synthetic',
      label: `synthetic (${SYNTH_FILES} files)`,
      big: true,
      pgkeel: ['lint', '--format', 'pretty', SYNTH_DIR],
      squawk: sq.args,
      note: `squawk gets the ${sq.how}, pgkeel the directory`,
    });
  }
  if (want.has('small')) {
    ensureSmall();
    inputs.push({
      id: 'small',
      label: 'small.sql (5 stmts)',
      big: false,
      pgkeel: ['lint', '--format', 'pretty', SMALL],
      squawk: [SMALL],
    });
    // the small-file target is stated against `npx squawk`, which is how most people start it
    inputs.push({
      id: 'small-npx',
      label: 'small.sql vs npx squawk',
      big: false,
      pgkeel: ['lint', '--format', 'pretty', SMALL],
      squawk: ['squawk', SMALL],
      commands: { squawk: ['npx', '--no-install'] },
      note: 'squawk started as `npx squawk`',
    });
  }
  if (want.has('trace')) {
    ensureTraceInput();
    inputs.push({
      id: 'trace',
      label: 'trace cold start (10 stmts)',
      big: false,
      pgkeel: ['trace', '--schema', TRACE_SCHEMA, TRACE_SQL],
      note: 'pgkeel trace on the embedded engine (PGlite), a fresh process each run',
    });
  }
  if (want.has('machine')) {
    inputs.push({
      id: 'machine',
      label: 'regress_clean.sql json/gcc',
      big: true,
      pgkeel: ['lint', '--format', 'json', REGRESS],
      squawk: ['--reporter', 'gcc', REGRESS],
      note: 'pgkeel --format json, squawk --reporter gcc: linting without the pretty printer',
      optional: true, // an unsupported format is reported, not counted as a crash
    });
  }
  return inputs;
}

// ── running ─────────────────────────────────────────────────────────────────

let current = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // runs are in their own process group so that a timeout can stop them with their children
    if (current) killGroup(current);
    process.exit(130);
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const TAIL_BYTES = 4096;
const STDERR_CAP = 1 << 20;
const STACK_LINE = /^ {4}at /m;

/**
 * One run: wall time around spawn → close (stdout drained through a pipe), exit code, peak RSS.
 * With GNU time, the exit code is the tool's own, or 128+signal when it was killed.
 */
function runOnce(cmd, args, timeoutMs, rssFile) {
  const argv = rssFile ? [TIME_BIN, '-f', '%M %U %S', '-o', rssFile, ...cmd, ...args] : [...cmd, ...args];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    let stdoutBytes = 0;
    let tail = Buffer.alloc(0);
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => {
      stdoutBytes += chunk.length;
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > 2 * TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
    });
    child.stderr.on('data', (chunk) => {
      if (stderr.length < STDERR_CAP) stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    let spawnError = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      current = null;
      let rssMb = null;
      let cpuMs = null;
      if (rssFile) {
        try {
          // GNU time puts "Command exited with non-zero status N" before the figure
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          const [kb, user, sys] = lines[lines.length - 1].split(' ').map(Number);
          if (Number.isFinite(kb)) rssMb = kb / 1024;
          if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user + sys) * 1000;
        } catch {
          // no figure: reported as n/a
        }
      }
      resolve({
        ms,
        code: code ?? 128 + (os.constants.signals[signal] ?? 0),
        signal,
        timedOut,
        spawnError: spawnError?.message ?? null,
        rssMb,
        cpuMs,
        stdoutBytes,
        tail: tail.subarray(Math.max(0, tail.length - TAIL_BYTES)).toString('utf8'),
        stderr,
      });
    });
  });
}

/** Why a run counts as a crash, or null. Exit 2 is pgkeel's usage/input error: a failure here too. */
function failure(tool, run) {
  if (run.spawnError) return `could not start: ${run.spawnError}`;
  if (run.timedOut) return 'timed out';
  if (run.code === 127 && /cannot run|No such file/.test(run.stderr))
    return `could not start: ${run.stderr.trim()}`;
  if (run.code !== 0 && run.code !== 1) {
    return run.code > 128 ? `killed by signal ${run.code - 128}` : `exit code ${run.code}`;
  }
  // an uncaught exception in Node exits 1, the same as "findings": look for its stack
  if (tool === 'pgkeel' && STACK_LINE.test(run.stderr)) return 'stack trace on stderr';
  return null;
}

/** Finding count from the summary line at the end of the pretty output, when there is one. */
function findingsOf(tool, tail) {
  const lines = stripVTControlCharacters(tail).trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (tool === 'squawk') {
    const m = /Found (\d+) issues? in/.exec(last);
    return m ? Number(m[1]) : null;
  }
  if (/No problems in/.test(last)) return 0;
  const counts = [...last.matchAll(/(\d+) (?:errors?|warnings?|infos?)\b/g)].map((m) => Number(m[1]));
  return counts.length > 0 ? counts.reduce((a, b) => a + b, 0) : null;
}

function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmtMs = (ms) =>
  ms === null ? 'n/a' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;
const fmtMb = (mb) => (mb === null ? 'n/a' : `${mb.toFixed(0)} MB`);
const log = (s) => process.stderr.write(`${s}\n`);

async function benchInput(input, cmds, opts, tmp) {
  // an input may exist for one tool only (squawk has no trace)
  const tools = opts.tools.filter((t) => input[t]);
  const planned = input.big ? opts.runs : opts.smallRuns;
  const cells = {};
  for (const tool of tools) {
    cells[tool] = {
      samples: [],
      rss: [],
      cpu: [],
      codes: [],
      findings: null,
      stdoutBytes: null,
      runs: planned,
      error: null,
    };
  }
  const rssFile = existsSync(TIME_BIN) ? path.join(tmp, 'rss') : null;

  const once = async (tool, counted) => {
    const cell = cells[tool];
    const run = await runOnce(input.commands?.[tool] ?? cmds[tool], input[tool], opts.timeoutMs, rssFile);
    const why = failure(tool, run);
    const what = counted ? `run ${cell.samples.length + 1}/${cell.runs}` : 'warm-up';
    log(`  ${input.label} · ${tool} · ${what}: ${fmtMs(run.ms)}${why ? ` ✖ ${why}` : ''}`);
    if (why) {
      const unsupported =
        input.optional && tool === 'pgkeel' && run.code === 2 && !STACK_LINE.test(run.stderr);
      cell.error = why;
      cell.unsupported = unsupported;
      cell.stderr = run.stderr.slice(0, 2000);
      if (!unsupported) log(run.stderr.slice(0, 2000).replace(/^/gm, '    | '));
      return run;
    }
    if (counted) {
      cell.samples.push(run.ms);
      if (run.rssMb !== null) cell.rss.push(run.rssMb);
      if (run.cpuMs !== null) cell.cpu.push(run.cpuMs);
      cell.codes.push(run.code);
    }
    cell.findings = findingsOf(tool, run.tail) ?? cell.findings;
    cell.stdoutBytes = run.stdoutBytes;
    return run;
  };

  // warm-ups, which also tell whether a tool is too slow on this input for the full run count
  for (const tool of tools) {
    const run = await once(tool, false);
    if (cells[tool].error) continue;
    if (run.ms > opts.slowMs && cells[tool].runs > opts.slowRuns) {
      cells[tool].runs = opts.slowRuns;
      cells[tool].note =
        `${opts.slowRuns} run(s) only: warm-up took ${fmtMs(run.ms)} > --slow-ms ${opts.slowMs}`;
      log(`  ${input.label} · ${tool}: ${cells[tool].note}`);
    }
  }
  // counted runs, alternating between the tools
  for (let i = 0; ; i++) {
    const due = tools.filter((t) => !cells[t].error && i < cells[t].runs);
    if (due.length === 0) break;
    for (const tool of due) await once(tool, true);
  }

  const result = { id: input.id, label: input.label, note: input.note ?? null, tools: {} };
  for (const tool of tools) {
    const c = cells[tool];
    result.tools[tool] = {
      args:
        input[tool].length > 8
          ? [...input[tool].slice(0, 3), `… ${input[tool].length - 3} more`]
          : input[tool],
      runs: c.samples.length,
      samplesMs: c.samples.map((x) => Math.round(x * 10) / 10),
      medianMs: median(c.samples),
      minMs: c.samples.length ? Math.min(...c.samples) : null,
      maxMs: c.samples.length ? Math.max(...c.samples) : null,
      peakRssMb: c.rss.length ? Math.max(...c.rss) : null,
      // user+sys CPU time: less disturbed than wall time when other work shares the machine
      medianCpuMs: median(c.cpu),
      exitCodes: [...new Set(c.codes)],
      findings: c.findings,
      stdoutBytes: c.stdoutBytes,
      note: c.note,
      error: c.error,
      unsupported: c.unsupported ?? false,
      stderr: c.error ? c.stderr : undefined,
    };
  }
  const p = result.tools.pgkeel?.medianMs ?? null;
  const s = result.tools.squawk?.medianMs ?? null;
  result.ratio = p !== null && s !== null ? p / s : null;
  return result;
}

// ── report ──────────────────────────────────────────────────────────────────

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])));
      return ri === 0
        ? `${line.join('  ')}\n${widths.map((w) => '─'.repeat(w)).join('  ')}`
        : line.join('  ');
    })
    .join('\n');
}

function targetsOf(results, ran) {
  const by = Object.fromEntries(results.map((r) => [r.id, r]));
  const pg = (id) => by[id]?.tools.pgkeel;
  const targets = [];
  const add = (name, value, shown, met) => targets.push({ name, value, shown, met });
  for (const id of ['regress', 'synthetic']) {
    const r = by[id];
    const ok = r?.ratio !== null && r?.ratio !== undefined;
    add(
      `${id === 'regress' ? 'regress_clean.sql' : 'synthetic corpus'}: pgkeel/squawk ≤ ${TARGETS.bigRatio.toFixed(1)}`,
      ok ? r.ratio : null,
      ok ? r.ratio.toFixed(2) : 'n/a',
      ok ? r.ratio <= TARGETS.bigRatio : null,
    );
  }
  const small = pg('small')?.medianMs ?? null;
  add(
    `small file: pgkeel median ≤ ${TARGETS.smallMs} ms`,
    small,
    fmtMs(small),
    small === null ? null : small <= TARGETS.smallMs,
  );
  const npx = by['small-npx'];
  const npxRatio = npx?.ratio ?? null;
  add(
    'small file: pgkeel no slower than `npx squawk`',
    npxRatio,
    npxRatio === null ? 'n/a' : npxRatio.toFixed(2),
    npxRatio === null ? null : npxRatio <= 1,
  );
  const trace = pg('trace')?.medianMs ?? null;
  add(
    `trace cold start, 10 statements: pgkeel median ≤ ${TARGETS.traceColdMs} ms`,
    trace,
    fmtMs(trace),
    trace === null ? null : trace <= TARGETS.traceColdMs,
  );
  const mem = pg('regress')?.peakRssMb ?? null;
  add(
    `regress_clean.sql: pgkeel peak ≤ ${TARGETS.regressPeakMb} MB`,
    mem,
    fmtMb(mem),
    mem === null ? null : mem <= TARGETS.regressPeakMb,
  );
  const pretty = pg('regress')?.medianMs ?? null;
  add(
    `~10,000 findings on 5 MB print in seconds (pretty ≤ ${TARGETS.prettyMs / 1000} s)`,
    pretty,
    fmtMs(pretty),
    pretty === null ? null : pretty <= TARGETS.prettyMs,
  );
  if (!ran.includes('pgkeel')) for (const t of targets) t.met = null;
  return targets;
}

function report(results, env, opts) {
  const out = [];
  const cell = (r, tool, f) => (r.tools[tool] ? f(r.tools[tool]) : '—');
  const rows = [
    [
      'input',
      'pgkeel med',
      'squawk med',
      'pg/sq',
      'pgkeel peak',
      'squawk peak',
      'pgkeel found',
      'squawk found',
      'runs p/s',
    ],
  ];
  for (const r of results) {
    const med = (t) => (t.error ? (t.unsupported ? 'unsupported' : 'CRASH') : fmtMs(t.medianMs));
    rows.push([
      r.label,
      cell(r, 'pgkeel', med),
      cell(r, 'squawk', med),
      r.ratio === null ? '—' : r.ratio.toFixed(2),
      cell(r, 'pgkeel', (t) => fmtMb(t.peakRssMb)),
      cell(r, 'squawk', (t) => fmtMb(t.peakRssMb)),
      cell(r, 'pgkeel', (t) => t.findings ?? '?'),
      cell(r, 'squawk', (t) => t.findings ?? '?'),
      `${cell(r, 'pgkeel', (t) => t.runs)}/${cell(r, 'squawk', (t) => t.runs)}`,
    ]);
  }
  out.push('');
  out.push(`pgkeel: ${env.pgkeel ?? '(not run)'}`);
  out.push(`squawk: ${env.squawk ?? '(not run)'}`);
  out.push(`node ${env.node} · ${env.cpu} × ${env.cpus} · commit ${env.commit}`);
  const load = `load average ${env.loadAtStart.toFixed(1)} at start, ${env.loadAtEnd.toFixed(1)} at end`;
  const busy = Math.max(env.loadAtStart, env.loadAtEnd) > env.cpus / 2;
  out.push(busy ? `${load}: the machine is busy, wall times are noisy (see medianCpuMs in --json)` : load);
  if (process.env.NODE_EXTRA_CA_CERTS) {
    // Node reads the extra certificates at every start, before any of pgkeel runs
    out.push('NODE_EXTRA_CA_CERTS is set: every Node start (pgkeel, npx) pays for loading it (~40 ms here)');
  }
  out.push('');
  out.push(table(rows));
  const notes = [];
  for (const r of results) {
    if (r.note) notes.push(`${r.label}: ${r.note}`);
    for (const [tool, t] of Object.entries(r.tools)) {
      if (t.note) notes.push(`${r.label} · ${tool}: ${t.note}`);
      if (t.error)
        notes.push(`${r.label} · ${tool}: ${t.unsupported ? 'not supported' : 'FAILED'} (${t.error})`);
    }
  }
  if (!env.rss) notes.push(`${TIME_BIN} not found: no peak memory figures`);
  notes.push('medians of counted runs after one uncounted warm-up; peak = max RSS over counted runs');
  out.push('');
  for (const n of notes) out.push(`  · ${n}`);

  // pretty output scaling: the same file through each tool's pretty and machine reporters
  const reg = results.find((r) => r.id === 'regress');
  const mach = results.find((r) => r.id === 'machine');
  if (reg || mach) {
    out.push('');
    out.push('pretty output scaling (regress_clean.sql, output to a pipe):');
    for (const [tool, machine] of [
      ['pgkeel', 'json'],
      ['squawk', 'gcc'],
    ]) {
      const p = reg?.tools[tool];
      const m = mach?.tools[tool];
      if (!p && !m) continue;
      const pm = p && !p.error ? p.medianMs : null;
      const mm = m && !m.error ? m.medianMs : null;
      const mb = p?.stdoutBytes ? ` (${(p.stdoutBytes / 1048576).toFixed(1)} MB of output)` : '';
      const found = p?.findings ?? null;
      const cost =
        pm !== null && mm !== null ? `; printing costs ${fmtMs(pm - mm)} (×${(pm / mm).toFixed(1)})` : '';
      out.push(
        `  ${tool.padEnd(6)} pretty ${fmtMs(pm)}${found !== null ? `, ${found} findings` : ''}${mb}` +
          ` · ${machine} ${m?.unsupported ? 'unsupported' : fmtMs(mm)}${cost}`,
      );
    }
    if (mach?.ratio !== null && mach?.ratio !== undefined) {
      out.push(
        `  pgkeel json / squawk gcc on regress_clean.sql: ${mach.ratio.toFixed(2)} (linting speed alone)`,
      );
    }
  }

  const targets = targetsOf(results, opts.tools);
  out.push('');
  out.push('targets:');
  for (const t of targets) {
    const verdict = t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS';
    out.push(`  [${verdict}] ${t.name}: ${t.shown}`);
  }
  return { text: out.join('\n'), targets };
}

function environment(cmds, opts) {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown cpu',
    cpus: os.cpus().length,
    memGb: Math.round(os.totalmem() / 2 ** 30),
    loadAtStart: os.loadavg()[0],
    commit: git.status === 0 ? `${git.stdout.trim()}${dirty.stdout.trim() ? '+dirty' : ''}` : 'unknown',
    pgkeel: cmds.pgkeel ? `${cmds.pgkeel.join(' ')} lint --format pretty` : null,
    squawk: cmds.squawk ? `${cmds.squawk.join(' ')} (${versionOf(cmds.squawk)})` : null,
    rss: existsSync(TIME_BIN),
    options: { runs: opts.runs, smallRuns: opts.smallRuns, slowMs: opts.slowMs, slowRuns: opts.slowRuns },
  };
}

async function main() {
  const opts = parseOptions();
  const cmds = {};
  if (opts.tools.includes('pgkeel')) cmds.pgkeel = resolvePgkeel(opts);
  if (opts.tools.includes('squawk')) cmds.squawk = resolveSquawk(opts);
  const inputs = buildInputs(opts);
  const env = environment(cmds, opts);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgkeel-bench-'));
  const results = [];
  try {
    for (const input of inputs) {
      log(`${input.label}:`);
      results.push(await benchInput(input, cmds, opts, tmp));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  env.loadAtEnd = os.loadavg()[0];
  const { text, targets } = report(results, env, opts);
  console.log(text);
  const crashed = results.flatMap((r) =>
    Object.entries(r.tools)
      .filter(([, t]) => t.error && !t.unsupported)
      .map(([tool, t]) => `${tool} on ${r.label}: ${t.error}`),
  );
  if (opts.json) {
    const file = path.resolve(CALLER_CWD, opts.json);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ env, targets, results, crashed }, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  }
  if (crashed.length > 0) {
    console.log(`\nFAILED: ${crashed.join('; ')}`);
    process.exit(1);
  }
}

await main();
