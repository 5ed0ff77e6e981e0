import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { createIgnoreMatcher, globToRegExp, ignoreMatcherFor } from '../src/config/ignore.js';
import { formatInterval, IntervalError, parseInterval } from '../src/config/interval.js';
import { locateJsonError, parseJson } from '../src/config/json.js';
import { clearConfigCache, defineConfig, loadConfig } from '../src/config/load.js';
import { validateConfig } from '../src/config/schema.js';
import { closest, editDistance } from '../src/config/suggest.js';

const KNOWN_RULES = ['add-foreign-key', 'add-index', 'set-not-null', 'add-check-constraint'];

const tempDirs: string[] = [];

/** A fresh temp directory holding `files` (paths relative to it, `/`-separated). */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'pgkeel-config-'));
  tempDirs.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
  return root;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** Loads the config found from `searchFrom` (default: root), with root as cwd. */
function search(root: string, searchFrom = '.') {
  return loadConfig({ cwd: root, searchFrom: path.join(root, searchFrom), knownRules: KNOWN_RULES });
}

/** The ConfigError a load rejects with. */
async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

beforeEach(() => clearConfigCache());
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('parseInterval', () => {
  it('reads bare numbers as milliseconds', () => {
    expect(parseInterval(250)).toBe(250);
    expect(parseInterval('250')).toBe(250);
    expect(parseInterval('  250  ')).toBe(250);
  });

  it('reads every Postgres time unit', () => {
    expect(parseInterval('1500us')).toBe(2);
    expect(parseInterval('500ms')).toBe(500);
    expect(parseInterval('2s')).toBe(2000);
    expect(parseInterval('3min')).toBe(180_000);
    expect(parseInterval('2h')).toBe(7_200_000);
    expect(parseInterval('1d')).toBe(86_400_000);
  });

  it('allows whitespace between number and unit, and fractional values', () => {
    expect(parseInterval('2 s')).toBe(2000);
    expect(parseInterval('1.5s')).toBe(1500);
    expect(parseInterval('.5 min')).toBe(30_000);
    expect(parseInterval('0.25h')).toBe(900_000);
    expect(parseInterval('1e3')).toBe(1000);
    expect(parseInterval('+2s')).toBe(2000);
  });

  it('rounds like Postgres: to the next smaller unit, then half to even', () => {
    expect(parseInterval('1.0004s')).toBe(1000);
    expect(parseInterval('2.5')).toBe(2);
    expect(parseInterval('3.5')).toBe(4);
    expect(parseInterval(1.5)).toBe(2);
    // rounds to 0, which Postgres then treats as "no timeout"
    expect(parseInterval('400us')).toBe(0);
  });

  it('treats 0 as disabled', () => {
    expect(parseInterval(0)).toBe(0);
    expect(parseInterval('0')).toBe(0);
    expect(parseInterval('0s')).toBe(0);
    expect(Object.is(parseInterval('-0'), 0)).toBe(true);
  });

  it('reads integers as strtol does: hex and octal', () => {
    expect(parseInterval('0x10')).toBe(16);
    expect(parseInterval('010')).toBe(8);
    expect(() => parseInterval('08')).toThrow(/octal/);
  });

  it('rejects units in the wrong case, unknown units and garbage, with a suggestion', () => {
    expect(() => parseInterval('2S')).toThrow('invalid interval "2S": unknown unit "S" (did you mean "s"?)');
    expect(() => parseInterval('2 MIN')).toThrow(/did you mean "min"/);
    expect(() => parseInterval('5 mins')).toThrow(/unknown unit "mins" \(did you mean "min"\?\)/);
    expect(() => parseInterval('2 seconds')).toThrow(/did you mean "s"/);
    expect(() => parseInterval('2s 3s')).toThrow(IntervalError);
    expect(() => parseInterval('2x')).toThrow(/units are us, ms, s, min, h, d/);
    expect(() => parseInterval('abc')).toThrow(/expected a number of milliseconds/);
    expect(() => parseInterval('')).toThrow(IntervalError);
    expect(() => parseInterval('s')).toThrow(IntervalError);
  });

  it('rejects negative, non-finite and out-of-range values', () => {
    expect(() => parseInterval(-1)).toThrow(/must not be negative/);
    expect(() => parseInterval('-1s')).toThrow(/must not be negative/);
    expect(() => parseInterval(Number.NaN)).toThrow(/not a finite number/);
    expect(() => parseInterval(Number.POSITIVE_INFINITY)).toThrow(IntervalError);
    expect(parseInterval('2147483647')).toBe(2_147_483_647);
    expect(() => parseInterval('25d')).toThrow(/larger than the maximum/);
    expect(() => parseInterval('1e400')).toThrow(/out of range/);
  });

  it('keeps the offending value on the error', () => {
    try {
      parseInterval('2 parsecs');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(IntervalError);
      expect((error as IntervalError).value).toBe('2 parsecs');
    }
  });
});

