import { beforeAll, describe, expect, it } from 'vitest';
import { Analyzer } from '../src/analyze/analyze.js';
import { runnerModel } from '../src/analyze/runners.js';
import {
  endsTransactionBlock,
  opensTransactionBlock,
  transactionControl,
} from '../src/analyze/transaction-control.js';
import { endsTransaction } from '../src/explain/explain.js';
import { lintSqlSync } from '../src/lint/lint.js';
import { loadParser, parseSql, type Statement } from '../src/parse/parse.js';
import { allRules } from '../src/rules/index.js';

beforeAll(() => loadParser());

function statements(sql: string): Statement[] {
  return parseSql(sql).statements;
}

describe('transactionControl', () => {
  it('decodes every transaction control statement', () => {
    const sql = `BEGIN; START TRANSACTION; COMMIT; COMMIT AND CHAIN; END; ROLLBACK; ABORT;
      SAVEPOINT s1; RELEASE SAVEPOINT s1; ROLLBACK TO SAVEPOINT s1;
      PREPARE TRANSACTION 'g1'; COMMIT PREPARED 'g1'; ROLLBACK PREPARED 'g2'; SELECT 1;`;
    expect(statements(sql).map((s) => transactionControl(s))).toEqual([
      { kind: 'begin', start: false },
      { kind: 'begin', start: true },
      { kind: 'commit', chain: false },
      { kind: 'commit', chain: true },
      { kind: 'commit', chain: false },
      { kind: 'rollback', chain: false },
      { kind: 'rollback', chain: false },
      { kind: 'savepoint', name: 's1' },
      { kind: 'release', name: 's1' },
      { kind: 'rollback-to', name: 's1' },
      { kind: 'prepare', gid: 'g1' },
      { kind: 'commit-prepared', gid: 'g1' },
      { kind: 'rollback-prepared', gid: 'g2' },
      undefined,
    ]);
  });

  it('says which statements open and end a transaction block', () => {
    const sql = `BEGIN; START TRANSACTION; COMMIT; ROLLBACK; SAVEPOINT s; RELEASE s; ROLLBACK TO s;
      PREPARE TRANSACTION 'g'; COMMIT PREPARED 'g'; ROLLBACK PREPARED 'g'; SELECT 1;`;
    const controls = statements(sql).map((s) => transactionControl(s));
    expect(controls.map(opensTransactionBlock)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(controls.map(endsTransactionBlock)).toEqual([
      false,
      false,
      true,
      true,
      false,
      false,
      false,
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('COMMIT PREPARED and ROLLBACK PREPARED end the transaction block everywhere', () => {
  for (const end of ["COMMIT PREPARED 'g'", "ROLLBACK PREPARED 'g'"]) {
    const sql = `BEGIN;\nCREATE TABLE a (id bigint);\n${end};\nSELECT 1;`;

    it(`in the analyzer (${end})`, () => {
      const analyzer = new Analyzer({ pgVersion: 16, runner: runnerModel('psql') });
      const ids = statements(sql).map((s) => {
        const facts = analyzer.analyze(s);
        analyzer.apply(facts);
        return facts.transaction?.id;
      });
      expect(ids).toEqual([1, 1, 1, undefined]);
    });

    it(`in explain (${end})`, () => {
      expect(statements(sql).map(endsTransaction)).toEqual([false, false, true, false]);
    });

    it(`for uncommitted-transaction (${end})`, () => {
      const rule = allRules.find((r) => r.id === 'uncommitted-transaction')!;
      const result = lintSqlSync(sql, { ruleSet: [rule], presets: ['all'] });
      expect(result.diagnostics.filter((d) => d.rule === rule.id)).toEqual([]);
    });
  }
});
