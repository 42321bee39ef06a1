import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Color } from './decision.types.js';

/** Cookie that keeps a client on one color; its value is issued and signed by the router. */
export const STICKY_COOKIE = 'boka_sticky';

/** Number of buckets the key space is cut into; weights resolve to 0.01 %. */
const STICKY_BUCKETS = 10_000;

/** Only one source remains: what the router itself issued and can verify (docs/rollout.md). */
export type StickySource = 'cookie';

export interface StickyKey {
  readonly key: string;
  readonly source: StickySource;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

const STICKY_ID = /^[A-Za-z0-9_-]{1,64}$/;

function mac(id: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(`boka-sticky:v1:${id}`).digest();
}

/** The cookie value for a fresh id: `<id>.<HMAC-SHA256(secret, id), base64url>`. */
export function signStickyId(id: string, secret: Buffer): string {
  if (!STICKY_ID.test(id)) throw new RangeError('sticky ids are 1-64 characters of [A-Za-z0-9_-]');
  return `${id}.${mac(id, secret).toString('base64url')}`;
}

/** The id inside a cookie value the router signed with `secret`, or null (compared in constant time). */
export function verifyStickyCookie(value: string, secret: Buffer): string | null {
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return null;
  const id = value.slice(0, dot);
  if (!STICKY_ID.test(id)) return null;
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = mac(id, secret);
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}

/**
 * What keeps a client on one color: the id in a `boka_sticky` cookie this router signed.
 * Nothing the client can choose freely takes part: API keys, bearer tokens and session ids
 * are unverified at the router, so a crafted value would let an anonymous client aim its
 * requests at a color. Null for a new client, or a cookie that fails the
 * check: the router then issues a fresh random id.
 */
export function extractStickyKey(headers: Headers, secret: Buffer): StickyKey | null {
  const cookie = readCookie(first(headers.cookie), STICKY_COOKIE);
  if (!cookie) return null;
  const id = verifyStickyCookie(cookie, secret);
  return id ? { key: `cookie:${id}`, source: 'cookie' } : null;
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