describe('formatInterval', () => {
  it('uses the largest unit that divides evenly', () => {
    expect(formatInterval(2000)).toBe('2s');
    expect(formatInterval(500)).toBe('500ms');
    expect(formatInterval(60_000)).toBe('1min');
    expect(formatInterval(90_000)).toBe('90s');
    expect(formatInterval(1500)).toBe('1500ms');
    expect(formatInterval(7_200_000)).toBe('2h');
    expect(formatInterval(86_400_000)).toBe('1d');
    expect(formatInterval(0)).toBe('0');
  });

  it('round-trips through parseInterval', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 172_800_000]) {
      expect(parseInterval(formatInterval(ms))).toBe(ms);
    }
  });
});

describe('suggestions', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('foriegn', 'foreign')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the closest name, or nothing when nothing is close', () => {
    expect(closest('add-foriegn-key', KNOWN_RULES)).toBe('add-foreign-key');
    expect(closest('prsima', ['prisma', 'psql'])).toBe('prisma');
    expect(closest('warning', ['off', 'warn', 'error'])).toBe('warn');
    expect(closest('completely-different', KNOWN_RULES)).toBeUndefined();
  });
});

describe('JSON errors', () => {
  it('locates syntax errors V8 does not give a position for', () => {
    expect(locateJsonError('{"a": }')).toEqual({ offset: 6, reason: 'value expected' });
    expect(locateJsonError('{"a": 1,\n}')).toEqual({ offset: 9, reason: 'trailing comma is not allowed' });
    expect(locateJsonError('{"a": 1 // no\n}')?.reason).toBe('comments are not allowed in JSON');
    expect(locateJsonError('[1, 2')?.reason).toBe('close bracket expected');
    expect(locateJsonError('{"a": "x\n"}')?.reason).toBe('unexpected end of string');
    expect(locateJsonError('{"a": 01}')?.offset).toBe(7);
    expect(locateJsonError('{"a": [1, {"b": null}], "c": -1.5e3}')).toBeUndefined();
  });

  it('reports 1-based line and column, ignoring a BOM', () => {
    try {
      parseJson('\uFEFF{\n  "a": 1\n  "b": 2\n}');
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ line: 3, column: 3 });
    }
    expect(parseJson('\uFEFF{"a": 1}')).toEqual({ a: 1 });
  });
});

