import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordHealth, retryPlan, routeColor, summarizeHealth, UNKNOWN_HEALTH, type UpstreamHealth } from '../../../src/rollout/router/edge.core.js';

describe('edge.core: which color, whether to retry, upstream health', () => {
  it('routes to the sticky color unless only the other one is routable', () => {
    const cases: [string, 'blue' | 'green', boolean, boolean, 'blue' | 'green'][] = [
      ['both up', 'green', true, true, 'green'],
      ['green ejected', 'green', true, false, 'blue'],
      ['blue ejected', 'blue', false, true, 'green'],
      ['both down: the sticky color answers its 503', 'green', false, false, 'green'],
    ];
    for (const [name, preferred, blue, green, expected] of cases) assert.equal(routeColor(preferred, { blue, green }), expected, name);
  });

  it('retries only replayable requests, and buffers only small declared bodies', () => {
    const cases: [string, Record<string, string>, { bufferBody: boolean } | null][] = [
      ['GET', {}, { bufferBody: false }],
      ['HEAD', {}, { bufferBody: false }],
      ['OPTIONS', {}, { bufferBody: false }],
      ['POST', {}, null],
      ['DELETE', {}, null],
      ['POST', { 'idempotency-key': 'k1', 'content-length': '20' }, { bufferBody: true }],
      ['PUT', { 'idempotency-key': 'k1', 'content-length': '0' }, { bufferBody: false }],
      ['POST', { 'idempotency-key': 'k1', 'content-length': String(64 * 1024 + 1) }, null],
      ['POST', { 'idempotency-key': 'k1', 'transfer-encoding': 'chunked' }, null],
      ['POST', { 'idempotency-key': '' }, null],
      ['POST', { 'idempotency-key': 'k1', 'content-length': 'abc' }, null],
    ];
    for (const [method, headers, expected] of cases) assert.deepEqual(retryPlan(method, headers), expected, `${method} ${JSON.stringify(headers)}`);
  });

  it('ejects on the first failure, comes back after two passes, and keeps `since` at the change', () => {
    let h: UpstreamHealth = UNKNOWN_HEALTH;
    h = recordHealth(h, true, 1, null, 2);
    assert.deepEqual([h.status, h.since], ['healthy', 1], 'an unknown upstream is healthy at its first pass');
    h = recordHealth(h, false, 2, 'ECONNREFUSED', 2);
    assert.deepEqual([h.status, h.since, h.detail], ['unhealthy', 2, 'ECONNREFUSED']);
    h = recordHealth(h, false, 3, 'ECONNREFUSED', 2);
    assert.equal(h.since, 2);
    h = recordHealth(h, true, 4, null, 2);
    assert.deepEqual([h.status, h.since], ['unhealthy', 2], 'one pass is not enough');
    h = recordHealth(h, false, 5, 'readiness 503', 2);
    h = recordHealth(h, true, 6, null, 2);
    h = recordHealth(h, true, 7, null, 2);
    assert.deepEqual([h.status, h.since, h.detail], ['healthy', 7, null]);
  });

  it('summarizes a color: healthy if any upstream is, unhealthy only if all are', () => {
    const up = recordHealth(UNKNOWN_HEALTH, true, 1, null, 2);
    const down = recordHealth(UNKNOWN_HEALTH, false, 1, 'x', 2);
    assert.equal(summarizeHealth([up, down]), 'healthy');
    assert.equal(summarizeHealth([down, down]), 'unhealthy');
    assert.equal(summarizeHealth([UNKNOWN_HEALTH, down]), 'unknown');
  });
});
