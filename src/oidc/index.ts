/** Sign in with OpenID Connect (issue #18, ADR 0015): the public surface of src/oidc. */
export { createOidcClient, type OidcClient } from './oidc-client.js';
export { oidcRoutes, type OidcRouteDeps } from './oidc.routes.js';
export { createOidcService, type IdentityView, type OidcService } from './oidc.service.js';
