/**
 * True for 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms. The one definition of "a caller
 * on this machine", for operator routes with no token configured. Give it `request.ip`, which
 * honours X-Forwarded-For only from TRUST_PROXY, so a proxied outside caller is not local.
 */
export function isLoopbackAddress(ip: string | undefined | null): boolean {
  if (!ip) return false;
  const v4 = ip.toLowerCase().startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}
