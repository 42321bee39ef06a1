import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook as Verifier } from 'standardwebhooks';
import type { Webhook } from '../../src/rollout/plan.schema.js';
import { createNotifier } from '../../src/rollout/webhooks.js';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly verified: boolean;
}

/** A real receiver: verifies the Standard Webhooks signature and fails the first `failFirst` attempts. */
function startReceiver(secret: string, failFirst: number): Promise<{ url: string; received: Received[]; server: Server }> {
  const verifier = new Verifier(secret);
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      try {
        verifier.verify(body, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      received.push({ headers: req.headers, body, verified });
      res.writeHead(!verified ? 401 : received.length <= failFirst ? 503 : 204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server })));
}

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const hook = (url: string, extra: Partial<Webhook> = {}): Webhook => ({ url, events: ['rollback', 'complete'], secretFile: null, format: 'standard', ...extra });

describe('webhooks: Standard Webhooks signatures, retries with backoff, Slack format', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver(secret, 2);
  });
  after(() => receiver.server.close());

  it('signs every attempt, retries a failing receiver under the same webhook-id and stops once delivered', async () => {
    const results: { ok: boolean; detail: string; attempt: number }[] = [];
    const notifier = createNotifier([hook(receiver.url)], (_u, _e, ok, detail, attempt) => results.push({ ok, detail, attempt }), { backoffMs: 20, attempts: 5, secretFor: () => secret });
    notifier.notify('rollback', { rolloutId: 'r1', summary: 'error-rate breached', phase: 'rolling_back', weight: 0 });
    notifier.notify('step', { rolloutId: 'r1', summary: 'not subscribed' });
    await notifier.flush();
    assert.deepEqual(results.map((r) => [r.ok, r.detail, r.attempt]), [[false, '503', 1], [false, '503', 2], [true, '204', 3]]);
    assert.equal(receiver.received.length, 3);
    assert.ok(receiver.received.every((r) => r.verified), 'every attempt carries a valid signature');
    assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'retries reuse the message id');
    const body = JSON.parse(receiver.received[2]?.body ?? '{}') as Record<string, unknown>;
    assert.equal(body.type, 'rollout.rollback');
    assert.equal(body.summary, 'error-rate breached');
  });

  it('gives up after the bounded number of attempts, and a receiver with another secret rejects the signature', async () => {
    const other = await startReceiver(`whsec_${randomBytes(24).toString('base64')}`, 0);
    try {
      const results: boolean[] = [];
      const notifier = createNotifier([hook(other.url)], (_u, _e, ok) => results.push(ok), { backoffMs: 10, attempts: 3, secretFor: () => secret });
      notifier.notify('complete', { rolloutId: 'r2', summary: 'promoted' });
      await notifier.flush();
      // 401 is not retryable: one attempt, reported as failed.
      assert.deepEqual(results, [false]);
      assert.equal(other.received[0]?.verified, false);
    } finally {
      other.server.close();
    }
    const down = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    try {
      const attempts: number[] = [];
      const notifier = createNotifier([hook(`http://127.0.0.1:${(down.address() as AddressInfo).port}/`)], (_u, _e, _ok, _d, n) => attempts.push(n), { backoffMs: 10, attempts: 3 });
      notifier.notify('complete', { rolloutId: 'r3', summary: 'promoted' });
      await notifier.flush();
      assert.deepEqual(attempts, [1, 2, 3]);
    } finally {
      down.close();
    }
  });

  it('sends a Slack-compatible {text, blocks} payload with format: slack', async () => {
    const slack = await startReceiver(secret, 0);
    try {
      const notifier = createNotifier([hook(slack.url, { format: 'slack' })], () => undefined, { secretFor: () => secret });
      notifier.notify('rollback', { rolloutId: 'r4', summary: 'green 5xx 4.8 % > 1 %', phase: 'rolling_back', weight: 0 });
      await notifier.flush();
      const body = JSON.parse(slack.received[0]?.body ?? '{}') as { text?: string; blocks?: { type: string; text: { type: string; text: string } }[] };
      assert.match(body.text ?? '', /r4 — rollback: green 5xx 4\.8 % > 1 %/);
      assert.equal(body.blocks?.[0]?.type, 'section');
      assert.equal(body.blocks?.[0]?.text.type, 'mrkdwn');
    } finally {
      slack.server.close();
    }
  });
});
