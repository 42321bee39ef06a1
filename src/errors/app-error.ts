import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

/** The one error type that crosses layers. Its `code` is a wire code from the catalogue. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    /** `status` overrides the catalogue's only where docs/errors.md documents the alternative. */
    options?: { cause?: unknown; headers?: Record<string, string>; status?: number },
  ) {
    super(message ?? ERROR_CATALOGUE[code].message, options);
    this.status = options?.status ?? ERROR_CATALOGUE[code].status;
    this.headers = options?.headers;
  }

  readonly headers: Record<string, string> | undefined;
}

/** Shorthand used by services: `throw appError('not_found')`. */
export function appError(code: ErrorCode, message?: string, details?: unknown): AppError {
  return new AppError(code, message, details);
}
