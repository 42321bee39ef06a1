import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyVerifiedWeight, type TrafficRouter } from '../../src/rollout/traffic/traffic-router.js';

export interface TrafficHarness {
  readonly router: TrafficRouter;
  /** Sends one request through the router's public side; returns the color that answered. */
  send(): Promise<string>;
  teardown(): Promise<void>;
}

/** The one contract every traffic router implementation must meet. */
export function runTrafficRouterSuite(name: string, setup: () => Promise<TrafficHarness>, skip?: string): void {
  describe(`traffic router contract: ${name}`, { skip }, () => {
    let h: TrafficHarness;
    before(async () => {
      h = await setup();
    });
    after(async () => {
      await h?.teardown();
    });

    for (const weight of [0, 25, 100, 10]) {
      it(`reads back ${weight}% after setting it`, async () => {
        await h.router.setGreenWeight(weight);
        assert.equal(await h.router.readGreenWeight(), weight);
      });
    }

    it('sends everything to green at 100% and everything to blue at 0%', async () => {
      await applyVerifiedWeight(h.router, 100);
      for (let i = 0; i < 20; i++) assert.equal(await h.send(), 'green');
      await applyVerifiedWeight(h.router, 0);
      for (let i = 0; i < 20; i++) assert.equal(await h.send(), 'blue');
    });

    it('splits traffic at 50%', async () => {
      await applyVerifiedWeight(h.router, 50);
      const colors = await Promise.all(Array.from({ length: 200 }, () => h.send()));
      const green = colors.filter((c) => c === 'green').length;
      assert.ok(green > 60 && green < 140, `green ${green}/200`);
    });

    it('refuses a weight outside 0..100 and keeps the current one', async () => {
      await applyVerifiedWeight(h.router, 25);
      await assert.rejects(h.router.setGreenWeight(150));
      assert.equal(await h.router.readGreenWeight(), 25);
    });
  });
}
