import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import type { HttpCheck } from './plan.schema.js';

export interface SmokeCheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly status: number | null;
  readonly detail: string;
}

export interface SmokeResult {
  readonly ok: boolean;
  readonly baseUrl: string;
  readonly checks: readonly SmokeCheckResult[];
}

export interface SmokeOptions {
  readonly extraChecks?: readonly HttpCheck[];
  readonly timeoutMs?: number;
  /** Unique suffix for the throwaway user and tenant; injectable for reproducible tests. */
  readonly createId?: () => string;
}

type Call = { status: number; body: Record<string, unknown> | null };

/**
 * Boka's smoke suite over plain HTTP: signup → login → me → create tenant → extra checks →
 * logout → the old token is refused. Each check depends only on what it needs, so one failure
 * still lets the independent checks report.
 */
export async function runSmokeSuite(baseUrl: string, options: SmokeOptions = {}): Promise<SmokeResult> {
  const timeout = options.timeoutMs ?? 5_000;
  const dispatcher = new Agent({ connections: 2, headersTimeout: timeout, bodyTimeout: timeout });
  const id = (options.createId ?? (() => randomUUID().slice(0, 8)))();
  const email = `smoke+${id}@boka.invalid`;
  const password = `Smoke-${id}-pw-1!`;
  const checks: SmokeCheckResult[] = [];

  async function call(method: string, path: string, body?: unknown, token?: string): Promise<Call> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await request(new URL(path, baseUrl), { method: method as 'GET', headers, body: body === undefined ? null : JSON.stringify(body), dispatcher });
    const text = await res.body.text();
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      parsed = null;
    }
    return { status: res.statusCode, body: parsed };
  }

  async function check(name: string, expect: number, run: () => Promise<Call>, verify?: (c: Call) => string | null): Promise<Call | null> {
    try {
      const result = await run();
      const problem = result.status !== expect ? `expected ${expect}, got ${result.status}${result.body?.error ? ` ${JSON.stringify(result.body.error)}` : ''}` : (verify?.(result) ?? null);
      checks.push({ name, ok: problem === null, status: result.status, detail: problem ?? 'ok' });
      return problem === null ? result : null;
    } catch (error) {
      checks.push({ name, ok: false, status: null, detail: error instanceof Error ? error.message : String(error) });
      return null;
    }
  }

  const skip = (name: string, why: string) => checks.push({ name, ok: false, status: null, detail: `skipped: ${why}` });
  const needsToken = (c: Call) => (typeof c.body?.accessToken === 'string' ? null : 'no accessToken in the response');

  try {
    await check('signup', 201, () => call('POST', '/api/auth/signup', { email, password, name: `Smoke ${id}` }), (c) => needsToken(c) ?? (typeof c.body?.sessionId === 'string' ? null : 'no sessionId in the response'));
    const login = await check('login', 200, () => call('POST', '/api/auth/login', { email, password }), needsToken);
    const token = typeof login?.body?.accessToken === 'string' ? login.body.accessToken : undefined;
    if (token) {
      await check('me', 200, () => call('GET', '/api/auth/me', undefined, token));
      await check('create tenant', 201, () => call('POST', '/api/tenants', { name: `Smoke ${id}`, slug: `smoke-${id.toLowerCase()}` }, token));
    } else {
      skip('me', 'login failed');
      skip('create tenant', 'login failed');
    }
    for (const extra of options.extraChecks ?? []) {
      if (extra.auth && !token) {
        skip(extra.name, 'login failed');
        continue;
      }
      await check(extra.name, extra.expectStatus, () => call(extra.method, extra.path, extra.body ?? undefined, extra.auth ? token : undefined));
    }
    if (token) {
      await check('logout', 204, () => call('POST', '/api/auth/logout', undefined, token));
      await check('old token refused after logout', 401, () => call('GET', '/api/auth/me', undefined, token));
    } else {
      skip('logout', 'login failed');
      skip('old token refused after logout', 'login failed');
    }
  } finally {
    await dispatcher.close();
  }
  return { ok: checks.every((c) => c.ok), baseUrl, checks };
}

/** One line per check, for `boka smoke` and the preflight log. */
export function formatSmokeResult(result: SmokeResult): string {
  return result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.status === null ? '' : ` (${c.status})`}${c.ok ? '' : `: ${c.detail}`}`).join('\n');
}
