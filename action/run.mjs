// Entry point of the GitHub Action (action.yml): everything is in src/action/github.ts.
import { runAction } from '../dist/action/github.js';

process.exitCode = await runAction({
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
