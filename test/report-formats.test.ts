/**
 * The CI report formats, each checked the way its consumer reads it: SARIF against the SARIF 2.1.0
 * JSON schema, GitHub commands against @actions/core's own output, GitLab against the documented
 * Code Quality fields, JUnit with an XML parser, Markdown with a Markdown parser.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as core from '@actions/core';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { marked, type Token, type Tokens } from 'marked';
import type * as Sarif from 'sarif';
import { describe, expect, it, vi } from 'vitest';
import type { Diagnostic, FileResult, LintSummary } from '../src/diagnostics.js';
import { lintSql } from '../src/lint/lint.js';
import { LineIndex } from '../src/parse/positions.js';
import { escapeData, escapeProperty } from '../src/report/github.js';
import {
  type CodeQualityIssue,
  formatReport,
  isReportFormat,
  REPORT_FORMATS,
  type ReportFormat,
  SARIF_FINGERPRINT_KEY,
} from '../src/report/index.js';
import { MARKDOWN_MAX_LENGTH } from '../src/report/markdown.js';
import { ruleDocsUrl } from '../src/rules/urls.js';

// ajv and its plugins are CommonJS whose default export TypeScript's NodeNext typing misreads
const require = createRequire(import.meta.url);
const Ajv = require('ajv') as typeof import('ajv').default;
const AjvDraft04 = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

// ── fixtures ────────────────────────────────────────────────────────────────

const MIGRATION = `ALTER TABLE users ADD CONSTRAINT u_email UNIQUE (email);
CREATE INDEX idx_users_name ON users (name);
ALTER TABLE users ALTER COLUMN id TYPE bigint;
`;

/** A path with the characters each format must escape: spaces, `:`, `,`, `%`, `#`. */
const AWKWARD_PATH = 'db/migrate/2024: add users, 100% #1.sql';

function diag(source: string, start: number, end: number, extra: Partial<Diagnostic> = {}): Diagnostic {
  const idx = new LineIndex(source);
  const a = idx.position(start);
  const b = idx.position(end);
  return {
    rule: 'add-unique-constraint',
    severity: 'error',
    verdict: 'alternative',
    message: 'Something is wrong.',
    start,
    end,
    line: a.line,
    column: a.column,
    endLine: b.line,
    endColumn: b.column,
    statement: 0,
    docsUrl: ruleDocsUrl('add-unique-constraint'),
    fingerprint: `fp-${start}`,
    ...extra,
  };
}

function summary(...files: FileResult[]): LintSummary {
  const all = files.flatMap((f) => f.diagnostics);
  const count = (s: string) => all.filter((d) => d.severity === s).length;
  return { files, errorCount: count('error'), warningCount: count('warning'), infoCount: count('info') };
}

async function linted(sql = MIGRATION, path = 'migrations/001_init.sql'): Promise<FileResult> {
  return lintSql(sql, { path });
}

/** Hand-made findings exercising what real rules rarely produce: prose with markup and control codes, every severity, a range over lines, an engine finding without a rule page. */
function edgeFile(path = AWKWARD_PATH): FileResult {
  const source = 'SELECT 1;\nALTER TABLE t\n  ADD COLUMN c int;\nSELEC 2;\n';
  return {
    path,
    source,
    statementCount: 3,
    pgVersion: 15,
    runner: 'prisma',
    pgVersionFrom: { from: 'config', detail: 'pgkeel.config.json' },
    runnerFrom: { from: 'detected', detail: 'prisma/migrations layout' },
    diagnostics: [
      diag(source, 10, 41, {
        rule: 'add-column-required',
        severity: 'warning',
        verdict: 'safe',
        message:
          'Line one: 100% <b>bold</b> | pipe, comma\nline two @someone #12 $x$ `code` *em*\r\nline three\u001b[31m',
        help: 'Do this, then that:\nstep two.',
        docsUrl: ruleDocsUrl('add-column-required'),
        fingerprint: 'aaaa',
      }),
      diag(source, 0, 9, {
        rule: 'prefer-robust-statements',
        severity: 'info',
        verdict: 'safe',
        docsUrl: ruleDocsUrl('prefer-robust-statements'),
        fingerprint: 'bbbb',
      }),
      diag(source, 42, 50, {
        rule: 'parse-error',
        severity: 'error',
        verdict: undefined,
        message: 'syntax error at or near "SELEC"',
        docsUrl: undefined,
        fingerprint: 'cccc',
        statement: 2,
      }),
    ],
  };
}

