import { lintSqlSync } from '/work/main/src/lint/lint.js';
import { loadParser } from '/work/main/src/parse/parse.js';
await loadParser();
const [sql, runner, pg, rules] = [process.argv[2]!, process.argv[3] || 'psql', Number(process.argv[4] || 18), process.argv[5]];
const r = lintSqlSync(sql, { runner: runner as any, pgVersion: pg, presets: ['all'] });
for (const d of r.diagnostics) if (!rules || rules.split(',').includes(d.rule)) console.log(`${d.line}:${d.column} [${d.rule}/${d.severity}] ${d.message}\n   help: ${d.help ?? ''}${d.fix ? `\n   fix: ${JSON.stringify(d.fix)}` : ''}`);
