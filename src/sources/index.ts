export { type AppliedMatcher, appliedMatcherFor, createAppliedMatcher } from './applied.js';
export { type ChangedFiles, changedSince } from './changed.js';
export {
  blank,
  type DetectedOrigin,
  detectOrigin,
  detectOriginWithReason,
  isDownFile,
  type RunnerView,
  runnerView,
} from './detect.js';
export { InputError } from './errors.js';
export {
  earlierMigrations,
  type HistoryEntry,
  historyEntries,
  historyOf,
  readEarlierMigration,
} from './history.js';
export {
  type Decoded,
  decode,
  decodeInput,
  invalidUtf8,
  MAX_FILE_SIZE,
  type ReadOptions,
  readMigrationFile,
  STDIN_NAME,
} from './read.js';
export { compareCodePoints, displayPath, type ResolveOptions, resolveInputs } from './resolve.js';
export type { InputProblem, InputProblemRule, InputRef, MigrationFile } from './types.js';