function cleanFile(path = 'migrations/002_clean.sql'): FileResult {
  return {
    path,
    source: 'SELECT 1;\n',
    diagnostics: [],
    statementCount: 1,
    pgVersion: 18,
    runner: 'psql',
    pgVersionFrom: { from: 'default' },
    runnerFrom: { from: 'default' },
  };
}

const fmt = (format: ReportFormat, s: LintSummary) => formatReport(format, s, { toolVersion: '1.2.3' });
const findings = (s: LintSummary) => s.files.reduce((n, f) => n + f.diagnostics.length, 0);

it('registers every CI format, and each accepts an empty run', () => {
  for (const f of ['compact', 'sarif', 'github', 'gitlab', 'junit', 'markdown']) {
    expect(isReportFormat(f)).toBe(true);
    expect(REPORT_FORMATS).toContain(f);
  }
  for (const f of REPORT_FORMATS) expect(() => fmt(f, summary())).not.toThrow();
});

// ── compact ─────────────────────────────────────────────────────────────────

describe('compact', () => {
  const LINE = /^(.+):(\d+):(\d+): (error|warning|info) (\S+) (.+)$/;

  it('prints exactly one parseable line per finding, then a count with the assumptions', async () => {
    const s = summary(await linted(), cleanFile(), edgeFile());
    const out = fmt('compact', s);
    expect(out.endsWith('\n')).toBe(true);
    const all = out.slice(0, -1).split('\n');
    // the trailer: a blank line, then a line no finding parser takes for a finding
    const trailer = all.slice(-2);
    expect(trailer[0]).toBe('');
    expect(trailer[1]).toMatch(/^\d+ problems \(\d+ errors?, \d+ warnings?(, \d+ info)?\) · assumed PG /);
    expect(LINE.test(trailer[1]!)).toBe(false);
    const lines = all.slice(0, -2);
    expect(lines).toHaveLength(findings(s));
    const expected = s.files.flatMap((f) =>
      [...f.diagnostics].sort((a, b) => a.start - b.start).map((d) => ({ path: f.path, d })),
    );
    lines.forEach((line, i) => {
      const m = LINE.exec(line);
      expect(m, line).not.toBeNull();
      const { path, d } = expected[i]!;
      expect([m![1], Number(m![2]), Number(m![3]), m![4], m![5]]).toEqual([
        path,
        d.line,
        d.column,
        d.severity,
        d.rule,
      ]);
    });
  });

  it('keeps a multi-line message on its line and terminal-safe', () => {
    const out = fmt('compact', summary(edgeFile()));
    const line = out.split('\n').find((l) => l.includes('add-column-required'))!;
    expect(line).toContain('Line one: 100% <b>bold</b> | pipe, comma line two @someone');
    expect(line).toContain('line three␛[31m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none get through
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it('prints nothing for a clean run', () => {
    expect(fmt('compact', summary(cleanFile()))).toBe('');
  });
});

// ── SARIF ───────────────────────────────────────────────────────────────────

/**
 * The SARIF 2.1.0 schema as @microsoft/jest-sarif ships it (the schemastore copy, rtm.5). Compared
 * with the OASIS errata01 file it lacks only a few `type` keywords and the rule that a region needs
 * a start, which the region checks below cover.
 */
function sarifValidator() {
  const file = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
  // the schema's `language` pattern has a stray `]`, legal only in non-Unicode regular expressions
  const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('sarif', () => {
  const validate = sarifValidator();
  const expectValid = (log: unknown) => {
    const ok = validate(log);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  };

  it('validates against the SARIF 2.1.0 schema, with findings, fixes, clean files and no files', async () => {
    expectValid(JSON.parse(fmt('sarif', summary(await linted(), cleanFile(), edgeFile()))));
    expectValid(JSON.parse(fmt('sarif', summary(cleanFile()))));
    expectValid(JSON.parse(fmt('sarif', summary())));
  });

  it('is checked by a validator that rejects a broken log', () => {
    const log = JSON.parse(fmt('sarif', summary(edgeFile()))) as Sarif.Log;
    log.runs[0]!.results![0]!.level = 'info' as Sarif.Result.level;
    expect(validate(log)).toBe(false);
  });

  it('describes each used rule once, and results point at their rule', async () => {
    const s = summary(await linted(), edgeFile());
    const log = JSON.parse(fmt('sarif', s)) as Sarif.Log;
    const run = log.runs[0]!;
    expect(run.columnKind).toBe('utf16CodeUnits');
    const driver = run.tool.driver;
    expect(driver).toMatchObject({ name: 'pgkeel', version: '1.2.3', informationUri: expect.any(String) });
    const ids = driver.rules!.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(s.files.flatMap((f) => f.diagnostics.map((d) => d.rule))));
    const results = run.results!;
    expect(results).toHaveLength(findings(s));
    for (const r of results) expect(driver.rules![r.ruleIndex!]!.id).toBe(r.ruleId);
    const unique = driver.rules!.find((r) => r.id === 'add-unique-constraint')!;
    expect(unique.helpUri).toBe(ruleDocsUrl('add-unique-constraint'));
    expect(unique.shortDescription!.text).toMatch(/UNIQUE/);
    expect(unique.defaultConfiguration!.level).toBe('error');
    expect(unique.properties!.tags).toEqual(['postgres', 'migrations', 'alternative', 'blocks-traffic']);
    const parse = driver.rules!.find((r) => r.id === 'parse-error')!;
    expect(parse.helpUri).toBeUndefined();
    // each result says which kind of danger it is, as the rule's findings do; the engine's own have none
    expect(results.find((r) => r.ruleId === 'add-unique-constraint')!.properties!.hazard).toBe(
      'blocks-traffic',
    );
    expect(results.find((r) => r.ruleId === 'parse-error')!.properties).not.toHaveProperty('hazard');
    expect(results.map((r) => r.level)).toEqual(
      expect.arrayContaining(['error', 'warning', 'note'] satisfies Sarif.Result.level[]),
    );
  });

  it('locates results by a relative, percent-encoded URI and the exclusive end of the range', () => {
    const file = edgeFile();
    const log = JSON.parse(fmt('sarif', summary(file))) as Sarif.Log;
    const r = log.runs[0]!.results!.find((x) => x.ruleId === 'add-column-required')!;
    const loc = r.locations![0]!.physicalLocation!;
    expect(loc.artifactLocation).toEqual({
      uri: 'db/migrate/2024%3A%20add%20users%2C%20100%25%20%231.sql',
      uriBaseId: '%SRCROOT%',
    });
    expect(decodeURIComponent(loc.artifactLocation!.uri!)).toBe(AWKWARD_PATH);
    const d = file.diagnostics[0]!;
    expect(d.endLine).toBeGreaterThan(d.line);
    expect(loc.region).toEqual({
      startLine: d.line,
      startColumn: d.column,
      endLine: d.endLine,
      endColumn: d.endColumn,
    });
    expect(r.message.text).toContain('line two');
    expect(r.message.text).not.toContain('\u001b');
  });

  it('carries fixes whose replacements rebuild what applying the edits gives', async () => {
    const file = await linted();
    const log = JSON.parse(fmt('sarif', summary(file))) as Sarif.Log;
    const starts = [0, ...[...file.source.matchAll(/\n/g)].map((m) => m.index + 1)];
    const offset = (line: number, column: number) => starts[line - 1]! + column - 1;
    const withFixes = file.diagnostics.filter((d) => d.fix);
    expect(withFixes.length).toBeGreaterThan(0);
    for (const d of withFixes) {
      const r = log.runs[0]!.results!.find(
        (x) => x.ruleId === d.rule && x.locations![0]!.physicalLocation!.region!.startLine === d.line,
      )!;
      const reps = r.fixes![0]!.artifactChanges[0]!.replacements;
      expect(r.fixes![0]!.description!.text).toBe(d.fix!.title);
      expect(reps).toHaveLength(d.fix!.edits.length);
      reps.forEach((rep, i) => {
        const g = rep.deletedRegion;
        const edit = d.fix!.edits[i]!;
        expect([offset(g.startLine!, g.startColumn!), offset(g.endLine!, g.endColumn!)]).toEqual([
          edit.start,
          edit.end,
        ]);
        expect(rep.insertedContent!.text).toBe(edit.text);
      });
    }
  });

  it('keeps partial fingerprints when unrelated statements are added above', async () => {
    const before = JSON.parse(fmt('sarif', summary(await linted()))) as Sarif.Log;
    const after = JSON.parse(
      fmt('sarif', summary(await linted(`CREATE TABLE other (id int);\n\n${MIGRATION}`))),
    ) as Sarif.Log;
    const prints = (log: Sarif.Log) =>
      log.runs[0]!.results!.map((r) => `${r.ruleId} ${r.partialFingerprints![SARIF_FINGERPRINT_KEY]}`);
    const lines = (log: Sarif.Log) =>
      log.runs[0]!.results!.map((r) => r.locations![0]!.physicalLocation!.region!.startLine);
    expect(prints(before).length).toBeGreaterThan(0);
    expect(prints(after)).toEqual(expect.arrayContaining(prints(before)));
    expect(lines(after)).not.toEqual(lines(before));
    // the same finding in another file is another finding
    const elsewhere = JSON.parse(fmt('sarif', summary(await linted(MIGRATION, 'other.sql')))) as Sarif.Log;
    expect(prints(elsewhere).filter((p) => prints(before).includes(p))).toEqual([]);
  });
});

// ── GitHub Actions ──────────────────────────────────────────────────────────

/** GitHub's workflow command syntax: `::name key=value,…::message`; no raw `:` can occur in properties. */
const COMMAND = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/;
const unescapeGithub = (s: string) =>
  s.replace(
    /%(25|0D|0A|3A|2C)/g,
    (_, c: string) => ({ '25': '%', '0D': '\r', '0A': '\n', '3A': ':', '2C': ',' })[c]!,
  );

function parseCommand(line: string) {
  const m = COMMAND.exec(line);
  if (!m) throw new Error(`not a workflow command: ${line}`);
  const props = Object.fromEntries(
    (m[2] ?? '').split(',').map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i), unescapeGithub(kv.slice(i + 1))];
    }),
  ) as Record<string, string>;
  return { command: m[1]!, props, message: unescapeGithub(m[3]!) };
}

