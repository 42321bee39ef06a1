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
  | { readonly kind: 'signing_keys' };

/** The cache-bus port. Implementations: `in-process-bus.ts` (embedded default), Redis pub/sub. */
export interface CacheBus {
  /** Delivers to local subscribers before resolving, then to other instances. */
  publish(message: Invalidation): Promise<void>;
  subscribe(handler: (message: Invalidation) => void): void;
  /** False while the transport to other instances is down; caches then use short TTLs. */
  isHealthy(): boolean;
  close(): Promise<void>;
}
