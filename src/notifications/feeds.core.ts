import { createHash } from 'node:crypto';
import { isCanonicalUuid } from '../shared/ids.js';

/**
 * iCal feed tokens: `cal_<id>.<secret>`, a 256-bit base64url secret of which only the SHA-256
 * is stored (ASVS 2.9.2 / 3.5.2). The token is a capability URL path segment
 * (`/api/public/calendar/<token>.ics`): calendar clients cannot send headers, so the URL is the
 * credential, which is why the request log redacts it (ASVS 7.1.1). Pure.
 */
export const FEED_TOKEN_PREFIX = 'cal_';

/** Feed window and size bound: the next 90 days, at most 500 events. */
export const FEED_DAYS = 90;
export const FEED_MAX_EVENTS = 500;

export function formatFeedToken(id: string, secret: string): string {
  return `${FEED_TOKEN_PREFIX}${id}.${secret}`;
}

/** `<token>.ics` as issued, or null for anything else (no database read). */
export function parseFeedFile(file: string): { id: string; secret: string } | null {
  if (!file.startsWith(FEED_TOKEN_PREFIX) || !file.endsWith('.ics')) return null;
  const rest = file.slice(FEED_TOKEN_PREFIX.length, -'.ics'.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) return null;
  const id = rest.slice(0, dot);
  const secret = rest.slice(dot + 1);
  if (!isCanonicalUuid(id) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { id, secret };
}

export function hashFeedSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** The feed URL handed to the owner once; only the hash stays with us. */
export function feedUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/api/public/calendar/${token}.ics`;
}
