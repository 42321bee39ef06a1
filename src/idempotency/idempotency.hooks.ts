import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onSendAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import { describePrincipal } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { parseIdempotencyKey, requestFingerprint } from './idempotency.core.js';
import type { IdempotencyClaim, IdempotencyService } from './idempotency.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** POST routes that create something: honour `Idempotency-Key` (src/idempotency, ADR 0018). */
    idempotent?: boolean;
  }
}

const claims = new WeakMap<FastifyRequest, IdempotencyClaim>();
const replayed = new WeakSet<FastifyRequest>();

/**
 * Whose key space a request uses: the principal when there is one; for an anonymous guest
 * booking the guest's email (hashed, so the table holds no address), else the client IP.
 */
export function idempotencyScope(request: FastifyRequest): string {
  const principal = request.auth?.principal;
  if (principal) {
    const p = describePrincipal(principal);
    return `${p.type}:${p.id}`;
  }
  const email = (request.body as { customer?: { email?: unknown } } | undefined)?.customer?.email;
  if (typeof email === 'string') return `guest:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
  return `ip:${request.ip}`;
}

/**
 * Runs after validation (preHandler, so the principal and the parsed body are known) on routes
 * that declare `config.idempotent`: replays a stored answer with `Idempotent-Replayed: true`,
 * or claims the key; onSend stores the answer the route produced (or releases the key).
 */
export function installIdempotency(app: FastifyInstance, service: IdempotencyService, onError: (err: unknown) => void): void {
  const begin: preHandlerAsyncHookHandler = async (request, reply) => {
    const parsed = parseIdempotencyKey(request.headers['idempotency-key']);
    if (parsed.kind === 'absent') return;
    if (parsed.kind === 'invalid') {
      throw new AppError('validation_error', undefined, [
        { field: 'idempotency-key', in: 'headers', message: 'must be 1–255 visible ASCII characters, sent once' },
      ]);
    }
    const path = request.url.split('?')[0] ?? request.url;
    const fingerprint = requestFingerprint(request.method, path, request.body);
    const result = await service.begin(idempotencyScope(request), parsed.key, fingerprint);
    if (result.kind === 'replay') {
      replayed.add(request);
      return reply.code(result.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(result.body);
    }
    claims.set(request, result.claim);
  };

  const finish: onSendAsyncHookHandler = async (request, reply, payload) => {
    const claim = claims.get(request);
    if (!claim || replayed.has(request)) return payload;
    claims.delete(request);
    try {
      // Only a JSON text answer can be replayed byte for byte; anything else frees the key.
      await service.finish(claim, typeof payload === 'string' ? reply.statusCode : 500, typeof payload === 'string' ? payload : '');
    } catch (err) {
      // The answer stands; the key stays in_progress until its lease lapses (ADR 0018).
      onError(err);
    }
    return payload;
  };

  // Route-level hooks on the routes that declare `config.idempotent` only: every other request
  // skips both (two async hooks per request otherwise; issue 16).
  app.addHook('onRoute', (route) => {
    if (route.config?.idempotent !== true) return;
    route.preHandler = [...asArray(route.preHandler), begin];
    route.onSend = [...asArray(route.onSend), finish];
  });
}

function asArray<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
