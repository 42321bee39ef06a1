import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestActor, requireTenantId, tenantPermission } from '../access/index.js';
import { errorResponses, NoContent, TenantParams } from '../http/schemas.js';
import { DeliveryLog, DeliveryQuery, WebhookCreate, WebhookEndpointList, WebhookEndpointSchema, WebhookEndpointWithSecret, WebhookParams, WebhookUpdate } from './webhooks.schemas.js';
import { toWireEndpoint, type WebhookService } from './webhooks.service.js';

export interface WebhookRouteDeps {
  readonly webhooks: WebhookService;
}

const access = { access: tenantPermission('webhooks.manage') };
const tags = ['webhooks'];

/** Booking webhook endpoints of a tenant and their delivery log (ADR 0023). */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: WebhookRouteDeps }> = async (app, { services }) => {
  const { webhooks } = services;

  app.post('/api/tenants/:tenantId/webhooks', {
    config: access,
    schema: { tags, operationId: 'createWebhook', summary: 'Register a webhook endpoint for reservation events; answers its signing secret once', params: TenantParams, body: WebhookCreate, response: { ...errorResponses({ 422: ['webhook_url_refused', 'invalid_state'] }), 201: WebhookEndpointWithSecret } },
  }, async (request, reply) => {
    const { endpoint, secret } = await webhooks.create(requireTenantId(request.auth), requestActor(request), request.body);
    return reply.code(201).send({ endpoint: toWireEndpoint(endpoint), secret });
  });

  app.get('/api/tenants/:tenantId/webhooks', {
    config: access,
    schema: { tags, operationId: 'listWebhooks', summary: 'List the webhook endpoints of a tenant', params: TenantParams, response: { 200: WebhookEndpointList } },
  }, async (request) => ({ items: (await webhooks.list(requireTenantId(request.auth))).map(toWireEndpoint) }));

  app.get('/api/tenants/:tenantId/webhooks/:id', {
    config: access,
    schema: { tags, operationId: 'getWebhook', summary: 'Read one webhook endpoint, its state and failure streak', params: WebhookParams, response: { ...errorResponses({ 404: ['not_found'] }), 200: WebhookEndpointSchema } },
  }, async (request) => toWireEndpoint(await webhooks.get(requireTenantId(request.auth), request.params.id)));

  app.patch('/api/tenants/:tenantId/webhooks/:id', {
    config: access,
    schema: { tags, operationId: 'updateWebhook', summary: 'Change the URL or events of a webhook endpoint, or enable or disable it', params: WebhookParams, body: WebhookUpdate, response: { ...errorResponses({ 404: ['not_found'], 422: ['webhook_url_refused'] }), 200: WebhookEndpointSchema } },
  }, async (request) => toWireEndpoint(await webhooks.update(requireTenantId(request.auth), requestActor(request), request.params.id, request.body)));

  app.delete('/api/tenants/:tenantId/webhooks/:id', {
    config: access,
    schema: { tags, operationId: 'deleteWebhook', summary: 'Delete a webhook endpoint and its delivery log', params: WebhookParams, response: { ...errorResponses({ 404: ['not_found'] }), 204: NoContent } },
  }, async (request, reply) => {
    await webhooks.remove(requireTenantId(request.auth), requestActor(request), request.params.id);
    return reply.code(204).send();
  });

  app.post('/api/tenants/:tenantId/webhooks/:id/rotate-secret', {
    config: access,
    schema: { tags, operationId: 'rotateWebhookSecret', summary: 'Replace the signing secret of a webhook endpoint; answers the new one once', params: WebhookParams, response: { ...errorResponses({ 404: ['not_found'] }), 200: WebhookEndpointWithSecret } },
  }, async (request) => {
    const { endpoint, secret } = await webhooks.rotateSecret(requireTenantId(request.auth), requestActor(request), request.params.id);
    return { endpoint: toWireEndpoint(endpoint), secret };
  });

  app.get('/api/tenants/:tenantId/webhooks/:id/deliveries', {
    config: access,
    schema: { tags, operationId: 'listWebhookDeliveries', summary: 'The delivery log of a webhook endpoint, newest attempt first', params: WebhookParams, querystring: DeliveryQuery, response: { ...errorResponses({ 404: ['not_found'] }), 200: DeliveryLog } },
  }, async (request) => {
    const rows = await webhooks.deliveries(requireTenantId(request.auth), request.params.id, request.query.limit ?? 50);
    return { items: rows.map((d) => ({ ...d, nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null, createdAt: d.createdAt.toISOString() })) };
  });
};
