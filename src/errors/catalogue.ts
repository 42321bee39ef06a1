/**
 * Every wire error code with its HTTP status and a default message. docs/errors.md documents
 * each one; test/http/errors-doc.test.ts keeps the two in step.
 */
export const ERROR_CATALOGUE = {
  missing_authorization: { status: 401, message: 'Authentication is required' },
  invalid_token: { status: 401, message: 'The token is invalid' },
  token_expired: { status: 401, message: 'The token has expired' },
  invalid_credentials: { status: 401, message: 'Email or password is incorrect' },
  mfa_required: { status: 401, message: 'A second factor is required' },
  email_not_verified: { status: 403, message: 'Verify your email address first' },
  forbidden: { status: 403, message: 'This action is not allowed' },
  insufficient_permissions: { status: 403, message: 'Your role does not grant this permission' },
  tenant_mismatch: { status: 403, message: 'You are not a member of this tenant' },
  not_found: { status: 404, message: 'Resource not found' },
  method_not_allowed: { status: 405, message: 'Method not allowed on this resource' },
  validation_error: { status: 400, message: 'The request is invalid' },
  invalid_request: { status: 400, message: 'The request could not be parsed' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  conflict: { status: 409, message: 'The request conflicts with the current state' },
  duplicate_resource: { status: 409, message: 'The resource already exists' },
  invalid_state: { status: 422, message: 'The resource is not in a state that allows this' },
  slot_unavailable: { status: 422, message: 'This time cannot be booked' },
  quota_exceeded: { status: 429, message: 'Too many requests' },
  internal_server_error: { status: 500, message: 'Internal server error' },
  database_error: { status: 503, message: 'The database is unavailable' },
  service_unavailable: { status: 503, message: 'The service is unavailable' },
  timeout: { status: 504, message: 'The request timed out' },
  reauthentication_required: { status: 403, message: 'Sign in again to do this' },
  passkey_rejected: { status: 422, message: 'The passkey could not be verified' },
  csrf_rejected: { status: 403, message: 'Cross-site request refused' },
  invalid_key_scope: { status: 422, message: 'This scope cannot be granted to an API key' },
  oidc_login_failed: { status: 401, message: 'The sign-in with the identity provider failed; start again' },
  oidc_email_unverified: { status: 403, message: 'The identity provider did not confirm that this email address is verified' },
  oidc_signup_disabled: { status: 403, message: 'No account uses this email address, and sign-up through this provider is closed' },
  oidc_provider_unavailable: { status: 424, message: 'The identity provider cannot be reached; try again later' },
  account_disabled: { status: 403, message: 'This account has been disabled' },
  last_owner: { status: 422, message: 'You are the last owner of a tenant' },
  idempotency_key_reused: { status: 422, message: 'This Idempotency-Key was used with a different request' },
  idempotency_in_progress: { status: 409, message: 'A request with this Idempotency-Key is still in progress' },
  webhook_url_refused: { status: 422, message: 'This webhook URL cannot be used' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
