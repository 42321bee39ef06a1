import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { FAULT_HEADER } from './fault-proxy.js';

/**
 * Realistic signed-in traffic for the demo and the end-to-end tests: several users sign up
 * through the router, create a tenant, then loop `GET /api/auth/me` and `GET /api/tenants/:id`,
 * logging in again now and then (a new session, so a new sticky key). Bounded: a target request
 * rate shared by all users, stopped by `stop()`.
 */
export interface TrafficOptions {
  readonly url: string;
  readonly users?: number;
  /** Total requests per second across users (approximate; each user waits for its answer). */
  readonly rps?: number;
  /** One login every this many loop iterations per user. */
  readonly loginEvery?: number;
}

export interface FailedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly color: string | null;
  readonly injected: boolean;
  readonly detail: string;
}

export interface TrafficUser {
  readonly email: string;
  accessToken: string;
  tenantId: string;
  /** The color whose answer created the current session (`x-boka-color` of signup/login). */
  sessionColor: string | null;
}

export interface TrafficStats {
  total: number;
  ok: number;
  byColor: Record<string, number>;
  /** Answers that were not 2xx (or no answer), injected ones included. */
  failed: number;
  /** Failures the fault proxy injected (`x-boka-fault`). */
  injected: number;
  /** The failures that matter: anything not injected. The last 50 are kept in `failures`. */
  unexpected: number;
  failures: FailedRequest[];
}

export interface Traffic {
  readonly stats: TrafficStats;
  readonly users: readonly TrafficUser[];
  /** Resolves once every user has signed up and created its tenant. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export const DEMO_PASSWORD = 'demo password for rollouts 1';

interface Answer {
  status: number;
  color: string | null;
  injected: boolean;
  body: unknown;
}

export function startTraffic(options: TrafficOptions): Traffic {
  const users = options.users ?? 20;
  const rps = options.rps ?? 100;
  const loginEvery = options.loginEvery ?? 25;
  const thinkMs = Math.max(1, Math.round((users * 1000) / rps));
  const agent = new Agent({ connections: users + 4, keepAliveTimeout: 4_000 });
  const stats: TrafficStats = { total: 0, ok: 0, byColor: {}, failed: 0, injected: 0, unexpected: 0, failures: [] };
  const list: TrafficUser[] = [];
  let stopping = false;
  const tag = randomBytes(3).toString('hex');

  async function call(method: 'GET' | 'POST', path: string, token: string | null, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    stats.total++;
    let answer: Answer;
    try {
      const res = await request(`${options.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: agent, headersTimeout: 15_000, bodyTimeout: 15_000 });
      const text = await res.body.text();
      const color = typeof res.headers['x-boka-color'] === 'string' ? res.headers['x-boka-color'] : null;
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      answer = { status: res.statusCode, color, injected: res.headers[FAULT_HEADER] !== undefined, body: parsed };
    } catch (error) {
      answer = { status: 0, color: null, injected: false, body: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    if (answer.color) stats.byColor[answer.color] = (stats.byColor[answer.color] ?? 0) + 1;
    if (answer.status >= 200 && answer.status < 300) stats.ok++;
    else {
      stats.failed++;
      if (answer.injected) stats.injected++;
      else stats.unexpected++;
      stats.failures.push({ at: Date.now(), method, path: path.replace(/[0-9a-f-]{36}/g, ':id'), status: answer.status, color: answer.color, injected: answer.injected, detail: JSON.stringify(answer.body).slice(0, 200) });
      if (stats.failures.length > 50) stats.failures.shift();
    }
    return answer;
  }

  /** Setup calls are retried: an injected fault must not leave a user half set up. */
  async function until<T>(what: () => Promise<Answer>, ok: (a: Answer) => T | null): Promise<T> {
    for (let attempt = 0; attempt < 20 && !stopping; attempt++) {
      const a = await what();
      const value = ok(a);
      if (value !== null) return value;
      await sleep(100);
    }
    throw new Error('traffic setup failed');
  }

  async function setUp(i: number): Promise<TrafficUser> {
    const email = `rollout-${tag}-${i}@example.test`;
    const signedUp = await until(
      async () => {
        const a = await call('POST', '/api/auth/signup', null, { email, password: DEMO_PASSWORD, name: `Rollout user ${i}` });
        // A signup retried after a fault that happened after the account was stored: log in instead.
        return a.status === 409 ? call('POST', '/api/auth/login', null, { email, password: DEMO_PASSWORD }) : a;
      },
      (a) => (a.status === 201 || a.status === 200 ? { token: (a.body as { accessToken: string }).accessToken, color: a.color } : null),
    );
    const user: TrafficUser = { email, accessToken: signedUp.token, tenantId: '', sessionColor: signedUp.color };
    user.tenantId = await until(
      () => call('POST', '/api/tenants', user.accessToken, { name: `Rollout ${i}`, slug: `rollout-${tag}-${i}` }),
      (a) => (a.status === 201 ? (a.body as { id: string }).id : null),
    );
    list.push(user);
    return user;
  }

  async function loop(user: TrafficUser, offset: number): Promise<void> {
    await sleep(offset);
    for (let n = 1; !stopping; n++) {
      if (n % loginEvery === 0) {
        const a = await call('POST', '/api/auth/login', null, { email: user.email, password: DEMO_PASSWORD });
        if (a.status === 200) {
          user.accessToken = (a.body as { accessToken: string }).accessToken;
          user.sessionColor = a.color;
        }
      } else if (n % 2 === 0) {
        await call('GET', '/api/auth/me', user.accessToken);
      } else {
        await call('GET', `/api/tenants/${user.tenantId}`, user.accessToken);
      }
      await sleep(thinkMs);
    }
  }

  const setups = Array.from({ length: users }, (_, i) => setUp(i));
  const ready = Promise.all(setups).then(() => undefined);
  const loops = setups.map((p, i) => p.then((u) => loop(u, (i * thinkMs) / users)).catch(() => undefined));
  // Keep an unhandled setup failure from crashing the process; `ready` reports it.
  ready.catch(() => undefined);

  return {
    stats,
    users: list,
    ready,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await agent.close();
    },
  };
}
