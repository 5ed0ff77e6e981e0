/**
 * A plan written out the way the runner that applies it needs: where a transaction boundary falls,
 * a new file (or folder) that sorts right after the original, with the tool's no-transaction
 * marker; where the tool sends a file as one multi-statement query (a transaction of its own), a
 * step that cannot run in a transaction alone in its file. What comes after a deploy boundary is
 * not a migration of this release: it goes to `pgkeel-later/` beside the migrations directory.
 */

import path from 'node:path';
import type { RunnerName } from '../config/types.js';
import { compareCodePoints } from '../sources/resolve.js';
import {
  type MigrationPlan,
  type PlanUnit,
  renderPlanSql,
  TIMEOUT_SETTINGS,
  timeoutSettings,
  unitSummary,
} from './plan.js';

export interface LayoutTarget {
  runner: RunnerName;
  /** the migration file the plan replaces */
  absPath: string;
  /** its bytes as they are on disk (a down section is kept) */
  raw: string;
  /** the other migrations of its directory, by the name the runner orders them by (Prisma: folders) */
  siblings: readonly string[];
  /** Drizzle: the journal's text (`meta/_journal.json`), when the directory has one */
  journal?: string;
}

export interface FileWrite {
  absPath: string;
  content: string;
}

export interface PlanLayout {
  /** files to write now (the original first, rewritten), in the order the runner applies them */
  writes: FileWrite[];
  /** the later releases: annotated SQL to move into the migrations once the application is deployed */
  later: FileWrite[];
  /** what the user must know about applying it with this runner */
  notes: string[];
}

/** The plan cannot be written in this runner's layout (no free name, a tool we cannot write for). */
export class LayoutError extends Error {}

interface RunnerStyle {
  /** the file carries its own BEGIN … COMMIT (the runner does not wrap it) */
  explicitTransactions: boolean;
  /** the runner sends the file as one query: a no-transaction step must be the file's only statement */
  oneQuery: boolean;
  /** one file per unit (else psql: one script) */
  filePerUnit: boolean;
}

const STYLES: Partial<Record<RunnerName, RunnerStyle>> = {
  psql: { explicitTransactions: true, oneQuery: false, filePerUnit: false },
  sqitch: { explicitTransactions: true, oneQuery: false, filePerUnit: false },
  'golang-migrate': { explicitTransactions: true, oneQuery: true, filePerUnit: true },
  prisma: { explicitTransactions: true, oneQuery: true, filePerUnit: true },
  goose: { explicitTransactions: false, oneQuery: false, filePerUnit: true },
  // dbmate sends a transaction:false file as one query too
  dbmate: { explicitTransactions: false, oneQuery: true, filePerUnit: true },
  flyway: { explicitTransactions: false, oneQuery: false, filePerUnit: true },
  'transaction-per-file': { explicitTransactions: false, oneQuery: false, filePerUnit: true },
  drizzle: { explicitTransactions: false, oneQuery: false, filePerUnit: true },
};

/** Whether `fix` writes files for this runner (not yet for tools whose migrations are code). */
export function canWriteFor(runner: RunnerName): boolean {
  return STYLES[runner] !== undefined;
}

