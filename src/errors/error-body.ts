import { randomUUID } from 'node:crypto';
import { AppError } from './app-error.js';
import type { ErrorCode } from './catalogue.js';

/** The one documented error body (docs/errors.md). */
export interface ErrorBody {
  error: ErrorCode;
  code: ErrorCode;
  message: string;
  details?: unknown;
  requestId: string;
  timestamp: string;
}

/** The body every error response carries, whatever answered it (API, router, metrics port). */
export function toErrorBody(err: AppError, requestId: string, now: Date): ErrorBody {
  return {
    error: err.code,
    code: err.code,
    message: err.message,
    ...(err.details === undefined ? {} : { details: err.details }),
    requestId,
    timestamp: now.toISOString(),
  };
}

/** The documented body for `code`, for components that answer without Fastify (the rollout router). */
export function buildErrorBody(
  code: ErrorCode,
  opts: { message?: string; details?: unknown; requestId?: string } = {},
): ErrorBody {
  return toErrorBody(new AppError(code, opts.message, opts.details), opts.requestId ?? randomUUID(), new Date());
}
