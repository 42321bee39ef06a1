import { randomBytes, randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import { decryptAtRest, encryptAtRest } from '../auth/secrets.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { planRetry, type JobQueue, type RetryPolicy } from '../jobs/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import type { ReservationChange } from '../shared/reservation-change.js';
import { addressRefusal, webhookMessage, webhookUrlRefusal, type WebhookEvent } from './webhooks.core.js';
import { AddressRefusedError, createPinnedDispatcher, type AddressPolicy, type ResolveHost } from './webhooks.dispatcher.js';
import * as repo from './webhooks.repo.js';

export const DELIVER_JOB = 'webhook.deliver';
/** Endpoints per tenant: bounds the fan-out of one reservation event. */
export const MAX_ENDPOINTS_PER_TENANT = 10;

export interface WebhookSettings {
  readonly production: boolean;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Failed attempts in a row after which an endpoint is disabled. */
  readonly disableAfterFailures: number;
}

export interface WebhookServiceOptions {
  db: Database;
  clock: Clock;
  events: EventHub;
  jobs: JobQueue;
  encryptionKey: Buffer;
  settings: WebhookSettings;
  /** Resolves a host name; injected so tests can play DNS. Default: the system resolver. */
  resolve?: ResolveHost;
  onError?: (msg: string, err: unknown) => void;
}

interface DeliveryJob {
  tenantId: string;
  endpointId: string;
  messageId: string;
  event: WebhookEvent;
  timestamp: string;
  data: Record<string, unknown>;
}

export type WireEndpoint = ReturnType<typeof toWireEndpoint>;

export function toWireEndpoint(e: repo.EndpointRecord) {
  return {
    id: e.id, url: e.url, events: e.events, secretPrefix: e.secretPrefix, enabled: e.enabled, disabledReason: e.disabledReason,
    consecutiveFailures: e.consecutiveFailures, createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString(),
  };
}

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format. */
function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

async function resolveSystem(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/**
 * Tenant webhook endpoints and their signed, retried deliveries (ADR 0023). A reservation change
 * writes one `webhook.deliver` job per subscribed endpoint in its own transaction (`enqueueFor`,
 * ADR 0024); the job signs per Standard Webhooks
 * and POSTs with a timeout; the job queue retries with backoff; a run of failures disables the
 * endpoint.
 */
export function createWebhookService(opts: WebhookServiceOptions) {
  const { db, clock, settings } = opts;
  const resolve = opts.resolve ?? resolveSystem;

  const policy: AddressPolicy = (host, addresses) => addressRefusal(host, addresses, settings.production);

  /**
   * SSRF guard (ASVS 4.0.3 12.6.1): the URL's form and a literal IP host (`webhookUrlRefusal`);
   * a host name is resolved and every answer judged when `resolveName` is set (registration). At
   * send time the pinned dispatcher's lookup does that instead, on the very answer the socket
   * then connects to (ADR 0026).
   */
  async function refusal(raw: string, resolveName: boolean): Promise<string | null> {
    const reason = webhookUrlRefusal(raw, settings.production);
    if (reason || !resolveName) return reason;
    const host = new URL(raw).hostname;
    if (host.startsWith('[') || isIP(host)) return null; // a literal IP, judged above
    try {
      return policy(host, await resolve(host));
    } catch {
      return 'host does not resolve';
    }
  }

  async function assertAllowed(url: string): Promise<void> {
    const reason = await refusal(url, true);
    if (reason) throw new AppError('webhook_url_refused', `The webhook URL ${reason}`, [{ field: 'url', in: 'body', message: reason }]);
  }

  /**
   * Writes one `webhook.deliver` job per subscribed endpoint inside the reservation change's own
   * transaction `tx` (tenant-scoped): the transactional outbox of ADR 0024. The message id is
   * fixed here, before the commit, so every attempt of a message carries the same `webhook-id`
   * (Standard Webhooks: receivers deduplicate on it), and nothing is sent for a rolled-back change.
   */
  async function enqueueFor(tx: Queryable, change: ReservationChange): Promise<void> {
    const message = webhookMessage(change);
    if (!message) return;
    const endpoints = await repo.listSubscribed(tx, change.tenantId, message.event);
    const timestamp = new Date(clock.now()).toISOString();
    for (const e of endpoints) {
      const job: DeliveryJob = { tenantId: change.tenantId, endpointId: e.id, messageId: `msg_${randomUUID()}`, event: message.event, timestamp, data: message.data };
      await opts.jobs.enqueue(DELIVER_JOB, job, {}, tx);
    }
  }

  async function post(url: string, secret: string, job: DeliveryJob): Promise<{ statusCode: number | null; error: string | null }> {
    const reason = await refusal(url, false); // again at send time: the URL rules may have tightened since creation
    if (reason) return { statusCode: null, error: `refused: ${reason}` };
    const body = JSON.stringify({ type: job.event, timestamp: job.timestamp, data: { tenantId: job.tenantId, ...job.data } });
    const signature = new Webhook(secret).sign(job.messageId, new Date(clock.now()), body);
    // One dispatcher per attempt: every attempt resolves afresh and checks what it connects to
    // (ADR 0026), and no pooled socket outlives the attempt.
    const dispatcher = createPinnedDispatcher({ resolve, policy, timeoutMs: settings.timeoutMs });
    try {
      // undici's request never follows redirects: a 3xx (which could lead anywhere) is a failure.
      const res = await request(url, {
        method: 'POST',
        dispatcher,
        signal: AbortSignal.timeout(settings.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Boka-Webhooks/1',
          'webhook-id': job.messageId,
          'webhook-timestamp': String(Math.floor(clock.now() / 1000)),
          'webhook-signature': signature,
        },
        body,
      });
      await res.body.dump();
      return { statusCode: res.statusCode, error: res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}` };
    } catch (err) {
      if (err instanceof AddressRefusedError) return { statusCode: null, error: err.message };
      return { statusCode: null, error: isTimeout(err) ? 'timed out' : 'connection failed' };
    } finally {
      await dispatcher.destroy();
    }
  }

  async function deliver(payload: unknown, ctx: { attempt: number }): Promise<void> {
    const job = payload as DeliveryJob;
    const endpoint = await withTenant(db, job.tenantId, (tx) => repo.findEndpoint(tx, job.tenantId, job.endpointId), { readOnly: true });
    if (!endpoint || !endpoint.enabled || !endpoint.events.includes(job.event)) return; // deleted, disabled or unsubscribed since
    const secret = decryptAtRest(endpoint.secretEnc, opts.encryptionKey);
    const started = performance.now();
    const result = await post(endpoint.url, secret, job);
    const durationMs = Math.round(performance.now() - started);
    const delivered = result.error === null;
    const now = clock.now();
    const plan = delivered ? { retry: false as const } : planRetry(settings.retry, ctx.attempt, now);
    const disabled = await withTenant(db, job.tenantId, async (tx) => {
      await repo.insertDelivery(tx, job.tenantId, job.endpointId, {
        id: randomUUID(), messageId: job.messageId, event: job.event, attempt: ctx.attempt, outcome: delivered ? 'delivered' : 'failed',
        statusCode: result.statusCode, error: result.error, durationMs, nextAttemptAt: plan.retry ? new Date(plan.runAt) : null, createdAt: new Date(now),
      });
      const streak = await repo.recordOutcome(tx, job.tenantId, job.endpointId, delivered);
      if (!delivered && streak >= settings.disableAfterFailures) {
        return repo.disableEndpoint(tx, job.tenantId, job.endpointId, `disabled after ${streak} failed attempts in a row`, new Date(now));
      }
      return false;
    });
    if (disabled) opts.events.emit('webhook.endpoint_disabled', { tenantId: job.tenantId, endpointId: job.endpointId, failures: settings.disableAfterFailures });
    if (!delivered && !disabled) throw new Error(`webhook delivery failed: ${result.error}`);
  }

  opts.jobs.register(DELIVER_JOB, deliver, settings.retry);

  async function endpointOr404(tenantId: string, id: string): Promise<repo.EndpointRecord> {
    const e = await withTenant(db, tenantId, (tx) => repo.findEndpoint(tx, tenantId, id), { readOnly: true });
    if (!e) throw new AppError('not_found', 'Webhook endpoint not found');
    return e;
  }

  return {
    enqueueFor,
    async create(tenantId: string, actor: { userId: string; meta: RequestMeta }, input: { url: string; events: WebhookEvent[] }) {
      await assertAllowed(input.url);
      const secret = generateWebhookSecret();
      const record = await withTenant(db, tenantId, async (tx) => {
        if ((await repo.countEndpoints(tx, tenantId)) >= MAX_ENDPOINTS_PER_TENANT) {
          throw new AppError('invalid_state', `A tenant may have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`);
        }
        return repo.insertEndpoint(tx, {
          id: randomUUID(), tenantId, url: input.url, events: [...new Set(input.events)], secretEnc: encryptAtRest(secret, opts.encryptionKey),
          secretPrefix: secret.slice(0, 10), createdAt: new Date(clock.now()),
        });
      });
      opts.events.emit('webhook.endpoint_changed', { tenantId, endpointId: record.id, actorUserId: actor.userId, change: 'created', meta: actor.meta });
      return { endpoint: record, secret };
    },
    async list(tenantId: string) {
      return withTenant(db, tenantId, (tx) => repo.listEndpoints(tx, tenantId), { readOnly: true });
    },
    get: endpointOr404,
    async update(tenantId: string, actor: { userId: string; meta: RequestMeta }, id: string, input: { url?: string; events?: WebhookEvent[]; enabled?: boolean }) {
      if (input.url !== undefined) await assertAllowed(input.url);
      const record = await withTenant(db, tenantId, (tx) => repo.updateEndpoint(tx, tenantId, id, {
        ...(input.url !== undefined ? { url: input.url } : {}), ...(input.events ? { events: [...new Set(input.events)] } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}), now: new Date(clock.now()),
      }));
      if (!record) throw new AppError('not_found', 'Webhook endpoint not found');
      opts.events.emit('webhook.endpoint_changed', { tenantId, endpointId: id, actorUserId: actor.userId, change: 'updated', meta: actor.meta });
      return record;
    },
    async remove(tenantId: string, actor: { userId: string; meta: RequestMeta }, id: string) {
      const gone = await withTenant(db, tenantId, (tx) => repo.deleteEndpoint(tx, tenantId, id));
      if (!gone) throw new AppError('not_found', 'Webhook endpoint not found');
      opts.events.emit('webhook.endpoint_changed', { tenantId, endpointId: id, actorUserId: actor.userId, change: 'deleted', meta: actor.meta });
    },
    async rotateSecret(tenantId: string, actor: { userId: string; meta: RequestMeta }, id: string) {
      const secret = generateWebhookSecret();
      const record = await withTenant(db, tenantId, (tx) => repo.updateEndpoint(tx, tenantId, id, {
        secretEnc: encryptAtRest(secret, opts.encryptionKey), secretPrefix: secret.slice(0, 10), now: new Date(clock.now()),
      }));
      if (!record) throw new AppError('not_found', 'Webhook endpoint not found');
      opts.events.emit('webhook.endpoint_changed', { tenantId, endpointId: id, actorUserId: actor.userId, change: 'secret_rotated', meta: actor.meta });
      return { endpoint: record, secret };
    },
    async deliveries(tenantId: string, id: string, limit: number) {
      await endpointOr404(tenantId, id);
      return withTenant(db, tenantId, (tx) => repo.listDeliveries(tx, tenantId, id, limit), { readOnly: true });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

function isTimeout(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}
