import { LineIndex, type Position } from '../parse/positions.js';

/** A file's text with O(log n) access to its lines; built once per file, shared by all its diagnostics. */
export class SourceLines {
  readonly index: LineIndex;

  constructor(
    readonly text: string,
    index?: LineIndex,
  ) {
    this.index = index ?? new LineIndex(text);
  }

  get count(): number {
    return this.index.lineCount;
  }

  /** Offset of the first character of 1-based `line`. */
  start(line: number): number {
    // LineIndex.lineStart falls back to 0 past the end; the reporter must never jump back to line 1
    return line > this.count ? this.text.length : this.index.lineStart(line);
  }

  /** Offset of `line`'s terminator (`\n`, or the `\r` of `\r\n`), or the end of the text. */
  end(line: number): number {
    if (line >= this.count) return this.text.length;
    const nl = this.index.lineStart(line + 1) - 1;
    return nl > this.start(line) && this.text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  }

  lineOf(offset: number): number {
    return this.index.position(offset).line;
  }

  position(offset: number): Position {
    return this.index.position(offset);
  }

  /** The empty "line" after a final newline, which editors do not show as a line of its own. */
  isPhantomLastLine(line: number): boolean {
    return line === this.count && line > 1 && this.start(line) === this.text.length;
  }

  /** First non-blank offset of `line` (its end when blank); scans at most `cap` characters. */
  contentStart(line: number, cap: number): number {
    const from = this.start(line);
    const to = Math.min(this.end(line), from + cap);
    for (let i = from; i < to; i++) {
      const ch = this.text.charCodeAt(i);
      if (ch !== 32 && ch !== 9) return i;
    }
    return to === this.end(line) ? to : from;
  }

  /**
   * Offset just after the last non-blank character of `line`, not counting a final `;` (a
   * statement's range stops before it); scans at most `cap` characters.
   */
  contentEnd(line: number, cap: number): number {
    const from = this.start(line);
    const to = this.end(line);
    const stop = Math.max(from, to - cap);
    let semicolon = false;
    for (let i = to; i > stop; i--) {
      const ch = this.text.charCodeAt(i - 1);
      if (ch === 59 && !semicolon) semicolon = true;
      else if (ch !== 32 && ch !== 9) return i;
    }
    return stop === from ? from : to;
  }

  clamp(offset: number): number {
    return Math.min(Math.max(0, Math.trunc(offset) || 0), this.text.length);
  }
}