/** What @actions/core prints for the same annotation. */
function coreOutput(fn: 'error' | 'warning' | 'notice', message: string, props: core.AnnotationProperties) {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    ({ error: core.error, warning: core.warning, notice: core.notice })[fn](message, props);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('github', () => {
  it('writes one command per finding that parses back to file, position, title and message', async () => {
    const s = summary(await linted(), cleanFile(), edgeFile());
    const out = fmt('github', s);
    const lines = out.slice(0, -1).split('\n');
    expect(lines).toHaveLength(findings(s));
    const expected = s.files.flatMap((f) =>
      [...f.diagnostics].sort((a, b) => a.start - b.start).map((d) => ({ path: f.path, d })),
    );
    lines.forEach((line, i) => {
      const { command, props, message } = parseCommand(line);
      const { path, d } = expected[i]!;
      expect(command).toBe({ error: 'error', warning: 'warning', info: 'notice' }[d.severity]);
      expect(props.file).toBe(path);
      expect(props.title).toBe(d.rule);
      expect([Number(props.line), Number(props.endLine)]).toEqual([d.line, d.endLine]);
      if (d.line === d.endLine)
        expect([Number(props.col), Number(props.endColumn)]).toEqual([d.column, d.endColumn]);
      else expect(props.col).toBeUndefined();
      expect(message.startsWith(d.message.split('\n')[0]!.replace('\u001b', '␛'))).toBe(true);
    });
  });

  it('round-trips a message with line breaks and `%`, and a path with `:` and `,`', () => {
    const out = fmt('github', summary(edgeFile()));
    const cmd = parseCommand(out.split('\n').find((l) => l.includes('add-column-required'))!);
    expect(cmd.props.file).toBe(AWKWARD_PATH);
    expect(cmd.message).toBe(
      'Line one: 100% <b>bold</b> | pipe, comma\nline two @someone #12 $x$ `code` *em*\nline three␛[31m' +
        '\n\nDo this, then that:\nstep two.' +
        '\n\nAssumed: PG 15 (pgkeel.config.json) · prisma (detected from prisma/migrations layout)' +
        `\n\nRule: ${ruleDocsUrl('add-column-required')}`,
    );
  });

  it('matches @actions/core byte for byte', () => {
    const file = edgeFile();
    const out = fmt('github', summary(file)).split('\n');
    for (const d of file.diagnostics) {
      const ours = out.find((l) => l.includes(`title=${d.rule},`))!;
      const { message } = parseCommand(ours);
      const sameLine = d.line === d.endLine;
      const reference = coreOutput(
        { error: 'error', warning: 'warning', info: 'notice' }[d.severity] as 'error',
        message,
        {
          title: d.rule,
          file: AWKWARD_PATH,
          startLine: d.line,
          endLine: d.endLine,
          ...(sameLine && { startColumn: d.column, endColumn: d.endColumn }),
        },
      );
      expect(`${ours}\n`).toBe(reference);
    }
  });

  it('escapes as GitHub documents', () => {
    expect(escapeData('a%b\r\nc:d,e')).toBe('a%25b%0D%0Ac:d,e');
    expect(escapeProperty('a%b\r\nc:d,e')).toBe('a%25b%0D%0Ac%3Ad%2Ce');
  });
});

// ── GitLab Code Quality ─────────────────────────────────────────────────────

/**
 * GitLab publishes no JSON schema for Code Quality reports; this encodes the fields its
 * documentation ("Code Quality report format") requires, with the Code Climate types and values.
 */
const CODE_QUALITY_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['description', 'check_name', 'fingerprint', 'severity', 'location'],
    properties: {
      type: { const: 'issue' },
      description: { type: 'string', minLength: 1 },
      check_name: { type: 'string', minLength: 1 },
      fingerprint: { type: 'string', minLength: 1 },
      severity: { enum: ['info', 'minor', 'major', 'critical', 'blocker'] },
      categories: {
        type: 'array',
        items: {
          enum: [
            'Bug Risk',
            'Clarity',
            'Compatibility',
            'Complexity',
            'Duplication',
            'Performance',
            'Security',
            'Style',
          ],
        },
      },
      content: { type: 'object', required: ['body'], properties: { body: { type: 'string' } } },
      location: {
        type: 'object',
        required: ['path'],
        properties: {
          path: { type: 'string', minLength: 1, not: { pattern: '^(/|\\./|[A-Za-z]:)|\\\\' } },
          lines: {
            type: 'object',
            required: ['begin'],
            properties: { begin: { type: 'integer', minimum: 1 }, end: { type: 'integer', minimum: 1 } },
          },
          positions: {
            type: 'object',
            required: ['begin'],
            properties: {
              begin: {
                type: 'object',
                required: ['line'],
                properties: { line: { type: 'integer', minimum: 1 } },
              },
            },
          },
        },
        oneOf: [{ required: ['lines'] }, { required: ['positions'] }],
      },
    },
  },
} as const;

