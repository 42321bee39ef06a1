export { createWebhookService, DELIVER_JOB, type WebhookService, type WebhookSettings } from './webhooks.service.js';
export { webhookRoutes } from './webhooks.routes.js';
export { WEBHOOK_EVENTS, checkWebhookUrl, isForbiddenAddress, type WebhookEvent } from './webhooks.core.js';
