import { AppError } from '../errors/index.js';

/** A credential read from the request headers, before any strategy has checked it. */
export type Credential = { kind: 'bearer'; token: string } | { kind: 'api_key'; key: string };

/** Prefix of every Boka API key secret (`boka_sk_…`). */
export const API_KEY_PREFIX = 'boka_sk_';

const BEARER_RE = /^Bearer +(\S+)$/i;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or null when the
 * header is absent or has another form. The only bearer parser in Boka.
 */
export function parseBearer(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  return BEARER_RE.exec(header)?.[1] ?? null;
}

/** Reads `Authorization: Bearer …` or `X-API-Key`. Returns null when neither is present. */
export function extractCredential(headers: Record<string, string | string[] | undefined>): Credential | null {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return { kind: 'api_key', key: apiKey };
  const authorization = headers.authorization;
  if (typeof authorization !== 'string' || authorization === '') return null;
  const token = parseBearer(authorization);
  if (!token) throw new AppError('invalid_token', 'The Authorization header must be "Bearer <token>"');
  // API keys may also be sent as a bearer token; their prefix tells them apart from JWTs.
  if (token.startsWith(API_KEY_PREFIX)) return { kind: 'api_key', key: token };
  return { kind: 'bearer', token };
}
