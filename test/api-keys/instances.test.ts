import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { CacheBus } from '../../src/cache/invalidation-bus.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import { createRedisBus } from '../../src/cache/redis-bus.js';
import { bearer, createTenant, createTestApp, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';

const REDIS_URL = process.env.REDIS_URL;

/**
 * Rotation and revocation reach every instance through the invalidation bus: instance B has the
 * key cached, instance A rotates or revokes it. With REDIS_URL each instance has its own Redis
 * bus (the production path, delivery is asynchronous, so B is polled); otherwise they share the
 * in-process bus. Both share the database and the injected clock.
 */
describe('API key rotation and revocation across instances', () => {
  const clock = createManualClock();
  const buses: CacheBus[] = [];
  let ctx: TestContext;
  let b: FastifyInstance;
  let owner: SignedInUser;
  let tenantId: string;

  async function newBus(shared: CacheBus | null): Promise<CacheBus> {
    if (!REDIS_URL) return shared ?? createInProcessBus();
    const bus = createRedisBus({ url: REDIS_URL, channel: `boka-test-keys:${channel}` });
    assert.equal(await bus.waitUntilReady(5_000), true, 'redis bus ready');
    buses.push(bus);
    return bus;
  }
  const channel = randomUUID();

  before(async () => {
    const busA = await newBus(null);
    const busB = await newBus(busA);
    // With REDIS_URL the limiter store is Redis too, as in production.
    ctx = await createTestApp({ env: REDIS_URL ? { REDIS_URL } : {}, deps: { bus: busA, clock } });
    b = await buildApp(ctx.config, { db: ctx.database.db, bus: busB, clock });
    await b.ready();
    owner = await signUp(ctx.app, 'owner');
    tenantId = (await createTenant(ctx.app, owner)).id;
  });
  after(async () => {
    await b.close();
    await ctx.close();
    for (const bus of buses) await bus.close();
  });

  const onB = (key: string) => b.inject({ url: `/api/tenants/${tenantId}/services`, headers: { 'x-api-key': key } });
  const expectOnB = (key: string, status: number) => waitFor(async () => (await onB(key)).statusCode === status);

  test('rotation on A: B accepts both secrets during the grace, only the new one after it', async () => {
    const created = (await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/api-keys`, headers: bearer(owner.accessToken), payload: { name: 'sync', permissions: ['services.read'] } })).json();
    assert.equal((await onB(created.key)).statusCode, 200, 'B has the key cached now');
    const rotated = await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/api-keys/${created.id}/rotate`, headers: bearer(owner.accessToken), payload: { graceSeconds: 30 } });
    assert.equal(rotated.statusCode, 200);
    const { key } = rotated.json();
    await expectOnB(key, 200);
    assert.equal((await onB(created.key)).statusCode, 200);
    clock.advance(30_000);
    assert.equal((await onB(created.key)).statusCode, 401, 'grace over on B too');
    assert.equal((await onB(key)).statusCode, 200);
  });

  test('revocation on A kills the old and the new secret on B', async () => {
    const created = (await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/api-keys`, headers: bearer(owner.accessToken), payload: { name: 'sync', permissions: ['services.read'] } })).json();
    const { key } = (await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/api-keys/${created.id}/rotate`, headers: bearer(owner.accessToken), payload: { graceSeconds: 600 } })).json();
    await expectOnB(key, 200);
    assert.equal((await onB(created.key)).statusCode, 200, 'B has the rotated key cached with both secrets');
    const del = await ctx.app.inject({ method: 'DELETE', url: `/api/tenants/${tenantId}/api-keys/${created.id}`, headers: bearer(owner.accessToken) });
    assert.equal(del.statusCode, 204);
    await expectOnB(key, 401);
    assert.equal((await onB(created.key)).statusCode, 401);
  });

  // The memory limiter store is per process, so only the shared (Redis) store can make this hold.
  test('a key\'s own rate limit is shared by every instance (Redis limiter store)', { skip: REDIS_URL ? false : 'needs REDIS_URL' }, async () => {
    const { key } = (await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/api-keys`, headers: bearer(owner.accessToken), payload: { name: 'limited', permissions: ['services.read'], rateLimitPerMinute: 4 } })).json();
    const onA = () => ctx.app.inject({ url: `/api/tenants/${tenantId}/services`, headers: { 'x-api-key': key } });
    assert.equal((await onA()).statusCode, 200);
    assert.equal((await onB(key)).statusCode, 200);
    assert.equal((await onA()).statusCode, 200);
    assert.equal((await onB(key)).statusCode, 200);
    const fifthOnA = await onA();
    assert.equal(fifthOnA.statusCode, 429, 'four requests in total, split over two instances');
    assert.equal((await onB(key)).statusCode, 429);
  });
});
