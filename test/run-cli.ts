/** Runs the CLI in-process with captured output, as the CLI tests of each command do. */
import { type CliIo, main } from '../src/cli/main.js';
import { clearConfigCache } from '../src/config/load.js';

export async function runCli(
  argv: string[],
  io: Pick<CliIo, 'cwd'> & Partial<Pick<CliIo, 'env' | 'readStdin' | 'stdinIsTTY' | 'ask'>>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // each run finds config files afresh, as a new process would
  clearConfigCache();
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    ...io,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}