describe('gitlab', () => {
  const validate = new Ajv({ allErrors: true }).compile(CODE_QUALITY_SCHEMA);
  const parse = (s: LintSummary) => JSON.parse(fmt('gitlab', s)) as CodeQualityIssue[];

  it('matches the documented Code Quality fields', async () => {
    for (const s of [summary(await linted(), cleanFile(), edgeFile()), summary(cleanFile()), summary()]) {
      const report = parse(s);
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
      expect(report).toHaveLength(findings(s));
    }
    expect(validate([{ description: 'x', check_name: 'y', fingerprint: 'z', severity: 'fatal' }])).toBe(
      false,
    );
  });

  it('maps each finding: rule, severity by verdict, line range, help as the body', () => {
    const file = edgeFile();
    const report = parse(summary(file));
    const [warning, info, parseError] = [
      report.find((i) => i.check_name === 'add-column-required')!,
      report.find((i) => i.check_name === 'prefer-robust-statements')!,
      report.find((i) => i.check_name === 'parse-error')!,
    ];
    expect(warning.severity).toBe('minor');
    expect(info.severity).toBe('info');
    expect(parseError.severity).toBe('major');
    expect(warning.location).toEqual({ path: AWKWARD_PATH, lines: { begin: 2, end: 3 } });
    expect(warning.content!.body).toContain('step two.');
    expect(warning.content!.body).toContain(ruleDocsUrl('add-column-required'));
    // the engine's own findings have no help or page, but the assumptions still go with them
    expect(parseError.content!.body).toBe(
      'Assumed: PG 15 (pgkeel.config.json) · prisma (detected from prisma/migrations layout)',
    );
  });

  it('gives unique MD5 fingerprints, stable across unrelated edits', async () => {
    const before = parse(summary(await linted()));
    const after = parse(summary(await linted(`CREATE TABLE other (id int);\n${MIGRATION}`)));
    for (const i of before) expect(i.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(after.map((i) => i.fingerprint)).toEqual(expect.arrayContaining(before.map((i) => i.fingerprint)));
    // the same file twice (two globs matching it) must still not repeat a fingerprint
    const twice = parse(summary(await linted(), await linted()));
    expect(new Set(twice.map((i) => i.fingerprint)).size).toBe(twice.length);
  });
});

// ── JUnit ───────────────────────────────────────────────────────────────────

interface JunitCase {
  '@_name': string;
  '@_classname': string;
  failure?: { '@_message': string; '@_type': string; '#text': string };
  'system-out'?: string;
}
interface JunitSuite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  testcase: JunitCase[];
}

