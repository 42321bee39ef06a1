/**
 * Cross-site request forgery check for cookie-authenticated requests (ADR 0014; ASVS 4.0.3
 * 4.2.2, 13.2.3; OWASP CSRF Prevention Cheat Sheet, "Verifying Origin With Standard Headers" and
 * "Fetch Metadata"). Pure: the caller passes the request's headers and the first-party origins.
 *
 * A request needs the check when it is state-changing (not GET/HEAD/OPTIONS, RFC 9110 §9.2.1)
 * and the browser may have attached a credential by itself: it carries the session cookie, or it
 * asks for cookie mode (a forged sign-in would plant the attacker's session). It passes when
 * - `Origin` is present and is one of the first-party origins (`null` never is), or
 * - `Origin` is absent and `Sec-Fetch-Site` is `same-origin` (the page was served by the API
 *   host itself). `same-site` is not enough: a sibling subdomain is same-site, and that is the
 *   one forger `SameSite=Lax` does not stop.
 * No header at all fails closed: every browser that implements SameSite sends `Origin` on a
 * POST, so its absence means a non-browser client, which should use bearer mode.
 */
export type CsrfDecision = { allowed: true } | { allowed: false; reason: 'origin_not_allowed' | 'cross_site' | 'no_origin' };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function needsCsrfCheck(method: string, hasSessionCookie: boolean, asksCookieMode: boolean): boolean {
  return !SAFE_METHODS.has(method) && (hasSessionCookie || asksCookieMode);
}

export function decideCsrf(
  headers: { origin?: string | string[] | undefined; 'sec-fetch-site'?: string | string[] | undefined },
  allowedOrigins: ReadonlySet<string>,
): CsrfDecision {
  const origin = headers.origin;
  if (origin !== undefined) {
    return typeof origin === 'string' && allowedOrigins.has(origin) ? { allowed: true } : { allowed: false, reason: 'origin_not_allowed' };
  }
  const site = headers['sec-fetch-site'];
  if (site === undefined) return { allowed: false, reason: 'no_origin' };
  return site === 'same-origin' ? { allowed: true } : { allowed: false, reason: 'cross_site' };
}
