import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Diagnostic, FileResult, LintSummary } from '../src/diagnostics.js';
import { LineIndex } from '../src/parse/positions.js';
import {
  createPrettyReporter,
  formatJson,
  formatPretty,
  formatReport,
  isReportFormat,
  type ReportFormat,
  writePretty,
} from '../src/report/index.js';

// ── fixtures ────────────────────────────────────────────────────────────────

/** A diagnostic over `source.slice(start, end)`, its line/column computed the way the engine does. */
function diag(source: string, start: number, end: number, extra: Partial<Diagnostic> = {}): Diagnostic {
  const idx = new LineIndex(source);
  const a = idx.position(start);
  const b = idx.position(end);
  return {
    rule: 'test-rule',
    severity: 'error',
    message: 'Something is wrong.',
    start,
    end,
    line: a.line,
    column: a.column,
    endLine: b.line,
    endColumn: b.column,
    statement: 0,
    ...extra,
  };
}

/** The range of the first occurrence of `needle` in `source`. */
function at(source: string, needle: string, from = 0): [number, number] {
  const i = source.indexOf(needle, from);
  if (i < 0) throw new Error(`fixture: ${needle} not found`);
  return [i, i + needle.length];
}

function file(source: string, diagnostics: Diagnostic[], extra: Partial<FileResult> = {}): FileResult {
  return {
    path: 'migrations/001.sql',
    source,
    diagnostics,
    statementCount: 1,
    pgVersion: 18,
    runner: 'psql',
    ...extra,
  };
}

function summary(...files: FileResult[]): LintSummary {
  const all = files.flatMap((f) => f.diagnostics);
  const count = (s: string) => all.filter((d) => d.severity === s).length;
  return { files, errorCount: count('error'), warningCount: count('warning'), infoCount: count('info') };
}

const plain = (s: LintSummary, verbose = false) => formatPretty(s, { color: false, verbose });

/** The frame row of source line `line` and the marker row under it (if any). */
function frameRows(out: string, line: number): { code: string; marker: string | undefined } {
  const rows = out.split('\n');
  const i = rows.findIndex((r) => new RegExp(`^ +${line} │`).test(r));
  if (i < 0) throw new Error(`no frame row for line ${line} in:\n${out}`);
  const next = rows[i + 1];
  return { code: rows[i]!, marker: next && /^ +│ +\^/.test(next) ? next : undefined };
}

/** [from, to) display columns of the carets in a marker row. */
function caretColumns(marker: string): [number, number] {
  const m = /\^+/.exec(marker)!;
  return [m.index, m.index + m[0].length];
}

const UNIQUE_SQL = `SET lock_timeout = '2s';

ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);

CREATE INDEX dist_name ON distributors (name);
`;

function uniqueExample(): LintSummary {
  const src = UNIQUE_SQL;
  const [s1, e1] = at(src, 'ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);');
  const [s2, e2] = at(src, 'CREATE INDEX dist_name ON distributors (name);');
  const unique = diag(src, s1, e1, {
    rule: 'add-unique-constraint',
    verdict: 'alternative',
    hazard: 'blocks-traffic',
    statement: 1,
    message: 'Adding a UNIQUE constraint builds its index while holding ACCESS EXCLUSIVE on "distributors".',
    help: 'Build a unique index CONCURRENTLY, then attach it with ADD CONSTRAINT … USING INDEX.',
    lock: { mode: 'ACCESS EXCLUSIVE', relation: 'distributors', blocks: ['SELECT', 'INSERT/UPDATE/DELETE'] },
    docsUrl: 'https://github.com/pgkeel/pgkeel/blob/main/docs/rules/add-unique-constraint.md',
    fingerprint: '5b0e1f4c2a9d8e37',
    fix: {
      title: 'Build the index concurrently',
      edits: [
        {
          start: s1,
          end: e1,
          text:
            'CREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);\n' +
            'ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE USING INDEX dist_id_uniq;',
        },
      ],
    },
  });
  const index = diag(src, s2, e2, {
    rule: 'require-concurrent-index',
    severity: 'warning',
    verdict: 'safe',
    statement: 2,
    message: 'CREATE INDEX blocks writes to "distributors" while it builds.',
    lock: { mode: 'SHARE', relation: 'distributors', blocks: ['INSERT/UPDATE/DELETE'] },
    fix: {
      title: 'Add CONCURRENTLY',
      edits: [{ start: s2 + 'CREATE INDEX'.length, end: s2 + 12, text: ' CONCURRENTLY' }],
    },
  });
  const settings: Partial<FileResult> = {
    runner: 'prisma',
    pgVersionFrom: { from: 'default' },
    runnerFrom: { from: 'detected', detail: 'prisma/migrations/<name>/migration.sql' },
  };
  const clean = file('SELECT 1;\n', [], { path: 'migrations/000.sql', ...settings });
  // given out of order on purpose: the report sorts by position
  return summary(clean, file(src, [index, unique], { statementCount: 3, ...settings }));
}

// ── pretty ──────────────────────────────────────────────────────────────────

