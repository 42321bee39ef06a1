import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { combineMetricSources, type MetricSource } from '../../src/rollout/metrics/metric-source.js';
import { createPrometheusMetricSource, fillQuery } from '../../src/rollout/metrics/prometheus/prometheus-metric-source.js';
import { createRouterMetricSource } from '../../src/rollout/metrics/router/router-metric-source.js';
import { createScrapeMetricSource } from '../../src/rollout/metrics/scrape/scrape-metric-source.js';
import { createRouter } from '../../src/rollout/router/router.js';
import { loadPlan } from '../../src/rollout/plan.core.js';
import { startBackend } from './helpers/backends.js';
import { runMetricSourceSuite } from './metric-source.suite.js';

runMetricSourceSuite('router', async () => {
  const blue = await startBackend('blue');
  const green = await startBackend('green');
  const router = createRouter({ blue: [blue.url], green: [green.url] });
  const { url } = await router.listen(0, '127.0.0.1');
  const agent = new Agent();
  return {
    source: createRouterMetricSource((w) => router.readStats(w)),
    now: () => Date.now(),
    async generate(color, ok, failed) {
      router.setWeight(color === 'green' ? 100 : 0);
      const paths = [...Array<string>(ok).fill('/ok'), ...Array<string>(failed).fill('/fail')];
      await Promise.all(paths.map(async (p) => (await request(`${url}${p}`, { dispatcher: agent })).body.dump()));
    },
    async teardown() {
      await agent.close();
      await router.close();
      await Promise.all([blue.close(), green.close()]);
    },
  };
});

/**
 * A fixture color exposing Boka's counters in Prometheus text, driven by the test. Names and
 * label values are the real ones (src/ops/metrics.ts); boka-metrics.test.ts reads the real
 * app's own exposition.
 */
async function startMetricsBackend(color: string) {
  const counts = { ok: 0, failed: 0, dbErrors: 0, sessionsOk: 0, sessionsFailed: 0, authFailures: 0, authRequests: 0, scrapes: 0 };
  const backend = await startBackend(color, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP boka_http_requests_total Requests.',
        '# TYPE boka_http_requests_total counter',
        `boka_http_requests_total{method="GET",route="/api/bookings",status_code="200",version="1.2.0"} ${counts.ok}`,
        `boka_http_requests_total{method="GET",route="/api/bookings",status_code="500",version="1.2.0"} ${counts.failed}`,
        `boka_http_requests_total{method="POST",route="/api/auth/login",status_code="401",version="1.2.0"} ${counts.authRequests}`,
        `boka_db_errors_total{kind="connection"} ${counts.dbErrors}`,
        `boka_sessions_created_total{result="ok"} ${counts.sessionsOk}`,
        `boka_sessions_created_total{result="error"} ${counts.sessionsFailed}`,
        `boka_auth_failures_total{reason="expired"} ${counts.authFailures}`,
        `boka_auth_failures_total{reason="invalid"} ${counts.authFailures * 10}`,
        // What the client sent (no credential, a garbage token, a wrong password) is never judged.
        `boka_auth_failures_total{reason="missing"} ${counts.authFailures * 10}`,
        `boka_auth_failures_total{reason="invalid_credentials"} ${counts.authFailures * 10}`,
        `boka_http_requests_total{method="GET",route="/metrics",status_code="200",version="1.2.0"} ${counts.scrapes}`,
        '',
      ].join('\n'),
    );
  });
  return { backend, counts };
}

runMetricSourceSuite('scrape', async () => {
  const blue = await startMetricsBackend('blue');
  const green = await startMetricsBackend('green');
  let clock = 1_000_000;
  const source = createScrapeMetricSource({ blue: [blue.backend.url], green: [green.backend.url], path: '/metrics' });
  return {
    source,
    now: () => (clock += 10_000),
    async generate(color, ok, failed) {
      const c = color === 'green' ? green.counts : blue.counts;
      c.ok += ok;
      c.failed += failed;
    },
    async teardown() {
      await source.close();
      await Promise.all([blue.backend.close(), green.backend.close()]);
    },
  };
});