describe('validateConfig', () => {
  it('accepts a full config and normalizes numeric timeouts to strings', () => {
    const result = validateConfig(
      {
        $schema: './node_modules/pgkeel/schema.json',
        pgVersion: 16,
        runner: 'goose',
        presets: ['recommended'],
        rules: {
          'add-index': 'off',
          'set-not-null': ['warn'],
          'add-foreign-key': ['error', {}],
        },
        ignorePaths: ['legacy/**'],
        timeouts: { lockTimeout: '2s', statementTimeout: 30000 },
      },
      KNOWN_RULES,
    );
    expect(result).toEqual({
      ok: true,
      config: {
        pgVersion: 16,
        runner: 'goose',
        presets: ['recommended'],
        rules: {
          'add-index': 'off',
          'set-not-null': ['warn'],
          'add-foreign-key': ['error', {}],
        },
        ignorePaths: ['legacy/**'],
        timeouts: { lockTimeout: '2s', statementTimeout: '30000' },
      },
    });
  });

  it('reports every problem with its key path', () => {
    const result = validateConfig(
      {
        pgVersion: '15',
        presets: ['recomended'],
        rules: { 'add-index': 'warning', 'set-not-null': ['error', 'strict'], 'add-check-constraint': [] },
        ignorePaths: ['ok', 3],
        timeouts: { lockTimeout: true, idleTimeout: '1s' },
      },
      KNOWN_RULES,
    );
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues).toEqual([
      {
        keyPath: 'pgVersion',
        message: 'expected a Postgres major version (11, 12, 13, 14, 15, 16, 17, 18), got string "15"',
      },
      {
        keyPath: 'presets[0]',
        message: 'unknown preset "recomended" (did you mean "recommended"?); expected "recommended" or "all"',
      },
      {
        keyPath: 'rules.add-index',
        message: 'unknown level "warning" (did you mean "warn"?); expected "off", "warn" or "error"',
      },
      { keyPath: 'rules.set-not-null', message: 'rule options must be an object, got string "strict"' },
      {
        keyPath: 'rules.add-check-constraint',
        message: 'expected [level] or [level, {options}], got an array of 0 items',
      },
      { keyPath: 'ignorePaths[1]', message: 'expected a string, got number 3' },
      {
        keyPath: 'timeouts.lockTimeout',
        message: 'expected an interval such as "2s" or "500ms", got boolean true',
      },
      {
        keyPath: 'timeouts.idleTimeout',
        message: 'unknown key "idleTimeout"; allowed keys: lockTimeout, statementTimeout',
      },
    ]);
  });

  it('rejects a config that is not an object', () => {
    expect(validateConfig([], KNOWN_RULES)).toEqual({
      ok: false,
      issues: [{ message: 'expected an object (the config), got an array' }],
    });
  });

  it('accepts `applied` as one name or glob, or a list, and names the key and index of a bad one', () => {
    expect(validateConfig({ applied: '20240101_*' }, KNOWN_RULES)).toEqual({
      ok: true,
      config: { applied: '20240101_*' },
    });
    expect(validateConfig({ applied: ['legacy/**', '0001_init.sql'] }, KNOWN_RULES)).toMatchObject({
      ok: true,
    });
    const issues = (raw: unknown) => {
      const r = validateConfig({ applied: raw }, KNOWN_RULES);
      return r.ok ? [] : r.issues;
    };
    expect(issues(3)).toEqual([
      {
        keyPath: 'applied',
        message:
          'expected a migration name or glob marking the last applied one, or a list of globs, got number 3',
      },
    ]);
    expect(issues(['a_*', ''])).toEqual([{ keyPath: 'applied[1]', message: 'empty pattern ""' }]);
    // nothing applied yet
    expect(issues([])).toEqual([]);
    expect(issues('!old_*')[0]).toMatchObject({
      keyPath: 'applied',
      message: expect.stringContaining('negated'),
    });
    expect(validateConfig({ aplied: 'x' }, KNOWN_RULES)).toMatchObject({
      ok: false,
      issues: [{ keyPath: 'aplied', message: expect.stringContaining('did you mean "applied"') }],
    });
  });
});

