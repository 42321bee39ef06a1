import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildToken, startBackend, type Backend } from './backends.js';

/** Data shared by both colors, like Boka's database is. */
export interface FakeStore {
  users: Map<string, { password: string }>;
  sessions: Set<string>;
}

export function createFakeStore(): FakeStore {
  return { users: new Map(), sessions: new Set() };
}

export interface FakeBokaOptions {
  /** Every Nth ordinary request answers 500 (0 = never). */
  failEvery?: number;
  deepOk?: boolean;
  /** A broken build that does not revoke sessions on logout. */
  logoutRevokes?: boolean;
}

/**
 * A minimal stand-in for one Boka color (a test fixture): health endpoints, the auth/tenant
 * routes the smoke suite uses, and `/metrics` with Boka's counter names.
 */
export async function startFakeBoka(color: string, store: FakeStore, options: FakeBokaOptions = {}): Promise<Backend & { options: FakeBokaOptions }> {
  const counters = { ok: 0, failed: 0 };
  let ordinary = 0;
  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage) => {
    let text = '';
    for await (const c of req) text += String(c);
    return text ? (JSON.parse(text) as Record<string, string>) : {};
  };
  const session = (req: IncomingMessage) => {
    const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    const sid = token.split('.')[1] ? (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid?: string }).sid : undefined;
    return sid && store.sessions.has(sid) ? sid : null;
  };
  const issue = (email: string) => {
    const sid = randomUUID();
    store.sessions.add(sid);
    return { user: { email }, accessToken: buildToken(sid), refreshToken: 'r', expiresIn: 900, sessionId: sid };
  };
  const backend = await startBackend(color, async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    if (route === 'GET /api/health/ready') return send(res, 200, { status: 'ready' });
    if (route === 'GET /api/health/deep') return send(res, options.deepOk === false ? 503 : 200, { status: options.deepOk === false ? 'db down' : 'ok' });
    if (route === 'GET /metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`boka_http_requests_total{status_code="200"} ${counters.ok}\nboka_http_requests_total{status_code="500"} ${counters.failed}\nboka_db_errors_total{kind="connection"} 0\n`);
    }
    if (route === 'POST /api/auth/signup') {
      const body = await readBody(req);
      store.users.set(body.email ?? '', { password: body.password ?? '' });
      return send(res, 201, issue(body.email ?? ''));
    }
    if (route === 'POST /api/auth/login') {
      const body = await readBody(req);
      const user = store.users.get(body.email ?? '');
      return user && user.password === body.password ? send(res, 200, issue(body.email ?? '')) : send(res, 401, { error: { code: 'INVALID_CREDENTIALS' } });
    }
    if (route === 'GET /api/auth/me') return session(req) ? send(res, 200, { color }) : send(res, 401, { error: { code: 'UNAUTHENTICATED' } });
    if (route === 'POST /api/tenants') return session(req) ? send(res, 201, { id: randomUUID() }) : send(res, 401, {});
    if (route === 'POST /api/auth/logout') {
      const sid = session(req);
      if (sid && options.logoutRevokes !== false) store.sessions.delete(sid);
      return send(res, sid ? 204 : 401);
    }
    ordinary++;
    const fail = options.failEvery ? ordinary % options.failEvery === 0 : false;
    if (fail) counters.failed++;
    else counters.ok++;
    return send(res, fail ? 500 : 200, { color });
  });
  return Object.assign(backend, { options });
}