/** The files that carry `plan` for `target.runner`. */
export function layoutPlan(plan: MigrationPlan, target: LayoutTarget): PlanLayout {
  const style = STYLES[target.runner];
  if (!style)
    throw new LayoutError(
      `${target.runner} migrations are code: pgkeel cannot write them yet; use --stdout for the plan as SQL`,
    );
  const releases = splitReleases(plan.units);
  const now = releases[0] ?? [];
  const notes: string[] = [];
  const later = laterReleases(plan, target, releases.slice(1), notes);

  if (!style.filePerUnit) {
    const content =
      now.length > 0
        ? renderPlanSql({ ...plan, units: now })
        : '-- pgkeel fix: every statement of this migration moved to a later release (see pgkeel-later/)\n';
    return { writes: [{ absPath: target.absPath, content }], later, notes };
  }

  // one file per unit; a no-transaction unit of a one-query runner, one file per statement
  const files: PlanUnit[] = [];
  for (const unit of now) {
    if (style.oneQuery && !unit.transaction && unit.steps.length > 1)
      for (const step of unit.steps) files.push({ ...unit, steps: [step] });
    else files.push(unit);
  }
  if (files.length === 0) files.push({ transaction: true, timeout: 'none', steps: [] });
  const names = followingNames(target, files.length - 1);
  const dir = path.dirname(target.absPath);
  const writes: FileWrite[] = [];
  files.forEach((unit, i) => {
    const absPath =
      i === 0
        ? target.absPath
        : target.runner === 'prisma'
          ? path.join(path.dirname(dir), names[i - 1]!, 'migration.sql')
          : path.join(dir, names[i - 1]!);
    writes.push(...unitFiles(unit, absPath, i === 0, style, target, notes));
  });
  if (target.runner === 'drizzle') writes.push(...drizzleJournal(target, files, names, notes));
  if (style.oneQuery && files.some((u) => !u.transaction && u.timeout !== 'none'))
    notes.push(
      `${target.runner} sends each file as one query: a file that must run outside a transaction holds only its statement, so its lock_timeout cannot be set in it — set it for the role or in the connection string (options=-c lock_timeout=${TIMEOUT_SETTINGS.brief.lockTimeout}), or apply it with pgkeel run`,
    );
  return { writes, later, notes: [...new Set(notes)] };
}

/** Units up to the first deploy boundary, then each release between boundaries. */
function splitReleases(units: readonly PlanUnit[]): PlanUnit[][] {
  const releases: PlanUnit[][] = [[]];
  for (const unit of units) {
    if (unit.deployBefore) releases.push([]);
    releases[releases.length - 1]!.push(unit);
  }
  return releases;
}

function laterReleases(
  plan: MigrationPlan,
  target: LayoutTarget,
  releases: PlanUnit[][],
  notes: string[],
): FileWrite[] {
  if (releases.length === 0) return [];
  // beside the migrations directory (for Prisma, beside prisma/migrations), where no runner looks
  const migrations =
    target.runner === 'prisma' ? path.dirname(path.dirname(target.absPath)) : path.dirname(target.absPath);
  const base = stem(
    target.runner === 'prisma' ? path.basename(path.dirname(target.absPath)) : path.basename(target.absPath),
  );
  const out = releases.map((units, i) => ({
    absPath: path.join(path.dirname(migrations), 'pgkeel-later', `${base}.release-${i + 2}.sql`),
    content: renderPlanSql({ ...plan, units }),
  }));
  notes.push(
    `${out.length === 1 ? 'one step waits' : `${out.length} releases wait`} for an application deploy: see ${out
      .map((f) => path.relative(path.dirname(migrations), f.absPath))
      .join(', ')}, and add it as a new migration once the deploy is done`,
  );
  return out;
}

/** A name without its `.sql` / `.up.sql` ending. */
function stem(name: string): string {
  return name.replace(/(\.up)?\.sql$/i, '');
}

