/** The README's example output is real: it must be what `pgkeel lint examples/` prints. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CliIo, main } from '../src/cli/main.js';

describe('README', () => {
  it('shows output that `pgkeel lint examples/` really prints, with the exit code it states', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('`pgkeel lint examples/` reports'));
    const block = /```\n([\s\S]*?)```/.exec(section)![1]!;
    let out = '';
    const io: CliIo = { stdout: (s) => (out += s), stderr: () => {}, isTTY: false, cwd: process.cwd() };
    const code = await main(['lint', 'examples/'], io);
    expect(out).toContain(block.trimEnd());
    expect(code).toBe(1);
    const total = /✖ (\d+) errors, (\d+) warnings in (\d+) of (\d+) files/.exec(out)!;
    const claimed = /reports (\w+) findings in (\w+) of the (\w+) files/.exec(section)!;
    const words = [
      'zero',
      'one',
      'two',
      'three',
      'four',
      'five',
      'six',
      'seven',
      'eight',
      'nine',
      'ten',
      'eleven',
      'twelve',
    ];
    expect([claimed[1], claimed[2], claimed[3]].map((w) => words.indexOf(w!))).toEqual([
      Number(total[1]) + Number(total[2]),
      Number(total[3]),
      Number(total[4]),
    ]);
  });
});
