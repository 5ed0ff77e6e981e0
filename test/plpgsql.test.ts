import { beforeAll, describe, expect, it } from 'vitest';
import { lintSqlSync } from '../src/lint/lint.js';
import { loadParser, parseSql } from '../src/parse/parse.js';
import { embeddedStatements } from '../src/parse/plpgsql.js';

beforeAll(async () => {
  await loadParser();
});

function lint(sql: string, rules?: string[]) {
  const found = lintSqlSync(sql).diagnostics;
  return rules ? found.filter((d) => rules.includes(d.rule)) : found;
}

/** 1-based line and column of the first occurrence of `needle` */
function at(sql: string, needle: string): { line: number; column: number } {
  const i = sql.indexOf(needle);
  const before = sql.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

describe('DO blocks', () => {
  it('reports ADD CONSTRAINT … FOREIGN KEY where it sits inside the block', () => {
    const sql = `-- Prisma/Drizzle style idempotent constraint
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_user_fk') THEN
    ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
  END IF;
END $$;
`;
    const [d, ...rest] = lint(sql, ['add-foreign-key']);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({
      rule: 'add-foreign-key',
      ...at(sql, 'CONSTRAINT orders_user_fk FOREIGN'),
      endLine: 5,
      statement: 0,
    });
    expect(d!.message).toContain('(inside the DO block on line 2)');
    expect(d!.fix).toBeUndefined();
    expect(sql.slice(d!.start, d!.end)).toBe(
      'CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)',
    );
  });

  it('reports CREATE INDEX without CONCURRENTLY inside a DO block, with no fix', () => {
    const sql = `DO $$ BEGIN\n  CREATE INDEX orders_note_idx ON orders (note);\nEND $$;`;
    const found = lint(sql, ['create-index-non-concurrently']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 2, column: 3 });
    expect(found[0]!.fix).toBeUndefined();
    expect(found[0]!.help).toContain('move the safe sequence out of the block');
  });

  it('recovers EXECUTE of a constant string', () => {
    const sql = `DO $$\nBEGIN\n  EXECUTE 'CREATE INDEX orders_note_idx ON orders (note)';\nEND $$;`;
    const found = lint(sql, ['create-index-non-concurrently']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject(at(sql, 'CREATE INDEX'));
    // EXECUTE of a computed string is not guessed at
    expect(
      lint(`DO $$ BEGIN EXECUTE format('CREATE INDEX %I ON orders (note)', 'i'); END $$;`, [
        'create-index-non-concurrently',
      ]),
    ).toEqual([]);
  });

  it('reports nothing for a block of SELECT, PERFORM and RAISE', () => {
    const sql = `DO $$
DECLARE n int;
BEGIN
  SELECT count(*) INTO n FROM orders;
  PERFORM pg_sleep(0);
  RAISE NOTICE 'orders: %', n;
END $$;`;
    expect(lint(sql)).toEqual([]);
  });

  it('does not crash on a body PL/pgSQL rejects', () => {
    const sql = `DO $$ BEGIN IF THEN END; END $$;\nDO $$ BEGIN SELECT 1 INTO undeclared; END $$;\nDO LANGUAGE plperl $$ 1 $$;`;
    expect(lint(sql).filter((d) => d.rule === 'internal-error' || d.rule === 'parse-error')).toEqual([]);
  });

  it('runs the block in one transaction: its statements share locks', () => {
    const sql = `DO $$ BEGIN
  ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
  ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
END $$;`;
    const { file, statements } = parseSql(sql);
    const inner = embeddedStatements(file, statements[0]!, 0);
    expect(inner.map((s) => s.kind)).toEqual(['AlterTableStmt', 'AlterTableStmt']);
    expect(inner[1]!.text).toBe('ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk');
    expect(inner[0]!.embeddedIn).toMatchObject({ kind: 'do', start: 0 });
    // validating in the transaction that added it NOT VALID gains nothing
    expect(lint(sql).some((d) => d.line === 3)).toBe(true);
  });
});

describe('function bodies', () => {
  const fn = `CREATE OR REPLACE FUNCTION migrate_orders() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  CREATE INDEX orders_note_idx ON orders (note);
END
$fn$;
`;

  it('lints the body where the function is called in the file', () => {
    const sql = `${fn}SELECT migrate_orders();\nDROP FUNCTION migrate_orders();\n`;
    const found = lint(sql, ['create-index-non-concurrently']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ ...at(sql, 'CREATE INDEX'), statement: 1 });
    expect(found[0]!.message).toContain('(in function migrate_orders, called on line 6)');
  });

  it('does not lint a function that is never called', () => {
    expect(lint(fn, ['create-index-non-concurrently'])).toEqual([]);
  });

  it('lints a LANGUAGE sql procedure at CALL, once', () => {
    const sql = `CREATE PROCEDURE add_note() LANGUAGE sql AS $$
  UPDATE orders SET note = '' WHERE note IS NULL;
  CREATE INDEX orders_note_idx ON orders (note);
$$;
CALL add_note();
CALL add_note();
`;
    const found = lint(sql, ['create-index-non-concurrently']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject(at(sql, 'CREATE INDEX'));
  });

  it('follows a call from a DO block, and stops at recursion', () => {
    const sql = `CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CREATE INDEX orders_note_idx ON orders (note);
  PERFORM f();
END $$;
DO $$ BEGIN PERFORM f(); END $$;
`;
    expect(lint(sql, ['create-index-non-concurrently'])).toHaveLength(1);
  });
});

describe('"since line" in findings about a held lock', () => {
  it('names the DO block statement that took ACCESS EXCLUSIVE, not a later one of the block', () => {
    const sql = `BEGIN;
DO $$
BEGIN
  ALTER TABLE orders ADD COLUMN note text;
  ALTER TABLE orders ADD COLUMN memo text;
END $$;
CREATE INDEX orders_status_idx ON orders (status);
COMMIT;
`;
    const [d] = lint(sql, ['statements-after-access-exclusive']);
    expect(d?.message).toContain('ACCESS EXCLUSIVE on orders since line 4,');
  });

  it('names the statement that took the mode in the message, not the first weaker lock', () => {
    const sql = `BEGIN;
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX customers_email_idx ON customers (email);
COMMIT;
`;
    const [d] = lint(sql, ['statements-after-access-exclusive']);
    expect(d?.message).toContain('ACCESS EXCLUSIVE on orders since line 3,');
  });

  it('unbatched-data-migration names where the held mode was taken', () => {
    const sql = `BEGIN;
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN note text;
UPDATE orders SET note = status;
COMMIT;
`;
    const [d] = lint(sql, ['unbatched-data-migration']);
    expect(d?.message).toContain('ACCESS EXCLUSIVE on orders (since line 3)');
  });
});
