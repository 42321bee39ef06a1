import { hashTokenSecret, splitPrefixedToken } from '../shared/prefixed-token.js';

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
  if (!file.endsWith('.ics')) return null;
  return splitPrefixedToken(file.slice(0, -'.ics'.length), FEED_TOKEN_PREFIX, 43);
}

export const hashFeedSecret = hashTokenSecret;

/** The feed URL handed to the owner once; only the hash stays with us. */
export function feedUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/api/public/calendar/${token}.ics`;
}
