/**
 * `pgkeel lint`'s "only what is new" flags: --changed-since, --baseline, --write-baseline and
 * --all-history. Turns them into lintFiles options and a per-file filter, and says on stderr what
 * they left out, so a run that reports nothing never hides why.
 */

import type { FileResult } from '../diagnostics.js';
import { Baseline, type BaselineEntry, DEFAULT_BASELINE_FILE } from '../lint/baseline.js';
import type { SkipReason } from '../sources/configured.js';
import { InputError } from '../sources/errors.js';

export interface HistoryFlags {
  changedSince?: string;
  baseline?: string;
  /** `true` when given without a file */
  writeBaseline?: string | boolean;
  allHistory?: boolean;
}

export interface HistoryScope {
  /** options for lintFiles */
  lintOptions: {
    changedSince?: string;
    allHistory: boolean;
    onSkipped: (path: string, reason: SkipReason) => void;
  };
  /** the findings to report for a linted file (the baseline's, or none when recording one) */
  filter(result: FileResult): FileResult;
  /** recording a baseline: the run exits 0 whatever it found */
  writing: boolean;
  /** after the run: writes the baseline, and reports what was skipped, hidden and stale on stderr */
  finish(): Promise<void>;
}

/** stale entries listed one by one; past this, a count */
const STALE_SHOWN = 20;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function baselineFile(flags: HistoryFlags): string | undefined {
  const { writeBaseline, baseline } = flags;
  if (writeBaseline === undefined || writeBaseline === false) return baseline;
  if (writeBaseline === true) return baseline ?? DEFAULT_BASELINE_FILE;
  // an optional option-argument swallows the next word: `--write-baseline migrations/` would
  // write a baseline called `migrations/` and lint `.`; a .json name rules that out
  if (!writeBaseline.toLowerCase().endsWith('.json')) {
    throw new InputError(
      '--write-baseline',
      `expected a .json file name, got "${writeBaseline}" (put paths before the flag, or write --write-baseline=<file>.json)`,
    );
  }
  if (baseline !== undefined && baseline !== writeBaseline) {
    throw new InputError(
      '--write-baseline',
      `names "${writeBaseline}" but --baseline names "${baseline}"; give the file once`,
    );
  }
  return writeBaseline;
}

function describeEntry(e: BaselineEntry): string {
  return `${e.file}: ${e.rule}${e.message === undefined ? '' : ` (${e.message})`}`;
}

export async function historyScope(
  flags: HistoryFlags,
  io: { cwd: string; stderr: (s: string) => void },
): Promise<HistoryScope> {
  const file = baselineFile(flags);
  const writing = flags.writeBaseline !== undefined && flags.writeBaseline !== false;
  // read before linting, so a malformed file fails before any output
  const baseline =
    file === undefined ? undefined : await Baseline.load(file, { cwd: io.cwd, allowMissing: writing });
  const skipped: Record<SkipReason, number> = { unchanged: 0, applied: 0 };
  let hidden = 0;

  return {
    lintOptions: {
      ...(flags.changedSince === undefined ? {} : { changedSince: flags.changedSince }),
      allHistory: flags.allHistory === true,
      onSkipped: (_path, reason) => {
        skipped[reason]++;
      },
    },
    writing,
    filter(result) {
      if (!baseline) return result;
      const kept = writing ? baseline.record(result) : baseline.filter(result);
      const diagnostics = writing ? [] : kept.diagnostics;
      hidden += result.diagnostics.length - diagnostics.length;
      return diagnostics.length === result.diagnostics.length ? result : { ...result, diagnostics };
    },
    async finish() {
      const say = (line: string) => io.stderr(`pgkeel: ${line}\n`);
      const skips: string[] = [];
      if (skipped.unchanged > 0) {
        skips.push(`${plural(skipped.unchanged, 'file')} unchanged since ${flags.changedSince}`);
      }
      if (skipped.applied > 0) {
        skips.push(
          `${plural(skipped.applied, 'applied migration')} (config "applied"; --all-history lints them)`,
        );
      }
      if (skips.length > 0) say(`skipped ${skips.join(' and ')}`);
      if (!baseline) return;
      if (writing) {
        const w = await baseline.write();
        say(
          `wrote ${baseline.shownPath}: ${plural(w.entries, 'finding')} in ${plural(w.files, 'file')} ` +
            `(${w.added} new, ${w.pruned} pruned)`,
        );
        return;
      }
      const stale = await baseline.stale();
      say(
        `baseline ${baseline.shownPath} hid ${plural(hidden, 'finding')}` +
          (stale.length === 0
            ? ''
            : `; ${plural(stale.length, 'entry is', 'entries are')} stale (run --write-baseline to prune)`),
      );
      for (const e of stale.slice(0, STALE_SHOWN)) say(`  stale: ${describeEntry(e)}`);
      if (stale.length > STALE_SHOWN) say(`  … and ${stale.length - STALE_SHOWN} more stale entries`);
    },
  };
}
