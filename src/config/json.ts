/**
 * JSON parsing that reports where a syntax error is. V8's messages only sometimes carry a position,
 * so on failure the text is re-scanned to find the first offending character.
 */

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

export function parseJson(text: string): unknown {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(source);
  } catch (error) {
    const found = locateJsonError(source) ?? {
      offset: source.length,
      reason: error instanceof Error ? error.message : String(error),
    };
    // offsets count the stripped BOM back in, so line/column match an editor's view
    const { line, column } = lineColumn(source, found.offset);
    throw new JsonSyntaxError(found.reason, found.offset + (source === text ? 0 : 1), line, column);
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class Stop {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

/** The first syntax error in `text` per RFC 8259, or undefined if it is valid JSON. */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const n = text.length;

  const fail = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const unexpected = (): never => {
    if (i >= n) return fail('unexpected end of input');
    const ch = text[i]!;
    if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*'))
      return fail('comments are not allowed in JSON');
    if (ch === "'") return fail('strings must use double quotes');
    return fail(`unexpected ${JSON.stringify(ch)}`);
  };
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else unexpected();
  };
  const digits = () => {
    const start = i;
    while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
    if (i === start) unexpected();
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const string = () => {
    const open = i;
    i++;
    for (;;) {
      if (i >= n) fail('unterminated string', open);
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return;
      }
      if (code < 0x20) fail(code === 0x0a ? 'unterminated string' : 'control character in string');
      if (code === 0x5c) {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape');
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) {
          i += 2;
        } else {
          fail('invalid escape in string');
        }
      } else {
        i++;
      }
    }
  };
  const value = (): void => {
    const ch = text[i];
    if (ch === '{') object();
    else if (ch === '[') array();
    else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
    else unexpected();
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      if (text[i] !== '"') {
        if (text[i] === '}') fail('trailing comma is not allowed');
        if (i < n && text[i] !== '/' && text[i] !== "'") fail('expected a property name in double quotes');
        unexpected();
      }
      string();
      ws();
      if (text[i] !== ':') fail("expected ':' after property name");
      i++;
      ws();
      value();
      ws();
      if (text[i] === ',') {
        i++;
        ws();
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      if (i >= n) unexpected();
      fail("expected ',' or '}' after property value");
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      if (text[i] === ']') fail('trailing comma is not allowed');
      value();
      ws();
      if (text[i] === ',') {
        i++;
        ws();
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      if (i >= n) unexpected();
      fail("expected ',' or ']' after array element");
    }
  };

  try {
    ws();
    value();
    ws();
    if (i < n) fail('unexpected content after the JSON value');
    return undefined;
  } catch (stop) {
    if (stop instanceof Stop) return { offset: stop.offset, reason: stop.reason };
    throw stop;
  }
}
