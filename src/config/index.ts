export { ConfigError, type ConfigErrorOptions, type ConfigIssue } from './errors.js';
export { createIgnoreMatcher, globToRegExp, ignoreMatcherFor } from './ignore.js';
export { formatInterval, IntervalError, parseInterval } from './interval.js';
export {
  CONFIG_FILE_NAMES,
  clearConfigCache,
  defineConfig,
  type LoadConfigOptions,
  loadConfig,
} from './load.js';
export { checkPgVersion, checkRunner, PRESETS, type ValidationResult, validateConfig } from './schema.js';
export { closest, didYouMean } from './suggest.js';
export * from './types.js';