function parseJunit(xml: string): JunitSuite[] {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    parseAttributeValue: false,
    isArray: (name) => name === 'testsuite' || name === 'testcase',
  }).parse(xml) as { testsuites: { '@_name': string; testsuite?: JunitSuite[] } };
  expect(doc.testsuites['@_name']).toBe('pgkeel');
  return doc.testsuites.testsuite ?? [];
}

describe('junit', () => {
  it('is well-formed XML with one suite per file whose counts match its testcases', async () => {
    const s = summary(await linted(), cleanFile(), edgeFile());
    const suites = parseJunit(fmt('junit', s));
    expect(suites.map((x) => x['@_name'])).toEqual(s.files.map((f) => f.path));
    suites.forEach((suite, i) => {
      const file = s.files[i]!;
      expect(Number(suite['@_tests'])).toBe(suite.testcase.length);
      expect(Number(suite['@_failures'])).toBe(suite.testcase.filter((c) => c.failure).length);
      expect(suite.testcase.filter((c) => c.failure)).toHaveLength(
        file.diagnostics.filter((d) => d.severity !== 'info').length,
      );
    });
    const clean = suites[1]!;
    expect(clean.testcase).toHaveLength(1);
    expect(clean.testcase[0]!.failure).toBeUndefined();
  });

  it('keeps markup and control codes in messages as text', () => {
    const [suite] = parseJunit(fmt('junit', summary(edgeFile())));
    const warning = suite!.testcase.find((c) => c.failure?.['@_type'] === 'add-column-required')!;
    expect(warning.failure!['@_message']).toBe(
      'Line one: 100% <b>bold</b> | pipe, comma line two @someone #12 $x$ `code` *em* line three␛[31m',
    );
    expect(warning.failure!['#text']).toContain(`at ${AWKWARD_PATH}:2:1`);
    const info = suite!.testcase.find((c) => c['@_name'].includes('prefer-robust-statements'))!;
    expect(info.failure).toBeUndefined();
    expect(info['system-out']).toContain('Something is wrong.');
  });

  it('writes an empty root for no files', () => {
    expect(parseJunit(fmt('junit', summary()))).toEqual([]);
  });
});

