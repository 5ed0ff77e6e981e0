import { beforeAll, describe, expect, it } from 'vitest';
import { lintSqlSync } from '../src/lint/lint.js';
import { loadParser } from '../src/parse/parse.js';

beforeAll(() => loadParser());

const rulesOf = (sql: string) =>
  lintSqlSync(sql, {
    rules: { 'lock-timeout-missing': 'off', 'statement-timeout-missing': 'off' },
  }).diagnostics.map((d) => `${d.line}:${d.rule}`);

describe('ignore directives', () => {
  it('a statement directive silences the named rule on the next statement only', () => {
    expect(
      rulesOf(`-- pgkeel-ignore create-index-non-concurrently -- built off-peak
CREATE INDEX a ON t (x);
CREATE INDEX b ON t (y);`),
    ).toEqual(['3:create-index-non-concurrently']);
  });

  it('works inside the statement and as a block comment, with several names', () => {
    expect(
      rulesOf(`ALTER TABLE t /* pgkeel-ignore add-check-constraint, add-unique-constraint */
  ADD CONSTRAINT c CHECK (x > 0), ADD CONSTRAINT u UNIQUE (x);`),
    ).toEqual([]);
  });

  it('a file directive silences the rule everywhere', () => {
    expect(
      rulesOf(
        '-- pgkeel-ignore-file create-index-non-concurrently\nCREATE INDEX a ON t (x);\nCREATE INDEX b ON t (y);',
      ),
    ).toEqual([]);
  });

  it('reports unknown rule names and directives that suppress nothing', () => {
    expect(rulesOf('-- pgkeel-ignore no-such-rule\nSELECT 1;')).toEqual(['1:unknown-rule']);
    expect(rulesOf('-- pgkeel-ignore add-check-constraint\nSELECT 1;')).toEqual(['1:unused-ignore']);
    expect(rulesOf('-- pgkeel-ignore\nSELECT 1;')).toEqual(['1:unused-ignore']);
  });

  it('honours squawk-ignore through the rules’ squawk equivalents', () => {
    expect(rulesOf('-- squawk-ignore require-concurrent-index-creation\nCREATE INDEX a ON t (x);')).toEqual(
      [],
    );
    expect(
      rulesOf(
        '-- squawk-ignore-file disallowed-unique-constraint\nALTER TABLE t ADD CONSTRAINT u UNIQUE (x);',
      ),
    ).toEqual([]);
    // a real squawk rule pgkeel has no counterpart for is not an error; a made-up one is
    expect(rulesOf('-- squawk-ignore ban-drop-database\nSELECT 1;')).toEqual([]);
    expect(rulesOf('-- squawk-ignore not-a-squawk-rule\nSELECT 1;')).toEqual(['1:unknown-rule']);
  });

  it('cannot suppress parse errors', () => {
    expect(rulesOf('-- pgkeel-ignore\nSELEC 1;')).toEqual(['1:unused-ignore', '2:parse-error']);
  });
});

describe('rule settings', () => {
  it('turns rules off, downgrades them and enables opt-in ones', () => {
    const sql = 'CREATE INDEX a ON t (x);';
    expect(
      lintSqlSync(sql, { rules: { 'create-index-non-concurrently': 'off' } }).diagnostics.map((d) => d.rule),
    ).not.toContain('create-index-non-concurrently');
    const warn = lintSqlSync(sql, { rules: { 'create-index-non-concurrently': 'warn' } }).diagnostics.find(
      (d) => d.rule === 'create-index-non-concurrently',
    );
    expect(warn?.severity).toBe('warning');
  });
});

describe('robustness', () => {
  it('turns a crashing rule into an internal-error finding and keeps the other rules', async () => {
    const { defineRule } = await import('../src/rules/define.js');
    const { allRules } = await import('../src/rules/index.js');
    const broken = defineRule({
      id: 'broken',
      hazard: 'schema-design',
      verdict: 'safe',
      summary: 'always throws',
      docs: { problem: '-', solution: '-' },
      examples: [],
      check() {
        throw new Error('boom');
      },
    });
    const createIndex = allRules.find((r) => r.id === 'create-index-non-concurrently')!;
    const result = lintSqlSync('CREATE INDEX a ON t (x);', { ruleSet: [broken, createIndex] });
    expect(result.diagnostics.map((d) => d.rule).sort()).toEqual([
      'create-index-non-concurrently',
      'internal-error',
    ]);
    expect(result.diagnostics.find((d) => d.rule === 'internal-error')!.message).toContain('rule broken');
  });
});

