import type { LockMode } from './catalog/locks.js';

export type Severity = 'error' | 'warning' | 'info';

/** The guide's three verdicts: no safe way / a safe alternative exists / safe, with advice. */
export type Verdict = 'unsafe' | 'alternative' | 'safe';

/**
 * Which kind of danger a finding is about: blocking application traffic, breaking the application
 * code already deployed, failing the deploy, losing data, or (no deploy-time danger) the schema's
 * design. Descriptions and labels are in rules/hazards.ts.
 */
export type Hazard = 'blocks-traffic' | 'breaks-clients' | 'fails-deploy' | 'loses-data' | 'schema-design';

/** Replace the chars `[start, end)` of the file with `text`. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Ruff's classes: `safe` keeps the final schema and what the migration does; `unsafe` changes its
 * meaning (a type, a validation left for later, a new object, a commit) and is only applied on request.
 */
export type FixSafety = 'safe' | 'unsafe';

export interface Fix {
  /** what applying the fix does, imperative ("Build the index concurrently") */
  title: string;
  edits: TextEdit[];
  /** set on every reported fix: the fix's own class, else its rule's (`fixSafety`) */
  safety?: FixSafety;
}

/**
 * What a statement becomes in `pgkeel fix`'s plan when a text edit cannot say it: the safe sequence
 * as statements in order, where later ones may need a transaction of their own (the planner decides
 * that from the catalog) or an application deploy before them (expand/contract).
 */
export interface PlanProposal {
  title: string;
  safety: FixSafety;
  steps: ProposedStep[];
}

export interface ProposedStep {
  /** one statement, without its `;` */
  sql: string;
  /** the application must change before this step runs (what must change, one sentence) */
  deployBefore?: string;
  /**
   * what the catalog cannot tell from the statement: a DO block that commits as it goes (a batched
   * backfill) runs outside a transaction block, for a long time
   */
  batches?: boolean;
  /**
   * `begin`: this step opens a transaction that the following `continue` steps join (they must commit
   * together, e.g. a rename and the view that keeps the old name working)
   */
  transaction?: 'begin' | 'continue';
}

/** A lock a statement takes, as shown to users. */
export interface LockInfo {
  mode: LockMode;
  /** schema-qualified relation name as written (e.g. `public.users` or `users`) */
  relation: string;
  /** application statements this lock blocks, e.g. `SELECT`, `INSERT/UPDATE/DELETE` */
  blocks: string[];
}

export interface Diagnostic {
  /** rule id; `parse-error`, `unused-ignore`, `unknown-rule`, `unknown-directive` for the engine's own findings */
  rule: string;
  severity: Severity;
  verdict?: Verdict;
  /** the kind of danger (the rule's); absent for the engine's own findings */
  hazard?: Hazard;
  message: string;
  /** what to do instead, in one or two sentences */
  help?: string;
  /** char offsets (UTF-16 code units) into the file */
  start: number;
  end: number;
  /** 1-based */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** 0-based index of the statement the finding is about */
  statement: number;
  lock?: LockInfo;
  fix?: Fix;
  /** only when linted for `pgkeel fix` (`planning`): the safe sequence, where a fix cannot say it */
  plan?: PlanProposal;
  /** the rule's documentation page; absent for the engine's own findings */
  docsUrl?: string;
  /**
   * identifies the finding across runs and unrelated edits: rule + the statement's text (whitespace
   * collapsed), unique within the file (see lint/fingerprint.ts); no line numbers in it
   */
  fingerprint?: string;
}

/**
 * Where a file's Postgres version or runner came from, so a report can say which assumption its
 * advice rests on: a flag, a config file, detection from the file, or the built-in default.
 */
export interface SettingOrigin {
  from: 'flag' | 'config' | 'detected' | 'default';
  /** the flag (`--pg-version`), the config file's path, or what the detection saw */
  detail?: string;
}

export interface FileResult {
  /** as given by the user (relative paths stay relative); `<stdin>` or `--stdin-filename` for stdin */
  path: string;
  source: string;
  diagnostics: Diagnostic[];
  statementCount: number;
  /** effective settings for this file */
  pgVersion: number;
  runner: string;
  /** where `pgVersion` and `runner` came from (absent for `lintSql` calls that name neither) */
  pgVersionFrom?: SettingOrigin;
  runnerFrom?: SettingOrigin;
  /** with --fix / --fix-dry-run: the fixes applied (their findings are gone from `diagnostics`) */
  fixesApplied?: number;
  /** with --fix-dry-run: the fixed text, which was not written */
  output?: string;
}

export interface LintSummary {
  files: FileResult[];
  errorCount: number;
  warningCount: number;
  infoCount: number;
}
