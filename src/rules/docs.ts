/** Rule pages and listings, generated from the rule objects so docs cannot drift from behaviour. */

import type { Hazard } from '../diagnostics.js';
import { DONE_BY_PLAN_STEPS, defaultSeverity, type Rule, type RuleExample, TOOLS } from './define.js';
import { HAZARD_IDS, HAZARDS } from './hazards.js';
import { describeOptionType } from './options.js';

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

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `Blocks traffic`: a hazard's label as a heading. */
function hazardTitle(hazard: Hazard): string {
  return capitalize(HAZARDS[hazard].label);
}

/** A rule's page in Markdown (docs/rules/<id>.md and `pgkeel rules <id>`). */
export function rulePage(rule: Rule): string {
  const hazard = HAZARDS[rule.hazard];
  const severity = defaultSeverity(rule);
  const lines: string[] = [
    `# ${rule.id}`,
    '',
    `${rule.summary}`,
    '',
    `**Danger:** ${hazard.label} — ${hazard.description}.`,
    '',
    `**Verdict:** ${VERDICT_TEXT[rule.verdict]} · **Severity:** ${severity} · **Preset:** ${rule.recommended === false ? 'opt-in (`all`)' : 'recommended'}`,
    '',
  ];
  if (rule.severityReason && severity !== hazard.severity) {
    lines.push(`**Why ${severity}, not ${hazard.severity}:** ${rule.severityReason}`, '');
  }
  lines.push(
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
    '## Fix safety',
    '',
    rule.fixSafety
      ? `**${rule.fixSafety.level === 'safe' ? 'Safe' : 'Unsafe'}** (${rule.fixSafety.level === 'safe' ? 'applied by `pgkeel lint --fix`' : 'applied only with `--fix-unsafe`'}): ${rule.fixSafety.why}`
      : rule.plan
        ? 'No in-place fix for `pgkeel lint --fix`: the safe sequence needs more than an edit of this statement.'
        : 'No automatic fix: the safe alternative is not an edit of this statement alone.',
    '',
  );
  if (rule.plan) lines.push(`**In \`pgkeel fix\`'s plan** (safe): ${rule.plan}`, '');
  else if (DONE_BY_PLAN_STEPS.includes(rule.id))
    lines.push('`pgkeel fix` does this in every step of its plan: each sets the timeouts of its class.', '');
  else if (rule.hazard === 'schema-design' && rule.fixSafety)
    lines.push(
      "`pgkeel fix` does not use this fix: its plans change how a migration runs, not the schema's design.",
      '',
    );
  else if (rule.fixSafety)
    lines.push(
      '`pgkeel fix` uses the fix in its plan also where a transaction stands in the way: the plan runs the statement outside it, in a step of its own.',
      '',
    );
  const tools = TOOLS.filter((t) => rule.docs.tools?.[t]);
  if (tools.length > 0) {
    lines.push('## In your migration tool', '');
    for (const t of tools)
      lines.push(`- **${TOOL_NAMES[t]}:** ${rule.docs.tools![t]!.trim().replace(/\n/g, '\n  ')}`);
    lines.push('');
  }
  const options = ruleOptionsInfo(rule);
  if (options.length > 0) {
    lines.push(
      '## Options',
      '',
      `Set in the config as \`"${rule.id}": ["${defaultSeverity(rule) === 'warning' ? 'warn' : 'error'}", { ${options
        .map((o) => `"${o.name}": ${JSON.stringify(o.default)}`)
        .join(', ')} }]\`.`,
      '',
      '| option | type | default | meaning |',
      '|---|---|---|---|',
      ...options.map(
        (o) =>
          `| \`${o.name}\` | ${cell(o.type)} | \`${JSON.stringify(o.default)}\` | ${cell(o.description)} |`,
      ),
      '',
    );
  }
  lines.push('## Examples', '');
  for (const e of rule.examples) {
    const tags = [
      versions(e),
      e.runner ? `runner: ${e.runner}` : '',
      e.options ? `options: \`${JSON.stringify(e.options)}\`` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const head = `${e.bad ? '❌ Reported' : '✅ Not reported'}${e.title ? ` — ${e.title}` : ''}${tags ? ` (${tags})` : ''}`;
    lines.push(`${head}:`, '', '```sql', (e.bad ?? e.ok ?? '').trim(), '```', '');
    if (e.fixed) lines.push('Fixed:', '', '```sql', e.fixed.trim(), '```', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Text for a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export interface OptionInfo {
  name: string;
  /** for people: `integer ≥ 1`, `string[]` */
  type: string;
  default: unknown;
  description: string;
}

/** A rule's options as its page and `pgkeel rules --format json` describe them. */
export function ruleOptionsInfo(rule: Rule): OptionInfo[] {
  return Object.entries(rule.options ?? {}).map(([name, spec]) => ({
    name,
    type: describeOptionType(spec),
    default: spec.default,
    description: spec.description,
  }));
}

/** Whether the rule offers fixes: some example shows the fixed SQL (the tests check it is what the fix does). */
export function isFixable(rule: Rule): boolean {
  return rule.examples.some((e) => e.fixed !== undefined);
}

/** One line per rule, for `pgkeel rules`. */
export function rulesTable(rules: readonly Rule[]): string {
  const width = Math.max(...rules.map((r) => r.id.length));
  const rows = rules.map((r) => {
    const flag = r.recommended === false ? ' (opt-in)' : '';
    return `${r.id.padEnd(width)}  ${defaultSeverity(r).padEnd(7)}  ${HAZARDS[r.hazard].label.padEnd(14)}  ${r.summary}${flag}`;
  });
  return `${rows.join('\n')}\n\n${rules.length} rules. \`pgkeel rules <id>\` prints one rule's page.\n`;
}

/**
 * The rule list of docs/rules.md, a table per hazard (most urgent first); `pagesDir` is where the
 * rule pages are, relative to the page.
 */
export function rulesMarkdownTable(rules: readonly Rule[], pagesDir = 'rules'): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const sections: string[] = [];
  for (const hazard of HAZARD_IDS) {
    const group = rules.filter((r) => r.hazard === hazard);
    if (group.length === 0) continue;
    const rows = group.map(
      (r) =>
        `| [\`${r.id}\`](${pagesDir}/${r.id}.md) | ${VERDICT_TEXT[r.verdict]} | ${defaultSeverity(r)} | ${r.recommended === false ? 'opt-in' : 'yes'} | ${r.examples.some((e) => e.fixed !== undefined) ? 'yes' : ''} | ${cell(r.summary)} | ${cell(equivalentsLine(r))} |`,
    );
    sections.push(
      `## ${hazardTitle(hazard)} (${group.length})`,
      '',
      `${capitalize(HAZARDS[hazard].description)}.`,
      '',
      '| rule | verdict | severity | on by default | fix | what it catches | same check elsewhere |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    );
  }
  return sections.join('\n').trimEnd();
}

/** docs/rules.md: every rule, grouped by the kind of danger it reports, linked from the README. */
export function rulesIndexPage(rules: readonly Rule[]): string {
  const optIn = rules.filter((r) => r.recommended === false).length;
  const kinds = HAZARD_IDS.filter((h) => rules.some((r) => r.hazard === h));
  const links = kinds.map(
    (h) =>
      `[${HAZARDS[h].label}](#${HAZARDS[h].label.replace(/ /g, '-')}-${rules.filter((r) => r.hazard === h).length})`,
  );
  const bySeverity = (sev: string) =>
    kinds
      .filter((h) => HAZARDS[h].severity === sev)
      .map((h) => HAZARDS[h].label)
      .join(', ');
  return [
    '<!-- Generated by `npm run generate` from src/rules/all/ — do not edit. -->',
    '',
    '# Rules',
    '',
    `pgkeel has ${rules.length} rules; ${rules.length - optIn} run by default (the \`recommended\` preset) and ${optIn} are opt-in`,
    '(enable them one by one in the config, with `--enable <id>`, or all with `--all`). Each page says which lock the',
    'statement takes on which Postgres version, what that blocks, the safe way to do it, and how to do that in each',
    'migration tool. `pgkeel rules` prints this table for your config; `pgkeel rules <id>` prints a page.',
    '',
    `Each rule reports one kind of danger, and every finding names it: ${links.join(', ')}. The kind sets the`,
    `default severity — error for ${bySeverity('error')}; warning for ${bySeverity('warning')} — unless the rule's page says why not.`,
    '',
    'Verdicts: *Unsafe* — no safe way to do this on a live table; *Safe alternative exists* — shown in the finding,',
    'usually as a fix; *Safe, with advice* — a warning worth reading (the schema-design rules).',
    '',
    rulesMarkdownTable(rules),
    '',
  ].join('\n');
}

/** `pgkeel rules --format json`: metadata of every rule, stable keys. */
export function rulesJson(rules: readonly Rule[]) {
  return rules.map((r) => ({
    id: r.id,
    verdict: r.verdict,
    hazard: r.hazard,
    severity: defaultSeverity(r),
    ...(r.severityReason != null && { severityReason: r.severityReason }),
    recommended: r.recommended !== false,
    summary: r.summary,
    equivalents: {
      squawk: r.equivalents?.squawk ?? [],
      eugene: r.equivalents?.eugene ?? [],
      strongMigrations: r.equivalents?.strongMigrations ?? [],
    },
    fixable: isFixable(r),
    options: ruleOptionsInfo(r),
    docs: `docs/rules/${r.id}.md`,
  }));
}
