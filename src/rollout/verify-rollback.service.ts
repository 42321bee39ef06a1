import { probeHealth } from './preflight.service.js';
import { callJson, describeCall, type JsonCall, type SessionSample } from './session-sample.js';

export interface RollbackCheck {
  /** One of the seed's four: database, sessions, login, permissions. */
  readonly name: RollbackCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export type RollbackCheckName = 'database' | 'sessions' | 'login' | 'permissions';

export interface RollbackVerification {
  readonly ok: boolean;
  readonly checks: readonly RollbackCheck[];
}

export interface VerifyRollbackOptions {
  readonly blue: readonly string[];
  readonly deepPath: string;
  readonly timeoutMs: number;
  /** Signed in before traffic moved (migration preflight); refreshed tokens are written back. */
  readonly samples: readonly SessionSample[];
  readonly now: () => number;
}

/** Seconds-since-epoch `exp` of a JWT, read without verifying (only to explain a 401). */
function readExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : null;
  } catch {
    return null;
  }
}

async function attempt<T>(name: RollbackCheckName, run: () => Promise<{ ok: boolean; detail: string; value?: T }>): Promise<RollbackCheck & { value?: T }> {
  try {
    return { name, ...(await run()) };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** (b) Each sample's access token is still accepted and its refresh token still refreshes. */
async function verifySession(url: string, sample: SessionSample, o: VerifyRollbackOptions): Promise<string | null> {
  const me = await callJson(url, 'GET', '/api/auth/me', { token: sample.accessToken, timeoutMs: o.timeoutMs });
  const exp = readExpiry(sample.accessToken);
  // An access token past its `exp` is rightly refused; the refresh below still proves the session.
  const expired = me.status === 401 && exp !== null && exp * 1000 <= o.now();
  if (me.status !== 200 && !expired) return `session via ${sample.via}: me ${describeCall(me)}`;
  const refreshed = await callJson(url, 'POST', '/api/auth/refresh', { body: { refreshToken: sample.refreshToken }, timeoutMs: o.timeoutMs });
  if (refreshed.status !== 200 || typeof refreshed.body?.accessToken !== 'string' || typeof refreshed.body.refreshToken !== 'string') {
    return `session via ${sample.via}: refresh ${describeCall(refreshed)}`;
  }
  sample.accessToken = refreshed.body.accessToken;
  sample.refreshToken = refreshed.body.refreshToken;
  if (expired) {
    const again = await callJson(url, 'GET', '/api/auth/me', { token: sample.accessToken, timeoutMs: o.timeoutMs });
    if (again.status !== 200) return `session via ${sample.via}: me after refresh ${describeCall(again)}`;
  }
  return null;
}

function expectStatus(label: string, call: JsonCall, expected: number): string | null {
  return call.status === expected ? null : `${label}: expected ${expected}, got ${describeCall(call)}`;
}

/**
 * The seed's post-rollback list, against blue after all traffic is back on it: (a) the
 * database answers (deep health), (b) sessions signed in before the rollout still validate,
 * (c) a synthetic login works, (d) a known role gets the expected decisions (owner reads its
 * tenant; anonymous and a non-member are refused). Every check runs; none is skipped silently.
 */
export async function verifyRollback(o: VerifyRollbackOptions): Promise<RollbackVerification> {
  const url = o.blue[0];
  const owner = o.samples.find((s) => s.via === 'blue') ?? o.samples[0];
  const noSample = { ok: false, detail: 'no session sample: the preflight signed none in (preflight.migrate off, or it failed)' };
  const checks: RollbackCheck[] = [];

  checks.push(await attempt('database', async () => {
    const results = await Promise.all(o.blue.map((u) => probeHealth(u, o.deepPath, o.timeoutMs)));
    return { ok: results.length > 0 && results.every((r) => r.ok), detail: results.map((r) => `${r.name} ${r.detail}`).join('; ') || 'no blue instance' };
  }));
  checks.push(await attempt('sessions', async () => {
    if (!url || o.samples.length === 0) return noSample;
    const problems: string[] = [];
    for (const sample of o.samples) {
      const problem = await verifySession(url, sample, o);
      if (problem) problems.push(problem);
    }
    const vias = o.samples.map((s) => s.via).join(', ');
    return { ok: problems.length === 0, detail: problems.length ? problems.join('; ') : `${o.samples.length} session(s) created via ${vias}: me and refresh accepted` };
  }));
  const login = await attempt<string>('login', async () => {
    if (!url || !owner) return noSample;
    const res = await callJson(url, 'POST', '/api/auth/login', { body: { email: owner.email, password: owner.password }, timeoutMs: o.timeoutMs });
    const token = typeof res.body?.accessToken === 'string' ? res.body.accessToken : undefined;
    return res.status === 200 && token ? { ok: true, detail: 'password login of the synthetic user: 200', value: token } : { ok: false, detail: `login ${describeCall(res)}` };
  });
  checks.push({ name: login.name, ok: login.ok, detail: login.detail });
  checks.push(await attempt('permissions', async () => {
    if (!url || !owner) return noSample;
    const path = `/api/tenants/${owner.tenantId}`;
    const problems = [
      expectStatus('owner reads its tenant', await callJson(url, 'GET', path, { token: login.value ?? owner.accessToken, timeoutMs: o.timeoutMs }), 200),
      expectStatus('anonymous refused', await callJson(url, 'GET', path, { timeoutMs: o.timeoutMs }), 401),
    ];
    const outsider = o.samples.find((s) => s !== owner);
    if (outsider) problems.push(expectStatus('non-member refused', await callJson(url, 'GET', path, { token: outsider.accessToken, timeoutMs: o.timeoutMs }), 403));
    const failed = problems.filter((p): p is string => p !== null);
    return { ok: failed.length === 0, detail: failed.length ? failed.join('; ') : `owner 200, anonymous 401${outsider ? ', non-member 403' : ''} on GET /api/tenants/:tenantId` };
  }));
  return { ok: checks.every((c) => c.ok), checks };
}
