import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackendProcess } from '../helpers/backend-process.js';
import { startRouterProcess } from '../helpers/router-process.js';

const agent = new Agent({ connections: 64 });
const dir = mkdtempSync(join(tmpdir(), 'boka-dead-green-'));
after(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `at`: when the request was sent. */
type Sample = { at: number; method: string; ok: boolean; color: string };

/** One client: a request, its outcome and the color that answered (failures included). */
async function send(url: string, method: 'GET' | 'POST'): Promise<Sample> {
  const at = Date.now();
  try {
    const res = await request(url, { method, body: method === 'POST' ? '{}' : null, headers: { 'content-type': 'application/json' }, dispatcher: agent });
    await res.body.dump();
    return { at, method, ok: res.statusCode === 200, color: String(res.headers['x-boka-color']) };
  } catch {
    return { at, method, ok: false, color: 'none' };
  }
}

describe('issue 13 item 4: a dead green behind `boka router serve` (real processes)', () => {
  it('ejects a killed green: GETs never fail (retried on blue), failed POSTs are bounded, none fail after the ejection', async () => {
    const blue = await startBackendProcess('blue');
    const green = await startBackendProcess('green');
    const router = await startRouterProcess(['--blue', blue.url, '--green', green.url, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--state-file', join(dir, 'state.json')]);
    const concurrency = 8;
    try {
      const put = await request(`${router.adminUrl}/_router/admin/weight`, { method: 'PUT', body: '{"greenWeight":100}', headers: { 'content-type': 'application/json' }, dispatcher: agent });
      assert.equal(put.statusCode, 200);
      await put.body.dump();
      const readGreen = async () => {
        const res = await request(`${router.adminUrl}/_router/state`, { dispatcher: agent });
        const state = (await res.body.json()) as { colors: { green: { health: string; instances: { since: number | null }[] } } };
        return state.colors.green;
      };
      const deadline = Date.now() + 10_000;
      while ((await readGreen()).health !== 'healthy') {
        assert.ok(Date.now() < deadline, 'green never became healthy');
        await new Promise((r) => setTimeout(r, 20));
      }

      // Steady load: half GET (retryable), half POST without Idempotency-Key (never retried).
      const samples: Sample[] = [];
      let stop = false;
      const workers = Array.from({ length: concurrency }, async (_, i) => {
        const method = i % 2 === 0 ? 'GET' : 'POST';
        while (!stop) samples.push(await send(`${router.trafficUrl}/x`, method));
      });
      while (samples.filter((s) => s.color === 'green').length < 50) await new Promise((r) => setTimeout(r, 10));

      const killedAt = Date.now();
      await green.kill('SIGKILL');
      let ejectedAt: number | null = null;
      while (ejectedAt === null) {
        const g = await readGreen();
        if (g.health === 'unhealthy') ejectedAt = g.instances[0]?.since ?? Date.now();
        else assert.ok(Date.now() < killedAt + 10_000, 'green was never ejected');
      }
      const countAfterEjection = () => samples.filter((s) => s.at > (ejectedAt as number)).length;
      while (countAfterEjection() < 200) await new Promise((r) => setTimeout(r, 10));
      stop = true;
      await Promise.all(workers);

      const afterKill = samples.filter((s) => s.at >= killedAt);
      const failed = afterKill.filter((s) => !s.ok);
      const failedGets = failed.filter((s) => s.method === 'GET');
      const failedPosts = failed.filter((s) => s.method === 'POST');
      // Requests sent after the router recorded the ejection.
      const failedAfter = failed.filter((s) => s.at > (ejectedAt as number));
      process.stdout.write(`# dead green: ejected ${ejectedAt - killedAt} ms after SIGKILL; after the kill ${afterKill.length} requests, ${failedPosts.length} POSTs and ${failedGets.length} GETs failed; ${failedAfter.length} failures after the ejection\n`);
      if (failed.length > 0) {
        const stats = await request(`${router.adminUrl}/_router/admin/stats?windowMs=60000`, { dispatcher: agent });
        if (failedGets.length > 0 || failedAfter.length > 0) process.stdout.write(`# green's recent errors: ${JSON.stringify(((await stats.body.json()) as { green: { recentErrors: unknown[] } }).green.recentErrors.slice(0, 5))}\n`);
      }
      assert.equal(failedGets.length, 0, 'every GET that met the dead green was retried on blue');
      // Only the POSTs in flight to green, or sent before the first failed connection ejected it.
      assert.ok(failedPosts.length <= concurrency, `${failedPosts.length} failed POSTs`);
      assert.equal(failedAfter.length, 0);
      assert.ok(afterKill.filter((s) => s.at > (ejectedAt as number)).every((s) => s.color === 'blue'));
      const metrics = await request(`${router.adminUrl}/metrics`, { dispatcher: agent });
      const text = await metrics.body.text();
      assert.match(text, /boka_router_ejections_total\{color="green"\} [1-9]/);
      assert.match(router.output(), /"msg":"upstream ejected"/);
    } finally {
      await router.stop();
      await Promise.all([blue.kill(), green.kill()]);
    }
  });
});
