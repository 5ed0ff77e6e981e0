/**
 * The migration tool's own history, written after `pgkeel run` applied a migration, so that the tool
 * agrees afterwards (`prisma migrate deploy`, `migrate up`, `drizzle-kit migrate`, `goose up`,
 * `dbmate up` then find nothing pending). Each table is created the way the tool creates it when it
 * is missing; rows are written as the tool writes them (checksums of the file's bytes).
 */

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { RunnerName } from '../config/types.js';
import { sha256 } from './history.js';

export interface ToolMigration {
  /** the history name: a file name, or Prisma's folder name */
  name: string;
  absPath: string;
}

/** Runners whose history pgkeel writes. */
export const TOOL_HISTORIES: readonly RunnerName[] = [
  'prisma',
  'golang-migrate',
  'drizzle',
  'goose',
  'dbmate',
];

/** The leading version number of a file name (`000003_x.up.sql`, `20240101_x.sql`). */
function versionOf(name: string): string | undefined {
  return /^(\d+)_/.exec(name)?.[1];
}

/**
 * Records `m` as applied in `runner`'s table; returns what it could not do (to tell the user), or
 * undefined when done or when the runner keeps no table pgkeel writes.
 */
export async function recordInToolHistory(
  client: pg.Client,
  runner: RunnerName,
  m: ToolMigration,
): Promise<string | undefined> {
  switch (runner) {
    case 'prisma': {
      // Prisma's checksum: SHA-256 of migration.sql as it is on disk
      const bytes = await readFile(m.absPath);
      await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0
      )`);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         SELECT $1::varchar, $2::varchar, now(), $3::varchar, now(), 1
          WHERE NOT EXISTS (SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $3::varchar AND finished_at IS NOT NULL AND rolled_back_at IS NULL)`,
        [randomUUID(), sha256(bytes), m.name],
      );
      return undefined;
    }
    case 'golang-migrate': {
      const version = versionOf(m.name);
      if (!version) return `${m.name} has no version number: schema_migrations not updated`;
      // golang-migrate keeps one row: the current version, and whether it is dirty
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)',
      );
      await client.query('BEGIN');
      try {
        await client.query('DELETE FROM schema_migrations');
        await client.query('INSERT INTO schema_migrations (version, dirty) VALUES ($1, false)', [version]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
      return undefined;
    }
    case 'drizzle': {
      // drizzle's migrator: the SHA-256 of the file's text, and the journal's `when` as created_at
      const dir = path.dirname(m.absPath);
      const journal = await readFile(path.join(dir, 'meta', '_journal.json'), 'utf8').catch(() => undefined);
      const tag = m.name.replace(/\.sql$/, '');
      const entry = journal
        ? (JSON.parse(journal) as { entries?: { tag: string; when: number }[] }).entries?.find(
            (e) => e.tag === tag,
          )
        : undefined;
      if (!entry) return `${m.name} is not in meta/_journal.json: drizzle's history not updated`;
      const text = await readFile(m.absPath, 'utf8');
      await client.query('CREATE SCHEMA IF NOT EXISTS drizzle');
      await client.query(
        'CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
      );
      await client.query(
        `INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
         SELECT $1::text, $2::bigint WHERE NOT EXISTS (SELECT 1 FROM drizzle.__drizzle_migrations WHERE created_at = $2::bigint)`,
        [sha256(text), entry.when],
      );
      return undefined;
    }
    case 'goose': {
      const version = versionOf(m.name);
      if (!version) return `${m.name} has no version number: goose_db_version not updated`;
      await client.query(`CREATE TABLE IF NOT EXISTS goose_db_version (
        id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL,
        tstamp timestamp NULL DEFAULT now(), PRIMARY KEY (id))`);
      // goose starts its table with version 0
      await client.query(
        'INSERT INTO goose_db_version (version_id, is_applied) SELECT 0, true WHERE NOT EXISTS (SELECT 1 FROM goose_db_version)',
      );
      await client.query(
        'INSERT INTO goose_db_version (version_id, is_applied) SELECT $1::bigint, true WHERE NOT EXISTS (SELECT 1 FROM goose_db_version WHERE version_id = $1::bigint AND is_applied)',
        [version],
      );
      return undefined;
    }
    case 'dbmate': {
      const version = versionOf(m.name);
      if (!version) return `${m.name} has no version number: schema_migrations not updated`;
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)');
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING', [
        version,
      ]);
      return undefined;
    }
    default:
      return undefined;
  }
}
