import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestContext {
  app: FastifyInstance;
  config: Config;
  database: TestDatabase;
  close(): Promise<void>;
}

/** The real app on a fresh database (PGlite in memory, or the server when DATABASE_URL is set). */
export async function createTestApp(opts: { env?: Record<string, string>; deps?: Partial<AppDeps> } = {}): Promise<TestContext> {
  const env = {
    NODE_ENV: 'test',
    BOKA_DATA_DIR: 'memory',
    BOKA_SECRET_KEY: randomBytes(32).toString('base64url'),
    // Helpers add every member by invitation; tests of the invitation budgets set their own.
    INVITATIONS_PER_INVITER_PER_HOUR: '0',
    INVITATIONS_PER_TENANT_PER_HOUR: '0',
    // No background worker unless a test asks for one (tests of src/jobs drive it themselves).
    JOBS_POLL_MS: '0',
    ...opts.env,
  };
  // The pool is opened before the config that names its database exists: the pool's own
  // settings (DATABASE_POOL_WAIT_MS) come from the same environment, validated the same way.
  const database = await createTestDatabase(loadConfig(env));
  const config = loadConfig(env, { databaseUrl: database.url });
  const app = await buildApp(config, { db: database.db, ...opts.deps });
  await app.ready();
  return {
    app,
    config,
    database,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

let counter = 0;
/** A unique email per call, so tests in one file never collide. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${counter}-${randomBytes(3).toString('hex')}@example.test`;
}

export interface SignedInUser {
  id: string;
  email: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

export async function signUp(app: FastifyInstance, label = 'user'): Promise<SignedInUser> {
  const email = uniqueEmail(label);
  const res = await app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: label } });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const body = res.json<{ user: { id: string }; accessToken: string; refreshToken: string; sessionId: string }>();
  return { id: body.user.id, email, accessToken: body.accessToken, refreshToken: body.refreshToken, sessionId: body.sessionId };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function createTenant(app: FastifyInstance, owner: SignedInUser, slug?: string): Promise<{ id: string; slug: string }> {
  const s = slug ?? `t-${randomBytes(4).toString('hex')}`;
  const res = await app.inject({ method: 'POST', url: '/api/tenants', headers: bearer(owner.accessToken), payload: { name: s, slug: s } });
  if (res.statusCode !== 201) throw new Error(`tenant create failed: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string; slug: string }>();
}

/**
 * Adds `user` to the tenant with `role` the only way there is: `inviter` (the tenant's owner)
 * invites the address, `user` accepts with the token (echoed outside production).
 */
export async function addMember(app: FastifyInstance, inviter: SignedInUser, tenantId: string, user: SignedInUser, role: string): Promise<void> {
  const token = await inviteToken(app, inviter, tenantId, user.email, role);
  const res = await app.inject({ method: 'POST', url: '/api/invitations/accept', headers: bearer(user.accessToken), payload: { token } });
  if (res.statusCode !== 200) throw new Error(`accept invitation failed: ${res.statusCode} ${res.body}`);
}

/** Invites `email` as `role`; returns the one-time token (the app echoes it outside production). */
export async function inviteToken(app: FastifyInstance, inviter: SignedInUser, tenantId: string, email: string, role: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/tenants/${tenantId}/invitations`,
    headers: bearer(inviter.accessToken),
    payload: { email, role },
  });
  if (res.statusCode !== 201) throw new Error(`invite failed: ${res.statusCode} ${res.body}`);
  const { token } = res.json<{ token?: string }>();
  if (!token) throw new Error('no token in the invitation response (production mode?)');
  return token;
}

/** Asserts the documented error shape and returns the parsed body. */
export function errorBody(res: LightMyRequestResponse): { error: string; code: string; message: string; details?: unknown; requestId: string; timestamp: string } {
  return res.json();
}
