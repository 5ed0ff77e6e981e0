/**
 * `lint --fix`: applies a file's fixes whose edits stay inside their statements, safe ones only
 * unless unsafe ones are asked for, and re-lints the result. A fix that would bring a finding the
 * file did not have is not applied. Passes repeat (as ESLint's do) while fixes keep applying.
 */

import type { Diagnostic, FileResult } from '../diagnostics.js';
import { allRules } from '../rules/index.js';
import { applyFixes } from './apply.js';

export interface FixOptions {
  /** also apply fixes classified unsafe (`--fix-unsafe`) */
  unsafe?: boolean;
}

/** Enough for fixes uncovered by earlier ones; ESLint stops at 10 too. */
const MAX_PASSES = 10;

/**
 * The file after its fixes, re-linted by `lint` (the same settings as the first lint), and how many
 * fixes were applied. The result's `source` is the fixed text.
 */
export function fixFile(
  result: FileResult,
  lint: (text: string) => FileResult,
  options: FixOptions = {},
): { result: FileResult; applied: number } {
  let current = result;
  let applied = 0;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const eligible = current.diagnostics.filter(
      (d) => d.fix && d.fix.edits.length > 0 && (options.unsafe || d.fix.safety === 'safe'),
    );
    if (eligible.length === 0) break;
    const next = bestFixes(current, eligible, lint);
    if (!next) break;
    current = next.result;
    applied += next.applied;
  }
  return { result: current, applied };
}

/** All eligible fixes at once; if that brings a new finding, each fix alone, keeping those that do not. */
function bestFixes(
  current: FileResult,
  eligible: Diagnostic[],
  lint: (text: string) => FileResult,
): { result: FileResult; applied: number } | undefined {
  const all = applyFixes(current.source, eligible);
  if (all.applied > 0) {
    const relinted = lint(all.text);
    if (!bringsNew(current, relinted)) return { result: relinted, applied: all.applied };
  }
  for (const d of eligible) {
    const one = applyFixes(current.source, [d]);
    if (one.applied === 0) continue;
    const relinted = lint(one.text);
    if (!bringsNew(current, relinted)) return { result: relinted, applied: 1 };
  }
  return undefined;
}

/** Rules whose findings do not hold a fix back (see `RuleMeta.ignoredByFixCheck`). */
const IGNORED = new Set(allRules.filter((r) => r.ignoredByFixCheck).map((r) => r.id));

/** A rule reports more often after the fix than before it (fingerprints change with the fixed text). */
export function bringsNew(before: FileResult, after: FileResult): boolean {
  const count = (r: FileResult) => {
    const m = new Map<string, number>();
    for (const d of r.diagnostics) m.set(d.rule, (m.get(d.rule) ?? 0) + 1);
    return m;
  };
  const was = count(before);
  for (const [rule, n] of count(after)) if (!IGNORED.has(rule) && n > (was.get(rule) ?? 0)) return true;
  return false;
}
