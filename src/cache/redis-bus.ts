import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CacheBus, Invalidation } from './invalidation-bus.js';

export interface RedisBusOptions {
  url: string;
  /** Pub/sub channel; deployments sharing one Redis use different channels. */
  channel: string;
  /** Connection problems (logged by the caller; the bus keeps retrying). */
  onError?: (err: unknown) => void;
}

export interface RedisCacheBus extends CacheBus {
  /** Resolves true once both connections are up, false after `timeoutMs`. */
  waitUntilReady(timeoutMs: number): Promise<boolean>;
}

const REQUIRED_FIELDS: Record<Invalidation['kind'], readonly string[]> = {
  session: ['sessionId'],
  user_sessions: ['userId'],
  membership: ['tenantId', 'userId'],
  user: ['userId'],
  api_key: ['keyId'],
  tenant: ['tenantId'],
  signing_keys: [],
  all: [],
};

/** Invalidations kept while Redis is unreachable; past this, peers get one `all` instead. */
export const OUTBOX_MAX = 10_000;

/** Anything on the channel is untrusted input: accept only well-formed invalidations. */
export function parseInvalidation(value: unknown): Invalidation | null {
  if (typeof value !== 'object' || value === null) return null;
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(REQUIRED_FIELDS, kind)) return null;
  const fields = REQUIRED_FIELDS[kind as Invalidation['kind']];
  const out: Record<string, string> = { kind };
  for (const field of fields) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > 200) return null;
    out[field] = v;
  }
  return out as unknown as Invalidation;
}

/**
 * Redis pub/sub cache bus for several instances. Local subscribers are called first (before
 * `publish` resolves); the message then goes to Redis, and every other instance delivers it to
 * its own subscribers. An instance ignores its own echo.
 *
 * Pub/sub delivers at most once, so both directions of an outage are repaired:
 * - While Redis is unreachable, `publish` still delivers locally and never blocks.
 *   `isHealthy()` turns false, the instance reports `degraded`, and bus caches fall back to a
 *   short TTL. What could not be sent waits in an outbox and goes out on reconnect; past
 *   OUTBOX_MAX entries, peers get one `all` instead.
 * - When the subscription comes back after a drop, messages sent meanwhile are lost: local
 *   subscribers get `all`, once the subscription is confirmed again.
 */
export function createRedisBus(opts: RedisBusOptions): RedisCacheBus {
  const origin = randomUUID();
  const handlers: Array<(m: Invalidation) => void> = [];
  const onError = opts.onError ?? (() => {});
  const common = {
    // Reconnect quickly but not in a tight loop; never give up.
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    connectTimeout: 2_000,
    lazyConnect: false,
  };
  // Publishing must never wait for a reconnect: a request that revoked a session has already
  // committed; its local cache is already clean; the other instances fall back to TTLs.
  const pub = new Redis(opts.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  // Resubscribing is done below, so the bus knows when the subscription is confirmed again.
  const sub = new Redis(opts.url, { ...common, autoResubscribe: false, maxRetriesPerRequest: null });
  pub.on('error', onError);
  sub.on('error', onError);
  // Healthy only once the subscription is confirmed, so no peer message can slip past unseen.
  // Every (re)connection subscribes again; once that is confirmed, local subscribers get `all`:
  // whatever peers published while this instance was not subscribed is lost, and entries
  // cached meanwhile (with no bus, or before the first subscription) may be stale.
  let subscribed = false;
  let subscribing = false;
  sub.on('close', () => {
    subscribed = false;
  });
  sub.on('ready', () => {
    if (subscribing) return;
    subscribing = true;
    sub.subscribe(opts.channel).then(
      () => {
        subscribed = true;
        deliver({ kind: 'all' });
      },
      onError, // the connection dropped again: the next 'ready' retries
    ).finally(() => (subscribing = false));
  });
  const outbox: string[] = [];
  const envelope = (message: Invalidation) => JSON.stringify({ o: origin, m: message });
  let flushing = false;
  async function flushOutbox(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      let next: string | undefined;
      while ((next = outbox.shift()) !== undefined) {
        try {
          await pub.publish(opts.channel, next);
        } catch (err) {
          outbox.unshift(next); // still unreachable: the next 'ready' tries again
          throw err;
        }
      }
    } catch (err) {
      onError(err);
    } finally {
      flushing = false;
    }
  }
  pub.on('ready', () => void flushOutbox());
  sub.on('message', (channel: string, raw: string) => {
    if (channel !== opts.channel) return;
    let envelope: unknown;
    try {
      envelope = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof envelope !== 'object' || envelope === null) return;
    const { o, m } = envelope as { o?: unknown; m?: unknown };
    if (o === origin) return;
    const message = parseInvalidation(m);
    if (message) deliver(message);
  });

  function deliver(message: Invalidation): void {
    for (const handler of handlers) {
      try {
        handler(message);
      } catch (err) {
        onError(err);
      }
    }
  }

  function keep(message: Invalidation): void {
    if (outbox.length >= OUTBOX_MAX) outbox.splice(0, outbox.length, envelope({ kind: 'all' }));
    else outbox.push(envelope(message));
    if (pub.status === 'ready') void flushOutbox();
  }

  const isHealthy = () => subscribed && pub.status === 'ready' && sub.status === 'ready';

  return {
    async publish(message) {
      deliver(message);
      if (outbox.length > 0) return keep(message); // keep the order behind what is waiting
      try {
        await pub.publish(opts.channel, envelope(message));
      } catch (err) {
        onError(err);
        keep(message);
      }
    },
    subscribe(handler) {
      handlers.push(handler);
    },
    isHealthy,
    async waitUntilReady(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!isHealthy()) {
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return true;
    },
    async close() {
      handlers.length = 0;
      await Promise.all(
        [pub, sub].map((client) =>
          client.status === 'ready' ? client.quit().then(() => undefined, () => client.disconnect()) : client.disconnect(),
        ),
      );
    },
  };
}