const DOCS = 'https://github.com/pgkeel/pgkeel/blob/main/docs/rules/';
const ACCESS_EXCLUSIVE_BLOCKS = [
  'SELECT',
  'SELECT FOR UPDATE/SHARE',
  'INSERT/UPDATE/DELETE',
  'VACUUM/ANALYZE',
  'CREATE INDEX CONCURRENTLY',
  'CREATE INDEX',
  'ALTER TABLE / DDL',
];

/** Three findings on one statement (two with the same lock) and one tied to no statement. */
function groupExample(): { src: string; result: FileResult } {
  const src = 'SELECT 1;\nALTER TABLE t\n  ADD COLUMN c int NOT NULL;\n-- pgkeel-ignore nothing\n';
  const [s, e] = at(src, 'ALTER TABLE t\n  ADD COLUMN c int NOT NULL');
  const [cs, ce] = at(src, 'c int NOT NULL');
  const exclusive = { mode: 'ACCESS EXCLUSIVE' as const, relation: 't', blocks: ['SELECT'] };
  const result = file(src, [
    diag(src, s, e, {
      rule: 'lock-timeout-missing',
      statement: 1,
      message: 'No lock_timeout.',
      lock: exclusive,
    }),
    diag(src, cs, ce, {
      rule: 'add-column-required',
      statement: 1,
      message: 'Fails on a table with rows.',
      lock: { ...exclusive },
    }),
    diag(src, s, e, {
      rule: 'lock-order-deadlock',
      severity: 'warning',
      statement: 1,
      message: 'Locks u after t.',
      lock: { mode: 'SHARE ROW EXCLUSIVE', relation: 'u', blocks: ['INSERT/UPDATE/DELETE'] },
    }),
    diag(src, ...at(src, '-- pgkeel-ignore nothing'), {
      rule: 'unused-ignore',
      severity: 'warning',
      statement: -1,
      message: 'Nothing to ignore.',
    }),
  ]);
  return { src, result };
}

