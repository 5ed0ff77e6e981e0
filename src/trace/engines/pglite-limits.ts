/**
 * Statements PGlite does not survive. PGlite is one Postgres backend compiled to wasm, talking to
 * this process through an in-memory protocol: a COPY to or from a program or a server file, or a
 * client encoding other than UTF-8, leaves that protocol broken (a crash, wrong results, or a loop
 * at 100 % CPU). Such statements are refused before they run, with the reason; in a DO block or a
 * function the statement calls too. SQL built at run time (EXECUTE) is not seen here: the worker's
 * timeout and crash handling catch what it does.
 */

import { type AnyNode, constValue, names, walk } from '../../analyze/ast.js';

/** Why PGlite cannot run this statement node (`{ Kind: body }`); undefined when it can. */
export function pgliteRefusal(node: unknown): string | undefined {
  let why: string | undefined;
  walk(node, (kind, body: AnyNode) => {
    if (why) return false;
    if (kind === 'CopyStmt') {
      if (body.is_program)
        why = `COPY ${body.is_from ? 'FROM' : 'TO'} PROGRAM runs a program on the server, which PGlite cannot`;
      else if (body.filename)
        why = `COPY ${body.is_from ? 'FROM' : 'TO'} a server file: PGlite has no server file system`;
    } else if (kind === 'VariableSetStmt') {
      if (
        String(body.name).toLowerCase() === 'client_encoding' &&
        body.kind !== 'VAR_RESET' &&
        body.kind !== 'VAR_SET_DEFAULT'
      )
        why = 'it changes client_encoding, and PGlite exchanges UTF-8 only';
    } else if (kind === 'FuncCall') {
      const fn = names(body.funcname).at(-1)?.toLowerCase();
      const setting = constValue(body.args?.[0]);
      if (fn === 'set_config' && typeof setting === 'string' && setting.toLowerCase() === 'client_encoding')
        why = 'it changes client_encoding, and PGlite exchanges UTF-8 only';
    }
    return undefined;
  });
  return why;
}