runMetricSourceSuite('prometheus', async () => {
  // A fixture Prometheus that answers the two queries of the plan below from counters.
  const counts = { green: { ok: 0, failed: 0 }, blue: { ok: 0, failed: 0 } };
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    queries.push(query);
    const color = query.includes('"green"') ? 'green' : 'blue';
    const c = counts[color];
    const total = c.ok + c.failed;
    const value = query.startsWith('sum(increase(http_5xx') ? (total ? c.failed / total : NaN) : total;
    const result = total === 0 && query.startsWith('sum(increase(http_5xx') ? [] : [{ metric: {}, value: [Date.now() / 1000, String(value)] }];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const plan = loadPlan(`metrics: { prometheus: { url: "${url}" } }\nrules:\n  - metric: error_rate\n    op: ">"\n    threshold: 1%\n    action: rollback\n    query: 'sum(increase(http_5xx{color="$color"}[$window]))'\n    samplesQuery: 'sum(increase(http_requests{color="$color"}[$window]))'\n`);
  if (!plan.ok) throw new Error(JSON.stringify(plan.errors));
  const source = createPrometheusMetricSource({ url, rules: plan.plan.rules });
  return {
    source,
    now: () => Date.now(),
    async generate(color, ok, failed) {
      counts[color].ok += ok;
      counts[color].failed += failed;
    },
    async teardown() {
      assert.ok(queries.some((q) => q.includes('[60s]') && q.includes('color="green"')), 'placeholders filled');
      await source.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
});

describe('scrape source: Boka-specific metrics', () => {
  it('derives db, session and auth failure rates from counter increases over the window', async () => {
    const green = await startMetricsBackend('green');
    const blue = await startMetricsBackend('blue');
    const source = createScrapeMetricSource({ blue: [blue.backend.url], green: [green.backend.url], path: '/metrics' });
    try {
      await source.collect(60_000, 0);
      Object.assign(green.counts, { ok: 90, failed: 10, dbErrors: 8, sessionsOk: 18, sessionsFailed: 2, authRequests: 20, authFailures: 4, scrapes: 500 });
      const reading = await source.collect(60_000, 10_000);
      // The scrapes of /metrics themselves are the observer's traffic, not green's; the 20
      // 401s are client-controlled outcomes (issue 12 item 2): not judged.
      assert.equal(reading.green.requests, 100);
      assert.equal(reading.green.metrics.error_rate?.value, 10 / 100);
      assert.equal(reading.green.metrics.db_error_rate?.value, 8 / 100);
      assert.equal(reading.green.metrics.session_failure_rate?.value, 0.1);
      assert.equal(reading.green.metrics.session_failure_rate?.samples, 20);
      // Token failures happen on any signed-in route, so every API request (4xx included) is the denominator.
      assert.equal(reading.green.metrics.auth_failure_rate?.value, 4 / 120);
      // Only the increase inside the window counts: 70 s later, with nothing new, there is no traffic.
      const later = await source.collect(60_000, 80_000);
      assert.equal(later.green.requests, 0);
    } finally {
      await source.close();
      await Promise.all([green.backend.close(), blue.backend.close()]);
    }
  });

  it('treats a counter that went down as a restart from zero', async () => {
    const green = await startMetricsBackend('green');
    const blue = await startMetricsBackend('blue');
    const source = createScrapeMetricSource({ blue: [blue.backend.url], green: [green.backend.url], path: '/metrics' });
    try {
      green.counts.ok = 500;
      await source.collect(60_000, 0);
      green.counts.ok = 40;
      const reading = await source.collect(60_000, 10_000);
      assert.equal(reading.green.requests, 40);
    } finally {
      await source.close();
      await Promise.all([green.backend.close(), blue.backend.close()]);
    }
  });
});

describe('combineMetricSources', () => {
  const fixed = (name: string, requests: number, metrics: Record<string, { value: number; samples: number }>): MetricSource => ({
    name,
    collect: async () => ({ green: { requests, metrics }, blue: { requests, metrics } }),
    close: async () => undefined,
  });

  it('takes requests and each metric from the first source that has them', async () => {
    const combined = combineMetricSources([
      fixed('router', 100, { error_rate: { value: 0.02, samples: 100 } }),
      fixed('scrape', 90, { error_rate: { value: 0.01, samples: 90 }, db_error_rate: { value: 0.5, samples: 90 } }),
    ]);
    const reading = await combined.collect(60_000, 0);
    assert.equal(reading.green.requests, 100);
    assert.equal(reading.green.metrics.error_rate?.value, 0.02);
    assert.equal(reading.green.metrics.db_error_rate?.value, 0.5);
  });

  it('keeps going when one source fails', async () => {
    const broken: MetricSource = { name: 'broken', collect: () => Promise.reject(new Error('down')), close: async () => undefined };
    const reading = await combineMetricSources([broken, fixed('router', 7, {})]).collect(60_000, 0);
    assert.equal(reading.green.requests, 7);
  });

  it('fills PromQL placeholders', () => {
    assert.equal(fillQuery('rate(x{c="$color"}[$window])', 'green', 90_000), 'rate(x{c="green"}[90s])');
  });
});
