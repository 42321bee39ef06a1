import { Agent, request } from 'undici';
import type { NotifyEvent, Webhook } from './plan.schema.js';

export interface Notifier {
  notify(event: NotifyEvent, payload: Record<string, unknown>): void;
  /** Waits for deliveries in flight (used before writing the final report). */
  flush(): Promise<void>;
}

/**
 * POSTs JSON to each webhook subscribed to the event. Delivery is best effort: a failing
 * webhook is reported through `onResult` and never blocks or fails the rollout.
 */
export function createNotifier(webhooks: readonly Webhook[], onResult: (url: string, event: NotifyEvent, ok: boolean, detail: string) => void, timeoutMs = 5_000): Notifier {
  const dispatcher = new Agent({ connections: 2, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const pending = new Set<Promise<void>>();
  return {
    notify(event, payload) {
      for (const hook of webhooks) {
        if (!hook.events.includes(event)) continue;
        const delivery = request(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event, ...payload }), dispatcher })
          .then(async (res) => {
            await res.body.dump();
            onResult(hook.url, event, res.statusCode < 300, String(res.statusCode));
          })
          .catch((error: unknown) => onResult(hook.url, event, false, error instanceof Error ? error.message : String(error)))
          .finally(() => pending.delete(delivery));
        pending.add(delivery);
      }
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
