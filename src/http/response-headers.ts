import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * The headers a helmet middleware sets, read once. With a static CSP (no nonce) they are the same
 * on every response, so they are applied as one object per request instead of running helmet's
 * dozen middlewares (BENCHMARKS.md, issue 16). Helmet stays the source of every name and value.
 */
export function staticHeadersOf(
  middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void,
): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  middleware({} as IncomingMessage, res as unknown as ServerResponse, (err) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    finished = true;
  });
  if (!finished) throw new Error('the security-header middleware did not finish synchronously');
  return Object.freeze(headers);
}

/** An API answer is never a document: no script, no form, no framing, no base URL. */
const API_CSP = {
  useDefaults: false,
  directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
} as const;
// JSON answers are never framed; the legacy header says the same as frame-ancestors.
const FRAMEGUARD = { action: 'deny' } as const;

/**
 * The security headers on every answer (ADR 0028), from helmet: the set OWASP's REST Security
 * Cheat Sheet ("Security Headers") lists for an API, plus `Referrer-Policy` (ASVS 4.0.3 14.4.6)
 * and `Cross-Origin-Resource-Policy` (a browser will not hand the JSON to another site's
 * `<script>`/`<img>`): CSP `default-src 'none'` with `frame-ancestors 'none'` (14.4.3, 14.4.7),
 * `X-Frame-Options: DENY` (14.4.7), HSTS (14.4.5), `nosniff` (14.4.4), and `Cache-Control:
 * no-store` (8.2.1: answers carry tokens and personal data; RFC 9111 §5.2.2.5).
 */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  ...staticHeadersOf(helmet({
    contentSecurityPolicy: API_CSP,
    frameguard: FRAMEGUARD,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  })),
});

/**
 * The rest of helmet's defaults: headers only a document acts on (browsing-context isolation,
 * DNS prefetch, legacy IE download and XSS-auditor switches, Adobe cross-domain policies). The
 * HTML pages (the mailed link pages, /docs) add them to `API_HEADERS` and set their own CSP; a
 * JSON answer rendered by nothing does not pay ≈ 1.5 µs per header for them (BENCHMARKS.md).
 */
export const DOCUMENT_HEADERS: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(
  Object.entries(staticHeadersOf(helmet({ contentSecurityPolicy: API_CSP, frameguard: FRAMEGUARD })))
    .filter(([name]) => !(name in API_HEADERS)),
));

/**
 * One synchronous `onRequest` hook, first of all (an async hook costs a promise and a microtask
 * turn on every request; issue 16): the request id (`x-request-id`, as the client sent it when it
 * was well formed) and `API_HEADERS` on every answer, refusals and errors included.
 */
export function installResponseHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(API_HEADERS).header('x-request-id', request.id);
    done();
  });
}
