import { randomUUID } from 'node:crypto';
import { Webhook as Signer } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { NotifyEvent, Webhook } from './plan.schema.js';

export interface Notifier {
  notify(event: NotifyEvent, payload: Record<string, unknown>): void;
  /** Waits for deliveries in flight, retries included (used before writing the final report). */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  /** Per-attempt timeout. */
  readonly timeoutMs?: number;
  /** Attempts per delivery, the first included. */
  readonly attempts?: number;
  /** First retry delay; doubles every attempt (with ±20 % jitter). */
  readonly backoffMs?: number;
  /** The `whsec_…` secret of each webhook (from its `secretFile` or env), resolved by the caller. */
  readonly secretFor?: (hook: Webhook) => string | undefined;
  readonly random?: () => number;
}

/** 408, 429 and 5xx are worth another attempt; another 4xx will not change by retrying. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Slack incoming-webhook message: `text` for notifications, one `section` block for the channel. */
export function formatSlack(event: NotifyEvent, payload: Record<string, unknown>): { text: string; blocks: unknown[] } {
  const summary = typeof payload.summary === 'string' ? payload.summary : event;
  const where = [payload.phase, payload.weight === undefined ? undefined : `green ${String(payload.weight)}%`].filter((x) => x !== undefined).join(' · ');
  const text = `Boka rollout ${String(payload.rolloutId ?? '')} — ${event}: ${summary}`;
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*Boka rollout \`${String(payload.rolloutId ?? '')}\`* — *${event}*\n${summary}${where ? `\n_${where}_` : ''}` } }],
  };
}

/**
 * POSTs each event to the webhooks subscribed to it, signed per Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 over
 * `id.timestamp.body`) when the hook has a secret, and retried with exponential backoff up to
 * `attempts` times under the same `webhook-id` so receivers can deduplicate. Delivery never
 * blocks or fails the rollout: results (never the secret) go to `onResult`.
 */
export function createNotifier(
  webhooks: readonly Webhook[],
  onResult: (url: string, event: NotifyEvent, ok: boolean, detail: string, attempt: number) => void,
  options: NotifierOptions = {},
): Notifier {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const attempts = Math.max(1, options.attempts ?? 5);
  const backoffMs = options.backoffMs ?? 1_000;
  const random = options.random ?? Math.random;
  const dispatcher = new Agent({ connections: 2, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const signers = new Map<Webhook, Signer | null>();
  const pending = new Set<Promise<void>>();

  function signerFor(hook: Webhook): Signer | null {
    if (!signers.has(hook)) {
      const secret = options.secretFor?.(hook);
      signers.set(hook, secret ? new Signer(secret) : null);
    }
    return signers.get(hook) ?? null;
  }

  async function attempt(hook: Webhook, id: string, body: string): Promise<{ ok: boolean; retry: boolean; detail: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': id };
    const signer = signerFor(hook);
    const at = new Date();
    headers['webhook-timestamp'] = String(Math.floor(at.getTime() / 1000));
    if (signer) headers['webhook-signature'] = signer.sign(id, at, body);
    try {
      const res = await request(hook.url, { method: 'POST', headers, body, dispatcher });
      await res.body.dump();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { ok, retry: !ok && isRetryable(res.statusCode), detail: String(res.statusCode) };
    } catch (error) {
      return { ok: false, retry: true, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  async function deliver(hook: Webhook, event: NotifyEvent, body: string): Promise<void> {
    const id = `msg_${randomUUID()}`;
    for (let n = 1; ; n++) {
      const result = await attempt(hook, id, body);
      onResult(hook.url, event, result.ok, result.detail, n);
      if (result.ok || !result.retry || n >= attempts) return;
      const delay = backoffMs * 2 ** (n - 1) * (0.8 + 0.4 * random());
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  return {
    notify(event, payload) {
      for (const hook of webhooks) {
        if (!hook.events.includes(event)) continue;
        const message = hook.format === 'slack' ? formatSlack(event, payload) : { type: `rollout.${event}`, timestamp: new Date().toISOString(), event, ...payload };
        const delivery = deliver(hook, event, JSON.stringify(message)).finally(() => pending.delete(delivery));
        pending.add(delivery);
      }
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