/** The file (and Flyway's config file) for one unit. */
function unitFiles(
  unit: PlanUnit,
  absPath: string,
  first: boolean,
  style: RunnerStyle,
  target: LayoutTarget,
  notes: string[],
): FileWrite[] {
  const body: string[] = [];
  const header = `-- pgkeel fix: ${unitSummary(unit)}`;
  const wrapped = unit.transaction && style.explicitTransactions;
  const canSet = !(style.oneQuery && !unit.transaction);
  if (wrapped) body.push('BEGIN;');
  if (canSet) body.push(...timeoutSettings(unit, unit.transaction ? 'SET LOCAL' : 'SET'));
  const breakpoint = target.runner === 'drizzle' ? '\n--> statement-breakpoint' : '';
  const statements: string[] = [];
  for (const step of unit.steps) {
    const lines: string[] = [];
    if (step.comments) lines.push(step.comments);
    if (step.blocking) lines.push(`-- still blocks traffic: ${step.blocking}`);
    // goose splits on semicolons unless told where a statement with its own begins and ends
    if (target.runner === 'goose' && step.sql.includes(';'))
      lines.push('-- +goose StatementBegin', `${step.sql};`, '-- +goose StatementEnd');
    else lines.push(`${step.sql};`);
    statements.push(lines.join('\n'));
  }
  body.push(statements.join(`${breakpoint}\n`));
  if (wrapped) body.push('COMMIT;');
  const sql = body.filter((l) => l !== '').join('\n');

  switch (target.runner) {
    case 'goose': {
      const down = first ? downSection(target.raw, /^--\s*\+goose\s+down\b.*$/im) : '-- +goose Down\n';
      const noTx = unit.transaction ? '' : '-- +goose NO TRANSACTION\n';
      return [{ absPath, content: `${noTx}-- +goose Up\n${header}\n${sql}\n\n${down}` }];
    }
    case 'dbmate': {
      const down = first ? downSection(target.raw, /^--\s*migrate:down\b.*$/im) : '-- migrate:down\n';
      const up = unit.transaction ? '-- migrate:up' : '-- migrate:up transaction:false';
      return [{ absPath, content: `${up}\n${header}\n${sql}\n\n${down}` }];
    }
    case 'flyway': {
      const files = [{ absPath, content: `${header}\n${sql}\n` }];
      // a config file beside the script: Flyway runs it outside a transaction
      if (!unit.transaction)
        files.push({ absPath: `${absPath}.conf`, content: 'executeInTransaction=false\n' });
      return files;
    }
    case 'golang-migrate': {
      const files = [{ absPath, content: `${header}\n${sql}\n` }];
      if (!first)
        files.push({
          absPath: absPath.replace(/\.up\.sql$/i, '.down.sql'),
          content: `-- pgkeel fix: nothing to undo here; the down migration of ${path.basename(target.absPath).replace(/\.up\.sql$/i, '.down.sql')} reverts the whole migration\n`,
        });
      return files;
    }
    case 'transaction-per-file':
      if (!unit.transaction)
        notes.push(
          'the runner wraps every file in a transaction: the files marked "outside a transaction" must be applied another way (psql, pgkeel run)',
        );
      return [{ absPath, content: `${header}\n${sql}\n` }];
    case 'drizzle':
      if (!unit.transaction)
        notes.push(
          'drizzle-kit migrate runs all pending migrations in one transaction: the steps that must run outside a transaction are written to files left out of meta/_journal.json — apply them with pgkeel run (or psql) in the order of their names, after the journal entry before them; and the steps split into separate files still share drizzle-kit’s one transaction, so apply each release with its own migrate run',
        );
      return [{ absPath, content: `${header}\n${sql}\n` }];
    default:
      return [{ absPath, content: `${header}\n${sql}\n` }];
  }
}

/** The down section of the original file, from its marker to the end (or the marker alone). */
function downSection(raw: string, marker: RegExp): string {
  const m = marker.exec(raw);
  if (!m) return '';
  return raw.slice(m.index).replace(/\s*$/, '\n');
}

/**
 * Names for `count` new migrations sorting right after the original and before the next one, in
 * the runner's order: version-numbered tools get the next free versions (keeping the digits' width),
 * Flyway a minor version (V3 → V3.1), others a `_step2` suffix.
 */