// ── Markdown ────────────────────────────────────────────────────────────────

/** The text a reader sees in inline tokens (escapes resolved, link text kept). */
function plain(tokens: Token[] | undefined): string {
  return (tokens ?? [])
    .map((t) => ('tokens' in t && t.tokens ? plain(t.tokens) : 'text' in t ? String(t.text) : ''))
    .join('');
}

function links(tokens: Token[] | undefined): string[] {
  return (tokens ?? []).flatMap((t) =>
    t.type === 'link' ? [(t as Tokens.Link).href] : 'tokens' in t && t.tokens ? links(t.tokens) : [],
  );
}

describe('markdown', () => {
  const lex = (md: string) => marked.lexer(md);
  const tables = (tokens: Token[]) => tokens.filter((t): t is Tokens.Table => t.type === 'table');

  it('has a headline with counts and assumptions, a rule table, a file table and details per file', async () => {
    const s = summary(await linted(), cleanFile(), edgeFile());
    const md = fmt('markdown', s);
    const tokens = lex(md);
    const heading = tokens.find((t): t is Tokens.Heading => t.type === 'heading' && t.depth === 2)!;
    expect(heading.text).toMatch(
      new RegExp(`${s.errorCount} errors, ${s.warningCount} warnings?, ${s.infoCount} info in 2 of 3 files`),
    );
    const assumptions = plain(tokens.find((t): t is Tokens.Paragraph => t.type === 'paragraph')!.tokens);
    expect(assumptions).toBe(
      'Advice assumes PG 18 (default — set pgVersion) in 2 files, PG 15 (pgkeel.config.json) in 1 file; ' +
        'runner psql (default — set runner) in 2 files, runner prisma (detected from prisma/migrations layout) in 1 file.',
    );

    const [rules, files, ...details] = tables(tokens);
    expect(rules!.header.map((h) => h.text)).toEqual(['Rule', 'Findings', 'Errors', 'Warnings', 'Info']);
    const used = new Set(s.files.flatMap((f) => f.diagnostics.map((d) => d.rule)));
    expect(rules!.rows).toHaveLength(used.size);
    const total = rules!.rows.reduce((n, r) => n + Number(r[1]!.text), 0);
    expect(total).toBe(findings(s));
    for (const row of rules!.rows) {
      const rule = plain(row[0]!.tokens);
      const url = links(row[0]!.tokens);
      expect(url).toEqual(rule === 'parse-error' ? [] : [ruleDocsUrl(rule)]);
      expect(Number(row[1]!.text)).toBe(Number(row[2]!.text) + Number(row[3]!.text) + Number(row[4]!.text));
    }

    expect(files!.header.map((h) => h.text)).toEqual([
      'File',
      'Errors',
      'Warnings',
      'Info',
      'Postgres',
      'Runner',
    ]);
    expect(files!.rows.map((r) => plain(r[0]!.tokens)).sort()).toEqual([
      AWKWARD_PATH,
      'migrations/001_init.sql',
    ]);

    const opened = tokens.filter((t) => t.type === 'html' && t.raw.includes('<details>'));
    expect(opened).toHaveLength(2);
    expect(details).toHaveLength(2);
    for (const table of details) {
      expect(table.header.map((h) => h.text)).toEqual(['Line', 'Severity', 'Rule', 'Message', 'Help']);
    }
    expect(details.map((t) => t.rows.length).sort()).toEqual(
      s.files
        .map((f) => f.diagnostics.length)
        .filter((n) => n > 0)
        .sort(),
    );
  });

  it('shows messages as text: no HTML, mentions, or broken table rows', () => {
    const md = fmt('markdown', summary(edgeFile()));
    const detail = tables(lex(md))[2]!;
    const row = detail.rows.find((r) => plain(r[2]!.tokens) === 'add-column-required')!;
    expect(row).toHaveLength(5);
    expect(plain(row[3]!.tokens)).toBe(
      'Line one: 100% <b>bold</b> | pipe, comma line two @someone #12 $x$ `code` *em* line three␛[31m',
    );
    expect(row[3]!.tokens.map((t) => t.type)).not.toContain('html');
    expect(row[3]!.tokens.map((t) => t.type)).not.toContain('codespan');
    expect(plain(row[4]!.tokens)).toBe('Do this, then that: step two.');
    expect(md).toContain('\\@someone');
  });

  it('says so when everything is clean', () => {
    const md = fmt('markdown', summary(cleanFile(), cleanFile('b.sql')));
    const tokens = lex(md);
    expect(tokens.find((t) => t.type === 'heading')!.raw).toContain('no problems in 2 files');
    expect(tables(tokens)).toEqual([]);
  });

  it('stays under the comment limit on a huge run, says it was cut, and still parses', () => {
    const files = Array.from({ length: 400 }, (_, i) => {
      const f = edgeFile(`migrations/${String(i).padStart(4, '0')}_a_rather_long_migration_name.sql`);
      const base = f.diagnostics[0]!;
      f.diagnostics = Array.from({ length: 60 }, (_, j) => ({
        ...base,
        message: `${base.message} ${j}`.repeat(3),
      }));
      return f;
    });
    const md = fmt('markdown', summary(...files));
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_MAX_LENGTH);
    expect(md).toContain('This comment was shortened to fit');
    const tokens = lex(md);
    const [rules, fileTable, ...details] = tables(tokens);
    expect(rules!.rows).toHaveLength(1);
    expect(fileTable!.rows.length).toBeLessThan(files.length);
    expect(details.length).toBeGreaterThan(0);
    expect(details.length).toBeLessThan(files.length);
    // each listed file is cut at 50 findings, with a note
    expect(details[0]!.rows).toHaveLength(50);
    expect(md).toContain('and 10 more findings');
    const opened = tokens.filter((t) => t.type === 'html' && t.raw.includes('<details>')).length;
    const closed = (md.match(/<\/details>/g) ?? []).length;
    expect(closed).toBe(opened);
  });
});
