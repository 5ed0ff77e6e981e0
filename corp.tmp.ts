import { readFileSync } from 'node:fs';
import { globSync } from 'tinyglobby';
import { lintSqlSync } from './src/lint/lint.js';
import { loadParser } from './src/parse/parse.js';
await loadParser();
const [dir, runner, only] = process.argv.slice(2);
const mine = ['drop-index-non-concurrently','concurrently-in-transaction','change-column-type','rename-table','rename-column','unbatched-data-migration','lock-timeout-missing','statement-timeout-missing'];
const counts: Record<string, number> = {};
const samples: Record<string, string[]> = {};
const files = globSync('**/*.sql', { cwd: dir!, absolute: true });
for (const f of files) {
  const sql = readFileSync(f, 'utf8');
  const r = lintSqlSync(sql, { presets: ['all'], runner: runner as any, path: f });
  for (const d of r.diagnostics) {
    if (!mine.includes(d.rule) && d.rule !== 'parse-error') continue;
    counts[d.rule] = (counts[d.rule] ?? 0) + 1;
    (samples[d.rule] ??= []).push(`${f.replace(dir!, '')}:${d.line}: ${sql.slice(d.start, Math.min(d.end, d.start + 100)).replace(/\s+/g, ' ')}  => ${d.message.slice(0, 160)}`);
  }
}
console.log(files.length, 'files', counts);
for (const [k, v] of Object.entries(samples)) if (!only || k === only) console.log(k, '\n  ' + v.slice(0, 6).join('\n  '));
