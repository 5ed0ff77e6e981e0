/**
 * The GitHub Action (action.yml at the repository root): lints the migrations a pull request adds or
 * changes, prints one workflow-command annotation per finding, writes the Markdown summary to the
 * job summary and, on pull requests, keeps one PR comment up to date with it; optionally writes
 * SARIF for code scanning. Everything it knows comes from the environment GitHub gives a step
 * (`GITHUB_*` variables, the event payload, `INPUT_*` for the action's inputs), so tests run it
 * with a simulated one.
 */

import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type CliIo, EXIT, main } from '../cli/main.js';
import { escapeData, escapeProperty } from '../report/github.js';

export interface ActionIo {
  env: Record<string, string | undefined>;
  /** the step's stdout: GitHub reads workflow commands (annotations) from it */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** the GitHub REST API client; global fetch by default */
  fetch?: typeof fetch;
}

/** Marks the comment this action owns, so a new push edits it instead of adding another. */
export const COMMENT_MARKER = '<!-- pgkeel-lint-report -->';
/** GitHub refuses comments longer than this (characters). */
const COMMENT_LIMIT = 65_536;
/** Pages of PR comments searched for our marker (100 per page): bounded, as every request loop here is. */
const MAX_COMMENT_PAGES = 10;

export interface ActionInputs {
  paths: string[];
  pgVersion?: string;
  runner?: string;
  config?: string;
  baseline?: string;
  maxWarnings?: string;
  /** lint only what the pull request changed (default true; ignored outside pull requests) */
  changedOnly: boolean;
  /** an explicit base to compare with, instead of the pull request's base commit */
  baseRef?: string;
  /** write SARIF here (for github/codeql-action/upload-sarif) */
  sarifFile?: string;
  /** create or update the PR comment (default true) */
  comment: boolean;
  /** fail the step when errors are found (default true) */
  failOnErrors: boolean;
  token?: string;
  workingDirectory: string;
}

/**
 * GitHub passes a JavaScript action's input `foo-bar` as `INPUT_FOO-BAR`; a composite action maps
 * its inputs itself, and action.yml uses `INPUT_FOO_BAR`, which shells can name. Both are read.
 */
function input(env: ActionIo['env'], name: string): string | undefined {
  const key = `INPUT_${name.toUpperCase()}`;
  const value = (env[key] ?? env[key.replaceAll('-', '_')])?.trim();
  return value === '' ? undefined : value;
}

function booleanInput(env: ActionIo['env'], name: string, fallback: boolean): boolean {
  const value = input(env, name);
  if (value === undefined) return fallback;
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new ActionError(`input "${name}" must be true or false, got "${value}"`);
}

export class ActionError extends Error {
  override readonly name = 'ActionError';
}

export function readInputs(env: ActionIo['env']): ActionInputs {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const paths = (input(env, 'paths') ?? '.').split(/\s+/).filter(Boolean);
  const optional = (name: string) => {
    const v = input(env, name);
    return v === undefined ? {} : { [camel(name)]: v };
  };
  return {
    paths,
    ...optional('pg-version'),
    ...optional('runner'),
    ...optional('config'),
    ...optional('baseline'),
    ...optional('max-warnings'),
    ...optional('base-ref'),
    ...optional('sarif-file'),
    changedOnly: booleanInput(env, 'changed-only', true),
    comment: booleanInput(env, 'comment', true),
    failOnErrors: booleanInput(env, 'fail-on-errors', true),
    ...optional('token'),
    workingDirectory: path.resolve(workspace, input(env, 'working-directory') ?? '.'),
  };
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

interface PullRequestEvent {
  number: number;
  baseSha: string;
}

/** The pull request this run is for, from the event payload; undefined for pushes and other events. */
export function pullRequestOf(env: ActionIo['env']): PullRequestEvent | undefined {
  const name = env.GITHUB_EVENT_NAME;
  if (name !== 'pull_request' && name !== 'pull_request_target') return undefined;
  const file = env.GITHUB_EVENT_PATH;
  if (!file) throw new ActionError('GITHUB_EVENT_PATH is not set: cannot read the pull request');
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ActionError(`cannot read the event payload ${file}: ${(e as Error).message}`);
  }
  const pr = (payload as { pull_request?: { number?: unknown; base?: { sha?: unknown } } }).pull_request;
  if (typeof pr?.number !== 'number' || typeof pr.base?.sha !== 'string') {
    throw new ActionError(`the ${name} payload in ${file} has no pull_request.number and base.sha`);
  }
  return { number: pr.number, baseSha: pr.base.sha };
}