describe('pretty report', () => {
  it('shows each statement once, with its locks and every finding on it, then a table and the summary', () => {
    expect(plain(uniqueExample())).toMatchInlineSnapshot(`
      "Assumed: PG 18 (default — set pgVersion), runner prisma (detected from prisma/migrations/<name>/migration.sql)

      migrations/001.sql:3:1 error add-unique-constraint [safe alternative · blocks traffic]: Adding a UNIQUE constraint builds its index while holding ACCESS EXCLUSIVE on "distributors".
        3 │ ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);
        lock  ACCESS EXCLUSIVE on distributors — blocks SELECT, INSERT/UPDATE/DELETE
        help  Build a unique index CONCURRENTLY, then attach it with ADD CONSTRAINT … USING INDEX.
        fix   Build the index concurrently:
              - ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);
              + CREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);
              + ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE USING INDEX dist_id_uniq;

      migrations/001.sql:5:1 warning require-concurrent-index [advice]: CREATE INDEX blocks writes to "distributors" while it builds.
        5 │ CREATE INDEX dist_name ON distributors (name);
        lock  SHARE on distributors — blocks INSERT/UPDATE/DELETE
        fix   Add CONCURRENTLY:
              - CREATE INDEX dist_name ON distributors (name);
              + CREATE INDEX CONCURRENTLY dist_name ON distributors (name);

      rule                      danger          count  errors  warnings  fixable
      add-unique-constraint     blocks traffic      1       1         0        1
      require-concurrent-index                      1       0         1        1
      rule pages: https://github.com/pgkeel/pgkeel/blob/main/docs/rules/<rule>.md

      Assumed: PG 18 (default — set pgVersion), runner prisma (detected from prisma/migrations/<name>/migration.sql)
      ✖ 1 error, 1 warning in 1 of 2 files (4 statements)
      "
    `);
  });

  it('groups the findings of one statement under one frame and names each lock once', () => {
    const out = plain(summary(groupExample().result));
    expect(out.match(/ALTER TABLE t$/gm)).toHaveLength(1);
    expect(out.match(/ACCESS EXCLUSIVE on t/g)).toHaveLength(1);
    expect(out.match(/SHARE ROW EXCLUSIVE on u/g)).toHaveLength(1);
    const block = out.split('\n\n')[1]!;
    expect(block).toMatchInlineSnapshot(`
      "migrations/001.sql:2:1 error lock-timeout-missing: No lock_timeout.
        2 │ ALTER TABLE t
        3 │   ADD COLUMN c int NOT NULL;
        lock  ACCESS EXCLUSIVE on t — blocks SELECT
              SHARE ROW EXCLUSIVE on u — blocks INSERT/UPDATE/DELETE
      migrations/001.sql:2:1 warning lock-order-deadlock: Locks u after t.
      migrations/001.sql:3:14 error add-column-required: Fails on a table with rows."
    `);
    // a finding tied to no statement is a block of its own
    expect(out.split('\n\n')[2]).toMatch(
      /^migrations\/001\.sql:4:1 warning unused-ignore: Nothing to ignore\.\n {2}4 │ -- pgkeel-ignore nothing/,
    );
  });

  it('says "everything" for a lock that blocks all seven kinds of work, and lists the rest', () => {
    const src = 'ALTER TABLE t ADD c int;\nCREATE INDEX i ON t (c);\n';
    const lock = (blocks: string[]) => ({ mode: 'ACCESS EXCLUSIVE' as const, relation: 't', blocks });
    const out = plain(
      summary(
        file(src, [
          diag(src, ...at(src, 'ALTER TABLE t ADD c int'), { lock: lock(ACCESS_EXCLUSIVE_BLOCKS) }),
          diag(src, ...at(src, 'CREATE INDEX i ON t (c)'), {
            statement: 1,
            lock: { mode: 'SHARE', relation: 't', blocks: ACCESS_EXCLUSIVE_BLOCKS.slice(2) },
          }),
        ]),
      ),
    );
    expect(out).toContain('  lock  ACCESS EXCLUSIVE on t — blocks everything, reads and writes included\n');
    expect(out).toContain(`  lock  SHARE on t — blocks ${ACCESS_EXCLUSIVE_BLOCKS.slice(2).join(', ')}\n`);
  });

  it('emits no escape codes without color; with it, colors severities and links rule ids to their pages', () => {
    const s = uniqueExample();
    expect(plain(s)).not.toContain('\x1b');
    const colored = formatPretty(s, { color: true });
    expect(colored).toContain('\x1b[31merror');
    expect(colored).toContain('\x1b[33mwarning');
    const link = `\x1b]8;;${DOCS}add-unique-constraint.md\x1b\\`;
    expect(colored).toContain(`${link}\x1b[1madd-unique-constraint\x1b[22m\x1b]8;;\x1b\\`);
    // the rule without a page is not a link: the only links are to the other one's page, from its
    // header and its row in the table (each an opening and a closing sequence)
    expect(colored).toContain(' \x1b[1mrequire-concurrent-index\x1b[22m');
    expect(colored.split('\x1b]8;;').length - 1).toBe(4);
  });

  it('never passes control characters from the file or messages to the terminal', () => {
    const src = 'SELECT 1;\nALTER TABLE t\x1b[2J ADD x int\x07;\n';
    const [s, e] = at(src, 'ADD x int\x07');
    const d = diag(src, s, e, {
      message: 'bad\x1b]0;title\x07',
      help: 'use \u202Eabc',
      docsUrl: 'https://example.com/\x1b]8;;evil\x07',
    });
    const out = formatPretty(summary(file(src, [d], { path: 'a\x1b[31m.sql', runner: 'x\x1bz' })), {
      color: true,
    });
    // colors are the one escape sequence allowed; the link was refused
    const uncolored = out
      .split('\x1b[')
      .map((part, i) => (i === 0 ? part : part.replace(/^\d+m/, '')))
      .join('');
    const controls = [...uncolored].filter((ch) => {
      const c = ch.codePointAt(0)!;
      return (c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e);
    });
    expect(controls).toEqual([]);
    const text = plain(summary(file(src, [d], { path: 'a\x1b[31m.sql' })));
    expect(text).toContain('ALTER TABLE t␛[2J ADD x int␇;');
    expect(text).toContain('a␛[31m.sql:2:19 error test-rule: bad␛]0;title␇\n');
    expect(text).toContain('help  use <U+202E>abc\n');
    expect(text).toContain('https://example.com/␛]8;;evil␇');
  });

  it('reads CRLF files without showing the carriage returns', () => {
    const src = 'SELECT 1;\r\nDROP TABLE a;\r\nSELECT 2;\r\n';
    const out = plain(summary(file(src, [diag(src, ...at(src, 'DROP TABLE a;'))])));
    expect(out).not.toContain('␍');
    expect(frameRows(out, 2)).toEqual({ code: '  2 │ DROP TABLE a;', marker: undefined });
    // only the statement: no context lines around it
    expect(out).not.toMatch(/ [13] │/);
  });

  it('starts each finding with file:line:col, severity, rule and message, in file order', () => {
    const src = 'SELECT 1;\n\n  DROP TABLE a;\nDROP TABLE b;\n';
    const late = diag(src, ...at(src, 'DROP TABLE b;'), { rule: 'late', statement: 2 });
    const early = diag(src, ...at(src, 'DROP TABLE a;'), { rule: 'early', statement: 1 });
    const headers = plain(summary(file(src, [late, early])))
      .split('\n')
      .filter((l) => l.startsWith('migrations/'));
    expect(headers).toEqual([
      'migrations/001.sql:3:3 error early: Something is wrong.',
      'migrations/001.sql:4:1 error late: Something is wrong.',
    ]);
  });

  it('puts markers under the exact columns despite tabs, accents, wide characters and emoji', () => {
    const src = "\tSELECT 'é', '日本😀', y;\n";
    const [s1, e1] = at(src, "'日本😀'");
    const [s2, e2] = at(src, 'y;');
    for (const [s, e, cols] of [
      // tab → 4 columns; `'é', ` 5; the literal is 1 + 2 + 2 + 2 + 1 columns wide
      [s1, e1, [16, 24]],
      [s2, s2 + 1, [26, 27]],
      [s2, e2, [26, 28]],
    ] as const) {
      const { code, marker } = frameRows(plain(summary(file(src, [diag(src, s, e)]))), 1);
      expect(code).toBe("  1 │     SELECT 'é', '日本😀', y;");
      const prefix = '  1 │ '.length;
      expect(caretColumns(marker!)).toEqual([prefix + cols[0], prefix + cols[1]]);
    }
  });

  it('marks an empty range with a single caret, also at the end of a file', () => {
    const src = 'SELECT 1';
    const { code, marker } = frameRows(
      plain(summary(file(src, [diag(src, 8, 8, { rule: 'parse-error' })]))),
      1,
    );
    expect(code).toBe('  1 │ SELECT 1');
    expect(caretColumns(marker!)).toEqual(['  1 │ '.length + 8, '  1 │ '.length + 9]);
  });

  it('renders parse errors like any other finding', () => {
    const src = 'SELECT 1;\nSELEC 2;\n';
    const d = diag(src, ...at(src, 'SELEC', 9), {
      rule: 'parse-error',
      message: 'syntax error at or near "SELEC"',
      statement: 1,
    });
    const out = plain(summary(file(src, [d], { statementCount: 2 })));
    expect(out).toContain('migrations/001.sql:2:1 error parse-error: syntax error at or near "SELEC"\n');
    expect(frameRows(out, 2).marker).toBe('    │ ^^^^^');
  });

  it('underlines only the part of a line a finding covers, not lines it covers whole', () => {
    const src = 'BEGIN; ALTER TABLE t\n  ADD c int; -- why\nCOMMIT;\n';
    const out = plain(summary(file(src, [diag(src, ...at(src, 'ALTER TABLE t\n  ADD c int'))])));
    expect(frameRows(out, 1).marker).toBe(`    │ ${' '.repeat(7)}${'^'.repeat(13)}`);
    expect(frameRows(out, 2).marker).toBe(`    │   ${'^'.repeat(9)}`);
    // a whole statement (its `;` aside) needs no carets: the frame shows nothing else
    const whole = plain(summary(file(src, [diag(src, ...at(src, 'COMMIT'))])));
    expect(frameRows(whole, 3)).toEqual({ code: '  3 │ COMMIT;', marker: undefined });
  });

  it('elides the middle of long statements', () => {
    const body = Array.from({ length: 18 }, (_, i) => `  c${i + 1} = ${i + 1},`).join('\n');
    const stmt = `UPDATE t SET\n${body}\n  z = 0;`;
    const src = `BEGIN;\n${stmt}\nCOMMIT;\n`;
    const out = plain(summary(file(src, [diag(src, ...at(src, stmt))])));
    // 20 lines in range (2–21): three at the start, one at the end
    expect(out).toContain('   ⋮ │ … 16 more lines\n');
    for (const line of [2, 3, 4, 21]) expect(frameRows(out, line).code).toMatch(/^ +\d+ │/);
    expect(out).not.toContain('c3 ='); // line 5
    expect(out).not.toContain('BEGIN');
    expect(out).not.toContain('COMMIT');
  });

  it('cuts long lines around the finding instead of printing them whole', () => {
    const filler = 'INSERT INTO log VALUES (1); '.repeat(4000); // ~110 kB on one line
    const target = 'ALTER TABLE big ADD CONSTRAINT u UNIQUE (id);';
    const src = `${filler}${target} ${filler}\n`;
    const [s, e] = at(src, target);
    const out = plain(summary(file(src, [diag(src, s, e)])));
    expect(out.length).toBeLessThan(2000);
    const { code, marker } = frameRows(out, 1);
    expect(code).toMatch(/^ {2}1 │ ….*\(1\); ALTER TABLE big.*…$/);
    expect(code.length).toBe(100);
    const [a, b] = caretColumns(marker!);
    expect(code.slice(a, b)).toBe(target);
  });

  it('underlines a finding wider than the screen through the cut', () => {
    const stmt = `SELECT ${'x, '.repeat(200)}y;`;
    const src = `${stmt}\n`;
    const out = formatPretty(summary(file(src, [diag(src, 'SELECT '.length, stmt.length)])), {
      color: false,
      maxWidth: 40,
    });
    const { code, marker } = frameRows(out, 1);
    expect(code).toBe(`  1 │ SELECT ${'x, '.repeat(8)}x,…`);
    expect(code.length).toBe(40);
    expect(caretColumns(marker!)).toEqual(['  1 │ SELECT '.length, code.length]);
  });

  it('fits code and fix previews to the width it is given', () => {
    const stmt = `ALTER TABLE t ADD CONSTRAINT c CHECK (${'x > 0 AND '.repeat(30)}y > 0);`;
    const src = `${stmt}\n`;
    const d = diag(src, 0, stmt.length - 1, {
      fix: {
        title: 'Add it NOT VALID',
        edits: [{ start: stmt.length - 1, end: stmt.length - 1, text: ' NOT VALID' }],
      },
    });
    for (const maxWidth of [40, 72, 100, 160]) {
      const out = formatPretty(summary(file(src, [d])), { color: false, maxWidth });
      const rows = out.split('\n').filter((l) => / │ |^ {8}[-+] /.test(l));
      expect(rows.length).toBe(3);
      for (const row of rows) expect(row.length, row).toBeLessThanOrEqual(maxWidth);
    }
  });

  it('previews a change at the end of a long line around the change, not from the left', () => {
    const stmt =
      'ALTER TABLE "observations" ADD CONSTRAINT "observations_parent_observation_id_fkey" ' +
      'FOREIGN KEY ("parent_observation_id") REFERENCES "observations"("id") ON DELETE SET NULL ON UPDATE CASCADE;';
    const src = `-- AddForeignKey\n${stmt}\n`;
    const [s, e] = at(src, stmt);
    expect(e - 1 - s).toBeGreaterThanOrEqual(150);
    const d = diag(src, s, e - 1, {
      rule: 'add-foreign-key',
      // the whole statement is rewritten, as fixes built by a deparser are
      fix: {
        title: 'Add the foreign key NOT VALID',
        edits: [{ start: s, end: e, text: `${stmt.slice(0, -1)} NOT VALID;` }],
      },
    });
    const preview = plain(summary(file(src, [d])))
      .split('\n')
      .filter((l) => /^ {8}[-+] /.test(l));
    // both end where the statement ends, in the 100 columns of the default width
    expect(preview).toEqual([
      '        - …tion_id") REFERENCES "observations"("id") ON DELETE SET NULL ON UPDATE CASCADE;',
      '        + …tion_id") REFERENCES "observations"("id") ON DELETE SET NULL ON UPDATE CASCADE NOT VALID;',
    ]);
    expect(preview[1]!.length).toBe(100);
    // on a narrow screen the change still shows, with what precedes it
    const narrow = formatPretty(summary(file(src, [d])), { color: false, maxWidth: 50 })
      .split('\n')
      .filter((l) => /^ {8}[-+] /.test(l));
    expect(narrow).toEqual([
      '        - …E SET NULL ON UPDATE CASCADE;',
      '        + …E SET NULL ON UPDATE CASCADE NOT VALID;',
    ]);
    expect(narrow[1]!.length).toBe(50);
  });

  it('cuts both sides of a change alike when only the longer one is too wide', () => {
    const stmt = '  FOREIGN KEY (customer_id) REFERENCES customers (id);';
    const src = `ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n${stmt}\n`;
    const [s, e] = at(src, stmt);
    const d = diag(src, s, e, {
      rule: 'add-foreign-key',
      fix: { title: 'Add it NOT VALID', edits: [{ start: e - 1, end: e - 1, text: ' NOT VALID' }] },
    });
    // in 66 columns the `-` line (53 characters) would fit whole; the `+` line (63) does not
    const preview = formatPretty(summary(file(src, [d])), { color: false, maxWidth: 66 })
      .split('\n')
      .filter((l) => /^ {8}[-+] /.test(l));
    expect(preview).toEqual([
      '        - … KEY (customer_id) REFERENCES customers (id);',
      '        + … KEY (customer_id) REFERENCES customers (id) NOT VALID;',
    ]);
  });

  it('previews fixes as removed and added lines, leaving out untouched lines', () => {
    const src = 'CREATE INDEX i ON t (x);\nALTER TABLE t DROP COLUMN y;\n';
    const [s, e] = at(src, 'CREATE INDEX i ON t (x);');
    const [ds, de] = at(src, 'ALTER TABLE t DROP COLUMN y;\n');
    const fix = (title: string, edits: { start: number; end: number; text: string }[]) =>
      plain(summary(file(src, [diag(src, s, e, { fix: { title, edits } })])))
        .split('\n')
        .filter((l) => /^ {8}[-+]|^ {2}fix/.test(l));
    // insertion of a whole line before a statement: only the new line
    expect(fix('Set a lock timeout', [{ start: s, end: s, text: "SET lock_timeout = '1s';\n" }])).toEqual([
      '  fix   Set a lock timeout:',
      "        + SET lock_timeout = '1s';",
    ]);
    // deletion of a whole line
    expect(fix('Drop it later.', [{ start: ds, end: de, text: '' }])).toEqual([
      '  fix   Drop it later.',
      '        - ALTER TABLE t DROP COLUMN y;',
    ]);
    // two edits on one line are shown as one change
    expect(
      fix('Build it concurrently', [
        { start: s + 'CREATE INDEX'.length, end: s + 12, text: ' CONCURRENTLY' },
        { start: s + 'CREATE INDEX '.length, end: s + 'CREATE INDEX i'.length, text: 'IF NOT EXISTS i' },
      ]),
    ).toEqual([
      '  fix   Build it concurrently:',
      '        - CREATE INDEX i ON t (x);',
      '        + CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);',
    ]);
  });

  it('labels separate changes of one fix with their position', () => {
    const src = 'ALTER TABLE t ADD c int;\nUPDATE t SET c = 1;\n';
    const [s, e] = at(src, 'UPDATE t SET c = 1;');
    const out = plain(
      summary(
        file(src, [
          diag(src, s, e, {
            fix: {
              title: 'Batch it',
              edits: [
                { start: e + 1, end: e + 1, text: 'RESET lock_timeout;\n' },
                { start: 0, end: 0, text: "SET lock_timeout = '1s';\n" },
              ],
            },
          }),
        ]),
      ),
    );
    expect(out).toContain(
      "  fix   Batch it:\n        at 1:1\n        + SET lock_timeout = '1s';\n        at 3:1\n        + RESET lock_timeout;\n",
    );
  });

  it('keeps fix previews of huge replacements short', () => {
    const stmt = `INSERT INTO t VALUES\n${'  (1),\n'.repeat(5000)}  (2);`;
    const src = `${stmt}\n`;
    const out = plain(
      summary(
        file(src, [
          diag(src, 0, stmt.length, {
            fix: { title: 'Remove', edits: [{ start: 0, end: src.length, text: '' }] },
          }),
        ]),
      ),
    );
    const removed = out.split('\n').filter((l) => l.startsWith('        - '));
    expect(removed).toEqual([
      '        - INSERT INTO t VALUES',
      '        -   (1),',
      '        -   (1),',
      '        -   (1),',
      '        -   (1),',
      '        -   (1),',
      '        -   (2);',
    ]);
    expect(out).toContain('          … 4995 more lines\n');
  });

  it('shows help and fix previews repeated word for word only the first time, and says so', () => {
    const src = 'DROP INDEX i;\n';
    const d = () =>
      diag(src, 0, 12, {
        help: 'Use DROP INDEX CONCURRENTLY.',
        fix: { title: 'Drop it concurrently', edits: [{ start: 4, end: 4, text: ' INDEX CONCURRENTLY' }] },
      });
    const other = diag(src, 0, 12, { help: 'Something else.' });
    const out = plain(summary(file(src, [d()]), file(src, [d(), other], { path: 'migrations/002.sql' })));
    expect(out.match(/help {2}Use DROP INDEX CONCURRENTLY\./g)).toHaveLength(1);
    expect(out.match(/^ {8}\+ /gm)).toHaveLength(1);
    expect(out).toContain('help  Something else.\n');
    expect(out.match(/fix {3}Drop it concurrently/g)).toHaveLength(1);
    expect(out).toContain(
      'Help and fix previews repeated word for word are shown the first time only (2 left out).\n',
    );
    expect(plain(uniqueExample())).not.toContain('left out');
  });

  it('ends with findings per rule, most frequent first, each with its page', () => {
    const src = 'SELECT 1;\n';
    const d = (rule: string, extra: Partial<Diagnostic> = {}) =>
      diag(src, 0, 8, { rule, docsUrl: `${DOCS}${rule}.md`, ...extra });
    const fix = { title: 'Fix', edits: [{ start: 0, end: 0, text: '-- ' }] };
    const s = summary(
      file(src, [d('b-rule', { severity: 'warning' }), d('a-rule', { fix }), d('c-rule')]),
      file(src, [d('c-rule', { severity: 'info', fix }), d('parse-error', { docsUrl: undefined })]),
    );
    const table = (maxWidth: number) => {
      const out = formatPretty(s, { color: false, maxWidth });
      return out.slice(out.indexOf('\nrule ') + 1, out.indexOf('\n\n', out.indexOf('\nrule ')));
    };
    // too narrow for a column: pages that share a pattern are given once, by it
    expect(table(100)).toMatchInlineSnapshot(`
      "rule         count  errors  warnings  fixable
      c-rule           2       1         0        1
      a-rule           1       1         0        1
      b-rule           1       0         1        0
      parse-error      1       1         0        0
      rule pages: https://github.com/pgkeel/pgkeel/blob/main/docs/rules/<rule>.md"
    `);
    // a page elsewhere is listed under its row
    const odd = summary(
      file(src, [d('a-rule'), d('x-rule', { docsUrl: 'https://example.com/x-rule-page' })]),
    );
    const oddOut = formatPretty(odd, { color: false, maxWidth: 100 });
    expect(oddOut).toContain('x-rule      1       1         0        0\n  https://example.com/x-rule-page\n');
    expect(oddOut).toContain(`a-rule      1       1         0        0\n  ${DOCS}a-rule.md\n`);
    expect(oddOut).not.toContain('rule pages:');
    // wide enough: the link is a column
    expect(table(160).split('\n')[2]).toBe(`a-rule           1       1         0        1  ${DOCS}a-rule.md`);
    // the kind of danger a rule reports gets a column when findings carry one
    const kinds = summary(file(src, [d('a-rule', { hazard: 'breaks-clients' }), d('parse-error')]));
    const kindsOut = formatPretty(kinds, { color: false, maxWidth: 100 });
    expect(kindsOut).toContain('rule         danger          count  errors  warnings  fixable\n');
    expect(kindsOut).toContain('a-rule       breaks clients      1       1         0        0\n');
    expect(kindsOut).toContain('parse-error                      1       1         0        0\n');
  });

  it('states the Postgres version and runner it assumed, and where each came from', () => {
    const src = 'SELECT 1;\n';
    const d = () => diag(src, 0, 8);
    const config = { from: 'config', detail: 'db/pgkeel.config.json' } as const;
    const prisma = { from: 'detected', detail: 'prisma/migrations/<name>/migration.sql' } as const;
    const same = summary(
      file(src, [d()], { runner: 'prisma', pgVersionFrom: { from: 'default' }, runnerFrom: prisma }),
      file(src, [], { runner: 'prisma', pgVersionFrom: { from: 'default' }, runnerFrom: prisma }),
    );
    const line =
      'Assumed: PG 18 (default — set pgVersion), runner prisma (detected from prisma/migrations/<name>/migration.sql)\n';
    const out = plain(same);
    expect(out.startsWith(line)).toBe(true);
    expect(out.endsWith(`${line}✖ 1 error in 1 of 2 files (2 statements)\n`)).toBe(true);

    const differ = plain(
      summary(
        file(src, [d()], {
          runner: 'knex',
          pgVersionFrom: { from: 'flag', detail: '--pg-version' },
          runnerFrom: { from: 'flag', detail: '--runner' },
        }),
        file(src, [d()], {
          path: 'db/002.sql',
          pgVersion: 16,
          runner: 'knex',
          pgVersionFrom: config,
          runnerFrom: { from: 'flag', detail: '--runner' },
        }),
        file(src, [], {
          path: 'db/003.sql',
          pgVersion: 16,
          runner: 'knex',
          pgVersionFrom: config,
          runnerFrom: { from: 'flag', detail: '--runner' },
        }),
      ),
    );
    expect(differ.startsWith('Assumed: PG 18 (--pg-version), runner knex (--runner)\n')).toBe(true);
    // a file checked with other settings says so above its findings
    expect(differ).toContain(
      '\nAssumed for db/002.sql: PG 16 (db/pgkeel.config.json), runner knex (--runner)\ndb/002.sql:1:1 error test-rule: Something is wrong.\n  1 │ SELECT 1;\n',
    );
    expect(differ).toContain(
      '\nAssumed: PG 16 (db/pgkeel.config.json) in 2 files, PG 18 (--pg-version) in 1 file; runner knex (--runner)\n',
    );
    // clean runs say it too
    expect(
      plain(summary(file(src, [], { pgVersionFrom: { from: 'default' }, runnerFrom: { from: 'default' } }))),
    ).toBe(
      'Assumed: PG 18 (default — set pgVersion), runner psql (default — set runner)\n✓ No problems in 1 file (1 statement)\n',
    );
  });

  it('pluralises the summary and counts files and statements', () => {
    const src = 'SELECT 1;\n';
    const d = (severity: Diagnostic['severity']) => diag(src, 0, 9, { severity });
    const last = (s: LintSummary) => plain(s).trimEnd().split('\n').pop();
    expect(last(summary(file(src, [d('error')])))).toBe('✖ 1 error in 1 file (1 statement)');
    expect(
      last(
        summary(
          file(src, [d('error'), d('error'), d('warning'), d('info')], { statementCount: 40 }),
          file(src, []),
          file(src, [d('warning')], { statementCount: 2 }),
        ),
      ),
    ).toBe('✖ 2 errors, 2 warnings, 1 info in 2 of 3 files (43 statements)');
    expect(last(summary(file(src, [d('warning'), d('info'), d('info')])))).toBe(
      '⚠ 1 warning, 2 infos in 1 file (1 statement)',
    );
    expect(last(summary(file(src, []), file(src, [], { statementCount: 4 })))).toBe(
      '✓ No problems in 2 files (5 statements)',
    );
    expect(plain(summary())).toBe('No files checked\n');
  });

  it('lists every file with its settings in verbose mode', () => {
    const out = plain(uniqueExample(), true);
    const settings =
      'PG 18 (default — set pgVersion) · prisma (detected from prisma/migrations/<name>/migration.sql)';
    expect(out.startsWith(`migrations/000.sql  ${settings} · 1 statement  ✓ no problems\n`)).toBe(true);
    expect(out).toContain(`\nmigrations/001.sql  ${settings} · 3 statements  1 error, 1 warning\n\n`);
    expect(plain(summary(file('SELECT 1;\n', [])), true)).toMatch(
      /^migrations\/001\.sql {2}PG 18 · psql · 1 statement/,
    );
    expect(out).toContain('add-unique-constraint [safe alternative · blocks traffic]  statement 2: Adding');
  });

  it('streams one chunk per statement, identical to the string form', () => {
    const chunks: string[] = [];
    writePretty(uniqueExample(), { color: false }, (c) => chunks.push(c));
    // the assumptions, two statements, the end
    expect(chunks.length).toBe(4);
    expect(chunks.join('')).toBe(plain(uniqueExample()));

    // a file's findings are written as soon as the file is handed over
    const streamed: string[] = [];
    const reporter = createPrettyReporter({ color: false }, (c) => streamed.push(c));
    reporter.file(uniqueExample().files[1]!);
    expect(streamed.join('')).toContain('add-unique-constraint');
    reporter.finish();
    expect(streamed.join('')).toContain('✖ 1 error, 1 warning in 1 file (3 statements)\n');
  });
});

