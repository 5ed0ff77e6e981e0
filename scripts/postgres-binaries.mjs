#!/usr/bin/env node
// Installs the PostgreSQL binaries `pgkeel trace --pg N` and the version matrix use, ahead of time
// (CI warm-up), and times each step: install, initdb + start, a query, shutdown.
//
//   node scripts/postgres-binaries.mjs              every major available on this platform
//   node scripts/postgres-binaries.mjs 11 18        some majors
//   node scripts/postgres-binaries.mjs --no-start   install only
//   node scripts/postgres-binaries.mjs --list       print the version table
//
// The cache root is $PGKEEL_CACHE_DIR, else ~/.cache/pgkeel (as root: /var/tmp/pgkeel-cache-0).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'no-start': { type: 'boolean' },
    list: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node scripts/postgres-binaries.mjs [--no-start] [--list] [major…]');
  process.exit(0);
}

const src = (p) => join(fileURLToPath(new URL('..', import.meta.url)), 'src/trace/engines', p);
const binaries = await tsImport(src('binaries.ts'), import.meta.url);
const { startPostgres } = await tsImport(src('postgres.ts'), import.meta.url);
const { defaultCacheRoot } = await tsImport(src('cache.ts'), import.meta.url);

const platform = binaries.currentPlatform();
if (values.list) {
  for (const [p, versions] of Object.entries(binaries.POSTGRES_PACKAGES)) {
    console.log(
      `${p}: ${Object.entries(versions)
        .map(([m, v]) => `${m}=${v}`)
        .join(' ')}`,
    );
  }
  process.exit(0);
}

const majors = positionals.length ? positionals.map(Number) : binaries.availableMajors(platform);
console.log(`cache: ${defaultCacheRoot()}  platform: ${platform}`);
let failed = false;
for (const major of majors) {
  try {
    let t = performance.now();
    const installed = await binaries.installPostgres(major);
    const install = `${installed.installed ? 'installed' : 'cached'} in ${ms(t)}`;
    if (values['no-start']) {
      console.log(`PostgreSQL ${major}: ${installed.package.version} ${install}`);
      continue;
    }
    t = performance.now();
    const engine = await startPostgres(major);
    const start = ms(t);
    t = performance.now();
    await engine.query('select 1');
    const query = ms(t);
    t = performance.now();
    await engine.close();
    console.log(`${engine.name}: ${install}; initdb + start ${start}; first query ${query}; stop ${ms(t)}`);
  } catch (e) {
    failed = true;
    console.error(`PostgreSQL ${major}: ${e instanceof Error ? e.message : e}`);
  }
}
process.exit(failed ? 1 : 0);

function ms(t0) {
  return `${Math.round(performance.now() - t0)} ms`;
}
