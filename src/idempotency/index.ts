/** Idempotency-Key for POSTs that create something (ADR 0018, docs/booking.md). */
export { createIdempotencyService, type IdempotencyService } from './idempotency.service.js';
export { installIdempotency, idempotencyScope } from './idempotency.hooks.js';
