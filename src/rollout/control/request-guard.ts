import type { IncomingMessage } from 'node:http';
import { decideOperator, isLoopbackAddress } from '../../access/index.js';

export type GuardDecision = { readonly ok: true } | { readonly ok: false; readonly code: 'forbidden' | 'invalid_request'; readonly message: string };

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The hostname of a Host header (`127.0.0.1:8082` → `127.0.0.1`, `[::1]:80` → `[::1]`), lower-cased. */
function hostName(host: string | undefined): string {
  if (!host) return '';
  const lower = host.toLowerCase();
  return lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : (lower.split(':')[0] ?? '');
}

function isLoopbackHost(host: string | undefined): boolean {
  const name = hostName(host);
  return LOOPBACK_NAMES.has(name) || isLoopbackAddress(name);
}

/**
 * Without a token the control API trusts loopback callers, and every web page the operator's
 * browser opens is a loopback caller too. A page on another site can make the browser send a
 * request here, and after DNS rebinding (its own name resolving to 127.0.0.1) even read the
 * answer. Rebinding cannot change the Host header, so only loopback names are accepted
 * (OWASP ASVS 4.0.3 V13.2.3 / V4.2.2; RFC 9110 §7.2). With a token the Host may be anything
 * (a reverse proxy): the page has no token to send.
 */
function checkHost(req: IncomingMessage, token: string | undefined): GuardDecision {
  if (token !== undefined || isLoopbackHost(req.headers.host)) return { ok: true };
  return { ok: false, code: 'forbidden', message: 'without a control token the control API answers only to loopback host names (localhost, 127.0.0.1, [::1])' };
}

/** The operator policy of the router admin API (src/access/operator.core.ts): the token when set, else loopback only. */
export function checkApiAccess(req: IncomingMessage, token: string | undefined): GuardDecision {
  const host = checkHost(req, token);
  if (!host.ok) return host;
  const decision = decideOperator('router_admin', { ip: req.socket.remoteAddress, headers: req.headers }, { router_admin: token });
  return decision.allowed ? { ok: true } : { ok: false, code: 'forbidden', message: token === undefined ? 'The rollout control API answers loopback callers only (or set the admin token)' : 'The rollout control API needs the admin token (Authorization: Bearer)' };
}

/**
 * The dashboard's own files hold no data and no secret, so with a token configured anyone who
 * reaches the listener may load them (the page then asks for the token). Without a token they
 * follow the same loopback rule as the API.
 */
export function checkAssetAccess(req: IncomingMessage, token: string | undefined): GuardDecision {
  const host = checkHost(req, token);
  if (!host.ok) return host;
  if (token !== undefined || isLoopbackAddress(req.socket.remoteAddress)) return { ok: true };
  return { ok: false, code: 'forbidden', message: 'The rollout dashboard answers loopback callers only (or set the control token)' };
}

/**
 * State-changing requests: a browser attaches no credential here by itself (the token travels
 * only in `Authorization`, never in a cookie), but without a token a loopback request is
 * enough. So a command must be JSON (a cross-site form or a "simple" fetch cannot send
 * `application/json` without a CORS preflight, which this server never grants) and must not
 * come from another origin (`Origin` / `Sec-Fetch-Site`, ASVS 4.0.3 V13.2.3).
 */
export function checkCommandRequest(req: IncomingMessage): GuardDecision {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, code: 'invalid_request', message: 'commands must be sent as application/json' };
  if (req.headers['sec-fetch-site'] === 'cross-site') return { ok: false, code: 'forbidden', message: 'cross-site requests cannot send commands' };
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return { ok: false, code: 'forbidden', message: 'unparsable Origin header' };
    }
    if (originHost !== String(req.headers.host ?? '').toLowerCase()) return { ok: false, code: 'forbidden', message: `commands from origin ${origin} are refused` };
  } else if (origin === 'null') {
    return { ok: false, code: 'forbidden', message: 'commands from an opaque origin are refused' };
  }
  return { ok: true };
}
