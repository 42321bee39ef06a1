import { readFileSync } from 'node:fs';

/** One OpenID provider configured for this deployment (`OIDC_PROVIDERS`, ADR 0015). */
export interface OidcProviderConfig {
  /** `/^[a-z0-9-]{1,32}$/`; the path segment of /api/auth/oidc/:provider/… and the key of stored identities. */
  readonly id: string;
  /** Shown to users; defaults to the id. */
  readonly name: string;
  /** Issuer identifier (OIDC Discovery 1.0 §4.3): discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  /** From `clientSecretFile`; undefined = a public client (PKCE only, `token_endpoint_auth_method: none`). */
  readonly clientSecret: string | undefined;
  /** Always contains `openid`; default `openid email profile`. */
  readonly scopes: readonly string[];
  /** Whether a verified email without an account creates one (default true). */
  readonly allowSignup: boolean;
}

export interface OidcConfig {
  readonly providers: readonly OidcProviderConfig[];
  /** Public base URL of this API; the redirect URI is `<base>/api/auth/oidc/<id>/callback`. */
  readonly redirectBaseUrl: string | undefined;
  /** App page that receives `#login_code=…` (or `#error=…`) after the callback. */
  readonly appUrl: string | undefined;
  /** Bound on discovery, token and userinfo requests to a provider. */
  readonly requestTimeoutMs: number;
}

const ID_RE = /^[a-z0-9-]{1,32}$/;
const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/; // RFC 6749 §3.3 scope-token
const KEYS = new Set(['id', 'name', 'issuer', 'clientId', 'clientSecretFile', 'scopes', 'allowSignup']);

function httpUrl(value: unknown, what: string, fail: (msg: string) => never): string {
  if (typeof value !== 'string' || value.length > 2048) fail(`${what} must be a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`${what} must be a URL, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${what} must be an http(s) URL`);
  if (url.search || url.hash) fail(`${what} must not have a query or fragment`);
  return value.replace(/\/+$/, '');
}

/**
 * Parses `OIDC_PROVIDERS`: a JSON array, or the path of a file holding one. Client secrets only
 * come from files (`clientSecretFile`), like every `<NAME>_FILE` secret. Throws `fail(message)`
 * on anything unexpected: a typo must stop the start, not disable a provider silently.
 */
export function parseOidcProviders(raw: string | undefined, fail: (msg: string) => never): OidcProviderConfig[] {
  if (raw === undefined || raw.trim() === '') return [];
  let text = raw.trim();
  if (!text.startsWith('[')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (err) {
      return fail(`OIDC_PROVIDERS: cannot read ${raw} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return fail('OIDC_PROVIDERS must be a JSON array (or the path of a file holding one)');
  }
  if (!Array.isArray(list) || list.length > 20) return fail('OIDC_PROVIDERS must be a JSON array of at most 20 providers');
  const seen = new Set<string>();
  return list.map((entry: unknown, i): OidcProviderConfig => {
    const at = `OIDC_PROVIDERS[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return fail(`${at} must be an object`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!KEYS.has(key)) fail(`${at}: unknown field "${key}" (client secrets go in clientSecretFile)`);
    if (typeof e.id !== 'string' || !ID_RE.test(e.id)) fail(`${at}.id must match ${ID_RE}`);
    const id = e.id as string;
    if (seen.has(id)) fail(`${at}: duplicate id "${id}"`);
    seen.add(id);
    const issuer = httpUrl(e.issuer, `${at}.issuer`, fail);
    if (typeof e.clientId !== 'string' || e.clientId.length < 1 || e.clientId.length > 256) fail(`${at}.clientId must be a non-empty string`);
    let clientSecret: string | undefined;
    if (e.clientSecretFile !== undefined) {
      if (typeof e.clientSecretFile !== 'string' || e.clientSecretFile === '') fail(`${at}.clientSecretFile must be a path`);
      try {
        clientSecret = readFileSync(e.clientSecretFile as string, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        fail(`${at}.clientSecretFile: cannot read ${String(e.clientSecretFile)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
      if (!clientSecret) fail(`${at}.clientSecretFile: ${String(e.clientSecretFile)} is empty`);
    }
    let scopes = ['openid', 'email', 'profile'];
    if (e.scopes !== undefined) {
      if (!Array.isArray(e.scopes) || e.scopes.length > 20 || !e.scopes.every((s) => typeof s === 'string' && SCOPE_RE.test(s))) {
        fail(`${at}.scopes must be an array of scope tokens`);
      }
      scopes = [...new Set(['openid', ...(e.scopes as string[])])];
    }
    if (e.allowSignup !== undefined && typeof e.allowSignup !== 'boolean') fail(`${at}.allowSignup must be true or false`);
    if (e.name !== undefined && (typeof e.name !== 'string' || e.name.length < 1 || e.name.length > 100)) fail(`${at}.name must be 1–100 characters`);
    return Object.freeze({
      id,
      name: (e.name as string | undefined) ?? id,
      issuer,
      clientId: e.clientId as string,
      clientSecret,
      scopes: Object.freeze(scopes),
      allowSignup: (e.allowSignup as boolean | undefined) ?? true,
    });
  });
}

/** The whole OIDC block of the config; a provider list needs both URLs. */
export function readOidcConfig(env: Record<string, string | undefined>, timeoutMs: number, fail: (msg: string) => never): OidcConfig {
  const providers = parseOidcProviders(env.OIDC_PROVIDERS, fail);
  const base = env.OIDC_REDIRECT_BASE_URL || env.PUBLIC_URL || undefined;
  const redirectBaseUrl = base === undefined ? undefined : httpUrl(base, env.OIDC_REDIRECT_BASE_URL ? 'OIDC_REDIRECT_BASE_URL' : 'PUBLIC_URL', fail);
  const appUrl = env.OIDC_APP_URL ? httpUrl(env.OIDC_APP_URL, 'OIDC_APP_URL', fail) : undefined;
  if (providers.length > 0 && (!redirectBaseUrl || !appUrl)) {
    fail('OIDC_PROVIDERS needs OIDC_REDIRECT_BASE_URL (or PUBLIC_URL) and OIDC_APP_URL');
  }
  return Object.freeze({ providers: Object.freeze(providers), redirectBaseUrl, appUrl, requestTimeoutMs: timeoutMs });
}
