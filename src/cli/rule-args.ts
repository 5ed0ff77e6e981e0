/** Parsing of repeatable rule-id flags (`--rule`, `--enable`, `--disable`). */

import { InvalidArgumentError } from 'commander';
import { closest } from '../config/suggest.js';
import { allRules } from '../rules/index.js';

const RULE_IDS = allRules.map((r) => r.id);

/** A commander argument parser: appends a known rule id, or fails with a did-you-mean (exit 2). */
export function ruleIdArg(value: string, previous: string[] | undefined): string[] {
  // `--disable a,b` reads naturally too
  const ids = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (RULE_IDS.includes(id)) continue;
    const hint = closest(id, RULE_IDS);
    throw new InvalidArgumentError(
      `unknown rule "${id}"${hint ? ` (did you mean "${hint}"?)` : ''}; \`pgkeel rules\` lists them.`,
    );
  }
  return [...(previous ?? []), ...ids];
}
