import { AppError } from '../errors/index.js';
import type { RequestMeta } from '../shared/events.js';
import type { Credential } from './credential.js';
import type { Principal } from './principal.js';

/**
 * The port a capability implements to turn one kind of credential into a Principal: `auth/`
 * plugs in access tokens, `api-keys/` plugs in keys. `canHandle` picks the strategy.
 */
export interface AuthStrategy {
  canHandle(credential: Credential): boolean;
  /** `meta` says where the request came from, for the audit trail of refused credentials. */
  authenticate(credential: Credential, meta: RequestMeta): Promise<Principal>;
}

/** Runs the first strategy that accepts the credential. */
export async function authenticate(strategies: readonly AuthStrategy[], credential: Credential, meta: RequestMeta): Promise<Principal> {
  const strategy = strategies.find((s) => s.canHandle(credential));
  if (!strategy) throw new AppError('invalid_token', 'Unsupported credential');
  return strategy.authenticate(credential, meta);
}
