/**
 * Findings about statements that name only an index say which table they lock: the lock queries
 * wait on is the table's, so naming the index as the locked relation misleads.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { lintSqlSync } from '../src/lint/lint.js';
import { loadParser } from '../src/parse/parse.js';

beforeAll(() => loadParser());

function locked(sql: string, rule: string): (string | undefined)[] {
  return lintSqlSync(sql, { presets: ['all'], pgVersion: 18 })
    .diagnostics.filter((d) => d.rule === rule)
    .map((d) => d.lock?.relation);
}

describe('DROP INDEX findings name the table', () => {
  it('as "the table of index …" when only the index is known', () => {
    const sql = 'BEGIN;\nDROP INDEX orders_a_idx;\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;';
    expect(locked(sql, 'drop-index-non-concurrently')).toEqual(['the table of index orders_a_idx']);
    expect(locked(sql, 'lock-timeout-missing')).toEqual(['the table of index orders_a_idx']);
    expect(locked(sql, 'statements-after-access-exclusive')).toEqual(['the table of index orders_a_idx']);
  });

  it('by name when an earlier statement created the index', () => {
    const sql =
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_a_idx ON orders (a);\nDROP INDEX orders_a_idx;';
    expect(locked(sql, 'drop-index-non-concurrently')).toEqual(['orders']);
  });
});
