/**
 * `explain --format json`: a stable document, described in docs/explain-format.md. Objects are
 * rebuilt key by key so that the order on the page is the order in the output, whatever order the
 * explainer happens to fill them in.
 */

import type {
  ExplainedAction,
  ExplainedBody,
  ExplainedFile,
  ExplainedLock,
  ExplainedStatement,
  ExplainReport,
  HeldLock,
} from './explain.js';

/** Version of the document's schema; changes only when a field is removed, renamed or changes meaning. */
export const EXPLAIN_JSON_VERSION = 1;

export interface ExplainJsonOptions {
  toolVersion: string;
  /** spaces per level; 0 for one line (default 2) */
  indent?: number;
}

export function formatExplainJson(report: ExplainReport, options: ExplainJsonOptions): string {
  const doc = {
    version: EXPLAIN_JSON_VERSION,
    tool: { name: 'pgkeel', version: options.toolVersion },
    files: report.files.map(fileJson),
  };
  return `${JSON.stringify(doc, null, options.indent ?? 2)}\n`;
}

function fileJson(f: ExplainedFile) {
  return {
    path: f.path,
    pgVersion: f.pgVersion,
    runner: f.runner,
    ...(f.pgVersionFrom && { pgVersionFrom: { ...f.pgVersionFrom } }),
    ...(f.runnerFrom && { runnerFrom: { ...f.runnerFrom } }),
    noTransaction: f.noTransaction,
    statementCount: f.statements.length,
    parseErrors: f.parseErrors,
    ...(f.unreadable ? { unreadable: true } : {}),
    ...(f.inputProblems && {
      inputProblems: f.inputProblems.map((p) => ({
        rule: p.rule,
        severity: p.severity,
        message: p.message,
        line: p.line,
        column: p.column,
      })),
    }),
    statements: f.statements.map(statementJson),
  };
}

function statementJson(s: ExplainedStatement): Record<string, unknown> {
  const out: Record<string, unknown> = {
    index: s.index,
    line: s.line,
    column: s.column,
    endLine: s.endLine,
    endColumn: s.endColumn,
    start: s.start,
    end: s.end,
    sql: s.sql,
  };
  if (s.error !== undefined) {
    out.error = s.error;
    return out;
  }
  out.kind = s.kind;
  if (s.conditional) out.conditional = true;
  if (s.transaction) {
    const t = s.transaction;
    out.transaction = {
      id: t.id,
      openedBy: t.openedBy,
      ...(t.start ? { start: { ...t.start } } : {}),
      ...(t.end ? { end: { ...t.end } } : {}),
    };
  }
  if (s.lockTimeout) out.lockTimeout = { ms: s.lockTimeout.ms, source: s.lockTimeout.source };
  if (s.statementTimeout)
    out.statementTimeout = { ms: s.statementTimeout.ms, source: s.statementTimeout.source };
  out.actions = s.actions.map(actionJson);
  out.locks = s.locks.map(lockJson);
  out.heldFromEarlier = s.heldFromEarlier.map(heldJson);
  out.notes = [...s.notes];
  if (s.embedded) out.embedded = s.embedded.map(bodyJson);
  return out;
}

function bodyJson(b: ExplainedBody) {
  return {
    kind: b.kind,
    ...(b.name !== undefined ? { name: b.name } : {}),
    line: b.line,
    column: b.column,
    statements: b.statements.map(statementJson),
    notStaticallyKnown: b.notStaticallyKnown.map((u) => ({
      line: u.line,
      column: u.column,
      endLine: u.endLine,
      endColumn: u.endColumn,
      start: u.start,
      end: u.end,
      sql: u.sql,
      reason: u.reason,
    })),
  };
}

function actionJson(a: ExplainedAction) {
  return {
    operation: a.operation,
    title: a.title,
    relations: { ...a.relations },
    ...(a.column !== undefined ? { column: a.column } : {}),
    ...(a.constraint !== undefined ? { constraint: a.constraint } : {}),
    rewrite: a.rewrite,
    scan: a.scan,
    indexBuild: a.indexBuild,
    noTransactionBlock: a.noTransactionBlock,
    ...(a.unsupported ? { unsupported: true } : {}),
  };
}

function lockJson(l: ExplainedLock) {
  return {
    relation: l.relation,
    display: l.display,
    ...(l.set ? { set: structuredClone(l.set) } : {}),
    role: l.role,
    mode: l.mode,
    summary: l.summary,
    blocks: [...l.blocks],
    allows: [...l.allows],
    blocksApplication: l.blocksApplication,
    rewrite: l.rewrite,
    scan: l.scan,
    indexBuild: l.indexBuild,
    duration: l.duration,
    ...(l.sizeOf !== undefined ? { sizeOf: l.sizeOf } : {}),
    heldUntil: l.heldUntil,
    isNew: l.isNew,
    newInTransaction: l.newInTransaction,
    alreadyHeld: l.alreadyHeld,
    ...(l.heldSince ? { heldSince: { ...l.heldSince } } : {}),
  };
}

function heldJson(h: HeldLock) {
  return {
    relation: h.relation,
    display: h.display,
    mode: h.mode,
    modes: [...h.modes],
    summary: h.summary,
    since: { ...h.since },
  };
}
