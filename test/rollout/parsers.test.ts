import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffCounters, readBokaCounters } from '../../src/rollout/metrics/scrape/boka-counters.core.js';
import { estimateQuantileFromCumulative } from '../../src/rollout/metrics/scrape/histogram.core.js';
import { parsePrometheusText, sumSamples } from '../../src/rollout/metrics/scrape/prom-text.core.js';
import { computeServerWeights, parseGreenWeight, renderNginxUpstream } from '../../src/rollout/traffic/nginx/nginx-config.core.js';
import { createWindowStats } from '../../src/rollout/window-stats.core.js';
import { chooseColor, extractStickyKey, hashToBucket, signStickyId, verifyStickyCookie } from '../../src/rollout/sticky.core.js';
import { buildToken } from './helpers/backends.js';

describe('parsePrometheusText', () => {
  const text = [
    '# HELP boka_http_requests_total x',
    '# TYPE boka_http_requests_total counter',
    'boka_http_requests_total{method="GET",route="/a",status_code="200"} 10',
    'boka_http_requests_total{method="GET",route="/a\\"b",status_code="503"} 2 1712345678000',
    'process_start_time_seconds 1.7e9',
    'boka_http_request_duration_seconds_bucket{le="+Inf"} 12',
    'garbage line here',
    'nan_metric NaN',
  ].join('\n');

  it('reads names, labels (with escapes), values and skips the rest', () => {
    const samples = parsePrometheusText(text);
    assert.equal(samples.length, 4);
    assert.deepEqual(samples[1]?.labels, { method: 'GET', route: '/a"b', status_code: '503' });
    assert.equal(samples[2]?.value, 1.7e9);
    assert.equal(samples[3]?.value, 12);
    assert.equal(sumSamples(samples, 'boka_http_requests_total', (l) => l.status_code?.startsWith('5') ?? false), 2);
  });

  it('estimates quantiles from cumulative buckets like histogram_quantile', () => {
    assert.equal(estimateQuantileFromCumulative({ '0.1': 50, '0.5': 100, '+Inf': 100 }, 0.5), 0.1);
    assert.ok(Math.abs((estimateQuantileFromCumulative({ '0.1': 50, '0.5': 100, '+Inf': 100 }, 0.75) ?? 0) - 0.3) < 1e-9);
    assert.equal(estimateQuantileFromCumulative({ '+Inf': 0 }, 0.95), null);
  });

  it('derives p95 from the duration histogram increase', () => {
    const bucketLines = (a: number, b: number) => parsePrometheusText(`boka_http_requests_total 100\nboka_http_request_duration_seconds_bucket{le="0.1"} ${a}\nboka_http_request_duration_seconds_bucket{le="1"} ${b}\nboka_http_request_duration_seconds_bucket{le="+Inf"} ${b}`);
    const w = diffCounters(readBokaCounters(bucketLines(0, 0)), readBokaCounters(parsePrometheusText('boka_http_requests_total 0')));
    assert.equal(w.metrics.p95_latency_ms, undefined);
    const window = diffCounters(readBokaCounters(bucketLines(0, 100)), readBokaCounters(parsePrometheusText('')));
    assert.ok(window.metrics.p95_latency_ms && Math.abs(window.metrics.p95_latency_ms.value - 955) < 1e-6);
  });
});

