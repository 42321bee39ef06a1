import { Type } from '@fastify/type-provider-typebox';
import { IsoDate, Uuid } from '../http/schemas.js';
import { WEBHOOK_EVENTS } from './webhooks.core.js';

const EventName = Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e)));
const Events = Type.Array(EventName, { minItems: 1, maxItems: WEBHOOK_EVENTS.length, uniqueItems: true });
const Url = Type.String({ minLength: 8, maxLength: 2000, description: 'https URL (http only to a loopback host outside production)' });

export const WebhookEndpointSchema = Type.Object({
  id: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  secretPrefix: Type.String({ description: 'First characters of the signing secret, to tell secrets apart' }),
  enabled: Type.Boolean(),
  disabledReason: Type.Union([Type.String(), Type.Null()]),
  consecutiveFailures: Type.Integer(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export const WebhookEndpointList = Type.Object({ items: Type.Array(WebhookEndpointSchema) });
export const WebhookEndpointWithSecret = Type.Object({
  endpoint: WebhookEndpointSchema,
  secret: Type.String({ description: 'The `whsec_…` signing secret (Standard Webhooks). Shown only in this answer.' }),
});
export const WebhookCreate = Type.Object({ url: Url, events: Events }, {
  additionalProperties: false,
  examples: [{ url: 'https://hooks.example.com/boka', events: ['reservation.created', 'reservation.cancelled'] }],
});
export const WebhookUpdate = Type.Object({ url: Type.Optional(Url), events: Type.Optional(Events), enabled: Type.Optional(Type.Boolean()) }, {
  additionalProperties: false,
  minProperties: 1,
  examples: [{ enabled: true }],
});
// Canonical lower-case ids only (ADR 0009): one spelling per resource.
const CanonicalId = Type.String({ format: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
export const WebhookParams = Type.Object({ tenantId: Type.String({ maxLength: 64 }), id: CanonicalId }, { additionalProperties: false });
export const DeliveryQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) }, { additionalProperties: false });
export const DeliveryLog = Type.Object({
  items: Type.Array(Type.Object({
    id: Uuid,
    messageId: Type.String({ description: 'The `webhook-id` header: the same for every attempt of one message' }),
    event: Type.String(),
    attempt: Type.Integer(),
    outcome: Type.Union([Type.Literal('delivered'), Type.Literal('failed')]),
    statusCode: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    durationMs: Type.Integer(),
    nextAttemptAt: Type.Union([IsoDate, Type.Null()]),
    createdAt: IsoDate,
  })),
});