// ── json ────────────────────────────────────────────────────────────────────

/** Field names documented in docs/json-format.md, by section heading. */
function documentedKeys(): Map<string, string[]> {
  const doc = readFileSync(new URL('../docs/json-format.md', import.meta.url), 'utf8');
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of doc.split('\n')) {
    const heading = /^### (\w+)/.exec(line);
    if (heading) {
      current = [];
      sections.set(heading[1]!, current);
    } else if (line.startsWith('## ')) current = undefined;
    else if (current && /^\| `/.test(line)) {
      const cell = line.split('|')[1]!;
      current.push(...[...cell.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
    }
  }
  return sections;
}

describe('json report', () => {
  const parse = (s: LintSummary) => JSON.parse(formatJson(s, { toolVersion: '9.9.9' }));

  it('has exactly the documented keys, in the documented order', () => {
    const docs = documentedKeys();
    const report = parse(uniqueExample());
    const diagnostic = report.files[1].diagnostics[0];
    const objects: [string, object][] = [
      ['Report', report],
      ['Tool', report.tool],
      ['File', report.files[1]],
      ['SettingOrigin', report.files[1].runnerFrom],
      ['Diagnostic', diagnostic],
      ['Lock', diagnostic.lock],
      ['Fix', diagnostic.fix],
      ['Edit', diagnostic.fix.edits[0]],
      ['Summary', report.summary],
    ];
    expect([...docs.keys()].sort()).toEqual(objects.map(([name]) => name).sort());
    for (const [name, value] of objects) {
      const documented = docs.get(name)!;
      expect(Object.keys(value).sort(), name).toEqual([...documented].sort());
    }
    expect(Object.keys(diagnostic)).toEqual([
      'rule',
      'severity',
      'verdict',
      'hazard',
      'message',
      'help',
      'line',
      'column',
      'endLine',
      'endColumn',
      'start',
      'end',
      'statement',
      'docsUrl',
      'fingerprint',
      'lock',
      'fix',
    ]);
    expect(report.version).toBe(1);
    expect(report.tool).toEqual({ name: 'pgkeel', version: '9.9.9' });
    expect(report.summary).toEqual({ fileCount: 2, errorCount: 1, warningCount: 1, infoCount: 0 });
  });

  it('omits absent optional fields instead of writing null, and copies no undocumented ones', () => {
    const src = 'SELEC 1;\n';
    const d = { ...diag(src, 0, 5, { rule: 'parse-error' }), internal: { ast: 1 } } as Diagnostic;
    const text = formatJson(summary(file(src, [d])), { toolVersion: '1.0.0' });
    expect(text).not.toContain('null');
    const out = JSON.parse(text).files[0].diagnostics[0];
    expect(out).toEqual({
      rule: 'parse-error',
      severity: 'error',
      message: 'Something is wrong.',
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 6,
      start: 0,
      end: 5,
      statement: 0,
    });
  });

  it('gives edits 1-based, end-exclusive positions counted in UTF-16 code units', () => {
    const src = "SELECT '😀';\n\nCREATE INDEX i ON t (x);\nSELECT 1;\n";
    const [s, e] = at(src, 'CREATE INDEX i ON t (x);\n');
    const emoji = at(src, "';")[0];
    const d = diag(src, s, e - 1, {
      fix: {
        title: 'Fix',
        edits: [
          { start: s, end: e, text: 'CREATE INDEX CONCURRENTLY i ON t (x);\n' },
          { start: emoji, end: emoji, text: '!' },
          { start: s + 6, end: s + 6, text: '' },
        ],
      },
    });
    const [line3, afterEmoji, insertion] = parse(summary(file(src, [d]))).files[0].diagnostics[0].fix.edits;
    // the range includes the newline, so it ends at the start of the next line
    expect(line3).toMatchObject({ start: s, end: e, line: 3, column: 1, endLine: 4, endColumn: 1 });
    // `SELECT '` is 8 units and 😀 two more
    expect(afterEmoji).toMatchObject({ line: 1, column: 11, endLine: 1, endColumn: 11, text: '!' });
    expect(insertion).toMatchObject({ line: 3, column: 7, endLine: 3, endColumn: 7, text: '' });
  });

  it('sorts findings by position and keeps files in order, clean files included', () => {
    const report = parse(uniqueExample());
    expect(report.files.map((f: { path: string }) => f.path)).toEqual([
      'migrations/000.sql',
      'migrations/001.sql',
    ]);
    expect(report.files[0].diagnostics).toEqual([]);
    expect(report.files[1].diagnostics.map((d: { rule: string }) => d.rule)).toEqual([
      'add-unique-constraint',
      'require-concurrent-index',
    ]);
  });

  it('is exactly JSON.stringify output, indented or on one line', () => {
    for (const s of [uniqueExample(), summary()]) {
      const pretty = formatJson(s, { toolVersion: '1.0.0' });
      expect(pretty).toBe(`${JSON.stringify(JSON.parse(pretty), null, 2)}\n`);
      const compact = formatJson(s, { toolVersion: '1.0.0', indent: 0 });
      expect(compact).toBe(`${JSON.stringify(JSON.parse(pretty))}\n`);
    }
  });
});

// ── format registry ─────────────────────────────────────────────────────────

describe('formatReport', () => {
  it('dispatches on the format name', () => {
    const s = uniqueExample();
    expect(formatReport('json', s, { toolVersion: '1.2.3' })).toBe(formatJson(s, { toolVersion: '1.2.3' }));
    expect(formatReport('pretty', s, { toolVersion: '1.2.3' })).toBe(plain(s));
    expect(formatReport('pretty', s, { toolVersion: '1.2.3', color: true })).toContain('\x1b[');
  });

  it('recognises format names and rejects others', () => {
    expect(['pretty', 'sarif', 'xml', ''].map(isReportFormat)).toEqual([true, true, false, false]);
    expect(() => formatReport('xml' as ReportFormat, summary(), { toolVersion: '1' })).toThrow(
      /unknown report format "xml"/,
    );
  });
});