describe('loadConfig: finding the file', () => {
  it('searches upward from searchFrom to the nearest config', async () => {
    const root = await tree({
      'pgkeel.config.json': json({ pgVersion: 15 }),
      'a/pgkeel.config.json': json({ pgVersion: 16 }),
      'a/b/c/.keep': '',
      'other/x/.keep': '',
    });
    const nested = await search(root, 'a/b/c');
    expect(nested).toEqual({
      config: { pgVersion: 16 },
      filepath: path.join(root, 'a', 'pgkeel.config.json'),
      dir: path.join(root, 'a'),
    });
    expect((await search(root, 'other/x')).config).toEqual({ pgVersion: 15 });
  });

  it('defaults searchFrom to cwd', async () => {
    const root = await tree({ 'pgkeel.config.json': json({ runner: 'psql' }) });
    expect(await loadConfig({ cwd: root, knownRules: KNOWN_RULES })).toMatchObject({
      config: { runner: 'psql' },
    });
  });

  it('reads the pgkeel key of package.json, and skips package.json files without it', async () => {
    const root = await tree({
      'package.json': json({ name: 'app', pgkeel: { runner: 'prisma' } }),
      'packages/db/package.json': json({ name: 'db' }),
      'packages/db/migrations/.keep': '',
    });
    const loaded = await search(root, 'packages/db/migrations');
    expect(loaded.config).toEqual({ runner: 'prisma' });
    expect(loaded.filepath).toBe(path.join(root, 'package.json'));
  });

  it('prefers pgkeel.config.* over package.json in the same directory', async () => {
    const root = await tree({
      'package.json': json({ pgkeel: { runner: 'prisma' } }),
      'pgkeel.config.json': json({ runner: 'knex' }),
    });
    expect((await search(root)).config).toEqual({ runner: 'knex' });
  });

  it('returns defaults with dir = cwd when nothing is found', async () => {
    const root = await tree({ 'deep/er/.keep': '' });
    const loaded = await search(root, 'deep/er');
    expect(loaded).toEqual({ config: {}, dir: root });
    expect(loaded.filepath).toBeUndefined();
  });

  it('treats an empty config file as an empty config', async () => {
    const root = await tree({ 'pgkeel.config.json': '', 'sub/.keep': '' });
    expect(await search(root, 'sub')).toMatchObject({
      config: {},
      filepath: path.join(root, 'pgkeel.config.json'),
    });
  });

  it('loads a TypeScript config through jiti', async () => {
    const root = await tree({
      'pgkeel.config.ts': [
        "type Level = 'off' | 'warn' | 'error';",
        'interface Shape { pgVersion: number; rules: Record<string, Level> }',
        "const level: Level = 'warn';",
        "export default { pgVersion: 14, rules: { 'add-index': level } } satisfies Shape;",
      ].join('\n'),
    });
    expect((await search(root)).config).toEqual({ pgVersion: 14, rules: { 'add-index': 'warn' } });
  });

  it('loads .mjs and .js configs (ESM and CommonJS)', async () => {
    const esm = await tree({ 'pgkeel.config.mjs': "export default { runner: 'dbmate' };" });
    expect((await search(esm)).config).toEqual({ runner: 'dbmate' });
    const cjs = await tree({ 'pgkeel.config.js': "module.exports = { runner: 'goose' };" });
    expect((await search(cjs)).config).toEqual({ runner: 'goose' });
  });

  it('requires a default-exported object from script configs', async () => {
    const named = await tree({ 'pgkeel.config.mjs': 'export const pgVersion = 15;' });
    expect((await configError(search(named))).message).toBe(
      'pgkeel.config.mjs: the config must be the default export (`export default { … }`)',
    );
    const fn = await tree({ 'pgkeel.config.ts': 'export default () => ({ pgVersion: 15 });' });
    expect((await configError(search(fn))).message).toBe(
      'pgkeel.config.ts: the default export must be the config object, not a function',
    );
  });

  it('reports a script that fails to load, naming the file', async () => {
    const root = await tree({ 'pgkeel.config.ts': 'export default {{;' });
    const error = await configError(search(root));
    expect(error.file).toBe(path.join(root, 'pgkeel.config.ts'));
    expect(error.message).toMatch(/^pgkeel\.config\.ts: failed to load: /);
  });

  it('loads exactly the configPath given, relative to cwd', async () => {
    const root = await tree({
      'pgkeel.config.json': json({ pgVersion: 15 }),
      'config/ci.json': json({ pgVersion: 17 }),
      'config/pkg/package.json': json({ pgkeel: { pgVersion: 12 } }),
    });
    const loaded = await loadConfig({ cwd: root, configPath: 'config/ci.json', knownRules: KNOWN_RULES });
    expect(loaded).toEqual({
      config: { pgVersion: 17 },
      filepath: path.join(root, 'config', 'ci.json'),
      dir: path.join(root, 'config'),
    });
    const pkg = await loadConfig({
      cwd: root,
      configPath: 'config/pkg/package.json',
      knownRules: KNOWN_RULES,
    });
    expect(pkg.config).toEqual({ pgVersion: 12 });
  });

  it('fails clearly for a missing, unsupported or key-less configPath', async () => {
    const root = await tree({ 'a.yaml': 'x: 1', 'package.json': json({ name: 'x' }) });
    const load = (configPath: string) => loadConfig({ cwd: root, configPath, knownRules: KNOWN_RULES });
    const missing = await configError(load('nope/pgkeel.config.json'));
    expect(missing.message).toBe('nope/pgkeel.config.json: config file not found');
    expect(missing.file).toBe(path.join(root, 'nope', 'pgkeel.config.json'));
    expect((await configError(load('a.yaml'))).message).toMatch(
      /^a\.yaml: unsupported config file type "\.yaml"/,
    );
    expect((await configError(load('.'))).message).toMatch(/is a directory/);
    expect((await configError(load('package.json'))).message).toBe(
      'package.json: no "pgkeel" key in package.json',
    );
  });

  it('caches per directory until clearConfigCache()', async () => {
    const root = await tree({ 'pgkeel.config.json': json({ pgVersion: 15 }), 'm/.keep': '' });
    const first = await search(root, 'm');
    await writeFile(path.join(root, 'pgkeel.config.json'), json({ pgVersion: 16 }));
    expect(await search(root, 'm')).toBe(first);
    clearConfigCache();
    expect((await search(root, 'm')).config).toEqual({ pgVersion: 16 });
  });

  it('does not search twice for concurrent loads from one directory', async () => {
    const root = await tree({ 'pgkeel.config.json': json({ pgVersion: 15 }) });
    const loads = Array.from({ length: 20 }, () => search(root));
    const results = await Promise.all(loads);
    expect(new Set(results).size).toBe(1);
  });
});

