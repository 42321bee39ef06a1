import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { installPipeline } from '../../src/http/pipeline.js';
import { createEventHub } from '../../src/shared/events.js';
import type { MembershipResolver } from '../../src/tenancy/memberships.cache.js';
import { createTestApp } from '../helpers/app.js';

// ASVS 4.1.5: access control fails securely. A route with no declared policy cannot be registered.
test('registering a route without an access policy fails the app build', async () => {
  const app = Fastify();
  const memberships: MembershipResolver = { resolve: async () => null, invalidate: async () => {} };
  installPipeline(app, { strategies: [], memberships, events: createEventHub() });
  assert.throws(() => app.get('/forgot-to-declare', async () => 'secret'), /declares no access policy/);
  app.get('/declared', { config: { access: { public: true } } }, async () => 'ok');
  await app.ready();
});

test('every route of the real app declares a policy', async () => {
  const ctx = await createTestApp();
  try {
    // buildApp would have thrown otherwise; check the table is non-trivial and well-formed.
    const { listRoutes } = await import('../../src/http/pipeline.js');
    const routes = listRoutes(ctx.app);
    assert.ok(routes.length > 10);
    for (const r of routes) assert.ok(r.access, `${r.method} ${r.url}`);
  } finally {
    await ctx.close();
  }
});
