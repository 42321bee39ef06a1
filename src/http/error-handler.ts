import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyClientDataError, isConnectionError, isDriverConnectionMessage, isPoolWaitTimeout, isQueryTimeout } from '../db/errors.js';
import { AppError, toErrorBody } from '../errors/index.js';

interface ValidationIssue {
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** Ajv issues → `[{field, message}]`, with the field as a dotted path (`hours.0.start`). */
function toFieldErrors(issues: ValidationIssue[], context: string | undefined) {
  return issues.map((issue) => {
    const path = (issue.instancePath ?? '').split('/').filter(Boolean);
    const extra = issue.params?.missingProperty ?? issue.params?.additionalProperty;
    if (typeof extra === 'string') path.push(extra);
    const message = issue.params?.additionalProperty ? 'is not an allowed field' : (issue.message ?? 'is invalid');
    return { field: path.join('.') || context || 'body', in: context, message };
  });
}

/**
 * Maps anything thrown into an AppError. Unknown errors become a generic 500 whose cause is
 * only logged, never sent (no stack, SQL or secret in a response; ASVS 7.4.1).
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    return new AppError('validation_error', 'The request is invalid', toFieldErrors(fe.validation, fe.validationContext));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'Unsupported or missing content type; send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_request', 'The JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_request', 'The body is not valid JSON');
  }
  if (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON') {
    return new AppError('invalid_request', 'The body is not valid JSON');
  }
  const dataError = classifyClientDataError(err);
  if (dataError) return fromClientDataError(dataError, err);
  if (isQueryTimeout(err)) return new AppError('timeout', undefined, undefined, { cause: err });
  if (isConnectionError(err) || isDriverConnectionMessage(err)) {
    return new AppError('database_error', undefined, undefined, { cause: err, headers: { 'retry-after': '5' } });
  }
  if (isPoolWaitTimeout(err)) {
    // Overloaded, not down: every pooled connection stayed busy for the whole wait.
    return new AppError('database_error', 'The database is busy', undefined, { cause: err, headers: { 'retry-after': '1' } });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Any other client error Fastify raised while parsing (bad headers, bad URL encoding…).
    return new AppError('invalid_request', fe.message);
  }
  return new AppError('internal_server_error', undefined, undefined, { cause: err });
}

/**
 * The safety net under the boundary checks: a database error the client's input caused is a 4xx,
 * never a 500 (the cause is kept for the log, not sent).
 */
function fromClientDataError(kind: NonNullable<ReturnType<typeof classifyClientDataError>>, cause: unknown): AppError {
  switch (kind) {
    case 'data_exception':
      return new AppError('invalid_request', 'A value in the request cannot be stored', undefined, { cause });
    case 'not_null_violation':
      return new AppError('validation_error', 'A required value is missing', undefined, { cause });
    case 'check_violation':
      return new AppError('invalid_state', 'The change breaks a rule of the resource', undefined, { cause });
    case 'unique_violation':
      return new AppError('conflict', 'The request clashes with an existing resource; reload and retry', undefined, { cause });
    case 'foreign_key_violation':
      return new AppError('conflict', 'A referenced resource does not exist or is still in use', undefined, { cause });
    case 'integrity_violation':
      return new AppError('conflict', undefined, undefined, { cause });
  }
}

/**
 * The challenge every 401 carries (RFC 7235 §3.1, RFC 6750 §3): a bad or expired token is
 * `error="invalid_token"`; a request with no credential gets the bare challenge.
 */
export function bearerChallenge(err: AppError): string {
  const invalid = err.code === 'invalid_token' || err.code === 'token_expired';
  return invalid ? `Bearer realm="boka", error="invalid_token", error_description="${err.message.replace(/["\\]/g, '')}"` : 'Bearer realm="boka"';
}

export function sendError(reply: FastifyReply, request: FastifyRequest, err: AppError): FastifyReply {
  if (err.headers) void reply.headers(err.headers);
  if (err.status === 401 && !reply.hasHeader('www-authenticate')) void reply.header('www-authenticate', bearerChallenge(err));
  return reply.code(err.status).type('application/json; charset=utf-8').send(toErrorBody(err, request.id, new Date()));
}

/**
 * Fastify's `frameworkErrors` option: errors its router raises before any hook runs (a path
 * parameter over `maxParamLength`, a malformed percent-encoding) get the documented body too,
 * instead of Fastify's own `{error, code: "FST_ERR_…"}`.
 */
export function handleFrameworkError(err: Error, request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', request.id);
  void sendError(reply, request, toAppError(err));
}

/**
 * Installs the error handler and the 404/405 handler. `routePatterns` is filled as routes
 * register so an unknown method on a known path answers 405 with an Allow header.
 */
export function installErrorHandling(app: FastifyInstance, hooks: { onError?: (err: AppError, request: FastifyRequest) => void } = {}): void {
  const patterns: Array<{ re: RegExp; method: string }> = [];
  app.addHook('onRoute', (route) => {
    const re = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`);
    for (const method of [route.method].flat()) patterns.push({ re, method });
  });

  app.setErrorHandler((err, request, reply) => {
    const appErr = toAppError(err);
    // A full pool is overload, not a fault: under it every refused request would log pg-pool's
    // stack at error level, costing CPU when there is none to spare. It gets a one-line warning;
    // boka_db_errors_total{kind="pool_wait"} counts it (docs/operations.md).
    if (isPoolWaitTimeout(appErr.cause)) request.log.warn({ code: appErr.code, dbError: 'pool_wait' }, 'database busy: no pooled connection came free in time');
    else if (appErr.status >= 500) request.log.error({ err: appErr.cause ?? err, code: appErr.code }, 'request failed');
    // A 4xx that still carries a cause is the safety net catching what a boundary check missed.
    else if (appErr.cause) request.log.warn({ err: appErr.cause, code: appErr.code }, 'database refused client input');
    hooks.onError?.(appErr, request);
    return sendError(reply, request, appErr);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = patterns.filter((p) => p.re.test(path)).map((p) => p.method);
    if (allowed.length > 0) {
      void reply.header('allow', [...new Set(allowed)].join(', '));
      return sendError(reply, request, new AppError('method_not_allowed'));
    }
    return sendError(reply, request, new AppError('not_found', `No route for ${request.method} ${path}`));
  });
}
