/**
 * Web origins (RFC 6454) as Boka stores and compares them: the ASCII serialization
 * `scheme://host[:port]` (§6.2) that browsers send in `Origin`, http or https only, lower-case,
 * no default port, no path, no credentials and no wildcard. A second spelling of one origin
 * (`HTTPS://Example.com:443/`) is refused rather than normalised, so an allow-list entry is
 * compared byte for byte with the header a browser sends.
 */
export const MAX_ORIGIN_LENGTH = 255;

/** A DNS name (letters, digits, hyphens, dots), an IPv4 address or a bracketed IPv6 address. */
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])$/;

/** True when `value` is one canonical origin as defined above. */
export function isCanonicalOrigin(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ORIGIN_LENGTH) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (!HOST_RE.test(url.hostname)) return false;
  return url.origin === value;
}
