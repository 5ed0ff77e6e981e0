import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the wasm parser and PGlite take a moment to load on a cold machine
    testTimeout: 30_000,
  },
});
