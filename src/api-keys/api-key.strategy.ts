import type { AuthStrategy } from '../access/index.js';
import type { ApiKeyService } from './api-keys.service.js';

/** Plugs API keys (`X-API-Key` or `Bearer boka_sk_…`) into the one authentication step. */
export function createApiKeyStrategy(apiKeys: Pick<ApiKeyService, 'verify'>): AuthStrategy {
  return {
    canHandle: (c) => c.kind === 'api_key',
    authenticate: (c, meta) => apiKeys.verify(c, meta),
  };
}
