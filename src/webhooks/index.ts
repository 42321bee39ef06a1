export { createWebhookService, DELIVER_JOB, type WebhookService, type WebhookSettings } from './webhooks.service.js';
export { webhookRoutes } from './webhooks.routes.js';
export { WEBHOOK_EVENTS, addressRefusal, checkWebhookUrl, isForbiddenAddress, webhookUrlRefusal, type WebhookEvent } from './webhooks.core.js';
export { AddressRefusedError, createCheckedLookup, createPinnedDispatcher, type AddressPolicy, type ResolveHost } from './webhooks.dispatcher.js';