describe('loadConfig: validation errors', () => {
  async function errorFor(files: Record<string, string>): Promise<ConfigError> {
    const root = await tree(files);
    return configError(search(root));
  }

  it('names an unknown key, with a suggestion', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ rule: {} }) });
    expect(error.message).toBe('pgkeel.config.json: rule: unknown key "rule" (did you mean "rules"?)');
    expect(error.keyPath).toBe('rule');
  });

  it('lists the allowed keys when nothing is close', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ database: 'x' }) });
    expect(error.message).toBe(
      'pgkeel.config.json: database: unknown key "database"; allowed keys: pgVersion, runner, presets, rules, ignorePaths, timeouts, applied',
    );
  });

  it('rejects an unsupported Postgres version, listing the supported ones', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ pgVersion: 9 }) });
    expect(error.message).toBe(
      'pgkeel.config.json: pgVersion: unsupported Postgres version 9 (supported: 11, 12, 13, 14, 15, 16, 17, 18)',
    );
    const fraction = await errorFor({ 'pgkeel.config.json': json({ pgVersion: 15.2 }) });
    expect(fraction.message).toMatch(/unsupported Postgres version 15\.2/);
  });

  it('rejects an unknown runner, suggesting the closest', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ runner: 'prsima' }) });
    expect(error.message).toMatch(
      /^pgkeel\.config\.json: runner: unknown runner "prsima" \(did you mean "prisma"\?\); known runners: psql, /,
    );
    expect(error.keyPath).toBe('runner');
  });

  it('rejects an unknown rule, suggesting the closest', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ rules: { 'add-foriegn-key': 'off' } }) });
    expect(error.message).toBe(
      'pgkeel.config.json: rules.add-foriegn-key: unknown rule "add-foriegn-key" (did you mean "add-foreign-key"?)',
    );
    expect(error.keyPath).toBe('rules.add-foriegn-key');
  });

  it('rejects an invalid timeout interval', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ timeouts: { lockTimeout: '2 secs' } }) });
    expect(error.message).toBe(
      'pgkeel.config.json: timeouts.lockTimeout: invalid interval "2 secs": unknown unit "secs" (did you mean "s"?); units are us, ms, s, min, h, d (case-sensitive)',
    );
  });

  it('reports JSON syntax errors with line and column', async () => {
    const error = await errorFor({ 'pgkeel.config.json': '{\n  "pgVersion": 15,\n}\n' });
    expect(error.message).toBe('pgkeel.config.json:3:1: invalid JSON: trailing comma is not allowed');
    expect(error).toMatchObject({ line: 3, column: 1, file: expect.stringMatching(/pgkeel\.config\.json$/) });
  });

  it('reports a broken package.json met on the way up', async () => {
    const root = await tree({ 'package.json': '{"name": "x",, }', 'src/.keep': '' });
    const error = await configError(search(root, 'src'));
    expect(error.message).toBe('package.json:1:14: invalid JSON: property name expected');
  });

  it('prefixes key paths with pgkeel for package.json', async () => {
    const error = await errorFor({ 'package.json': json({ pgkeel: { runner: 'flyaway' } }) });
    expect(error.message).toMatch(
      /^package\.json: pgkeel\.runner: unknown runner "flyaway" \(did you mean "flyway"\?\)/,
    );
    const notObject = await errorFor({ 'package.json': json({ pgkeel: 'strict' }) });
    expect(notObject.message).toBe(
      'package.json: pgkeel: expected an object (the config), got string "strict"',
    );
  });

  it('lists every problem, one per line, each naming the file', async () => {
    const error = await errorFor({ 'pgkeel.config.json': json({ pgVersion: 8, runner: 'x', extra: true }) });
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.startsWith('pgkeel.config.json: ')).toBe(true);
    expect(error.issues.map((i) => i.keyPath)).toEqual(['pgVersion', 'runner', 'extra']);
    expect(error.exitCode).toBe(2);
  });

  it('shows a config outside cwd by its absolute path', async () => {
    const root = await tree({ 'pgkeel.config.json': json({ pgVersion: 1 }), 'app/.keep': '' });
    const error = await configError(
      loadConfig({
        cwd: path.join(root, 'app'),
        searchFrom: path.join(root, 'app'),
        knownRules: KNOWN_RULES,
      }),
    );
    expect(error.message.startsWith(`${path.join(root, 'pgkeel.config.json')}: pgVersion: `)).toBe(true);
  });
});

