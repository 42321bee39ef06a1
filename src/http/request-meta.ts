import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../shared/events.js';

/** The request facts that events, sessions and the audit log record. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  return { requestId: request.id, ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}
