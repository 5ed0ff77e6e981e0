/** Where users read about a rule: its generated page in the repository (docs/rules/<id>.md). */

export const REPOSITORY_URL = 'https://github.com/pgkeel/pgkeel';
const RULE_PAGES = `${REPOSITORY_URL}/blob/main/docs/rules/`;

/** The page of a built-in rule. The engine's own findings (`parse-error`, `unused-ignore`, …) have none. */
export function ruleDocsUrl(ruleId: string): string {
  return `${RULE_PAGES}${ruleId}.md`;
}
