import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiKeyService } from './api-keys.service.js';
import { actingUserId, requireAuth, requireTenantId, tenantPermission } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { errorResponses, NoContent, PageQuery, TenantParams } from '../http/schemas.js';
import { ApiKeyPage, ApiKeyParams, CreateApiKeyBody, CreatedApiKey } from './api-keys.schemas.js';

/** What these routes use of the app's services. */
export interface ApiKeyRouteDeps {
  readonly apiKeys: ApiKeyService;
}


/** Tenant API keys (owner/manager). The secret is in the create response only. */
export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ services: ApiKeyRouteDeps }> = async (app, { services }) => {
  const { apiKeys } = services;

  app.post('/api/tenants/:tenantId/api-keys', {
    config: { access: tenantPermission('api_keys.create') },
    schema: { tags: ['api-keys'], operationId: 'createApiKey', summary: 'Create an API key (the secret is shown once)', params: TenantParams, body: CreateApiKeyBody, response: { ...errorResponses({ 403: ['forbidden', 'insufficient_permissions'] }), 201: CreatedApiKey } },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    // Keys are minted by people: a key minting keys would outlive every human check.
    if (auth.principal.kind !== 'user') throw new AppError('forbidden', 'API keys cannot create API keys');
    const created = await apiKeys.create(
      request.params.tenantId,
      { userId: auth.principal.userId, role: auth.role ?? 'guest' },
      request.body,
      requestMeta(request),
    );
    return reply.code(201).send(created);
  });

  app.get('/api/tenants/:tenantId/api-keys', {
    config: { access: tenantPermission('api_keys.read') },
    schema: { tags: ['api-keys'], operationId: 'listApiKeys', summary: 'List the API keys of a tenant (never their secrets)', params: TenantParams, querystring: PageQuery, response: { 200: ApiKeyPage } },
  }, async (request) => apiKeys.list(request.params.tenantId, request.query));

  app.delete('/api/tenants/:tenantId/api-keys/:id', {
    config: { access: tenantPermission('api_keys.delete') },
    schema: { tags: ['api-keys'], operationId: 'revokeApiKey', summary: 'Revoke an API key', response: { 204: NoContent }, params: ApiKeyParams },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    await apiKeys.revoke(requireTenantId(auth), request.params.id, actingUserId(auth.principal), requestMeta(request));
    return reply.code(204).send();
  });
};
