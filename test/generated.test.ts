import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleFiles, staleFiles } from '../scripts/generate.js';
import { allRules } from '../src/rules/index.js';

describe('generated files', () => {
  it('the rule index, rule pages and README rule table match the rule files', async () => {
    expect(await staleFiles()).toEqual([]);
  });

  it('every rule file is in the index and has a page', () => {
    expect(allRules.map((r) => `${r.id}.ts`).sort()).toEqual(ruleFiles());
    expect(readdirSync('docs/rules').sort()).toEqual(allRules.map((r) => `${r.id}.md`).sort());
  });
});
