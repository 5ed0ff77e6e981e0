/**
 * The documents pgkeel was conceived from: their unsafe statements are flagged, with the safe sequence they
 * describe as the fix, and those safe sequences lint clean with the recommended rules.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyFixes } from '../src/fix/apply.js';
import { lintSqlSync } from '../src/lint/lint.js';
import { loadParser, parseSql } from '../src/parse/parse.js';

beforeAll(() => loadParser());

const findings = (sql: string, pgVersion = 16) =>
  lintSqlSync(sql, { pgVersion }).diagnostics.map((d) => ({ rule: d.rule, line: d.line, fix: d.fix }));

describe('a UNIQUE constraint (rule page for disallowed-unique-constraint)', () => {
  it('flags ADD CONSTRAINT … UNIQUE and rewrites it into the concurrent build + USING INDEX', () => {
    const sql = 'ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE (dist_id);';
    const unique = findings(sql).find((d) => d.rule === 'add-unique-constraint');
    expect(unique).toBeDefined();
    expect(
      applyFixes(
        sql,
        lintSqlSync(sql).diagnostics.filter((d) => d.rule === 'add-unique-constraint'),
      ).text,
    ).toBe(
      'CREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);\n' +
        'ALTER TABLE distributors ADD CONSTRAINT dist_id_uniq UNIQUE USING INDEX dist_id_uniq;',
    );
  });

  it('flags the ADD COLUMN … UNIQUE variant (the page’s column list form is not valid Postgres)', () => {
    expect(
      parseSql('ALTER TABLE distributors ADD COLUMN dist_id text CONSTRAINT dist_id_uniq UNIQUE (dist_id);')
        .errors,
    ).toHaveLength(1);
    const sql = 'ALTER TABLE distributors ADD COLUMN dist_id text CONSTRAINT dist_id_uniq UNIQUE;';
    expect(findings(sql).map((d) => d.rule)).toContain('add-unique-constraint');
  });

  it('lints the safe sequence clean', () => {
    const safe = `SET lock_timeout = '2s';
ALTER TABLE distributors ADD COLUMN dist_id text;
CREATE UNIQUE INDEX CONCURRENTLY dist_id_uniq ON distributors (dist_id);
ALTER TABLE distributors ADD CONSTRAINT distributors_dist_id_key UNIQUE USING INDEX dist_id_uniq;`;
    expect(findings(safe)).toEqual([]);
  });
});

describe('a CHECK constraint without downtime (how-to)', () => {
  it('flags the one-step CHECK and fixes it to NOT VALID', () => {
    const sql = 'alter table t add constraint c_id_is_positive check (id > 0);';
    const check = lintSqlSync(sql).diagnostics.filter((d) => d.rule === 'add-check-constraint');
    expect(check).toHaveLength(1);
    expect(applyFixes(sql, check).text).toBe(
      'alter table t add constraint c_id_is_positive check (id > 0) not valid;'.replace(
        'not valid',
        'NOT VALID',
      ),
    );
  });

  it('lints the two-step sequence clean, with the brief lock bounded by lock_timeout', () => {
    const safe = `set lock_timeout = '2s';
alter table t add constraint c_id_is_positive check (id > 0) not valid;
-- a separate transaction
alter table t validate constraint c_id_is_positive;`;
    expect(findings(safe)).toEqual([]);
  });

  it('flags VALIDATE in the transaction that added the constraint', () => {
    const sql = `BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE t ADD CONSTRAINT c_id_is_positive CHECK (id > 0) NOT VALID;
ALTER TABLE t VALIDATE CONSTRAINT c_id_is_positive;
COMMIT;`;
    expect(findings(sql).map((d) => `${d.line}:${d.rule}`)).toEqual(['4:validate-in-same-transaction']);
  });
});
