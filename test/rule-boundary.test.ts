/**
 * Rules read the AST through the typed accessors of src/analyze/nodes.ts (over `@pgsql/types`), never
 * through `any`: a misspelt field or enum value (`'CONSTR_FOREING'`) must be a compile error, not a rule
 * that silently never fires. This keeps `any` and casts of the statement node out of src/rules/all/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const RULES = resolve('src/rules/all');

/** What a rule file must not contain, with why. */
const FORBIDDEN: { pattern: RegExp; why: string }[] = [
  { pattern: /\bAnyNode\b/, why: 'AnyNode (use the typed accessors of analyze/nodes.ts)' },
  { pattern: /\bas\s+any\b/, why: '`as any`' },
  // `: any` as a type annotation (`x: any;`, `(n: any)`, `: any[]`), not prose such as `: any table`
  { pattern: /:\s*any\b(?![ \t]+[A-Za-z])/, why: '`: any`' },
  { pattern: /\bnoExplicitAny\b/, why: 'a biome-ignore of noExplicitAny' },
  {
    pattern: /\.node\)?\s+as\b/,
    why: 'a cast of a node (`facts.statement.node as …`): use statementOf / asNode',
  },
  { pattern: /<[^<>]*>\s*[\w.]*\.node\b/, why: 'an angle-bracket cast of a node' },
  {
    pattern: /\.node\??\.[A-Za-z_$]/,
    why: 'a field read off a raw node (`action.node.subtype`): use the accessors',
  },
];

/** Each forbidden construct in `text`, as `line N: why`. */
function violations(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { pattern, why } of FORBIDDEN) if (pattern.test(line)) found.push(`line ${i + 1}: ${why}`);
  });
  return found;
}

describe('rule files', () => {
  it('use typed AST accessors: no any, no casts of the statement node', () => {
    const files = readdirSync(RULES).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    const found: Record<string, string[]> = {};
    for (const f of files) {
      const v = violations(readFileSync(join(RULES, f), 'utf8'));
      if (v.length > 0) found[f] = v;
    }
    expect(found).toEqual({});
  });

  it('the check finds each forbidden construct', () => {
    for (const line of [
      "import type { AnyNode } from '../../analyze/ast.js';",
      'const s = (facts.statement.node as AnyNode).AlterTableStmt;',
      'const s = (facts.statement.node as { AlterTableStmt: AlterTableStmt }).AlterTableStmt;',
      'const c = action.node as Constraint;',
      'const x = y as any;',
      'function f(n: any) {}',
      'let list: any[] = [];',
      '// biome-ignore lint/suspicious/noExplicitAny: loose',
      'const s = (<AlterTableStmt>facts.statement.node);',
      "const unlogged = action.node?.subtype === 'AT_SetUnLogged';",
    ])
      expect(violations(line), line).not.toEqual([]);
  });

  it('prose and ordinary code pass', () => {
    for (const line of [
      'message: `fails if the table has any rows: they would all get NULL.`,',
      ' * `many`: anything else, which may pick every row',
      'Note: any table that uses the type is rewritten.',
      "const s = statementOf(facts, 'AlterTableStmt');",
      'walkNodes(facts.statement.node, (kind, body) => {',
      'const n = facts.statement.node;',
    ])
      expect(violations(line), line).toEqual([]);
  });
});
