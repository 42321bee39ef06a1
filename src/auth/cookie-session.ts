import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Cookie mode for first-party browser apps (ADR 0014). The refresh token travels only in this
 * cookie, never in a body a script can read; the access token stays in the page's memory and is
 * sent as a bearer token, so every other route is unchanged and needs no CSRF defence.
 * Attributes (RFC 6265bis §4.1.2, ASVS 3.4.1–3.4.5): `HttpOnly` (no script access), `Secure`
 * (HTTPS only; browsers treat http://localhost as secure), `SameSite=Lax` (not sent on
 * cross-site subrequests or POSTs), `Path` = the refresh route (not sent anywhere else), and the
 * `__Secure-` prefix (§4.1.3.1: a browser refuses it without `Secure` or from an insecure origin).
 */
export const REFRESH_COOKIE = '__Secure-boka_refresh';
export const REFRESH_COOKIE_PATH = '/api/auth/refresh';
/** `X-Boka-Session: cookie` on a sign-in asks for cookie mode; `bearer` (the default) for tokens in the body. */
export const SESSION_MODE_HEADER = 'x-boka-session';

const ATTRIBUTES = { httpOnly: true, secure: true, sameSite: 'lax', path: REFRESH_COOKIE_PATH } as const;

/** True when the client asked for cookie mode on a sign-in (login, MFA verify, open sign-up). */
export function wantsCookieMode(request: FastifyRequest): boolean {
  return request.headers[SESSION_MODE_HEADER] === 'cookie';
}

/** The refresh token from the session cookie, if the browser sent one. */
export function readRefreshCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies[REFRESH_COOKIE];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Puts the refresh token in the cookie and returns the body without it. The cookie lives as
 * long as the session may (its absolute lifetime); the server-side session decides earlier.
 */
export function issueCookieSession<T extends { refreshToken: string }>(reply: FastifyReply, issued: T, maxAgeSeconds: number): Omit<T, 'refreshToken'> {
  const { refreshToken, ...body } = issued;
  void reply.setCookie(REFRESH_COOKIE, refreshToken, { ...ATTRIBUTES, maxAge: maxAgeSeconds });
  return body;
}

/** Expires the session cookie (logout, a refused refresh): same name, path and attributes, `Max-Age=0`. */
export function clearCookieSession(reply: FastifyReply): void {
  void reply.clearCookie(REFRESH_COOKIE, ATTRIBUTES);
}
