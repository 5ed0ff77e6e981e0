/**
 * Baselines: the findings a project has already accepted, recorded in a file, so that `lint` reports
 * only new ones. An entry is matched by file, rule and fingerprint (rule + the statement's text with
 * whitespace collapsed; see fingerprint.ts), never by line: editing other statements of a file,
 * adding comments or re-indenting keeps old findings hidden, changing the statement shows it again.
 *
 * File paths are relative to the baseline file's directory, `/`-separated, so one baseline works
 * from any working directory and on any OS. Entries are sorted by file, rule and fingerprint and
 * written one per line, so re-recording gives small, stable diffs. `message` is for people reading
 * the file and is never used for matching.
 */

import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findNodeAtLocation, type Node, parseTree } from 'jsonc-parser';
import { JsonSyntaxError, parseJson } from '../config/json.js';
import type { Diagnostic, FileResult } from '../diagnostics.js';
import { describeFsError, fsErrorCode, InputError } from '../sources/errors.js';
import { compareCodePoints, displayPath } from '../sources/resolve.js';
import { statementFingerprint } from './fingerprint.js';

export const BASELINE_VERSION = 1;
export const BASELINE_TOOL = 'pgkeel';
/** Where `--write-baseline` writes when given no file: this name in the working directory. */
export const DEFAULT_BASELINE_FILE = 'pgkeel-baseline.json';

export interface BaselineEntry {
  /** relative to the baseline file's directory, `/`-separated */
  file: string;
  rule: string;
  fingerprint: string;
  /** the finding's message when recorded; for people, not used for matching */
  message?: string;
}

export interface BaselineDocument {
  tool: typeof BASELINE_TOOL;
  version: typeof BASELINE_VERSION;
  entries: BaselineEntry[];
}

export interface BaselineOptions {
  /** resolves the baseline path and the paths of FileResults (which are relative to it) */
  cwd: string;
  /** a missing file is an empty baseline (for writing) instead of an error */
  allowMissing?: boolean;
}

/** What a baseline leaves of one file's findings. */
export interface BaselineFilterResult {
  /** findings not in the baseline, in their original order */
  diagnostics: Diagnostic[];
  /** findings the baseline hid */
  hidden: number;
}

/** What `write` did. */
export interface BaselineWriteResult {
  entries: number;
  files: number;
  /** findings that were not in the previous baseline */
  added: number;
  /** previous entries dropped: their finding is gone, or their file is */
  pruned: number;
}

/**
 * The identity a finding is matched by. Findings about comments (unused or unknown directives) and
 * internal errors have no statement fingerprint: their rule and message identify them instead.
 */
export function baselineFingerprint(d: Diagnostic): string {
  return d.fingerprint ?? `m${statementFingerprint(d.rule, d.message)}`;
}

const keyOf = (rule: string, fingerprint: string) => `${rule}\0${fingerprint}`;

function compareEntries(a: BaselineEntry, b: BaselineEntry): number {
  return (
    compareCodePoints(a.file, b.file) ||
    compareCodePoints(a.rule, b.rule) ||
    compareCodePoints(a.fingerprint, b.fingerprint)
  );
}

/** Line and column (1-based) of a char offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

/**
 * Checks a parsed baseline document. Throws InputError naming the file, the line and column of the
 * offending value and its key path (`entries[3].rule`).
 */
