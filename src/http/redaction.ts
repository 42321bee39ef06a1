/**
 * Log paths that may carry secrets (ASVS 7.1.1): credentials in headers, and any body or
 * object field with a secret's name wherever it appears one or two levels deep.
 */
const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'accessToken',
  'refreshToken',
  'token',
  'challengeToken',
  'key',
  'secret',
  'code',
  'backupCodes',
];

export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `body.${f}`, `req.body.${f}`]),
];
