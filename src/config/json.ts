/** JSON parsing that says where a syntax error is (V8's messages only sometimes carry a position). */

import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  /** 1-based */
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  constructor(reason: string, offset: number, line: number, column: number) {
    super(reason);
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

/** `CloseBraceExpected` → `close brace expected`, with the two mistakes people make named plainly. */
function describe(error: ParseError, text: string): string {
  const code = printParseErrorCode(error.error);
  if (code === 'InvalidCommentToken') return 'comments are not allowed in JSON';
  const closing = text[error.offset];
  if ((code === 'PropertyNameExpected' || code === 'ValueExpected') && (closing === '}' || closing === ']')) {
    if (text.slice(0, error.offset).trimEnd().endsWith(',')) return 'trailing comma is not allowed';
  }
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** The first syntax error in `text` (strict JSON: no comments, no trailing commas), or undefined. */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  return first ? { offset: first.offset, reason: describe(first, text) } : undefined;
}

export function parseJson(text: string): unknown {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    const found = locateJsonError(source) ?? {
      offset: source.length,
      reason: error instanceof Error ? error.message : String(error),
    };
    const before = source.slice(0, found.offset);
    const line = before.split('\n').length;
    const column = found.offset - (before.lastIndexOf('\n') + 1) + 1;
    // the offset counts a stripped BOM back in; line/column are what an editor shows
    throw new JsonSyntaxError(found.reason, found.offset + (source === text ? 0 : 1), line, column);
  }
}
