import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';

/**
 * A synthetic account signed in before traffic moves, kept in the controller's memory only:
 * after a rollback its session must still validate on blue (the seed's "session records are
 * valid"). The tokens and password never leave the process (no log, no report).
 */
export interface SessionSample {
  /** Which colour created it (`blue`, or `green`: a session written by the new release's code). */
  readonly via: string;
  readonly email: string;
  readonly password: string;
  /** A tenant this account owns (the permission check's known role). */
  readonly tenantId: string;
  accessToken: string;
  refreshToken: string;
}

export interface JsonCall {
  readonly status: number;
  readonly body: Record<string, unknown> | null;
}

/** One JSON request; never throws for an HTTP status, only for a transport failure. */
export async function callJson(baseUrl: string, method: string, path: string, options: { body?: unknown; token?: string; timeoutMs: number }): Promise<JsonCall> {
  const dispatcher = new Agent({ connections: 1, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  try {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await request(new URL(path, baseUrl), { method: method as 'GET', headers, body: options.body === undefined ? null : JSON.stringify(options.body), dispatcher });
    const text = await res.body.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    return { status: res.statusCode, body };
  } finally {
    await dispatcher.close();
  }
}

/** The wire error code of a failed call, for details (never a token). */
export function describeCall(call: JsonCall): string {
  const code = call.body?.code;
  return `${call.status}${typeof code === 'string' ? ` ${code}` : ''}`;
}

/** Signs up a throwaway user on `baseUrl`, creates a tenant it owns, and keeps its tokens. */
export async function createSessionSample(baseUrl: string, via: string, timeoutMs: number): Promise<SessionSample> {
  const id = randomUUID().slice(0, 8);
  const email = `rollback-sample+${via}-${id}@boka.invalid`;
  const password = `Sample-${randomUUID()}-1!`;
  const signup = await callJson(baseUrl, 'POST', '/api/auth/signup', { body: { email, password, name: `Rollback sample ${id}` }, timeoutMs });
  if (signup.status !== 201 || typeof signup.body?.accessToken !== 'string' || typeof signup.body.refreshToken !== 'string') {
    throw new Error(`signup on ${via}: ${describeCall(signup)}`);
  }
  const tenant = await callJson(baseUrl, 'POST', '/api/tenants', { body: { name: `Rollback sample ${id}`, slug: `rollback-sample-${via}-${id}` }, token: signup.body.accessToken, timeoutMs });
  if (tenant.status !== 201 || typeof tenant.body?.id !== 'string') throw new Error(`create tenant on ${via}: ${describeCall(tenant)}`);
  return { via, email, password, tenantId: tenant.body.id, accessToken: signup.body.accessToken, refreshToken: signup.body.refreshToken };
}