describe('nginx upstream rendering', () => {
  const spec = { upstreamName: 'boka_app', blue: ['http://127.0.0.1:3001', 'http://127.0.0.1:3003'], green: ['http://127.0.0.1:3002'], statusListen: '127.0.0.1:9901' };

  for (const weight of [0, 10, 25, 50, 75, 100]) {
    it(`round-trips ${weight}% with 2 blue and 1 green servers`, () => {
      assert.equal(parseGreenWeight(renderNginxUpstream(spec, weight, 'v1'), spec), weight);
    });
  }

  it('marks an emptied color down (nginx has no weight=0)', () => {
    assert.deepEqual(computeServerWeights(0, 2, 1), { green: 'down', blue: 100 });
    assert.match(renderNginxUpstream(spec, 100, 'v'), /server 127\.0\.0\.1:3001 down; # blue/);
  });

  it('reads the block out of an nginx -T dump with other upstreams around', () => {
    const dump = `# configuration file /etc/nginx/nginx.conf:\nupstream other { server 127.0.0.1:3002 weight=99; }\n${renderNginxUpstream(spec, 25, 'v2')}`;
    assert.equal(parseGreenWeight(dump, spec), 25);
    assert.equal(parseGreenWeight('upstream nothing {}', spec), undefined);
  });
});

describe('sliding window stats', () => {
  it('counts only the window and estimates p95 within a bucket', () => {
    const stats = createWindowStats(120_000);
    for (let i = 0; i < 95; i++) stats.record(10_000 + i, 200, 20);
    for (let i = 0; i < 5; i++) stats.record(10_500, 503, 900);
    stats.record(1_000, 500, 5);
    const s = stats.summarize(11_000, 5_000);
    assert.equal(s.requests, 100);
    assert.equal(s.status5xx, 5);
    assert.equal(s.errorRate, 0.05);
    assert.ok(s.p95Ms !== null && s.p95Ms >= 18 && s.p95Ms <= 22, `p95 ${s.p95Ms}`);
    assert.ok(s.p99Ms !== null && s.p99Ms > 800 && s.p99Ms <= 1000, `p99 ${s.p99Ms}`);
    assert.equal(stats.summarize(200_000, 60_000).requests, 0, 'old slots age out');
  });
});

describe('client-controlled outcomes (issue 12 item 2)', () => {
  it('are shown but never judged: not in requests, the error rate or the latency quantiles', () => {
    const stats = createWindowStats(60_000);
    for (let i = 0; i < 9; i++) stats.record(100_000, 200, 5);
    stats.record(100_000, 500, 5);
    for (const status of [400, 401, 404, 405, 413, 429, 499]) for (let i = 0; i < 10; i++) stats.record(100_000, status, 30_000);
    const s = stats.summarize(100_500, 10_000);
    assert.equal(s.requests, 10);
    assert.equal(s.clientControlled, 70);
    assert.equal(s.status4xx, 70);
    assert.equal(s.errorRate, 0.1);
    assert.ok(s.p99Ms !== null && s.p99Ms < 10, `p99 ${s.p99Ms}`);
  });
});

describe('stickiness keys', () => {
  const secret = Buffer.alloc(32, 7);

  it('only a cookie the router signed chooses a color: keys, bearer tokens and session ids never do (issue 12 item 2)', () => {
    const signed = signStickyId('c1', secret);
    assert.deepEqual(extractStickyKey({ cookie: `a=b; boka_sticky=${signed}` }, secret), { key: 'cookie:c1', source: 'cookie' });
    assert.deepEqual(
      extractStickyKey({ authorization: `Bearer ${buildToken('s1')}`, 'x-api-key': 'boka_sk_x', cookie: `boka_sticky=${signed}` }, secret),
      { key: 'cookie:c1', source: 'cookie' },
    );
    assert.equal(extractStickyKey({ authorization: `Bearer ${buildToken('s1')}` }, secret), null);
    assert.equal(extractStickyKey({ authorization: 'Bearer boka_key_123' }, secret), null);
    assert.equal(extractStickyKey({ 'x-api-key': 'k2' }, secret), null);
    assert.equal(extractStickyKey({}, secret), null);
  });

  it('refuses unsigned, re-signed and tampered cookies', () => {
    const signed = signStickyId('c1', secret);
    assert.equal(verifyStickyCookie(signed, secret), 'c1');
    assert.equal(extractStickyKey({ cookie: 'boka_sticky=c1' }, secret), null);
    assert.equal(extractStickyKey({ cookie: `boka_sticky=${signStickyId('c1', Buffer.alloc(32, 8))}` }, secret), null);
    assert.equal(extractStickyKey({ cookie: `boka_sticky=c2${signed.slice(2)}` }, secret), null);
    assert.equal(extractStickyKey({ cookie: `boka_sticky=${signed.slice(0, -1)}` }, secret), null);
    assert.equal(verifyStickyCookie(`.${signed}`, secret), null);
    assert.throws(() => signStickyId('bad id', secret), RangeError);
  });

  it('moves a bucket only blue → green as the weight rises', () => {
    for (let i = 0; i < 500; i++) {
      const bucket = hashToBucket(`sid:${i}`);
      let wasGreen = false;
      for (let w = 0; w <= 100; w += 5) {
        const green = chooseColor(bucket, w) === 'green';
        assert.ok(!(wasGreen && !green));
        wasGreen = green;
      }
      assert.ok(wasGreen);
    }
  });
});
