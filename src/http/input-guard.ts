import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.js';
import { isCanonicalUuid } from '../shared/ids.js';

/** Path parameters that hold an id: `:id`, `:userId`, `:timeOffId`, `:tenantId` (which the pipeline checked first). */
const ID_PARAM_RE = /^(?:id|[a-z][A-Za-z]*Id)$/;
const MAX_DEPTH = 32;

type Issue = { field: string; in: string; message: string };

/** The first string (value or key) holding U+0000, as a dotted path; PostgreSQL text cannot store it (22021). */
function findNul(value: unknown, path: string[], depth = 0): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return null;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key];
    const found = findNul(child, [...path, key], depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Boundary checks no JSON schema expresses, before validation and before any handler:
 * - an id path parameter must be the canonical lower-case UUID, else 404 (a malformed id names
 *   nothing); a second spelling would be a second cache key for the same row;
 * - no string anywhere in the body, query or path may contain a NUL character (400).
 */
export function installInputGuards(app: FastifyInstance): void {
  // Synchronous (it runs on every request; issue 16): a thrown AppError goes to `done`.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      guard(request);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });
}

function guard(request: FastifyRequest): void {
  const params = (request.params ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(params)) {
    if (ID_PARAM_RE.test(name) && !isCanonicalUuid(value)) throw new AppError('not_found', 'Resource not found');
  }
  const issues: Issue[] = [];
  for (const [part, value] of [['params', params], ['querystring', request.query], ['body', request.body]] as const) {
    const path = findNul(value, []);
    if (path) issues.push({ field: path.join('.') || part, in: part, message: 'must not contain a NUL character' });
  }
  if (issues.length > 0) throw new AppError('validation_error', 'The request is invalid', issues);
}