/** Runs the action; returns the step's exit code. */
export async function runAction(io: ActionIo): Promise<number> {
  let inputs: ActionInputs;
  let pr: PullRequestEvent | undefined;
  try {
    inputs = readInputs(io.env);
    pr = pullRequestOf(io.env);
  } catch (e) {
    if (!(e instanceof ActionError)) throw e;
    io.stdout(`::error title=pgkeel::${escapeData(e.message)}\n`);
    return EXIT.usage;
  }

  const args = ['lint', ...inputs.paths];
  const base = inputs.baseRef ?? (inputs.changedOnly ? pr?.baseSha : undefined);
  if (base) args.push('--changed-since', base);
  for (const [flag, value] of [
    ['--pg-version', inputs.pgVersion],
    ['--runner', inputs.runner],
    ['--config', inputs.config],
    ['--baseline', inputs.baseline],
    ['--max-warnings', inputs.maxWarnings],
  ] as const) {
    if (value !== undefined) args.push(flag, value);
  }

  const cli = (extra: string[], stdout: (s: string) => void) => {
    const cliIo: CliIo = {
      stdout,
      stderr: io.stderr,
      isTTY: false,
      cwd: inputs.workingDirectory,
      env: { ...io.env, FORCE_COLOR: '0' },
    };
    return main([...args, ...extra], cliIo);
  };

  // annotations: GitHub reads them from the step's stdout, and wants paths from the repository root
  const prefix = relativeToWorkspace(io.env, inputs.workingDirectory);
  let annotations = '';
  const code = await cli(['--format', 'github'], (s) => {
    annotations += s;
  });
  io.stdout(
    prefix
      ? annotations.replace(ANNOTATION_FILE, (_, head: string) => `${head}${escapeProperty(prefix)}/`)
      : annotations,
  );
  if (code === EXIT.usage) return code;

  if (inputs.sarifFile) {
    const sarifCode = await cli(['--format', 'sarif', '--output-file', inputs.sarifFile], io.stdout);
    if (sarifCode === EXIT.usage) return sarifCode;
  }

  let markdown = '';
  await cli(['--format', 'markdown'], (s) => {
    markdown += s;
  });
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) appendFileSync(summaryFile, `${markdown}\n`);

  if (pr && inputs.comment) {
    try {
      await upsertComment(io, inputs, pr.number, commentBody(markdown));
    } catch (e) {
      // a comment is a convenience: a read-only token (pull requests from forks) must not fail the check
      io.stdout(
        `::warning title=pgkeel::${escapeData(`could not update the PR comment: ${(e as Error).message}`)}\n`,
      );
    }
  }

  const outputFile = io.env.GITHUB_OUTPUT;
  if (outputFile) {
    appendFileSync(
      outputFile,
      `exit-code=${code}\n${inputs.sarifFile ? `sarif-file=${inputs.sarifFile}\n` : ''}`,
    );
  }
  return code === EXIT.problems && !inputs.failOnErrors ? EXIT.ok : code;
}

/** The comment: our marker, then the report, cut to GitHub's limit with a pointer to the full summary. */
export function commentBody(markdown: string): string {
  const body = `${COMMENT_MARKER}\n${markdown.trim()}\n`;
  if (body.length <= COMMENT_LIMIT) return body;
  const note = '\n\n… the report is cut here; the job summary of this run has all of it.\n';
  return body.slice(0, COMMENT_LIMIT - note.length) + note;
}

/**
 * Creates the PR comment, or edits the one an earlier run made. Three REST calls with fetch:
 * octokit would add dozens of packages to every install for this one CI-only path.
 */
async function upsertComment(io: ActionIo, inputs: ActionInputs, issue: number, body: string): Promise<void> {
  const repo = io.env.GITHUB_REPOSITORY;
  if (!repo) throw new ActionError('GITHUB_REPOSITORY is not set');
  if (!inputs.token) throw new ActionError('no token (input "token")');
  const api = (io.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '');
  const doFetch = io.fetch ?? fetch;
  const request = async (method: string, url: string, payload?: unknown) => {
    const response = await doFetch(url, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${inputs.token}`,
        'x-github-api-version': '2022-11-28',
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new ActionError(`${method} ${new URL(url).pathname}: HTTP ${response.status}`);
    return response.json() as Promise<unknown>;
  };

  let existing: number | undefined;
  for (let page = 1; page <= MAX_COMMENT_PAGES && existing === undefined; page++) {
    const comments = (await request(
      'GET',
      `${api}/repos/${repo}/issues/${issue}/comments?per_page=100&page=${page}`,
    )) as { id: number; body?: string }[];
    existing = comments.find((c) => c.body?.startsWith(COMMENT_MARKER))?.id;
    if (comments.length < 100) break;
  }
  if (existing === undefined)
    await request('POST', `${api}/repos/${repo}/issues/${issue}/comments`, { body });
  else await request('PATCH', `${api}/repos/${repo}/issues/comments/${existing}`, { body });
}

/** The `file=` property of each annotation line the `github` format prints. */
const ANNOTATION_FILE = /^(::(?:error|warning|notice) (?:[^:]*,)?file=)/gm;

/** The working directory relative to the checkout (`/`-separated), or '' when they are the same. */
function relativeToWorkspace(env: ActionIo['env'], dir: string): string {
  const rel = path.relative(path.resolve(env.GITHUB_WORKSPACE ?? process.cwd()), dir);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? '' : rel.split(path.sep).join('/');
}
