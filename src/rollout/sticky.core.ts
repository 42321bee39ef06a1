import { createHash } from 'node:crypto';
import type { Color } from './decision.types.js';

/** Cookie that keeps an anonymous client on one color. */
export const STICKY_COOKIE = 'boka_sticky';

/** Number of buckets the key space is cut into; weights resolve to 0.01 %. */
const STICKY_BUCKETS = 10_000;

export type StickySource = 'session' | 'api_key' | 'cookie';

export interface StickyKey {
  readonly key: string;
  readonly source: StickySource;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads the `sid` claim of a JWT without verifying it. Routing only: a forged token can at most
 * choose its color, and Boka itself still verifies every token.
 */
function readSessionId(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (payload && typeof payload === 'object' && 'sid' in payload && typeof payload.sid === 'string') return payload.sid;
  } catch {
    return undefined;
  }
  return undefined;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * Picks what keeps a client on one color: the session id inside a bearer JWT, else an API key
 * (a non-JWT bearer or `x-api-key`), else the `boka_sticky` cookie. Null for a new anonymous client.
 */
export function extractStickyKey(headers: Headers): StickyKey | null {
  const auth = first(headers.authorization);
  const bearer = auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined;
  if (bearer) {
    const sid = readSessionId(bearer);
    if (sid) return { key: `sid:${sid}`, source: 'session' };
    if (bearer.split('.').length !== 3) return { key: `key:${bearer}`, source: 'api_key' };
  }
  const apiKey = first(headers['x-api-key']);
  if (apiKey) return { key: `key:${apiKey}`, source: 'api_key' };
  const cookie = readCookie(first(headers.cookie), STICKY_COOKIE);
  if (cookie) return { key: `cookie:${cookie}`, source: 'cookie' };
  return null;
}

/** Maps a key to a stable bucket in [0, STICKY_BUCKETS). */
export function hashToBucket(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % STICKY_BUCKETS;
}

/**
 * Green when the bucket is below the weight. Because the comparison is against a fixed bucket,
 * raising the weight only ever moves clients blue → green, and lowering it only green → blue.
 */
export function chooseColor(bucket: number, greenWeight: number): Color {
  return bucket < Math.round(greenWeight * (STICKY_BUCKETS / 100)) ? 'green' : 'blue';
}
