/**
 * `pgkeel rules [id]`: the rule table under the config that applies in the current directory, or
 * one rule's page. Loaded on demand by main.ts: rule pages describe option types through zod, which
 * the lint path does not otherwise load.
 */

import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { closest } from '../config/suggest.js';
import type { LoadedConfig } from '../config/types.js';
import type { Severity } from '../diagnostics.js';
import { activeRules } from '../lint/lint.js';
import type { Rule } from '../rules/define.js';
import { isFixable, rulePage, rulesJson } from '../rules/docs.js';
import { hazardLabel } from '../rules/hazards.js';
import { allRules } from '../rules/index.js';

export const RULES_FORMATS = ['pretty', 'markdown', 'json'] as const;
export type RulesFormat = (typeof RULES_FORMATS)[number];

export interface RulesCommandOptions {
  id?: string;
  format?: RulesFormat;
  cwd: string;
  /** `--config`: load this file instead of searching from cwd */
  configPath?: string;
  /** terminal width: long summaries are cut to fit */
  columns?: number;
}

export type RulesCommandResult = { ok: true; output: string } | { ok: false; message: string };

const VERDICT = { unsafe: 'unsafe', alternative: 'alternative', safe: 'advice' } as const;

export interface RuleRow {
  id: string;
  verdict: string;
  /** the kind of danger in words: `blocks traffic` */
  danger: string;
  fixable: boolean;
  /** `error`, `warning` or `off` under the config */
  status: Severity | 'off';
  /** where the status comes from: the preset, or the config's `rules` */
  from: 'preset' | 'config' | 'opt-in';
  summary: string;
}

/** Every rule with its state under the config. */
export function ruleRows(loaded: LoadedConfig, rules: readonly Rule[] = allRules): RuleRow[] {
  const active = new Map(
    activeRules({ presets: loaded.config.presets, rules: loaded.config.rules, ruleSet: rules }).map((a) => [
      a.rule.id,
      a.severity,
    ]),
  );
  return rules.map((rule) => ({
    id: rule.id,
    verdict: VERDICT[rule.verdict],
    danger: hazardLabel(rule.hazard),
    fixable: isFixable(rule),
    status: active.get(rule.id) ?? 'off',
    from:
      loaded.config.rules?.[rule.id] !== undefined
        ? 'config'
        : rule.recommended === false
          ? 'opt-in'
          : 'preset',
    summary: rule.summary,
  }));
}

export async function rulesCommand(options: RulesCommandOptions): Promise<RulesCommandResult> {
  const ids = allRules.map((r) => r.id);
  if (options.id !== undefined) {
    const rule = allRules.find((r) => r.id === options.id);
    if (!rule) {
      const hint = closest(options.id, ids);
      return {
        ok: false,
        message: `unknown rule "${options.id}"${hint ? ` (did you mean "${hint}"?)` : ''}; \`pgkeel rules\` lists them`,
      };
    }
    return {
      ok: true,
      output:
        options.format === 'json' ? `${JSON.stringify(rulesJson([rule])[0], null, 2)}\n` : rulePage(rule),
    };
  }
  if (options.format === 'json')
    return { ok: true, output: `${JSON.stringify(rulesJson(allRules), null, 2)}\n` };
  const loaded = await loadConfig({ cwd: options.cwd, configPath: options.configPath, knownRules: ids });
  const rows = ruleRows(loaded);
  const on = rows.filter((r) => r.status !== 'off').length;
  const source = loaded.filepath
    ? `the config in ${path.relative(options.cwd, loaded.filepath) || loaded.filepath}`
    : 'no config file (the recommended preset)';
  const footer = `${rows.length} rules, ${on} on under ${source}. \`pgkeel rules <id>\` prints a rule's page.`;
  const table = options.format === 'markdown' ? markdownTable(rows) : textTable(rows, options.columns);
  return { ok: true, output: `${table}\n\n${footer}\n` };
}

const statusText = (r: RuleRow) => (r.status === 'off' && r.from === 'opt-in' ? 'off (opt-in)' : r.status);

/**
 * Hand-written rather than cli-table3: the cells are single-line ASCII from a fixed vocabulary, and
 * plain space-aligned columns stay easy to grep and cut, which a boxed table does not.
 */
export function textTable(rows: readonly RuleRow[], columns?: number): string {
  const head = ['RULE', 'VERDICT', 'DANGER', 'FIX', 'STATUS', 'SUMMARY'];
  const cells = rows.map((r) => [
    r.id,
    r.verdict,
    r.danger,
    r.fixable ? 'yes' : '',
    statusText(r),
    r.summary,
  ]);
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => {
    const text = [...c.slice(0, -1).map((v, i) => v.padEnd(widths[i]!)), c.at(-1)!].join('  ');
    return columns !== undefined && text.length > columns ? `${text.slice(0, columns - 1)}…` : text;
  };
  return [line(head), ...cells.map(line)].join('\n');
}

export function markdownTable(rows: readonly RuleRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| rule | verdict | danger | fixable | status | summary |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| [\`${r.id}\`](docs/rules/${r.id}.md) | ${r.verdict} | ${r.danger} | ${r.fixable ? 'yes' : ''} | ${statusText(r)} | ${cell(r.summary)} |`,
    ),
  ].join('\n');
}
