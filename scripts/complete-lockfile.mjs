// Adds the lockfile entries npm leaves out when the registry it installs from has no copy of another
// platform's binary package (@biomejs/cli-darwin-arm64, …). Without them `npm ci` refuses the lockfile
// as out of sync; with them it skips those packages by os/cpu, as it does with a complete lockfile.
// Run after changing dependencies: `npm install && node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const PLATFORM =
  /(android|darwin|linux|win32|freebsd|openbsd|sunos|aix)-(arm64|x64|ia32|arm|ppc64|s390x|riscv64)/;
let added = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[`${path}/${key}`]) continue;
    const m = PLATFORM.exec(name);
    if (!m)
      throw new Error(`${name}: optional dependency missing from the lockfile and not a platform package`);
    lock.packages[key] = {
      version,
      ...(pkg.dev ? { dev: true } : {}),
      optional: true,
      os: [m[1]],
      cpu: [m[2]],
      ...(name.includes('musl') ? { libc: ['musl'] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: ${added} platform entries added`);
