/**
 * Migration histories: the directory a migration belongs to and the migrations a runner applies
 * before it (code point order of names, as the runners sort them). Shared by `trace` (which applies
 * them) and the static schema of `lint` and `explain` (which reads them).
 */

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isDownFile } from './detect.js';
import { InputError } from './errors.js';
import { readMigrationFile } from './read.js';
import { compareCodePoints, displayPath } from './resolve.js';
import type { InputProblem, MigrationFile } from './types.js';

/**
 * The directory holding a migration history and the name that orders this file in it: the file
 * name, or for Prisma (`migrations/<name>/migration.sql`) the migration's folder.
 */
export function historyOf(file: MigrationFile): { dir: string; name: string; prisma: boolean } | undefined {
  if (!file.absPath) return undefined;
  const dir = path.dirname(file.absPath);
  if (file.origin === 'prisma' && path.basename(file.absPath) === 'migration.sql') {
    return { dir: path.dirname(dir), name: path.basename(dir), prisma: true };
  }
  return { dir, name: path.basename(file.absPath), prisma: false };
}

/** A migration of a history: the name that orders it and its file. */
export interface HistoryEntry {
  name: string;
  absPath: string;
}

/**
 * The migrations of a history directory in the runner's order (`.sql` files that are not down
 * migrations; Prisma: folders holding a migration.sql). Empty when the directory cannot be read.
 */
export function historyEntries(history: { dir: string; prisma: boolean }): HistoryEntry[] {
  let names: string[];
  try {
    names = readdirSync(history.dir);
  } catch {
    return [];
  }
  const out: HistoryEntry[] = [];
  for (const name of names.sort(compareCodePoints)) {
    const abs = history.prisma ? path.join(history.dir, name, 'migration.sql') : path.join(history.dir, name);
    if (!history.prisma && (!name.toLowerCase().endsWith('.sql') || isDownFile(name))) continue;
    try {
      if (!statSync(abs).isFile()) continue;
    } catch {
      continue;
    }
    out.push({ name, absPath: abs });
  }
  return out;
}

/** The migrations a runner applies before `file`, read the way lint reads them (Down sections blanked). */
export async function earlierMigrations(file: MigrationFile, cwd: string): Promise<MigrationFile[]> {
  const history = historyOf(file);
  if (!history) return [];
  const out: MigrationFile[] = [];
  for (const entry of historyEntries(history)) {
    if (compareCodePoints(entry.name, history.name) >= 0) break;
    const read = await readEarlierMigration(entry.absPath, cwd);
    if (!read.down) out.push(read);
  }
  return out;
}

/**
 * An earlier migration, read as lint reads it. An unreadable one is returned as such (`unreadable`,
 * with the reason): it must not end the whole run.
 */
export async function readEarlierMigration(abs: string, cwd: string): Promise<MigrationFile> {
  const shown = displayPath(abs, cwd);
  try {
    return await readMigrationFile({ kind: 'file', path: shown, absPath: abs });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const reason = error.message.startsWith(`${shown}: `)
      ? error.message.slice(shown.length + 2)
      : error.message;
    const problem: InputProblem = {
      rule: 'unreadable-input',
      severity: 'error',
      message: reason,
      start: 0,
      end: 0,
      line: 1,
      column: 1,
    };
    return { path: shown, absPath: abs, text: '', unreadable: true, problems: [problem] };
  }
}
