/** Rule pages and listings, generated from the rule objects so docs cannot drift from behaviour. */

import { defaultSeverity, type Rule, type RuleExample, TOOLS } from './define.js';

const TOOL_NAMES: Record<(typeof TOOLS)[number], string> = {
  prisma: 'Prisma',
  drizzle: 'Drizzle',
  knex: 'Knex',
  typeorm: 'TypeORM',
  sequelize: 'Sequelize',
  'node-pg-migrate': 'node-pg-migrate',
  alembic: 'Alembic',
  django: 'Django',
  rails: 'Rails',
};

const VERDICT_TEXT = { unsafe: 'Unsafe', alternative: 'Safe alternative exists', safe: 'Safe, with advice' };

function versions(e: RuleExample): string {
  const min = e.pg?.min;
  const max = e.pg?.max;
  if (min === undefined && max === undefined) return '';
  if (min !== undefined && max !== undefined) return min === max ? `PG ${min}` : `PG ${min}–${max}`;
  return min !== undefined ? `PG ${min}+` : `PG ≤ ${max}`;
}

function equivalentsLine(rule: Rule): string {
  const e = rule.equivalents ?? {};
  const parts = [
    e.squawk?.length ? `squawk: ${e.squawk.map((s) => `\`${s}\``).join(', ')}` : '',
    e.eugene?.length ? `eugene: ${e.eugene.map((s) => `\`${s}\``).join(', ')}` : '',
    e.strongMigrations?.length
      ? `strong_migrations: ${e.strongMigrations.map((s) => `\`${s}\``).join(', ')}`
      : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'none';
}

/** A rule's page in Markdown (docs/rules/<id>.md and `pgkeel rules <id>`). */
export function rulePage(rule: Rule): string {
  const lines: string[] = [
    `# ${rule.id}`,
    '',
    `${rule.summary}`,
    '',
    `**Verdict:** ${VERDICT_TEXT[rule.verdict]} · **Severity:** ${defaultSeverity(rule)} · **Preset:** ${rule.recommended === false ? 'opt-in (`all`)' : 'recommended'}`,
    '',
    `**Same check elsewhere:** ${equivalentsLine(rule)}`,
    '',
    '## Problem',
    '',
    rule.docs.problem.trim(),
    '',
    '## Solution',
    '',
    rule.docs.solution.trim(),
    '',
  ];
  const tools = TOOLS.filter((t) => rule.docs.tools?.[t]);
  if (tools.length > 0) {
    lines.push('## In your migration tool', '');
    for (const t of tools)
      lines.push(`- **${TOOL_NAMES[t]}:** ${rule.docs.tools![t]!.trim().replace(/\n/g, '\n  ')}`);
    lines.push('');
  }
  lines.push('## Examples', '');
  for (const e of rule.examples) {
    const tags = [versions(e), e.runner ? `runner: ${e.runner}` : ''].filter(Boolean).join(', ');
    const head = `${e.bad ? '❌ Reported' : '✅ Not reported'}${e.title ? ` — ${e.title}` : ''}${tags ? ` (${tags})` : ''}`;
    lines.push(`${head}:`, '', '```sql', (e.bad ?? e.ok ?? '').trim(), '```', '');
    if (e.fixed) lines.push('Fixed:', '', '```sql', e.fixed.trim(), '```', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** One line per rule, for `pgkeel rules`. */
export function rulesTable(rules: readonly Rule[]): string {
  const width = Math.max(...rules.map((r) => r.id.length));
  const rows = rules.map((r) => {
    const flag = r.recommended === false ? ' (opt-in)' : '';
    return `${r.id.padEnd(width)}  ${defaultSeverity(r).padEnd(7)}  ${r.summary}${flag}`;
  });
  return `${rows.join('\n')}\n\n${rules.length} rules. \`pgkeel rules <id>\` prints one rule's page.\n`;
}

/** The README's rule list (between the markers in README.md). */
export function rulesMarkdownTable(rules: readonly Rule[]): string {
  const rows = rules.map(
    (r) =>
      `| [\`${r.id}\`](docs/rules/${r.id}.md) | ${VERDICT_TEXT[r.verdict]} | ${r.summary.replace(/\|/g, '\\|')} | ${equivalentsLine(r).replace(/\|/g, '\\|')} |`,
  );
  return ['| rule | verdict | what it catches | same check elsewhere |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}

/** `pgkeel rules --format json`: metadata of every rule, stable keys. */
export function rulesJson(rules: readonly Rule[]) {
  return rules.map((r) => ({
    id: r.id,
    verdict: r.verdict,
    severity: defaultSeverity(r),
    recommended: r.recommended !== false,
    summary: r.summary,
    equivalents: {
      squawk: r.equivalents?.squawk ?? [],
      eugene: r.equivalents?.eugene ?? [],
      strongMigrations: r.equivalents?.strongMigrations ?? [],
    },
    docs: `docs/rules/${r.id}.md`,
  }));
}