function followingNames(target: LayoutTarget, count: number): string[] {
  if (count === 0) return [];
  const own =
    target.runner === 'prisma' ? path.basename(path.dirname(target.absPath)) : path.basename(target.absPath);
  const others = target.siblings.filter((s) => s !== own);
  const refuse = (why: string): never => {
    throw new LayoutError(`cannot add ${count} migration${count === 1 ? '' : 's'} after ${own}: ${why}`);
  };
  const names: string[] = [];
  const numbered = /^(\d+)(_.*)$/.exec(own);
  if (
    numbered &&
    (target.runner === 'golang-migrate' || target.runner === 'goose' || target.runner === 'dbmate')
  ) {
    const [, digits, rest] = numbered as unknown as [string, string, string];
    const version = BigInt(digits);
    const versions = others.map((o) => /^(\d+)_/.exec(o)?.[1]).filter((v): v is string => v !== undefined);
    const next = versions
      .map(BigInt)
      .filter((v) => v > version)
      .sort((a, b) => (a < b ? -1 : 1))[0];
    const ending = /(\.up)?\.sql$/i.exec(rest)?.[0] ?? '';
    const title = rest.slice(0, rest.length - ending.length);
    for (let i = 1; i <= count; i++) {
      const v = version + BigInt(i);
      if (next !== undefined && v >= next)
        refuse(
          `no free version between ${digits} and the next migration's (${next}); renumber the pending migrations or use --stdout`,
        );
      names.push(`${v.toString().padStart(digits.length, '0')}${title}_step${i + 1}${ending}`);
    }
    return names;
  }
  const flyway = /^([VR])(\d+(?:[._]\d+)*)__(.*)$/.exec(own);
  if (target.runner === 'flyway' && flyway) {
    const [, prefix, version, rest] = flyway as unknown as [string, string, string, string];
    const taken = new Set(others.map((o) => /^[VR](\d+(?:[._]\d+)*)__/.exec(o)?.[1]?.replace(/_/g, '.')));
    const dotted = version.replace(/_/g, '.');
    const ending = /\.sql$/i.exec(rest)?.[0] ?? '';
    for (let i = 1; i <= count; i++) {
      const v = `${dotted}.${i}`;
      if (taken.has(v)) refuse(`version ${v} exists already; use --stdout`);
      names.push(`${prefix}${v}__${rest.slice(0, rest.length - ending.length)}_step${i + 1}${ending}`);
    }
    return names;
  }
  // code point order (Prisma folders, Drizzle files, other runners): a suffix keeps the name's prefix
  const ending = target.runner === 'prisma' ? '' : (/\.sql$/i.exec(own)?.[0] ?? '');
  const title = own.slice(0, own.length - ending.length);
  const next = others.filter((o) => compareCodePoints(o, own) > 0).sort(compareCodePoints)[0];
  for (let i = 1; i <= count; i++) {
    const name = `${title}_step${i + 1}${ending}`;
    if (others.includes(name) || (next !== undefined && compareCodePoints(name, next) >= 0))
      refuse(`${name} would not sort before ${next ?? name}; use --stdout`);
    names.push(name);
  }
  return names;
}

interface JournalEntry {
  idx: number;
  version?: string;
  when: number;
  tag: string;
  breakpoints?: boolean;
}

/**
 * Drizzle's journal with an entry for each new transactional file, right after the original's (its
 * `when` one millisecond later each: drizzle applies entries newer than the last applied one).
 */
function drizzleJournal(
  target: LayoutTarget,
  files: readonly PlanUnit[],
  names: readonly string[],
  notes: string[],
): FileWrite[] {
  const journalPath = path.join(path.dirname(target.absPath), 'meta', '_journal.json');
  if (target.journal === undefined) {
    notes.push('no meta/_journal.json beside the migration: add the new files to the journal by hand');
    return [];
  }
  let journal: { entries: JournalEntry[] };
  try {
    journal = JSON.parse(target.journal);
  } catch (e) {
    throw new LayoutError(`meta/_journal.json is not valid JSON (${(e as Error).message})`);
  }
  const tag = stem(path.basename(target.absPath));
  const at = journal.entries.findIndex((e) => e.tag === tag);
  if (at < 0) throw new LayoutError(`meta/_journal.json has no entry for ${tag}`);
  const original = journal.entries[at]!;
  const added: JournalEntry[] = [];
  names.forEach((name, i) => {
    if (!files[i + 1]!.transaction) return;
    added.push({ ...original, when: original.when + added.length + 1, tag: stem(name) });
  });
  const next = journal.entries[at + 1];
  if (next && added.length > 0 && next.when <= original.when + added.length)
    throw new LayoutError(
      `no room in meta/_journal.json between ${tag} and ${next.tag} (their "when" are too close)`,
    );
  const entries = [...journal.entries.slice(0, at + 1), ...added, ...journal.entries.slice(at + 1)].map(
    (e, idx) => ({ ...e, idx }),
  );
  return [{ absPath: journalPath, content: `${JSON.stringify({ ...journal, entries }, null, 2)}\n` }];
}
