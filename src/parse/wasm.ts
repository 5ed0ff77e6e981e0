/**
 * libpg-query's wasm parser, called directly. The package's own `parseSync` copies strings in and out
 * of wasm memory with per-byte JavaScript loops (and scans for the result's end the same way), a few
 * percent of linting thousands of files; here the copies are native (TextEncoder, indexOf,
 * TextDecoder). Errors and results are those of the package's `parseSync` / `parsePlPgSQLSync`.
 */

import { createRequire } from 'node:module';

interface PgQueryModule {
  HEAPU8: Uint8Array;
  getValue(ptr: number, type: 'i32'): number;
  UTF8ToString(ptr: number): string;
  lengthBytesUTF8(s: string): number;
  stringToUTF8(s: string, ptr: number, max: number): void;
  _malloc(n: number): number;
  _free(ptr: number): void;
  _wasm_parse_query_raw(ptr: number): number;
  _wasm_free_parse_result(ptr: number): void;
  _wasm_parse_plpgsql(ptr: number): number;
  _wasm_free_string(ptr: number): void;
}

/** The error the package's `parseSync` throws: `sqlDetails.cursorPosition` is 0-based. */
export class SqlError extends Error {
  constructor(
    message: string,
    readonly sqlDetails: {
      message: string;
      cursorPosition: number;
      fileName?: string;
      functionName?: string;
      lineNumber?: number;
    },
  ) {
    super(message);
    this.name = 'SqlError';
  }
}

let wasm: PgQueryModule | undefined;
let loading: Promise<void> | undefined;

/** Instantiates the wasm module once (the package's index would instantiate a second copy). */
export function loadModule(): Promise<void> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('libpg-query/wasm/libpg-query.js') as () => Promise<PgQueryModule>;
    wasm = await factory();
  })();
  return loading;
}

function loaded(): PgQueryModule {
  if (!wasm) throw new Error('WASM module not initialized. Call loadModule() first.');
  return wasm;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated UTF-8 copy of `text` in wasm memory; the caller frees it. */
function toWasm(m: PgQueryModule, text: string): number {
  // lone surrogates: the module's own encoder, whose bytes TextEncoder would not reproduce
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    const len = m.lengthBytesUTF8(text) + 1;
    const ptr = m._malloc(len);
    m.stringToUTF8(text, ptr, len);
    return ptr;
  }
  const len = Buffer.byteLength(text, 'utf8');
  const ptr = m._malloc(len + 1);
  const heap = m.HEAPU8;
  encoder.encodeInto(text, heap.subarray(ptr, ptr + len));
  heap[ptr + len] = 0;
  return ptr;
}

/** The NUL-terminated UTF-8 string at `ptr`. */
function fromWasm(m: PgQueryModule, ptr: number): string {
  if (!ptr) return '';
  // read HEAPU8 afresh: the parser may have grown the memory, which replaces the view
  const heap = m.HEAPU8;
  const end = heap.indexOf(0, ptr);
  return decoder.decode(heap.subarray(ptr, end < 0 ? heap.length : end));
}

/** As libpg-query's `parseSync`. */
export function parseSync(query: string): unknown {
  const m = loaded();
  if (query === null || query === undefined) throw new Error('Query cannot be null or undefined');
  if (query === '') throw new Error('Query cannot be empty');
  const queryPtr = toWasm(m, query);
  let resultPtr = 0;
  try {
    resultPtr = m._wasm_parse_query_raw(queryPtr);
    if (!resultPtr) throw new Error('Failed to parse query: memory allocation failed');
    const parseTreePtr = m.getValue(resultPtr, 'i32');
    const errorPtr = m.getValue(resultPtr + 8, 'i32');
    if (errorPtr) {
      const messagePtr = m.getValue(errorPtr, 'i32');
      const funcnamePtr = m.getValue(errorPtr + 4, 'i32');
      const filenamePtr = m.getValue(errorPtr + 8, 'i32');
      const lineno = m.getValue(errorPtr + 12, 'i32');
      const cursorpos = m.getValue(errorPtr + 16, 'i32');
      const message = messagePtr ? m.UTF8ToString(messagePtr) : 'Unknown error';
      throw new SqlError(message, {
        message,
        cursorPosition: cursorpos > 0 ? cursorpos - 1 : 0,
        fileName: filenamePtr ? m.UTF8ToString(filenamePtr) : undefined,
        functionName: funcnamePtr ? m.UTF8ToString(funcnamePtr) : undefined,
        lineNumber: lineno > 0 ? lineno : undefined,
      });
    }
    if (!parseTreePtr) throw new Error('No parse tree generated');
    return JSON.parse(fromWasm(m, parseTreePtr));
  } finally {
    m._free(queryPtr);
    if (resultPtr) m._wasm_free_parse_result(resultPtr);
  }
}

/** As libpg-query's `parsePlPgSQLSync`. */
export function parsePlPgSQLSync(query: string): unknown {
  const m = loaded();
  const queryPtr = toWasm(m, query);
  let resultPtr = 0;
  try {
    resultPtr = m._wasm_parse_plpgsql(queryPtr);
    const result = fromWasm(m, resultPtr);
    // success is always a JSON object; anything else is an error message
    if (!result.startsWith('{')) throw new Error(result);
    return JSON.parse(result);
  } finally {
    m._free(queryPtr);
    if (resultPtr) m._wasm_free_string(resultPtr);
  }
}
