import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../src/ops/metrics.js';
import { diffCounters, readBokaCounters } from '../../src/rollout/metrics/scrape/boka-counters.core.js';
import { parsePrometheusText } from '../../src/rollout/metrics/scrape/prom-text.core.js';
import { createEventHub } from '../../src/shared/events.js';
import { bearer, createTenant, createTestApp, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

/**
 * The scrape source reads the exposition the real app produces (src/ops/metrics.ts wired to the
 * real request pipeline and domain events), not a hand-written fixture.
 */
describe('scrape source on the real Boka exposition', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '1000000' } });
  });
  after(async () => {
    await ctx?.close();
  });

  const scrape = async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    return readBokaCounters(parsePrometheusText(res.body));
  };

  it('counts served requests and session creations, and judges neither 4xx answers nor what the client typed', async () => {
    const { app } = ctx;
    const before = await scrape();
    const owner = await signUp(app, 'metrics-owner'); // session ok (1 request)
    const tenant = await createTenant(app, owner); // 1 request
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: owner.email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 200); // session ok (1 request)
    const wrong = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: owner.email, password: 'not the password at all' } });
    assert.equal(wrong.statusCode, 401); // invalid_credentials
    assert.equal((await app.inject({ method: 'GET', url: '/api/auth/me' })).statusCode, 401); // missing
    assert.equal((await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: bearer('garbage.token.here') })).statusCode, 401); // invalid, outside /api/auth
    assert.equal((await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: bearer(owner.accessToken) })).statusCode, 200);
    // Operational traffic the controller itself generates; it must not dilute the rates.
    for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: '/api/health/ready' });
    await app.inject({ method: 'GET', url: '/api/health' });
    await scrape();

    const window = diffCounters(await scrape(), before);
    // The three 401s are client-controlled: not judged in requests, error or latency rates
    // (issue 12 item 2). None of the three auth failures is judged: no credential, a wrong
    // password and a garbage token are all what the client sent.
    assert.equal(window.requests, 4);
    assert.deepEqual(window.metrics.session_failure_rate, { value: 0, samples: 2 });
    assert.deepEqual(window.metrics.auth_failure_rate, { value: 0, samples: 7 });
    assert.deepEqual(window.metrics.error_rate, { value: 0, samples: 4 });
    assert.deepEqual(window.metrics.db_error_rate, { value: 0, samples: 4 });
    assert.ok(window.metrics.p95_latency_ms && window.metrics.p95_latency_ms.value > 0, 'p95 from boka_http_request_duration_seconds');
  });

  it('counts a failed session creation by its real label value', async () => {
    const metrics = createMetrics({ version: 'green-test', defaultMetrics: false });
    const events = createEventHub();
    metrics.subscribe(events);
    const before = readBokaCounters(parsePrometheusText(await metrics.exposition()));
    events.emit('session.created', { userId: 'u1', sessionId: 's1', result: 'ok' });
    events.emit('session.created', { userId: 'u2', sessionId: null, result: 'error' });
    events.emit('session.created', { userId: 'u3', sessionId: 's3', result: 'ok' });
    events.emit('session.created', { userId: 'u4', sessionId: 's4', result: 'ok' });
    metrics.observeHttp('POST', '/api/auth/login', 500, 0.02);
    const window = diffCounters(readBokaCounters(parsePrometheusText(await metrics.exposition())), before);
    assert.deepEqual(window.metrics.session_failure_rate, { value: 0.25, samples: 4 });
    assert.deepEqual(window.metrics.error_rate, { value: 1, samples: 1 });
  });
  it('judges only connection, pool-wait and timeout DB errors, not constraint conflicts (409) or query errors', async () => {
    const metrics = createMetrics({ version: 'green-test', defaultMetrics: false });
    const before = readBokaCounters(parsePrometheusText(await metrics.exposition()));
    for (let i = 0; i < 10; i++) metrics.observeHttp('POST', '/api/bookings', i < 6 ? 201 : 500, 0.01);
    for (let i = 0; i < 6; i++) metrics.countDbError('constraint');
    metrics.countDbError('query');
    metrics.countDbError('connection');
    metrics.countDbError('pool_wait');
    metrics.countDbError('timeout');
    const window = diffCounters(readBokaCounters(parsePrometheusText(await metrics.exposition())), before);
    assert.deepEqual(window.metrics.db_error_rate, { value: 3 / 10, samples: 10 });
  });
});
