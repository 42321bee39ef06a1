import { randomBytes, randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { Webhook } from 'standardwebhooks';
import { decryptAtRest, encryptAtRest } from '../auth/secrets.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { planRetry, type JobQueue, type RetryPolicy } from '../jobs/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta, ReservationChange } from '../shared/events.js';
import { checkWebhookUrl, isForbiddenAddress, webhookMessage, type WebhookEvent } from './webhooks.core.js';
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
  resolve?: (host: string) => Promise<string[]>;
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

  /** SSRF guard (ASVS 12.6.1): the URL's form, then every address its host resolves to. */
  async function refusal(raw: string): Promise<string | null> {
    const reason = checkWebhookUrl(raw, settings.production);
    if (reason) return reason;
    const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = await resolve(host);
    } catch {
      return 'host does not resolve';
    }
    if (addresses.length === 0) return 'host does not resolve';
    const loopbackAllowed = !settings.production && new URL(raw).protocol !== '' && isLoopbackName(host);
    for (const a of addresses) {
      if (isForbiddenAddress(a) && !(loopbackAllowed && isLoopbackAddress(a))) return 'resolves to a private, loopback or link-local address';
    }
    return null;
  }

  async function assertAllowed(url: string): Promise<void> {
    const reason = await refusal(url);
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
    const reason = await refusal(url); // again at send time: DNS may have changed since creation
    if (reason) return { statusCode: null, error: `refused: ${reason}` };
    const body = JSON.stringify({ type: job.event, timestamp: job.timestamp, data: { tenantId: job.tenantId, ...job.data } });
    const signature = new Webhook(secret).sign(job.messageId, new Date(clock.now()), body);
    try {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual', // a redirect could lead anywhere (SSRF); it counts as a failure
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
      await res.body?.cancel();
      return { statusCode: res.status, error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}` };
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      return { statusCode: null, error: name === 'TimeoutError' ? 'timed out' : 'connection failed' };
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

function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip) || /^::ffff:127\./i.test(ip);
}
