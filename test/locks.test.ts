import { describe, expect, it } from 'vitest';
import { blockedWorkloads, blocksApplication, conflicts, covers, LOCK_MODES } from '../src/catalog/locks.js';

describe('lock conflict matrix', () => {
  it('is symmetric', () => {
    for (const a of LOCK_MODES)
      for (const b of LOCK_MODES) expect(conflicts(a, b), `${a} / ${b}`).toBe(conflicts(b, a));
  });

  it('lets the self-compatible modes share and makes the rest self-exclusive', () => {
    expect(LOCK_MODES.filter((m) => !conflicts(m, m))).toEqual([
      'ACCESS SHARE',
      'ROW SHARE',
      'ROW EXCLUSIVE',
      'SHARE',
    ]);
  });

  it('says which application queries each mode blocks', () => {
    expect(blockedWorkloads('SHARE').map((w) => w.label)).toContain('INSERT/UPDATE/DELETE');
    expect(blockedWorkloads('SHARE').map((w) => w.label)).not.toContain('SELECT');
    expect(blocksApplication('SHARE UPDATE EXCLUSIVE')).toBe(false);
    expect(LOCK_MODES.filter(blocksApplication)).toEqual([
      'SHARE',
      'SHARE ROW EXCLUSIVE',
      'EXCLUSIVE',
      'ACCESS EXCLUSIVE',
    ]);
  });

  it('knows when a held lock makes a new request wait-free', () => {
    expect(covers(['ACCESS EXCLUSIVE'], 'SHARE')).toBe(true);
    expect(covers(['SHARE ROW EXCLUSIVE'], 'SHARE UPDATE EXCLUSIVE')).toBe(true);
    expect(covers(['SHARE'], 'SHARE UPDATE EXCLUSIVE')).toBe(false);
    expect(covers(['SHARE', 'SHARE UPDATE EXCLUSIVE'], 'SHARE ROW EXCLUSIVE')).toBe(true);
    expect(covers([], 'ACCESS SHARE')).toBe(false);
  });
});
