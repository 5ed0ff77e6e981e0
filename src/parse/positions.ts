/**
 * Offsets. libpg-query reports UTF-8 byte offsets; JavaScript strings index UTF-16 code units;
 * users read 1-based lines and columns. Columns count UTF-16 code units, as LSP and SARIF do.
 */

export interface Position {
  /** 1-based */
  line: number;
  /** 1-based, in UTF-16 code units */
  column: number;
}

/** Maps char offsets of one text to 1-based line/column in O(log lines). */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    let i = text.indexOf('\n');
    while (i >= 0) {
      this.starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
  }

  position(offset: number): Position {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - s[lo]! + 1 };
  }

  lineStart(line: number): number {
    return this.starts[line - 1] ?? 0;
  }

  get lineCount(): number {
    return this.starts.length;
  }
}

/**
 * Converts between UTF-8 byte offsets and UTF-16 char offsets of one string.
 * Pure-ASCII text (the common case) is the identity and costs nothing.
 */
export class ByteMap {
  // one entry per multi-byte character: where it starts (chars, bytes), its widths, extra bytes so far
  private readonly charStart: number[] = [];
  private readonly byteStart: number[] = [];
  private readonly units: number[] = [];
  private readonly bytes: number[] = [];
  private readonly extraAfter: number[] = [];
  readonly ascii: boolean;
  readonly byteLength: number;

  constructor(text: string) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for any non-ASCII code unit
    this.ascii = !/[^\x00-\x7f]/.test(text);
    let extra = 0;
    if (!this.ascii) {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c < 0x80) continue;
        let units = 1;
        let bytes = c < 0x800 ? 2 : 3;
        if (c >= 0xd800 && c <= 0xdbff) {
          const d = text.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            units = 2;
            bytes = 4;
          }
        }
        this.charStart.push(i);
        this.byteStart.push(i + extra);
        this.units.push(units);
        this.bytes.push(bytes);
        extra += bytes - units;
        this.extraAfter.push(extra);
        i += units - 1;
      }
    }
    this.byteLength = text.length + extra;
  }

  charToByte(offset: number): number {
    if (this.ascii) return offset;
    const k = lastAtOrBelow(this.charStart, offset);
    if (k < 0) return offset;
    if (offset < this.charStart[k]! + this.units[k]!) return this.byteStart[k]!;
    return offset + this.extraAfter[k]!;
  }

  /** A byte inside a multi-byte character maps to that character's start. */
  byteToChar(byte: number): number {
    if (this.ascii) return byte;
    const k = lastAtOrBelow(this.byteStart, byte);
    if (k < 0) return byte;
    if (byte < this.byteStart[k]! + this.bytes[k]!) return this.charStart[k]!;
    return byte - this.extraAfter[k]!;
  }
}

function lastAtOrBelow(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
