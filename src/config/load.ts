import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Jiti } from 'jiti';
import { type LilconfigResult, type Loader, lilconfig } from 'lilconfig';
import { ConfigError } from './errors.js';
import { JsonSyntaxError, parseJson } from './json.js';
import type { LoadedConfig, PgkeelConfig } from './types.js';

/** Searched in this order in each directory, from `searchFrom` up to the filesystem root. */
export const CONFIG_FILE_NAMES = [
  'pgkeel.config.json',
  'pgkeel.config.js',
  'pgkeel.config.mjs',
  'pgkeel.config.ts',
  'package.json',
] as const;

const SCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const PACKAGE_KEY = 'pgkeel';

export interface LoadConfigOptions {
  cwd: string;
  /** load exactly this file (relative to cwd); no search */
  configPath?: string;
  /** directory to search upward from; defaults to cwd */
  searchFrom?: string;
  /** rule ids that `rules` may name */
  knownRules: readonly string[];
}

/** Identity; gives `pgkeel.config.ts` type checking and completion. */
export function defineConfig(config: PgkeelConfig): PgkeelConfig {
  return config;
}

/** Raised inside loaders, where the cwd (and so the displayed file name) is not known yet. */
class FileLoadError extends Error {
  constructor(
    readonly filepath: string,
    message: string,
    readonly position?: { line: number; column: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const jsonLoader: Loader = (filepath, content) => {
  try {
    return parseJson(content);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      const position = { line: error.line, column: error.column };
      throw new FileLoadError(filepath, `invalid JSON: ${error.message}`, position, { cause: error });
    }
    throw error;
  }
};

let jiti: Jiti | undefined;

/** `.js`/`.mjs`/`.ts` configs go through jiti so ESM, CommonJS and TypeScript all work the same way. */
const scriptLoader: Loader = async (filepath) => {
  // no module cache, so clearConfigCache() really re-reads an edited config; no fs cache, so
  // loading a config never writes into the user's project
  // loaded on demand: most projects have no script config, and jiti is the slowest import of the CLI
  jiti ??= (await import('jiti')).createJiti(import.meta.url, { moduleCache: false, fsCache: false });
  let mod: unknown;
  try {
    mod = await jiti.import(filepath);
  } catch (error) {
    throw new FileLoadError(filepath, `failed to load: ${errorText(error)}`, undefined, { cause: error });
  }
  if (mod === null || typeof mod !== 'object' || !('default' in mod)) {
    throw new FileLoadError(filepath, 'the config must be the default export (`export default { … }`)');
  }
  const config = (mod as { default: unknown }).default;
  if (typeof config === 'function') {
    throw new FileLoadError(filepath, 'the default export must be the config object, not a function');
  }
  return config;
};

const explorer = lilconfig('pgkeel', {
  searchPlaces: [...CONFIG_FILE_NAMES],
  loaders: {
    '.json': jsonLoader,
    noExt: jsonLoader,
    ...Object.fromEntries(SCRIPT_EXTENSIONS.map((ext) => [ext, scriptLoader])),
  },
  packageProp: PACKAGE_KEY,
  // lilconfig stops at the home directory by default; a config above it (a monorepo in /srv) must count
  stopDir: path.parse(process.cwd()).root,
  // an empty pgkeel.config.json still marks where the project's config lives
  ignoreEmptySearchPlaces: false,
  cache: true,
});

const cache = new Map<string, Promise<LoadedConfig>>();

/** Forget every loaded and searched config (for tests and watch modes). */
export function clearConfigCache(): void {
  cache.clear();
  explorer.clearCaches();
}

/**
 * Finds, loads and validates the config for files in `searchFrom` (or loads `configPath`).
 * Results are cached per directory; errors are `ConfigError`s naming the file.
 */
export function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd);
  const target =
    options.configPath === undefined
      ? `search:${path.resolve(cwd, options.searchFrom ?? '.')}`
      : `file:${path.resolve(cwd, options.configPath)}`;
  const key = `${target}\0${cwd}\0${options.knownRules.join(',')}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = load(options, cwd);
    cache.set(key, pending);
  }
  return pending;
}

function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function load(options: LoadConfigOptions, cwd: string): Promise<LoadedConfig> {
  let result: LilconfigResult;
  let explicit: string | undefined;
  try {
    if (options.configPath !== undefined) {
      explicit = path.resolve(cwd, options.configPath);
      await checkExplicitPath(explicit, cwd);
      result = await explorer.load(explicit);
    } else {
      result = await explorer.search(path.resolve(cwd, options.searchFrom ?? '.'));
    }
  } catch (error) {
    throw toConfigError(error, cwd, explicit);
  }
  if (!result) return { config: {}, dir: cwd };

  const filepath = path.resolve(result.filepath);
  const file = { file: filepath, displayFile: displayPath(filepath, cwd) };
  const isPackageJson = path.basename(filepath) === 'package.json';
  let raw: unknown = result.isEmpty ? {} : result.config;
  if (isPackageJson && raw == null) {
    // only reachable with an explicit configPath: the search skips package.json files without the key
    throw new ConfigError(`no "${PACKAGE_KEY}" key in package.json`, file);
  }
  raw ??= {};

  // zod is only needed when there is a config to validate: keep it off the startup path
  const { validateConfig } = await import('./schema.js');
  const validated = validateConfig(raw, options.knownRules);
  if (!validated.ok) {
    const issues = isPackageJson
      ? validated.issues.map((i) => ({
          ...i,
          keyPath: i.keyPath ? `${PACKAGE_KEY}.${i.keyPath}` : PACKAGE_KEY,
        }))
      : validated.issues;
    throw new ConfigError(issues[0]!.message, { ...file, issues });
  }
  return { config: validated.config, filepath, dir: path.dirname(filepath) };
}

async function checkExplicitPath(file: string, cwd: string): Promise<void> {
  const shown = displayPath(file, cwd);
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    const reason =
      error.code === 'ENOENT' ? 'config file not found' : `cannot read config file: ${error.message}`;
    throw new ConfigError(reason, { file, displayFile: shown, cause: error });
  });
  if (info.isDirectory()) {
    throw new ConfigError('is a directory, expected a config file', { file, displayFile: shown });
  }
  const ext = path.extname(file);
  if (path.basename(file) !== 'package.json' && ext !== '.json' && !SCRIPT_EXTENSIONS.includes(ext)) {
    throw new ConfigError(
      `unsupported config file type "${ext || '(none)'}"; use .json, ${SCRIPT_EXTENSIONS.join(', ')}`,
      { file, displayFile: shown },
    );
  }
}

function toConfigError(error: unknown, cwd: string, explicit: string | undefined): ConfigError {
  if (error instanceof ConfigError) return error;
  if (error instanceof FileLoadError) {
    return new ConfigError(error.message, {
      file: error.filepath,
      displayFile: displayPath(error.filepath, cwd),
      ...(error.position ?? {}),
      cause: error.cause ?? error,
    });
  }
  // fs errors from lilconfig (EACCES on a config file met during the search) carry the path
  const file = (error as NodeJS.ErrnoException | undefined)?.path ?? explicit;
  if (file !== undefined) {
    return new ConfigError(`cannot load config: ${errorText(error)}`, {
      file,
      displayFile: displayPath(file, cwd),
      cause: error,
    });
  }
  return new ConfigError(`cannot load config: ${errorText(error)}`, { cause: error });
}
