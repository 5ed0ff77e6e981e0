/**
 * Connection strings for the user's database: URIs (`postgres://…`) and libpq's keyword/value form
 * (`host=db port=5432 dbname=app user=me`), and keeping their passwords out of everything shown.
 * No `pg` here: the trace command loads this before it knows whether a database is involved.
 */

/** A connection string that cannot be used; the message never contains the password. */
export class ConninfoError extends Error {
  override readonly name = 'ConninfoError';
}

const URI = /^postgres(?:ql)?:\/\//i;
/** libpq keywords are lower-case letters and underscores */
const KEYWORD_START = /^\s*[a-z_]+\s*=/i;

/** It is a `postgres://` or `postgresql://` URI. */
export function isConnectionUri(s: string): boolean {
  return URI.test(s.trim());
}

/** It is libpq's keyword/value form (`host=db dbname=app`). */
export function isKeywordValue(s: string): boolean {
  return !isConnectionUri(s) && KEYWORD_START.test(s);
}

/** Either form: a value `--database-url` may take. */
export function looksLikeConnectionString(s: string): boolean {
  return isConnectionUri(s) || isKeywordValue(s);
}

/**
 * Keyword/value pairs as libpq reads them (conninfo_parse): `key = value` separated by whitespace;
 * a value is single-quoted to hold spaces, and a backslash escapes the next character, quoted or
 * not. The first occurrence of a keyword does not win: the last one does, as in libpq.
 */
export function parseKeywordValue(s: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const space = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  for (;;) {
    space();
    if (i >= s.length) return out;
    const keyStart = i;
    while (i < s.length && s[i] !== '=' && !/\s/.test(s[i]!)) i++;
    const key = s.slice(keyStart, i);
    space();
    if (s[i] !== '=') throw new ConninfoError(`missing "=" after "${key}" in the connection string`);
    i++;
    space();
    let value = '';
    if (s[i] === "'") {
      i++;
      for (;;) {
        if (i >= s.length)
          throw new ConninfoError(`unterminated quoted value of "${key}" in the connection string`);
        const c = s[i++]!;
        if (c === "'") break;
        if (c === '\\' && i < s.length) value += s[i++];
        else value += c;
      }
    } else {
      while (i < s.length && !/\s/.test(s[i]!)) {
        const c = s[i++]!;
        if (c === '\\' && i < s.length) value += s[i++];
        else value += c;
      }
    }
    if (!/^[a-z_]+$/i.test(key)) throw new ConninfoError(`invalid keyword "${key}" in the connection string`);
    out.set(key.toLowerCase(), value);
  }
}

/** keywords node-postgres does not implement: refused, rather than silently connecting elsewhere */
const UNSUPPORTED = new Set([
  'service',
  'servicefile',
  'passfile',
  'hostaddr',
  'target_session_attrs',
  'load_balance_hosts',
]);

/**
 * A URI node-postgres reads the way libpq reads `s`: URIs as they are, keyword/value strings
 * converted (user and password in the user info, dbname as the path, the rest as parameters).
 * Anything else is refused with a message that says what is expected.
 */
export function toConnectionUri(s: string): string {
  const text = s.trim();
  if (isConnectionUri(text)) return text;
  if (!isKeywordValue(text)) {
    throw new ConninfoError(
      'not a connection string: expected postgres://user@host:port/dbname or libpq keyword/value pairs (host=… dbname=…)',
    );
  }
  const kv = parseKeywordValue(text);
  for (const key of kv.keys()) {
    if (UNSUPPORTED.has(key))
      throw new ConninfoError(
        `the connection string keyword "${key}" is not supported; use host=… port=… instead`,
      );
  }
  const host = kv.get('host');
  if (host?.includes(','))
    throw new ConninfoError('several hosts in one connection string are not supported');
  const user = kv.get('user');
  const password = kv.get('password');
  let auth = '';
  if (user !== undefined || password !== undefined) {
    auth = encodeURIComponent(user ?? '');
    if (password !== undefined) auth += `:${encodeURIComponent(password)}`;
    auth += '@';
  }
  const params = new URLSearchParams();
  for (const [key, value] of kv) {
    if (key !== 'user' && key !== 'password' && key !== 'dbname') params.set(key, value);
  }
  const query = params.toString();
  // no host in the authority: node-postgres then takes `host` from the parameters, else PGHOST
  return `postgresql://${auth || '@'}/${encodeURIComponent(kv.get('dbname') ?? '')}${query ? `?${query}` : ''}`;
}

/**
 * The URL without its password, for display: `postgres://user@host/db`. Anything that cannot be
 * parsed loses everything between `://` and the last `@` but the user name, and any `password=…`
 * parameter; redacting too much is fine, too little is not.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password && !u.searchParams.has('password')) return url;
    u.password = '';
    if (u.searchParams.has('password')) u.searchParams.delete('password');
    return u.toString();
  } catch {
    return url
      .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@]*):.*@/i, '$1$2@')
      .replace(/([?&])password=[^&#]*&?/gi, '$1')
      .replace(/[?&]$/, '')
      .replace(/(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)\s*/gi, '$1')
      .trimEnd();
  }
}

/** The secrets in a connection string: the password, as written and decoded. */
export function connectionSecrets(url: string): string[] {
  const found: string[] = [];
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^:@]*):(.*)@/i.exec(url);
  if (userinfo?.[2]) found.push(userinfo[2]);
  // the greedy match above may run past the host into parameters; the WHATWG parse is exact
  try {
    const u = new URL(url);
    if (u.password) found.push(u.password);
    const p = u.searchParams.get('password');
    if (p) found.push(p);
  } catch {
    // not a WHATWG URL: the patterns suffice
  }
  for (const m of url.matchAll(/(?:^|[?&\s])password\s*=\s*('(?:[^'\\]|\\.)*'|[^&\s]*)/gi)) {
    if (m[1]) found.push(m[1].replace(/^'|'$/g, ''));
  }
  const all = new Set<string>();
  for (const s of found) {
    all.add(s);
    try {
      all.add(decodeURIComponent(s));
    } catch {
      // not percent-encoded
    }
  }
  // longest first, so that a secret containing another is replaced whole
  return [...all].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with the URL replaced by its redacted form and every form of its password by `***`. */
export function scrubSecrets(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  for (const secret of connectionSecrets(url)) out = out.split(secret).join('***');
  return out;
}
