/**
 * Cache invalidation messages. Every instance caches sessions, memberships and API keys in
 * process; a write on one instance publishes one of these so every instance drops the entry.
 */
export type Invalidation =
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'user_sessions'; readonly userId: string }
  | { readonly kind: 'membership'; readonly tenantId: string; readonly userId: string }
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'api_key'; readonly keyId: string }
  | { readonly kind: 'tenant'; readonly tenantId: string }
  | { readonly kind: 'signing_keys' }
  /**
   * Everything cached may be stale: the bus lost messages. Delivered locally when a Redis
   * subscription comes back after a drop, and sent to peers when this instance could not
   * publish everything it owed them. Every cache drops all its entries.
   */
  | { readonly kind: 'all' };

/** The cache-bus port. Implementations: `in-process-bus.ts` (embedded default), Redis pub/sub. */
export interface CacheBus {
  /** Delivers to local subscribers before resolving, then to other instances. */
  publish(message: Invalidation): Promise<void>;
  subscribe(handler: (message: Invalidation) => void): void;
  /** False while the transport to other instances is down; caches then use short TTLs. */
  isHealthy(): boolean;
  close(): Promise<void>;
}
