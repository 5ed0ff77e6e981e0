#!/usr/bin/env -S node --max-semi-space-size=2
// The small young generation (a start-up flag, hence the shebang) keeps the peak on a 5 MB file
// near 135 MB instead of ~153 MB: parse trees are short-lived and collected sooner.
import v8 from 'node:v8';

// A short-lived CLI gains from running the wasm parser on its baseline code instead of
// re-compiling it with the optimizing tier: a small file lints in ~half the time (see `npm run bench`).
// No --optimize-for-size: it shrank the young generation below the flag above, and its ~4x more
// scavenges cost ~15% CPU on 2,000 files and 5 MB inputs alike, for ~10 MB less peak.
v8.setFlagsFromString('--liftoff-only');
// `pgkeel lint … | head` closes the pipe early: stop quietly, as other command-line tools do.
// Any other failure to write (a full disk: ENOSPC, EIO, EFBIG) means the report is incomplete:
// one line saying so, and exit 2, rather than a stack trace and the exit code of "findings".
const WRITE_REASONS = { ENOSPC: 'no space left on device', EIO: 'input/output error', EFBIG: 'file too large' };
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  const reason = WRITE_REASONS[error.code] ?? error.message ?? String(error);
  process.stderr.write(
    `pgkeel: cannot write to standard output: ${reason}${error.code ? ` (${error.code})` : ''}; the report is incomplete\n`,
  );
  process.exit(2);
});

const { main } = await import('../dist/cli-bundle/main.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    // an unexpected failure is a bug: say so plainly; the stack only when asked for
    const detail = process.env.PGKEEL_DEBUG ? (error?.stack ?? String(error)) : (error?.message ?? String(error));
    process.stderr.write(
      `pgkeel: internal error: ${detail}\nPlease report it with the input that caused it (PGKEEL_DEBUG=1 shows details).\n`,
    );
    process.exitCode = 2;
  },
);
