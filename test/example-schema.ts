/** The schema a rule example's `setup` (its earlier migrations) leaves, as lint knows it. */
import type { KnownSchema } from '../src/analyze/analyze.js';
import { schemaAfter } from '../src/analyze/history.js';
import { runnerModel } from '../src/analyze/runners.js';
import type { RuleExample } from '../src/rules/define.js';

export function exampleSchema(example: RuleExample, pgVersion: number): KnownSchema | undefined {
  return example.setup
    ? schemaAfter(example.setup, { pgVersion, runner: runnerModel(example.runner ?? 'psql') })
    : undefined;
}
