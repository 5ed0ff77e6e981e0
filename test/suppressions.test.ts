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
