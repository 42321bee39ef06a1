import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MetricSource } from '../../src/rollout/metrics/metric-source.js';

export interface MetricHarness {
  readonly source: MetricSource;
  /** Makes `color` serve `ok` successful and `failed` 5xx requests, as the source would observe. */
  generate(color: 'blue' | 'green', ok: number, failed: number): Promise<void>;
  /** Current time for `collect`; sources that diff scrapes need it to move. */
  now(): number;
  teardown(): Promise<void>;
}

/** The contract every metric source meets for the error-rate metric and its sample count. */
export function runMetricSourceSuite(name: string, setup: () => Promise<MetricHarness>): void {
  describe(`metric source contract: ${name}`, () => {
    let h: MetricHarness;
    before(async () => {
      h = await setup();
    });
    after(async () => {
      await h?.teardown();
    });

    it('reports no error rate for a color that served nothing', async () => {
      const reading = await h.source.collect(60_000, h.now());
      assert.equal(reading.green.metrics.error_rate, undefined);
    });

    it('reports each color\'s error rate with its sample count', async () => {
      await h.generate('green', 40, 10);
      await h.generate('blue', 50, 0);
      const reading = await h.source.collect(60_000, h.now());
      assert.equal(reading.green.metrics.error_rate?.value, 0.2);
      assert.equal(reading.green.metrics.error_rate?.samples, 50);
      assert.equal(reading.blue.metrics.error_rate?.value, 0);
      assert.equal(reading.blue.metrics.error_rate?.samples, 50);
    });
  });
}
