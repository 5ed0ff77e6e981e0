// Builds dist/: the library compiled by tsc (with declarations), and the CLI bundled by esbuild
// into a few ESM chunks, because resolving ~100 modules at every start costs more than linting a file.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')],
  {
    stdio: 'inherit',
    cwd: root,
  },
);
await build({
  entryPoints: { main: join(root, 'src/cli/main.ts') },
  // dist/cli-bundle/ keeps `../../package.json` pointing at the package root, as from dist/cli/
  outdir: join(root, 'dist/cli-bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // prefer packages' ESM builds: some UMD builds (jsonc-parser) hide their requires from the bundler
  mainFields: ['module', 'main'],
  // the wasm parser locates its .wasm beside itself; jiti and PGlite are loaded only on demand;
  // pgsql-deparser is required lazily, when a fix needs it
  external: ['libpg-query', 'jiti', '@electric-sql/pglite', 'pgsql-deparser'],
  banner: {
    js: "import { createRequire as __pgkeelRequire } from 'node:module'; const require = __pgkeelRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
