/**
 * The cache root (PGKEEL_CACHE_DIR): as root, pgkeel never changes the mode of a directory it did not
 * create (issue 9 #7: `/tmp` lost its sticky bit), refuses one that others can write to, and makes
 * what it creates itself traversable by `nobody`, whatever the umask.
 */
import { mkdirSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureCacheRoot, isRoot } from '../src/trace/engines/cache.js';

const mode = (p: string) => statSync(p).mode & 0o7777;

describe('ensureCacheRoot', () => {
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'pgkeel-cache-test-'));
    await chmod(base, 0o755);
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  it('leaves a world-writable sticky directory as it is (as root: refuses it)', async () => {
    const dir = join(base, 'sticky');
    mkdirSync(dir);
    await chmod(dir, 0o1777);
    if (isRoot()) expect(() => ensureCacheRoot(dir)).toThrow(/users other than root can write to it/);
    else expect(ensureCacheRoot(dir)).toBe(dir);
    expect(mode(dir)).toBe(0o1777);
  });

  it('leaves a private directory private', async () => {
    const dir = join(base, 'private');
    mkdirSync(dir);
    await chmod(dir, 0o700);
    expect(ensureCacheRoot(dir)).toBe(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it('makes the directories it creates traversable (as root), and only those', async () => {
    await chmod(base, 0o711);
    const dir = join(base, 'a', 'b');
    const umask = process.umask(0o077);
    try {
      expect(ensureCacheRoot(dir)).toBe(dir);
    } finally {
      process.umask(umask);
    }
    expect(mode(base)).toBe(0o711);
    const expected = isRoot() ? 0o755 : 0o700;
    expect(mode(join(base, 'a'))).toBe(expected);
    expect(mode(dir)).toBe(expected);
  });
});
