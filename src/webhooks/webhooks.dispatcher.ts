import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';

/** Resolves a host name to its addresses (the system resolver, or a test's). */
export type ResolveHost = (host: string) => Promise<string[]>;
/** Judges a host's resolved addresses: a refusal reason, or null to allow them. */
export type AddressPolicy = (host: string, addresses: readonly string[]) => string | null;

/** The connection was refused before any byte left: its host resolved to a refused address. */
export class AddressRefusedError extends Error {
  readonly code = 'EADDRREFUSED';
  constructor(readonly reason: string) {
    super(`refused: ${reason}`);
    this.name = 'AddressRefusedError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `net`/`tls` `lookup` that resolves once, judges every answer with `policy`, and hands the
 * socket only the first checked address. The check and the connection therefore share one DNS
 * answer: no second resolution a rebinding server could answer with 127.0.0.1 or
 * 169.254.169.254 (OWASP SSRF cheat sheet, "DNS pinning"; ASVS 4.0.3 12.6.1).
 */
export function createCheckedLookup(resolve: ResolveHost, policy: AddressPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const host = hostname.replace(/^\[|\]$/g, '');
    const answer = isIP(host) ? Promise.resolve([host]) : resolve(host);
    answer.then(
      (addresses) => {
        const reason = policy(host, addresses);
        const address = addresses[0];
        if (reason !== null || address === undefined) return callback(new AddressRefusedError(reason ?? 'host does not resolve'), '');
        const family = isIP(address);
        // net asks for `all` when it races address families (autoSelectFamily): still one address.
        if (options.all) callback(null, [{ address, family }]);
        else callback(null, address, family);
      },
      () => callback(new AddressRefusedError('host does not resolve'), ''),
    );
  };
}

/**
 * An undici dispatcher whose every connection goes to an address `policy` accepted, resolved by
 * `resolve` at connect time. The URL's host name stays the TLS SNI name and the Host header:
 * only the socket's destination is pinned. A literal IP host never reaches `lookup` (net connects
 * to it directly), so callers check literal hosts themselves — `webhookAddressCheck` does.
 */
export function createPinnedDispatcher(opts: { resolve: ResolveHost; policy: AddressPolicy; timeoutMs: number }): Agent {
  const t = opts.timeoutMs;
  return new Agent({
    connections: 1,
    pipelining: 1,
    headersTimeout: t,
    bodyTimeout: t,
    maxRedirections: 0,
    connect: { timeout: t, lookup: createCheckedLookup(opts.resolve, opts.policy) },
  });
}
