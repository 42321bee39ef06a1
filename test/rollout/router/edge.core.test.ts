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

  it('ejects on a refused connection at once, on soft failures after two in a row, and comes back after two passes', () => {
    const t = { healthyAfter: 2, unhealthyAfter: 2 };
    const ok = { ok: true } as const;
    const hard = { ok: false, hard: true } as const;
    const soft = { ok: false, hard: false } as const;
    let h: UpstreamHealth = UNKNOWN_HEALTH;
    h = recordHealth(h, ok, 1, null, t);
    assert.deepEqual([h.status, h.since], ['healthy', 1], 'an unknown upstream is healthy at its first pass');
    h = recordHealth(h, soft, 2, 'readiness 503', t);
    assert.deepEqual([h.status, h.since], ['healthy', 1], 'one soft failure (a busy database) does not eject');
    h = recordHealth(h, ok, 3, null, t);
    h = recordHealth(h, soft, 4, 'readiness 503', t);
    assert.equal(h.status, 'healthy', 'soft failures must be in a row');
    h = recordHealth(h, soft, 5, 'readiness 503', t);
    assert.deepEqual([h.status, h.since, h.detail], ['unhealthy', 5, 'readiness 503']);
    h = recordHealth(h, ok, 6, null, t);
    assert.deepEqual([h.status, h.since], ['unhealthy', 5], 'one pass is not enough');
    h = recordHealth(h, ok, 7, null, t);
    assert.deepEqual([h.status, h.since, h.detail], ['healthy', 7, null]);
    h = recordHealth(h, hard, 8, 'ECONNREFUSED', t);
    assert.deepEqual([h.status, h.since, h.detail], ['unhealthy', 8, 'ECONNREFUSED'], 'a refused connection ejects at once');
    h = recordHealth(h, soft, 9, 'timeout', t);
    assert.equal(h.since, 8, 'since stays at the change');
  });

  it('summarizes a color: healthy if any upstream is, unhealthy only if all are', () => {
    const t = { healthyAfter: 2, unhealthyAfter: 2 };
    const up = recordHealth(UNKNOWN_HEALTH, { ok: true }, 1, null, t);
    const down = recordHealth(UNKNOWN_HEALTH, { ok: false, hard: true }, 1, 'x', t);
    assert.equal(summarizeHealth([up, down]), 'healthy');
    assert.equal(summarizeHealth([down, down]), 'unhealthy');
    assert.equal(summarizeHealth([UNKNOWN_HEALTH, down]), 'unknown');
  });
});
