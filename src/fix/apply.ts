import type { Diagnostic, TextEdit } from '../diagnostics.js';

export interface AppliedFixes {
  text: string;
  applied: number;
  /** fixes left out because their edits overlap an earlier fix */
  skipped: number;
}

/** Applies the fixes of `diagnostics` to `source`, earliest first; a fix overlapping an applied one is skipped. */
export function applyFixes(source: string, diagnostics: readonly Diagnostic[]): AppliedFixes {
  const fixes = diagnostics
    .filter((d) => d.fix && d.fix.edits.length > 0)
    .map((d) => [...d.fix!.edits].sort((a, b) => a.start - b.start))
    .sort((a, b) => a[0]!.start - b[0]!.start);
  const chosen: TextEdit[] = [];
  let skipped = 0;
  for (const edits of fixes) {
    const overlaps = edits.some((e) => chosen.some((c) => e.start < c.end && c.start < e.end));
    if (overlaps) {
      skipped++;
      continue;
    }
    chosen.push(...edits);
  }
  chosen.sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const e of chosen) {
    out += source.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  out += source.slice(pos);
  return { text: out, applied: fixes.length - skipped, skipped };
}