describe('directives that are not directives', () => {
  const lint = (sql: string) =>
    lintSqlSync(sql, {
      rules: { 'lock-timeout-missing': 'off', 'statement-timeout-missing': 'off' },
    }).diagnostics.map((d) => ({ line: d.line, rule: d.rule, message: d.message }));

  it.each([
    ['pgkeel-disable-next-line', 'pgkeel-ignore'],
    ['pgkeel-ignore-next-line', 'pgkeel-ignore'],
    ['pgkeel-disable-line', 'pgkeel-ignore'],
    ['pgkeel-disable', 'pgkeel-ignore-file'],
    ['pgkeel-ignore-fiel', 'pgkeel-ignore-file'],
    ['pgkeel-ingore', 'pgkeel-ignore'],
    ['PGKEEL-IGNORE', 'pgkeel-ignore'],
    ['pgkeel_ignore', 'pgkeel-ignore'],
  ])('`-- %s` is reported with a suggestion and silences nothing', (written, meant) => {
    expect(lint(`-- ${written} create-index-non-concurrently\nCREATE INDEX a ON t (x);`)).toEqual([
      {
        line: 1,
        rule: 'unknown-directive',
        message: `Unknown directive \`${written}\`; did you mean \`${meant}\`? It suppresses nothing as written.`,
      },
      { line: 2, rule: 'create-index-non-concurrently', message: expect.any(String) },
    ]);
  });

  it('pgkeel-enable has no counterpart, and says why', () => {
    expect(lint('/* pgkeel-enable */\nSELECT 1;')).toEqual([
      {
        line: 1,
        rule: 'unknown-directive',
        message: expect.stringContaining('covers only the statement it precedes'),
      },
    ]);
  });

  it('leaves prose about pgkeel and other tools’ directives alone', () => {
    expect(
      lint('-- pgkeel: this table is empty in production\n-- eslint-disable-next-line\nSELECT 1;'),
    ).toEqual([]);
  });

  it('suggests the closest rule for an unknown rule name', () => {
    expect(lint('-- pgkeel-ignore create-index-non-concurently\nCREATE INDEX a ON t (x);')).toContainEqual({
      line: 1,
      rule: 'unknown-rule',
      message:
        'Unknown rule "create-index-non-concurently" in pgkeel-ignore (did you mean "create-index-non-concurrently"?).',
    });
    expect(lint('-- squawk-ignore require-concurrent-index-creaton\nSELECT 1;')).toContainEqual({
      line: 1,
      rule: 'unknown-rule',
      message:
        'Unknown rule "require-concurrent-index-creaton" in squawk-ignore (did you mean "require-concurrent-index-creation"?).',
    });
  });

  it('a directive naming a rule that is not running is not called unused', () => {
    const only = lintSqlSync(
      '-- pgkeel-ignore drop-table -- archived\nDROP TABLE old;\nCREATE INDEX a ON t (x);',
      {
        only: ['create-index-non-concurrently'],
      },
    );
    expect(only.diagnostics.map((d) => `${d.line}:${d.rule}`)).toEqual(['3:create-index-non-concurrently']);
  });
});

describe('file-level findings are suppressed per statement', () => {
  const lockFindings = (sql: string) =>
    lintSqlSync(sql, { presets: [], rules: { 'lock-timeout-missing': 'error' } }).diagnostics.map(
      (d) => `${d.line}:${d.rule}`,
    );

  it('ignoring lock-timeout-missing before the first waiting statement moves the finding to the next one', () => {
    const sql = [
      'ALTER TABLE a ADD COLUMN c int;',
      '-- pgkeel-ignore lock-timeout-missing -- b is tiny',
      'ALTER TABLE b ADD COLUMN c int;',
      'ALTER TABLE c ADD COLUMN c int;',
    ];
    expect(lockFindings(sql.join('\n'))).toEqual(['1:lock-timeout-missing']);
    // before statement 1, the directive accounts for statement 1 only
    expect(lockFindings([sql[1], sql[0], sql[2], sql[3]].join('\n'))).toEqual(['3:lock-timeout-missing']);
    const both = lockFindings(
      [
        '-- pgkeel-ignore lock-timeout-missing',
        'ALTER TABLE a ADD COLUMN c int;',
        '-- pgkeel-ignore lock-timeout-missing',
        'ALTER TABLE b ADD COLUMN c int;',
        'ALTER TABLE c ADD COLUMN c int;',
      ].join('\n'),
    );
    expect(both).toEqual(['5:lock-timeout-missing']);
  });

  it('counts only the later statements nobody ignored', () => {
    const result = lintSqlSync(
      [
        'ALTER TABLE a ADD COLUMN c int;',
        'ALTER TABLE b ADD COLUMN c int;',
        '-- pgkeel-ignore lock-timeout-missing',
        'ALTER TABLE c ADD COLUMN c int;',
      ].join('\n'),
      { presets: [], rules: { 'lock-timeout-missing': 'error' } },
    );
    expect(result.diagnostics.map((d) => d.rule)).toEqual(['lock-timeout-missing']);
    expect(result.diagnostics[0]!.message).toContain('1 later statement of this file also waits');
  });

  it('ignoring every waiting statement, or the whole file, leaves nothing and no unused directive', () => {
    expect(
      lockFindings('-- pgkeel-ignore lock-timeout-missing\nALTER TABLE a ADD COLUMN c int;\nSELECT 1;'),
    ).toEqual([]);
    expect(
      lockFindings(
        '-- pgkeel-ignore-file lock-timeout-missing\nALTER TABLE a ADD COLUMN c int;\nALTER TABLE b ADD COLUMN c int;',
      ),
    ).toEqual([]);
  });

  it('works the same for statement-timeout-missing', () => {
    const findings = lintSqlSync(
      [
        "SET lock_timeout = '1s';",
        '-- pgkeel-ignore statement-timeout-missing',
        'CREATE INDEX a ON small (x);',
        'CREATE INDEX b ON big (x);',
      ].join('\n'),
      { presets: [], rules: { 'statement-timeout-missing': 'warn' } },
    ).diagnostics.map((d) => `${d.line}:${d.rule}`);
    expect(findings).toEqual(['4:statement-timeout-missing']);
  });
});

describe('directive look-alikes far from any directive', () => {
  it('are reported without a guess', () => {
    const d = lintSqlSync('-- pgkeel-frobnicate\nSELECT 1;').diagnostics;
    expect(d.map((x) => [x.rule, x.message])).toEqual([
      ['unknown-directive', 'Unknown directive `pgkeel-frobnicate`. It suppresses nothing as written.'],
    ]);
  });
});
