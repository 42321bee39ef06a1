import { BlockList, isIP } from 'node:net';
import type { ReservationChange } from '../shared/reservation-change.js';

/** The events a tenant may subscribe to (issue 17). */
export const WEBHOOK_EVENTS = ['reservation.created', 'reservation.confirmed', 'reservation.rescheduled', 'reservation.cancelled', 'reservation.completed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The webhook event of a reservation status change, or null when none is offered for it. */
export function eventForStatus(to: string): WebhookEvent | null {
  if (to === 'confirmed' || to === 'cancelled' || to === 'completed') return `reservation.${to}`;
  return null;
}

/** The webhook message a reservation change publishes, or null. */
export function webhookMessage(change: ReservationChange): { event: WebhookEvent; data: Record<string, unknown> } | null {
  switch (change.type) {
    case 'reservation.created':
      return {
        event: 'reservation.created',
        data: { reservationId: change.reservationId, staffId: change.staffId, customerId: change.customerId, start: change.start, end: change.end, channel: change.channel },
      };
    case 'reservation.status_changed': {
      const event = eventForStatus(change.to);
      return event ? { event, data: { reservationId: change.reservationId, from: change.from, to: change.to } } : null;
    }
    case 'reservation.rescheduled':
      return { event: 'reservation.rescheduled', data: { reservationId: change.reservationId, from: change.from, to: change.to } };
  }
}

// Addresses a webhook may never reach in production (SSRF, OWASP ASVS 4.0.3 12.6.1 / 5.2.6):
// loopback, RFC 1918 / RFC 4193 private, link-local (cloud metadata 169.254.169.254), CGNAT,
// unspecified, multicast, documentation, IPv4-mapped (::ffff:0:0/96, RFC 4291 §2.5.5.2) and the
// deprecated IPv4-compatible (::/96, §2.5.5.1) forms of them.
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 96], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96]] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

/** True when `ip` is an address a production webhook must not reach. */
export function isForbiddenAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped?.[1]) return PRIVATE.check(mapped[1], 'ipv4');
    return PRIVATE.check(ip, 'ipv6');
  }
  return PRIVATE.check(ip, 'ipv4');
}

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip) || /^::ffff:127\./i.test(ip) || /^::ffff:7f[0-9a-f]{2}:/i.test(ip);
}

/**
 * Judges the addresses a webhook host resolved to; null when a connection may go to them. Every
 * address must pass (one bad answer refuses the lot: the resolver, not us, would pick which one
 * is used). Outside production a loopback *name* (localhost, 127.x, ::1) may reach loopback, so
 * a developer can point a hook at a local receiver; any other name never may.
 */
export function addressRefusal(host: string, addresses: readonly string[], production: boolean): string | null {
  if (addresses.length === 0) return 'host does not resolve';
  const loopbackAllowed = !production && isLoopbackHost(host);
  for (const a of addresses) {
    if (isForbiddenAddress(a) && !(loopbackAllowed && isLoopbackAddress(a))) return 'resolves to a private, loopback or link-local address';
  }
  return null;
}

/**
 * Checks an endpoint URL before any DNS lookup: absolute https (http only to a loopback host
 * outside production), no credentials in it, no fragment. Returns a reason or null.
 */
export function checkWebhookUrl(raw: string, production: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.hash) return 'must not have a fragment';
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol === 'https:') {
    if (production && loopback) return 'must not point at this host';
    return null;
  }
  if (url.protocol === 'http:' && loopback && !production) return null;
  return 'must use https';
}

/**
 * The URL's form (`checkWebhookUrl`), then, when its host is a literal IP, that address
 * (`addressRefusal`). The URL parser has already made 2130706433, 0177.0.0.1, 0x7f.1 and
 * [::ffff:127.0.0.1] canonical, so each is judged as the address it is. A host name passes here;
 * its addresses are judged where it is resolved.
 */
export function webhookUrlRefusal(raw: string, production: boolean): string | null {
  const reason = checkWebhookUrl(raw, production);
  if (reason) return reason;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? addressRefusal(host, [host], production) : null;
}
