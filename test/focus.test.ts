/** Choosing rules (presets, --rule/--enable/--disable), rule options, --print-config and `pgkeel rules`. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/schema.js';
import { activeRules, lintSqlSync } from '../src/lint/lint.js';
import { loadParser } from '../src/parse/parse.js';
import { allRules } from '../src/rules/index.js';
import { runCli } from './run-cli.js';

const IDS = allRules.map((r) => r.id);
const ids = (o: Parameters<typeof activeRules>[0]) => activeRules(o).map((a) => a.rule.id);

let dir: string;
beforeAll(async () => {
  await loadParser();
  dir = await mkdtemp(join(tmpdir(), 'pgkeel-focus-'));
  await writeFile(join(dir, 'wide.sql'), 'CREATE INDEX a ON t (w, x, y, z);\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (argv: string[], cwd = dir) => runCli(argv, { cwd });
const rulesIn = (stdout: string) =>
  [...new Set(JSON.parse(stdout).files[0].diagnostics.map((d: { rule: string }) => d.rule))].sort();

describe('activeRules', () => {
  it('runs the recommended preset by default and every rule with "all"', () => {
    const recommended = ids({});
    expect(recommended).toContain('create-index-non-concurrently');
    expect(recommended).not.toContain('index-too-many-columns');
    expect(ids({ presets: ['all'] })).toEqual(IDS);
  });

  it('presets: [] runs only the rules set to warn or error', () => {
    expect(
      ids({ presets: [], rules: { 'drop-table': 'warn', 'index-too-many-columns': ['error'] } }),
    ).toEqual(['drop-table', 'index-too-many-columns']);
    expect(ids({ presets: [] })).toEqual([]);
  });

  it('only runs exactly the named rules, even ones the config turns off, at their configured or default severity', () => {
    const active = activeRules({
      only: ['drop-table', 'index-too-many-columns'],
      rules: { 'drop-table': 'off', 'index-too-many-columns': ['error', { maxColumns: 5 }] },
    });
    expect(active.map((a) => [a.rule.id, a.severity, a.options])).toEqual([
      ['drop-table', 'error', {}],
      ['index-too-many-columns', 'error', { maxColumns: 5 }],
    ]);
  });

  it('enable adds opt-in rules to the configured set; disable wins over both', () => {
    const enabled = ids({ enable: ['index-too-many-columns'] });
    expect(enabled).toContain('index-too-many-columns');
    expect(enabled).toContain('create-index-non-concurrently');
    expect(ids({ enable: ['index-too-many-columns'], disable: ['index-too-many-columns'] })).not.toContain(
      'index-too-many-columns',
    );
    expect(ids({ only: ['drop-table'], disable: ['drop-table'] })).toEqual([]);
  });

  it('gives every rule its option defaults, overridden by the configured values', () => {
    const byId = (rules: Parameters<typeof activeRules>[0]['rules']) =>
      new Map(activeRules({ presets: ['all'], rules }).map((a) => [a.rule.id, a.options]));
    expect(byId({}).get('index-too-many-columns')).toEqual({ maxColumns: 3 });
    expect(byId({}).get('lock-timeout-missing')).toEqual({ timeout: '2s' });
    expect(
      byId({ 'index-too-many-columns': ['warn', { maxColumns: 6 }] }).get('index-too-many-columns'),
    ).toEqual({
      maxColumns: 6,
    });
  });
});

describe('rule options in the config', () => {
  it('are validated against the rule’s schema, naming the rule and the option', () => {
    const result = validateConfig(
      {
        rules: {
          'index-too-many-columns': ['warn', { bogus: true, maxColums: 2 }],
          'require-schema-qualified': ['warn', { allowUnqualified: 'settings' }],
          'lock-timeout-missing': ['error', { timeout: 'soon' }],
          'drop-table': ['warn', { force: true }],
        },
      },
      IDS,
    );
    expect(result.ok ? [] : result.issues).toEqual([
      {
        keyPath: 'rules.index-too-many-columns[1].bogus',
        message: 'unknown option "bogus" for rule "index-too-many-columns"; its options: maxColumns',
      },
      {
        keyPath: 'rules.index-too-many-columns[1].maxColums',
        message:
          'unknown option "maxColums" for rule "index-too-many-columns" (did you mean "maxColumns"?); its options: maxColumns',
      },
      {
        keyPath: 'rules.require-schema-qualified[1].allowUnqualified',
        message: expect.stringMatching(
          /^option "allowUnqualified" of rule "require-schema-qualified": .*expected array.* \(the option is string\[\]\)$/,
        ),
      },
      {
        keyPath: 'rules.lock-timeout-missing[1].timeout',
        message:
          'option "timeout" of rule "lock-timeout-missing": expected a Postgres interval greater than 0, such as "2s" or "500ms"',
      },
      {
        keyPath: 'rules.drop-table[1].force',
        message: 'unknown option "force" for rule "drop-table"; it has no options',
      },
    ]);
  });

  it('a mistyped option fails loading the config file with exit 2, naming the file and the key', async () => {
    const d = await mkdtemp(join(tmpdir(), 'pgkeel-opt-'));
    try {
      await writeFile(
        join(d, 'pgkeel.config.json'),
        JSON.stringify({ rules: { 'index-too-many-columns': ['warn', { maxColumns: '4' }] } }),
      );
      await writeFile(join(d, 'a.sql'), 'SELECT 1;\n');
      const r = await run(['lint', 'a.sql'], d);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('pgkeel.config.json');
      expect(r.stderr).toContain('rules.index-too-many-columns[1].maxColumns');
      expect(r.stderr).toContain('expected number');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('reach the rule: a configured maxColumns changes what is reported', async () => {
    const d = await mkdtemp(join(tmpdir(), 'pgkeel-opt-'));
    try {
      await writeFile(join(d, 'a.sql'), 'CREATE INDEX a ON t (w, x, y, z);\n');
      const lint = async (maxColumns: number) => {
        await writeFile(
          join(d, 'pgkeel.config.json'),
          JSON.stringify({ presets: [], rules: { 'index-too-many-columns': ['warn', { maxColumns }] } }),
        );
        return rulesIn((await run(['lint', 'a.sql', '--format', 'json'], d)).stdout);
      };
      expect(await lint(3)).toEqual(['index-too-many-columns']);
      expect(await lint(4)).toEqual([]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('through the API, options given to lintSql apply too', () => {
    const sql = 'CREATE INDEX CONCURRENTLY a ON t (w, x);';
    const lint = (maxColumns: number) =>
      lintSqlSync(sql, {
        presets: [],
        rules: { 'index-too-many-columns': ['warn', { maxColumns }] },
      }).diagnostics.map((d) => d.rule);
    expect(lint(1)).toEqual(['index-too-many-columns']);
    expect(lint(2)).toEqual([]);
  });
});

describe('pgkeel lint --rule / --enable / --disable', () => {
  it('--rule runs only the named rules', async () => {
    const r = await run(['lint', 'wide.sql', '--format', 'json', '--rule', 'index-too-many-columns']);
    expect(rulesIn(r.stdout)).toEqual(['index-too-many-columns']);
    const two = await run([
      'lint',
      'wide.sql',
      '--format',
      'json',
      '--rule',
      'index-too-many-columns',
      '--rule',
      'create-index-non-concurrently',
    ]);
    expect(rulesIn(two.stdout)).toEqual(['create-index-non-concurrently', 'index-too-many-columns']);
  });

  it('--enable adds an opt-in rule, --disable removes a rule', async () => {
    const base = rulesIn((await run(['lint', 'wide.sql', '--format', 'json'])).stdout);
    expect(base).toContain('create-index-non-concurrently');
    expect(base).not.toContain('index-too-many-columns');
    const enabled = rulesIn(
      (await run(['lint', 'wide.sql', '--format', 'json', '--enable', 'index-too-many-columns'])).stdout,
    );
    expect(enabled).toEqual([...base, 'index-too-many-columns'].sort());
    const disabled = rulesIn(
      (await run(['lint', 'wide.sql', '--format', 'json', '--disable', 'create-index-non-concurrently']))
        .stdout,
    );
    expect(disabled).toEqual(base.filter((id) => id !== 'create-index-non-concurrently'));
  });

  it('an unknown rule id is a usage error with a suggestion', async () => {
    for (const flag of ['--rule', '--enable', '--disable']) {
      const r = await run(['lint', 'wide.sql', flag, 'add-chek-constraint']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown rule "add-chek-constraint" (did you mean "add-check-constraint"?)');
    }
  });
});

describe('pgkeel lint --print-config', () => {
  it('prints the settings a file gets and where they came from', async () => {
    const d = await mkdtemp(join(tmpdir(), 'pgkeel-print-'));
    try {
      await writeFile(
        join(d, 'pgkeel.config.json'),
        JSON.stringify({
          pgVersion: 15,
          presets: [],
          rules: { 'index-too-many-columns': ['error', { maxColumns: 5 }], 'drop-table': 'warn' },
          timeouts: { lockTimeout: '3s' },
          ignorePaths: ['legacy/**'],
        }),
      );
      await writeFile(join(d, '001.up.sql'), 'SELECT 1;\n');
      const r = await run(['lint', '--print-config', '001.up.sql', '--disable', 'drop-table'], d);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        file: '001.up.sql',
        configFile: 'pgkeel.config.json',
        pgVersion: { value: 15, from: 'config', detail: 'pgkeel.config.json' },
        runner: { value: 'golang-migrate', from: 'detected', detail: expect.stringContaining('.up.sql') },
        noTransaction: false,
        presets: [],
        rules: { 'index-too-many-columns': { severity: 'error', options: { maxColumns: 5 } } },
        timeouts: { lockTimeout: '3s' },
        ignorePaths: ['legacy/**'],
      });
      const flagged = JSON.parse(
        (await run(['lint', '--print-config', '001.up.sql', '--pg-version', '13'], d)).stdout,
      );
      expect(flagged.pgVersion).toEqual({ value: 13, from: 'flag', detail: '--pg-version' });
      const missing = await run(['lint', '--print-config', 'nope.sql'], d);
      expect(missing.code).toBe(2);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('pgkeel rules', () => {
  it('prints a table with verdict, danger, fixability and each rule’s state under the config', async () => {
    const r = await run(['rules']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^RULE +VERDICT +DANGER +FIX +STATUS +SUMMARY$/);
    expect(lines.find((l) => l.startsWith('add-check-constraint '))).toMatch(
      /^add-check-constraint +alternative +blocks traffic +yes +error +Adding a CHECK/,
    );
    expect(lines.find((l) => l.startsWith('rename-column '))).toMatch(
      /^rename-column +alternative +breaks clients /,
    );
    expect(lines.find((l) => l.startsWith('index-too-many-columns '))).toMatch(/ off \(opt-in\) /);
    expect(r.stdout).toContain(`${IDS.length} rules`);
  });

  it('follows the config: a rule turned on or off there shows so', async () => {
    const d = await mkdtemp(join(tmpdir(), 'pgkeel-rules-'));
    try {
      await writeFile(
        join(d, 'pgkeel.config.json'),
        JSON.stringify({ rules: { 'index-too-many-columns': 'warn', 'add-check-constraint': 'off' } }),
      );
      const r = await run(['rules', '--format', 'markdown'], d);
      expect(r.stdout).toContain('| rule | verdict | danger | fixable | status | summary |');
      expect(r.stdout).toContain(
        '| [`index-too-many-columns`](docs/rules/index-too-many-columns.md) | advice | schema design |  | warning |',
      );
      expect(r.stdout).toContain(
        '| [`add-check-constraint`](docs/rules/add-check-constraint.md) | alternative | blocks traffic | yes | off |',
      );
      expect(r.stdout).toContain('under the config in pgkeel.config.json');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('json lists options and fixability', async () => {
    const rules = JSON.parse((await run(['rules', '--format', 'json'])).stdout);
    const wide = rules.find((x: { id: string }) => x.id === 'index-too-many-columns');
    expect(wide.options).toEqual([
      { name: 'maxColumns', type: 'integer ≥ 1', default: 3, description: expect.any(String) },
    ]);
    expect(wide.fixable).toBe(false);
    expect(wide.hazard).toBe('schema-design');
    const deadlock = rules.find((x: { id: string }) => x.id === 'lock-order-deadlock');
    expect(deadlock).toMatchObject({ hazard: 'blocks-traffic', severity: 'warning' });
    expect(deadlock.severityReason).toEqual(expect.any(String));
  });

  it('suggests the closest id for an unknown one', async () => {
    const r = await run(['rules', 'add-chek-constraint']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown rule "add-chek-constraint" (did you mean "add-check-constraint"?)');
  });

  it('a rule page lists its options', async () => {
    const page = (await run(['rules', 'require-schema-qualified'])).stdout;
    expect(page).toContain('## Options');
    expect(page).toContain('| `allowUnqualified` | string[] | `[]` |');
  });
});
