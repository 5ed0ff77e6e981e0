/**
 * The schema of earlier migrations, built statically: a migration is analysed with what the
 * migrations before it in its history created (tables, column types, indexes, constraints and their
 * validity, domains, partitions), read from their SQL in the runner's order — no database.
 *
 * Linting a history in order costs nothing extra: each migration's final state is handed to the
 * next. A migration linted alone (`--changed-since`, one file, the first after `applied`) has its
 * earlier migrations read and analysed first, once per run.
 */

import type { Statement } from '../parse/parse.js';
import { openSource } from '../parse/parse.js';
import { EmbeddedSql } from '../parse/plpgsql.js';
import {
  compareCodePoints,
  type HistoryEntry,
  historyEntries,
  historyOf,
  type MigrationFile,
  readEarlierMigration,
} from '../sources/index.js';
import { type AnalyzeOptions, Analyzer, type KnownSchema, type MigrationState } from './analyze.js';

/** What `SchemaHistory.before` needs to analyse earlier migrations as the runner would run them. */
export type HistoryAnalyzeOptions = Omit<AnalyzeOptions, 'schema' | 'statementCount' | 'noTransaction'>;

export class SchemaHistory {
  /** the migrations of each history directory, listed once per run, and the position of each name */
  private readonly listings = new Map<string, { entries: HistoryEntry[]; at: Map<string, number> }>();
  /** the last migration analysed in each history and the schema it left (consumed by the next) */
  private readonly last = new Map<string, { name: string; schema: KnownSchema }>();

  constructor(private readonly cwd: string = process.cwd()) {}

  /**
   * The schema the migrations before `file` in its history leave, or undefined when the file has no
   * history (stdin) or is its first migration. Call `after` once the file is analysed.
   */
  async before(file: MigrationFile, options: HistoryAnalyzeOptions): Promise<KnownSchema | undefined> {
    const history = historyOf(file);
    if (!history) return undefined;
    const listing = this.listing(history);
    // the migrations sorting before this one (entries are sorted; the file itself may not be listed)
    let end = listing.at.get(history.name);
    if (end === undefined) {
      end = 0;
      while (end < listing.entries.length && compareCodePoints(listing.entries[end]!.name, history.name) < 0)
        end++;
    }
    if (end === 0) return undefined;
    const cached = this.last.get(history.dir);
    this.last.delete(history.dir);
    // continue from the last migration analysed when it comes before this one; else from the start
    let from = 0;
    let schema: KnownSchema | undefined;
    const at = cached ? listing.at.get(cached.name) : undefined;
    if (cached && at !== undefined && at < end) {
      from = at + 1;
      schema = cached.schema;
    }
    for (let i = from; i < end; i++) {
      const read = await readEarlierMigration(listing.entries[i]!.absPath, this.cwd);
      if (read.unreadable || read.down) continue;
      schema = schemaAfter(read.text, { ...options, noTransaction: read.noTransaction, schema });
    }
    return schema;
  }

  private listing(history: { dir: string; prisma: boolean }) {
    let listing = this.listings.get(history.dir);
    if (!listing) {
      const entries = historyEntries(history);
      listing = { entries, at: new Map(entries.map((e, i) => [e.name, i])) };
      this.listings.set(history.dir, listing);
    }
    return listing;
  }

  /** Records the schema `file` leaves (its analyzer's final state; handed over, not copied). */
  after(file: MigrationFile, state: MigrationState): void {
    const history = historyOf(file);
    // a down migration, or a file the runner does not apply, is not a step of the history
    if (!history || file.down || !this.listing(history).at.has(history.name)) return;
    this.last.set(history.dir, { name: history.name, schema: state.leave() });
  }
}

/** The schema a migration leaves, from its SQL (statements that do not parse change nothing). */
export function schemaAfter(sql: string, options: AnalyzeOptions): KnownSchema {
  const source = openSource(sql);
  const analyzer = new Analyzer({ ...options, statementCount: source.statementCount });
  const embedded = new EmbeddedSql(source);
  const one = (stmt: Statement, depth: number): void => {
    analyzer.apply(analyzer.analyze(stmt));
    embedded.run(stmt, depth, analyzer, one);
  };
  for (const item of source.items()) if (item.type !== 'error') one(item, 0);
  analyzer.finish();
  return analyzer.state.leave();
}