describe('defineConfig', () => {
  it('returns its argument', () => {
    const config = { pgVersion: 16, runner: 'prisma' as const };
    expect(defineConfig(config)).toBe(config);
  });
});

describe('ignore patterns', () => {
  it('turns globs into anchored regular expressions', () => {
    expect(globToRegExp('*.sql').test('a.sql')).toBe(true);
    expect(globToRegExp('*.sql').test('dir/a.sql')).toBe(false);
    expect(globToRegExp('**/*.sql').test('a.sql')).toBe(true);
    expect(globToRegExp('**/*.sql').test('x/y/a.sql')).toBe(true);
    expect(globToRegExp('db/**').test('db/x/y.sql')).toBe(true);
    expect(globToRegExp('m/{old,legacy}/*.sql').test('m/legacy/1.sql')).toBe(true);
    expect(globToRegExp('m/{old,legacy}/*.sql').test('m/new/1.sql')).toBe(false);
    expect(globToRegExp('0?_*.sql').test('01_a.sql')).toBe(true);
    expect(globToRegExp('[0-4]*.sql').test('5.sql')).toBe(false);
    expect(globToRegExp('[!0-4]*.sql').test('5.sql')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('matches paths relative to the config directory, directories included', async () => {
    const base = path.join(os.tmpdir(), 'proj');
    const ignored = createIgnoreMatcher(['legacy', 'migrations/**/*.down.sql', '!legacy/keep.sql'], base);
    expect(ignored(path.join(base, 'legacy', 'old.sql'))).toBe(true);
    expect(ignored(path.join(base, 'legacy', 'keep.sql'))).toBe(false);
    expect(ignored(path.join(base, 'migrations', 'x', '1.down.sql'))).toBe(true);
    expect(ignored(path.join(base, 'migrations', '1.down.sql'))).toBe(true);
    expect(ignored(path.join(base, 'migrations', '1.up.sql'))).toBe(false);
    // outside the config's directory nothing is ignored
    expect(ignored(path.join(os.tmpdir(), 'legacy', 'old.sql'))).toBe(false);
  });

  it('builds the matcher from a loaded config', () => {
    const dir = path.join(os.tmpdir(), 'proj');
    const ignored = ignoreMatcherFor({ config: { ignorePaths: ['./vendor/'] }, dir });
    expect(ignored(path.join(dir, 'vendor', 'a.sql'))).toBe(true);
    expect(ignored(path.join(dir, 'a.sql'))).toBe(false);
    expect(ignoreMatcherFor({ config: {}, dir })(path.join(dir, 'vendor', 'a.sql'))).toBe(false);
  });
});
