import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiKeyService } from './api-keys.service.js';
import { actingUserId, requireAuth, requireTenantId, tenantPermission } from '../access/index.js';
import { requestMeta } from '../http/request-meta.js';
import { errorResponses, NoContent, PageQuery, TenantParams } from '../http/schemas.js';
import { ApiKeyPage, ApiKeyParams, CreateApiKeyBody, IssuedApiKey, RotateApiKeyBody } from './api-keys.schemas.js';

/** What these routes use of the app's services. */
export interface ApiKeyRouteDeps {
  readonly apiKeys: ApiKeyService;
}

/**
 * Tenant API keys, service principals of the tenant (ADR 0017). The secret is in the create and
 * rotate responses only. Minting and rotating secrets is for signed-in members: a key minting
 * keys would outlive every human check (`apiKeys: false`).
 */
export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ services: ApiKeyRouteDeps }> = async (app, { services }) => {
  const { apiKeys } = services;

  app.post('/api/tenants/:tenantId/api-keys', {
    config: { access: tenantPermission('api_keys.create', { apiKeys: false }) },
    schema: {
      tags: ['api-keys'],
      operationId: 'createApiKey',
      summary: 'Create a tenant API key (a service principal with a role ceiling); the secret is shown once',
      params: TenantParams,
      body: CreateApiKeyBody,
      response: {
        201: IssuedApiKey,
        ...errorResponses({ 400: ['validation_error'], 403: ['insufficient_permissions', 'forbidden'], 422: ['invalid_key_scope'] }),
      },
    },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    const created = await apiKeys.create(
      requireTenantId(auth),
      { userId: actingUserId(auth.principal), role: auth.role ?? 'guest' },
      request.body,
      requestMeta(request),
    );
    return reply.code(201).send(created);
  });

  app.get('/api/tenants/:tenantId/api-keys', {
    config: { access: tenantPermission('api_keys.read') },
    schema: {
      tags: ['api-keys'],
      operationId: 'listApiKeys',
      summary: "List the tenant's API keys, newest first (never their secrets)",
      params: TenantParams,
      querystring: PageQuery,
      response: { 200: ApiKeyPage, ...errorResponses({ 400: ['validation_error'] }) },
    },
  }, async (request) => apiKeys.list(requireTenantId(request.auth), request.query));

  app.post('/api/tenants/:tenantId/api-keys/:id/rotate', {
    config: { access: tenantPermission('api_keys.create', { apiKeys: false }) },
    schema: {
      tags: ['api-keys'],
      operationId: 'rotateApiKey',
      summary: 'Give an API key a new secret (shown once); the old one stays valid for graceSeconds',
      params: ApiKeyParams,
      body: RotateApiKeyBody,
      response: {
        200: IssuedApiKey,
        ...errorResponses({
          400: ['validation_error'],
          403: ['insufficient_permissions', 'forbidden'],
          404: ['not_found'],
          409: ['conflict'],
          422: ['invalid_state', 'invalid_key_scope'],
        }),
      },
    },
  }, async (request) => {
    const auth = requireAuth(request.auth);
    return apiKeys.rotate(
      requireTenantId(auth),
      request.params.id,
      { userId: actingUserId(auth.principal), role: auth.role ?? 'guest' },
      request.body ?? {},
      requestMeta(request),
    );
  });

  app.delete('/api/tenants/:tenantId/api-keys/:id', {
    config: { access: tenantPermission('api_keys.delete') },
    schema: {
      tags: ['api-keys'],
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key: both its secrets stop working at once, on every instance',
      params: ApiKeyParams,
      response: { 204: NoContent, ...errorResponses({ 404: ['not_found'] }) },
    },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    await apiKeys.revoke(requireTenantId(auth), request.params.id, actingUserId(auth.principal), requestMeta(request));
    return reply.code(204).send();
  });
};
