/**
 * The GitHub Action's script, run as a workflow step would run it: a git checkout with a pull
 * request's base and head, the event payload, GITHUB_* variables and INPUT_* inputs, and a stand-in
 * for the GitHub REST API on 127.0.0.1 that records the comment requests.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COMMENT_MARKER, commentBody, runAction } from '../src/action/github.js';

let repo: string;
let baseSha: string;
let server: Server;
let api: string;

interface Recorded {
  method: string;
  url: string;
  authorization?: string;
  body?: { body: string };
}
let requests: Recorded[] = [];
let comments: { id: number; body: string }[] = [];

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

async function readBody(req: IncomingMessage): Promise<string> {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data;
}

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'pgkeel-action-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'ci@example.com');
  git('config', 'user.name', 'CI');
  await mkdir(join(repo, 'db/migrations'), { recursive: true });
  await writeFile(join(repo, 'db/migrations/001_init.sql'), 'CREATE TABLE orders (id bigint, amount int);\n');
  // history: unsafe, but merged long ago — a pull request must not be blamed for it
  await writeFile(
    join(repo, 'db/migrations/002_old.sql'),
    'CREATE INDEX orders_amount ON orders (amount);\n',
  );
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  baseSha = git('rev-parse', 'HEAD');
  git('checkout', '-q', '-b', 'feature');
  await writeFile(
    join(repo, 'db/migrations/003_check.sql'),
    'ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0);\n',
  );
  git('add', '.');
  git('commit', '-q', '-m', 'add a check');
  await writeFile(
    join(repo, 'event.json'),
    JSON.stringify({ pull_request: { number: 7, base: { sha: baseSha } } }),
  );

  server = createServer(async (req, res) => {
    const raw = await readBody(req);
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      ...(raw ? { body: JSON.parse(raw) } : {}),
    });
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && req.url?.startsWith('/repos/acme/shop/issues/7/comments')) {
      res.end(JSON.stringify(comments));
    } else if (req.method === 'POST' && req.url === '/repos/acme/shop/issues/7/comments') {
      const comment = { id: 100 + comments.length, body: JSON.parse(raw).body };
      comments.push(comment);
      res.statusCode = 201;
      res.end(JSON.stringify(comment));
    } else if (req.method === 'PATCH' && req.url?.startsWith('/repos/acme/shop/issues/comments/')) {
      const id = Number(req.url.split('/').pop());
      const comment = comments.find((c) => c.id === id);
      if (comment) comment.body = JSON.parse(raw).body;
      res.statusCode = comment ? 200 : 404;
      res.end(JSON.stringify(comment ?? {}));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(repo, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: join(repo, 'event.json'),
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_API_URL: api,
    GITHUB_WORKSPACE: repo,
    GITHUB_STEP_SUMMARY: join(repo, 'summary.md'),
    GITHUB_OUTPUT: join(repo, 'output.txt'),
    INPUT_PATHS: 'db/migrations',
    INPUT_TOKEN: 's3cret-token',
    ...extra,
  };
}

async function run(vars: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runAction({
    env: vars,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

/** `::error file=a,line=1,…::message` → its command and properties (GitHub's escaping undone). */
function annotations(stdout: string) {
  const unescapeCommand = (s: string) =>
    s
      .replaceAll('%2C', ',')
      .replaceAll('%3A', ':')
      .replaceAll('%0A', '\n')
      .replaceAll('%0D', '\r')
      .replaceAll('%25', '%');
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::'))
    .map((l) => {
      const m = /^::(\w+) ([^:]*)::(.*)$/.exec(l);
      if (!m) throw new Error(`not a workflow command: ${l}`);
      const props = Object.fromEntries(
        m[2]!.split(',').map((p) => {
          const [k, v] = p.split('=');
          return [k!, unescapeCommand(v ?? '')];
        }),
      );
      return { command: m[1]!, props, message: unescapeCommand(m[3]!) };
    });
}

describe('the GitHub Action', () => {
  it('annotates only what the pull request changed, comments the summary, writes SARIF and outputs', async () => {
    comments = [];
    const r = await run(env({ INPUT_SARIF_FILE: 'pgkeel.sarif' }));
    expect(r.code).toBe(1);
    const found = annotations(r.stdout);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((a) => a.props.file))).toEqual(new Set(['db/migrations/003_check.sql']));
    expect(found.map((a) => a.props.title)).toContain('add-check-constraint');
    const check = found.find((a) => a.props.title === 'add-check-constraint')!;
    expect(check).toMatchObject({ command: 'error', props: { line: '1' } });

    // one comment, created with the token, carrying the marker and the finding; the token never printed
    const posts = requests.filter((q) => q.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.authorization).toBe('Bearer s3cret-token');
    expect(posts[0]!.body!.body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(posts[0]!.body!.body).toContain('add-check-constraint');
    expect(posts[0]!.body!.body).not.toContain('002_old.sql');
    expect(r.stdout + r.stderr).not.toContain('s3cret-token');

    expect(await readFile(join(repo, 'summary.md'), 'utf8')).toContain('add-check-constraint');
    expect(await readFile(join(repo, 'output.txt'), 'utf8')).toContain('exit-code=1');
    const sarif = JSON.parse(await readFile(join(repo, 'pgkeel.sarif'), 'utf8'));
    const uris = sarif.runs[0].results.map(
      (x: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) =>
        x.locations[0]!.physicalLocation.artifactLocation.uri,
    );
    expect(new Set(uris)).toEqual(new Set(['db/migrations/003_check.sql']));
  });

  it('edits its own comment on the next push instead of adding one', async () => {
    comments = [{ id: 5, body: 'a human comment' }];
    await run(env());
    await run(env());
    expect(requests.filter((q) => q.method === 'POST')).toHaveLength(1);
    expect(requests.filter((q) => q.method === 'PATCH').map((q) => q.url)).toEqual([
      `/repos/acme/shop/issues/comments/${comments[1]!.id}`,
    ]);
    expect(comments).toHaveLength(2);
    expect(comments[0]!.body).toBe('a human comment');
  });

  it('passes with fail-on-errors false, and a comment failure is a warning, not a failed check', async () => {
    const r = await run(env({ INPUT_FAIL_ON_ERRORS: 'false', GITHUB_REPOSITORY: 'acme/unknown' }));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^::warning title=pgkeel::could not update the PR comment/m);
  });

  it('outside a pull request lints every path and comments nothing', async () => {
    const r = await run(env({ GITHUB_EVENT_NAME: 'push' }));
    expect(new Set(annotations(r.stdout).map((a) => a.props.file))).toEqual(
      new Set(['db/migrations/002_old.sql', 'db/migrations/003_check.sql']),
    );
    expect(requests).toEqual([]);
  });

  it('prefixes annotation paths with the working directory', async () => {
    const r = await run(
      env({ INPUT_WORKING_DIRECTORY: 'db', INPUT_PATHS: 'migrations', INPUT_COMMENT: 'false' }),
    );
    expect(new Set(annotations(r.stdout).map((a) => a.props.file))).toEqual(
      new Set(['db/migrations/003_check.sql']),
    );
  });

  it('reports bad inputs as an error annotation and exit 2', async () => {
    const r = await run(env({ INPUT_COMMENT: 'sometimes' }));
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('::error title=pgkeel::input "comment" must be true or false');
  });

  it('cuts a comment over GitHub’s size limit, saying so', () => {
    const body = commentBody('x'.repeat(70_000));
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('the report is cut here');
  });
});