function validate(raw: unknown, text: string, shown: string): BaselineEntry[] {
  let tree: Node | undefined;
  const fail = (keyPath: (string | number)[], reason: string): never => {
    tree ??= parseTree(text);
    // the deepest node that exists on the key path, so a missing key points at its object
    let node: Node | undefined;
    for (let n = keyPath.length; n >= 0 && !node; n--)
      node = tree && findNodeAtLocation(tree, keyPath.slice(0, n));
    const at = position(text, node?.offset ?? 0);
    const where = keyPath.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
    throw new InputError(`${shown}:${at.line}:${at.column}`, `${where ? `${where}: ` : ''}${reason}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail([], 'not a pgkeel baseline: expected a JSON object');
  }
  const doc = raw as Record<string, unknown>;
  if (doc.tool !== BASELINE_TOOL) {
    fail(['tool'], `not a pgkeel baseline: expected "tool": "${BASELINE_TOOL}"`);
  }
  if (doc.version !== BASELINE_VERSION) {
    fail(
      ['version'],
      typeof doc.version === 'number' && doc.version > BASELINE_VERSION
        ? `baseline version ${doc.version} was written by a newer pgkeel; this one reads version ${BASELINE_VERSION}`
        : `expected "version": ${BASELINE_VERSION}`,
    );
  }
  if (!Array.isArray(doc.entries)) fail(['entries'], 'expected an array of entries');
  const entries: BaselineEntry[] = [];
  for (const [i, item] of (doc.entries as unknown[]).entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      fail(['entries', i], 'expected an object with "file", "rule" and "fingerprint"');
    }
    const e = item as Record<string, unknown>;
    for (const key of ['file', 'rule', 'fingerprint'] as const) {
      if (typeof e[key] !== 'string' || e[key] === '')
        fail(['entries', i, key], 'expected a non-empty string');
    }
    if (e.message !== undefined && typeof e.message !== 'string') {
      fail(['entries', i, 'message'], 'expected a string');
    }
    entries.push({
      file: e.file as string,
      rule: e.rule as string,
      fingerprint: e.fingerprint as string,
      ...(typeof e.message === 'string' ? { message: e.message } : {}),
    });
  }
  return entries;
}

/** The text of a baseline file: sorted entries, one per line. */
export function formatBaseline(entries: readonly BaselineEntry[]): string {
  const sorted = [...entries].sort(compareEntries);
  const lines = sorted.map((e) => {
    const fields = [
      `"file": ${JSON.stringify(e.file)}`,
      `"rule": ${JSON.stringify(e.rule)}`,
      `"fingerprint": ${JSON.stringify(e.fingerprint)}`,
      ...(e.message === undefined ? [] : [`"message": ${JSON.stringify(e.message)}`]),
    ];
    return `    { ${fields.join(', ')} }`;
  });
  return [
    '{',
    `  "tool": "${BASELINE_TOOL}",`,
    `  "version": ${BASELINE_VERSION},`,
    lines.length === 0 ? '  "entries": []' : `  "entries": [\n${lines.join(',\n')}\n  ]`,
    '}',
    '',
  ].join('\n');
}

/**
 * A baseline being applied to, or recorded from, one lint run. Feed every linted file through
 * `filter` (or `record` when writing), then ask for `stale()` entries or `write()`.
 */
export class Baseline {
  /** absolute path of the baseline file */
  readonly path: string;
  /** the path as shown to users */
  readonly shownPath: string;
  private readonly dir: string;
  private readonly cwd: string;
  private readonly previous: BaselineEntry[];
  /** previous entries not yet matched, by file, then rule + fingerprint */
  private readonly unmatched = new Map<string, Map<string, BaselineEntry[]>>();
  /** files seen in this run (baseline-relative) */
  private readonly linted = new Set<string>();
  /** entries recorded in this run, by file */
  private readonly recorded = new Map<string, BaselineEntry[]>();
  private added = 0;

  private constructor(file: string, cwd: string, entries: BaselineEntry[]) {
    this.cwd = path.resolve(cwd);
    this.path = path.resolve(this.cwd, file);
    this.shownPath = displayPath(this.path, this.cwd);
    this.dir = path.dirname(this.path);
    this.previous = entries;
    for (const e of entries) {
      let byKey = this.unmatched.get(e.file);
      if (!byKey) {
        byKey = new Map();
        this.unmatched.set(e.file, byKey);
      }
      const key = keyOf(e.rule, e.fingerprint);
      byKey.set(key, [...(byKey.get(key) ?? []), e]);
    }
  }

  /** Reads and checks a baseline file; InputError (exit 2) when it is missing, unreadable or malformed. */
  static async load(file: string, options: BaselineOptions): Promise<Baseline> {
    const abs = path.resolve(options.cwd, file);
    const shown = displayPath(abs, path.resolve(options.cwd));
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (error) {
      const code = fsErrorCode(error);
      if (code === 'ENOENT' && options.allowMissing) return new Baseline(file, options.cwd, []);
      const reason =
        code === 'ENOENT'
          ? 'baseline file not found (record one with --write-baseline)'
          : `cannot read baseline file: ${describeFsError(error)}`;
      throw new InputError(shown, reason, { ...(code ? { code } : {}), cause: error });
    }
    let raw: unknown;
    try {
      raw = parseJson(text);
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        throw new InputError(
          `${shown}:${error.line}:${error.column}`,
          `baseline is not valid JSON: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    return new Baseline(file, options.cwd, validate(raw, source, shown));
  }

  /** An empty baseline at `file`, e.g. to record a first one. */
  static empty(file: string, options: Pick<BaselineOptions, 'cwd'>): Baseline {
    return new Baseline(file, options.cwd, []);
  }

  /** The entries read from the file. */
  get entries(): readonly BaselineEntry[] {
    return this.previous;
  }

  /** A FileResult's path (relative to cwd, or absolute) as the baseline names it. */
  fileKey(resultPath: string): string {
    const rel = path.relative(this.dir, path.resolve(this.cwd, resultPath));
    return rel.split(path.sep).join('/');
  }

  /** The findings of one linted file that are not in the baseline. Each entry hides one finding. */
  filter(result: FileResult): BaselineFilterResult {
    const file = this.fileKey(result.path);
    this.linted.add(file);
    const byKey = this.unmatched.get(file);
    const diagnostics: Diagnostic[] = [];
    let hidden = 0;
    for (const d of result.diagnostics) {
      const key = keyOf(d.rule, baselineFingerprint(d));
      const candidates = byKey?.get(key);
      if (candidates && candidates.length > 0) {
        candidates.pop();
        hidden++;
      } else {
        diagnostics.push(d);
      }
    }
    return { diagnostics, hidden };
  }

  /** Records a linted file's findings as its new entries (for `write`); returns what `filter` would. */
  record(result: FileResult): BaselineFilterResult {
    const matched = this.filter(result);
    this.added += matched.diagnostics.length;
    const file = this.fileKey(result.path);
    this.recorded.set(
      file,
      result.diagnostics.map((d) => ({
        file,
        rule: d.rule,
        fingerprint: baselineFingerprint(d),
        message: d.message,
      })),
    );
    return matched;
  }

  /**
   * Entries that match nothing: those of files linted in this run that no finding matched, and
   * those of files that no longer exist. Entries of existing files this run did not lint (other
   * paths, `--changed-since`, applied migrations) are not stale: nothing was checked against them.
   */
  async stale(): Promise<BaselineEntry[]> {
    const stale: BaselineEntry[] = [];
    for (const [file, byKey] of this.unmatched) {
      const left = [...byKey.values()].flat();
      if (left.length === 0) continue;
      if (this.linted.has(file) || !(await this.exists(file))) stale.push(...left);
    }
    return stale.sort(compareEntries);
  }

  /**
   * Writes the recorded entries, keeping previous entries of existing files this run did not lint
   * (so recording a subset of the files never forgets the others) and pruning stale ones. The file
   * is replaced atomically.
   */
  async write(): Promise<BaselineWriteResult> {
    const stale = await this.stale();
    const entries: BaselineEntry[] = [...this.recorded.values()].flat();
    for (const e of this.previous) {
      if (!this.linted.has(e.file) && (await this.exists(e.file))) entries.push(e);
    }
    const text = formatBaseline(entries);
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => {});
      const code = fsErrorCode(error);
      throw new InputError(this.shownPath, `cannot write baseline: ${describeFsError(error)}`, {
        ...(code ? { code } : {}),
        cause: error,
      });
    }
    return {
      entries: entries.length,
      files: new Set(entries.map((e) => e.file)).size,
      added: this.added,
      pruned: stale.length,
    };
  }

  private readonly existing = new Map<string, Promise<boolean>>();
  private exists(file: string): Promise<boolean> {
    let found = this.existing.get(file);
    if (!found) {
      found = access(path.resolve(this.dir, file)).then(
        () => true,
        () => false,
      );
      this.existing.set(file, found);
    }
    return found;
  }
}
