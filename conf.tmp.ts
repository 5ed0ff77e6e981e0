import { readFileSync } from 'node:fs';
import { lintSqlSync } from './src/lint/lint.js';
import { loadParser } from './src/parse/parse.js';
import { allRules } from './src/rules/index.js';
await loadParser();
const dir = '/work/shared/conformance/squawk';
const mine = new Set(process.argv.slice(2));
const rows = readFileSync(`${dir}/manifest.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
for (const [file, expected, under, , flags] of rows) {
  if (!mine.has(under!)) continue;
  const sql = readFileSync(`${dir}/cases/${file}`, 'utf8');
  const r = lintSqlSync(sql, { presets: ['all'], runner: flags?.includes('assume-in-transaction') ? 'transaction-per-file' : 'psql' });
  const got = new Set<string>();
  for (const d of r.diagnostics) for (const s of allRules.find((x) => x.id === d.rule)?.equivalents?.squawk ?? []) got.add(s);
  let ok: boolean;
  if (expected === 'none') ok = !got.has(under!) && !(under === 'require-timeout-settings' && (got.has('require-lock-timeout') || got.has('require-statement-timeout')));
  else if (expected!.includes('|')) ok = expected!.split('|').some((e) => got.has(e));
  else ok = expected!.split(',').every((e) => got.has(e));
  console.log(`${ok ? 'OK  ' : 'DIFF'} ${file} expected=${expected} got=${[...got].join(',')}`);
}
