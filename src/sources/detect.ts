import type { RunnerName } from '../config/types.js';

/*
 * Which migration tool a file belongs to, and which parts of it that tool runs on `up`. Markers are
 * matched the way each tool matches them, line by line and regardless of SQL quoting, because the
 * tool itself does not know about SQL strings either.
 */

interface Line {
  /** offset of the first char */
  start: number;
  /** offset just past the content, before `\r\n` or `\n` */
  end: number;
  /** the content without the line break */
  text: string;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const stop = nl === -1 ? text.length : nl;
    const end = stop > start && text[stop - 1] === '\r' ? stop - 1 : stop;
    out.push({ start, end, text: text.slice(start, end) });
    if (nl === -1) break;
    start = nl + 1;
  }
  return out;
}

/**
 * goose's reading of an annotation line (`-- +goose Up`, `--+goose down`): a `--` comment line
 * containing `+goose`; the annotation is what is left after removing the dashes and `+goose`,
 * compared case-insensitively. Returns it lower-cased, or undefined for other lines.
 */
function gooseAnnotation(line: string): string | undefined {
  if (!line.trim().startsWith('--') || !line.includes('+goose')) return undefined;
  return line.replaceAll('--', '').replace('+goose', '').trim().toLowerCase();
}

// dbmate's own directive patterns (case-sensitive); `[^\S\n]` keeps a match on one line
const DBMATE_UP = /^--[^\S\n]*migrate:up(?:[^\S\n]*$|[^\S\n]+\S)/m;
const DBMATE_DOWN = /^--[^\S\n]*migrate:down(?:[^\S\n]*$|[^\S\n]+\S)/m;
const DRIZZLE_BREAKPOINT = '--> statement-breakpoint';
const PRISMA_PATH = /(?:^|\/)migrations\/[^/]+\/migration\.sql$/;
const GOLANG_MIGRATE_UP = /\.up\.sql$/i;
const GOLANG_MIGRATE_DOWN = /\.down\.sql$/i;

function normalizePath(p: string): string {
  return p.replaceAll('\\', '/');
}

/** A migration tool recognised in a file, and what gave it away (shown to users as the runner's source). */
export interface DetectedOrigin {
  runner: RunnerName;
  /** e.g. `a -- +goose Up annotation`, `its path, prisma/migrations/<name>/migration.sql` */
  reason: string;
}

/** The migration tool a file appears to belong to: from its content first, then its path. */
export function detectOrigin(path: string, text: string): RunnerName | undefined {
  return detectOriginWithReason(path, text)?.runner;
}

/** As `detectOrigin`, with the evidence. */
export function detectOriginWithReason(path: string, text: string): DetectedOrigin | undefined {
  if (lines(text).some((l) => gooseAnnotation(l.text) === 'up'))
    return { runner: 'goose', reason: 'a -- +goose Up annotation' };
  if (DBMATE_UP.test(text)) return { runner: 'dbmate', reason: 'a -- migrate:up marker' };
  if (text.includes(DRIZZLE_BREAKPOINT))
    return { runner: 'drizzle', reason: 'a --> statement-breakpoint marker' };
  const p = normalizePath(path);
  if (PRISMA_PATH.test(p)) return { runner: 'prisma', reason: 'prisma/migrations/<name>/migration.sql' };
  if (GOLANG_MIGRATE_UP.test(p) || GOLANG_MIGRATE_DOWN.test(p))
    return { runner: 'golang-migrate', reason: 'the .up.sql/.down.sql file name' };
  return undefined;
}

/** Whether a path names a whole-file rollback (golang-migrate `*.down.sql`). */
export function isDownFile(path: string): boolean {
  return GOLANG_MIGRATE_DOWN.test(normalizePath(path));
}

/** Replaces every char of `[start, end)` except line breaks with a space; lengths and lines are unchanged. */
export function blank(text: string, start: number, end: number): string {
  if (start >= end) return text;
  return text.slice(0, start) + text.slice(start, end).replace(/[^\r\n]/g, ' ') + text.slice(end);
}

export interface RunnerView {
  /** the text with sections the runner does not execute on `up` blanked */
  text: string;
  /** the file opts out of the runner's transaction */
  noTransaction: boolean;
}

/**
 * What the runner executes on `up`: for goose, everything after `-- +goose Down` (until a later
 * `-- +goose Up`) is blanked and `-- +goose NO TRANSACTION` anywhere turns the transaction off; for
 * dbmate, the `-- migrate:down` block is blanked and `transaction:false` on the `-- migrate:up` line
 * turns it off. The marker lines themselves are kept. Other origins pass through unchanged.
 */
export function runnerView(text: string, origin: RunnerName | undefined): RunnerView {
  if (origin === 'goose') return gooseView(text);
  if (origin === 'dbmate') return dbmateView(text);
  return { text, noTransaction: false };
}

function gooseView(text: string): RunnerView {
  let out = text;
  let noTransaction = false;
  let downFrom: number | undefined;
  for (const line of lines(text)) {
    const annotation = gooseAnnotation(line.text);
    if (annotation === 'no transaction') noTransaction = true;
    if (annotation === 'up' && downFrom !== undefined) {
      out = blank(out, downFrom, line.start);
      downFrom = undefined;
    } else if (annotation === 'down' && downFrom === undefined) {
      downFrom = line.end;
    }
  }
  if (downFrom !== undefined) out = blank(out, downFrom, text.length);
  return { text: out, noTransaction };
}

function dbmateView(text: string): RunnerView {
  const up = DBMATE_UP.exec(text);
  const down = DBMATE_DOWN.exec(text);
  let noTransaction = false;
  if (up) {
    const lineEnd = text.indexOf('\n', up.index);
    const directive = text.slice(up.index, lineEnd === -1 ? text.length : lineEnd);
    // options follow the directive as `key:value` words, as dbmate splits them
    const options = directive
      .replace(/^--\s*migrate:up/, '')
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split(':'));
    noTransaction = options.some(
      (pair) => pair.length === 2 && pair[0] === 'transaction' && pair[1] === 'false',
    );
  }
  if (!down) return { text, noTransaction };
  const lineEnd = text.indexOf('\n', down.index);
  const from = lineEnd === -1 ? text.length : lineEnd;
  // dbmate runs up from its directive to the down directive; a down block written first ends at up
  const to = up && up.index > down.index ? up.index : text.length;
  return { text: blank(text, from, to), noTransaction };
}
