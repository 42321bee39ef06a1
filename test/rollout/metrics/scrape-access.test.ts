import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { combineMetricSources } from '../../../src/rollout/metrics/metric-source.js';
import { createScrapeMetricSource } from '../../../src/rollout/metrics/scrape/scrape-metric-source.js';

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** An instance whose metrics live on their own listener behind a bearer token, like METRICS_PORT + METRICS_TOKEN. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

let served = 0;
const exposition = () => `boka_http_requests_total{route="/api/bookings",status_code="200"} ${(served += 50)}\nboka_http_requests_total{route="/api/bookings",status_code="500"} 0\n`;

describe('scrape source: METRICS_PORT, METRICS_TOKEN and failures reported, not swallowed', () => {
  it('scrapes the metrics port with the bearer token; a missing or wrong token is an error naming the URL', async () => {
    const appPort = await listen((_req, res) => res.writeHead(404).end());
    const metricsPort = await listen((req, res) => {
      if (req.headers.authorization !== 'Bearer s3cret-metrics') return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"code":"forbidden"}');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(exposition());
    });
    const app = `http://127.0.0.1:${appPort}`;
    const ok = createScrapeMetricSource({ blue: [app], green: [app], path: '/metrics', port: metricsPort, token: 's3cret-metrics' });
    const first = await ok.collect(1_000, 1_000);
    const second = await ok.collect(1_000, 2_000);
    assert.deepEqual(first.errors, []);
    assert.deepEqual(second.errors, []);
    assert.ok(second.green.requests > 0, 'the window comes from the metrics port');
    await ok.close();

    const noToken = combineMetricSources([createScrapeMetricSource({ blue: [app], green: [app], path: '/metrics', port: metricsPort })]);
    const reading = await noToken.collect(1_000, 3_000);
    assert.ok(reading.errors?.includes(`scrape green http://127.0.0.1:${metricsPort}/metrics: HTTP 403`), JSON.stringify(reading.errors));
    assert.equal(reading.green.metrics.error_rate, undefined);
    assert.ok(!JSON.stringify(reading).includes('s3cret'), 'the token never appears in a reading');
    await noToken.close();
  });

  it('reports a 404 /metrics and an unreachable instance as errors (a color is judged only on a complete scrape)', async () => {
    const good = await listen((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(exposition()));
    const missing = await listen((_req, res) => res.writeHead(404).end('not found'));
    const closed = await listen(() => undefined);
    servers.at(-1)?.close();
    const source = combineMetricSources([createScrapeMetricSource({ blue: [`http://127.0.0.1:${good}`], green: [`http://127.0.0.1:${good}`, `http://127.0.0.1:${missing}`], path: '/metrics' })]);
    await source.collect(1_000, 1_000);
    const reading = await source.collect(1_000, 2_000);
    assert.deepEqual(reading.errors, [`scrape green http://127.0.0.1:${missing}/metrics: HTTP 404`]);
    assert.equal(reading.green.requests, 0);
    assert.ok(reading.blue.requests > 0);
    await source.close();

    const down = combineMetricSources([createScrapeMetricSource({ blue: [`http://127.0.0.1:${good}`], green: [`http://127.0.0.1:${closed}`], path: '/metrics', timeoutMs: 2_000 })]);
    const r = await down.collect(1_000, 3_000);
    assert.match(r.errors?.[0] ?? '', new RegExp(`^scrape green http://127\\.0\\.0\\.1:${closed}/metrics: .*ECONNREFUSED`));
    await down.close();
  });
});
